"""The worker's Kafka side: output batching, compression, batch records in and out.

One broker, the input topics written once (the benchmark's fixed layout), then row (e) —
or (e_batch) for "batch records in" — once per variant, the variants interleaved over
``--rounds`` rounds so that load on the machine falls on all of them alike::

    .venv/bin/python -m bench.experiments.kafka_side --events 60000 --rounds 3

Each variant is ``bench.tuned_worker`` with the output producer's librdkafka properties
changed (``BENCH_OUTPUT_PRODUCER``) or decisions packed as batch records
(``BENCH_BATCH_OUT``). Reported per variant: events/s (median over rounds), the worker's
and the broker's CPU per event, and the bytes per decision the broker holds on the
decisions topic (its record batches, read as in bench/layout.py). Writes JSON next to the
other results.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import click
import orjson

from auditor.broker import EmbeddedBroker, ensure_topics
from bench import kafka_io, workers
from bench.context import Options, Run
from bench.layout import Layout, topic_layout
from bench.procs import Children
from bench.traffic import DEFAULT_PACKS, build, loadable_packs

ROOT = Path(__file__).resolve().parents[2]

# name -> (input: records or batch_records, BENCH_* environment of bench.tuned_worker)
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "baseline (lz4, linger 2 ms)": ("records", {}),
    "no compression": ("records", {"BENCH_OUTPUT_PRODUCER": '{"compression.type": "none"}'}),
    "zstd": ("records", {"BENCH_OUTPUT_PRODUCER": '{"compression.type": "zstd"}'}),
    "linger 20 ms, batch.size 1 MB": ("records", {
        "BENCH_OUTPUT_PRODUCER": '{"linger.ms": 20, "batch.size": 1000000}'}),
    "linger 0": ("records", {"BENCH_OUTPUT_PRODUCER": '{"linger.ms": 0}'}),
    "batch records out (100)": ("records", {"BENCH_BATCH_OUT": "100"}),
    "batch records in": ("batch_records", {}),
    "batch records in and out (100)": ("batch_records", {"BENCH_BATCH_OUT": "100"}),
}


@click.command()
@click.option("--events", type=int, default=60_000, show_default=True)
@click.option("--packs", default="natterbox,nubitalk", show_default=True)
@click.option("--rounds", type=int, default=3, show_default=True)
@click.option("--only", default="", help="Comma-separated variant names (default: all).")
def main(events: int, packs: str, rounds: int, only: str) -> None:
    chosen = {k: v for k, v in VARIANTS.items()
              if not only or k in {o.strip() for o in only.split(",")}}
    usable = loadable_packs(tuple(p for p in packs.split(",") if p) or DEFAULT_PACKS)
    results_dir = ROOT / "bench" / "results"
    options = Options(events=events, packs=usable, results=results_dir)
    traffic = build(results_dir / f"traffic-{events}-seed{options.seed}.jsonl", usable,
                    events, options.seed)
    run = Run(options, traffic, Children(Path()))
    run.children.log_dir = run.work_dir
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in chosen}
    with EmbeddedBroker() as broker:
        run.bootstrap, run.broker_pid = broker.bootstrap, broker.pid
        inputs = {kind: {p: run.topic(kind, p) for p in usable}
                  for kind in ("records", "batch_records")}
        ensure_topics(run.bootstrap, {t: options.partitions
                                      for topics in inputs.values() for t in topics.values()})
        for pack in usable:
            lines = traffic.lines_of(pack)
            kafka_io.preload(run.bootstrap, inputs["records"][pack], lines, 1, 100)
            kafka_io.preload(run.bootstrap, inputs["batch_records"][pack], lines,
                             options.batch_events, 1)
        try:
            for round_ in range(rounds):
                for index, (name, (kind, env)) in enumerate(chosen.items()):
                    role = f"x{index}r{round_}"
                    decisions = workers.throughput(run, "e", inputs[kind], module=(
                        "bench.tuned_worker"), extra_env=env, role=role)
                    rate = run.rates["e"]
                    assert rate is not None
                    held = Layout.merge([topic_layout(run.bootstrap, t)
                                         for t in decisions.values()])
                    found[name].append({
                        "events_per_s": round(rate.per_s, 1),
                        "worker_cpu_us_per_event": rate.extra["worker_cpu_us_per_event"],
                        "by_thread": rate.extra["worker_cpu_us_per_event_by_thread"],
                        "broker_cpu_us_per_event": rate.extra["broker_cpu_us_per_event"],
                        "decisions_topic_bytes_per_event": round(held.bytes / rate.events, 1),
                        "decisions_topic_records_per_batch": held.as_json()[
                            "records_per_batch"]["median"],
                    })
                    run.say(f"round {round_ + 1} {name}: {found[name][-1]}")
        finally:
            run.children.stop_all()
    summary = {
        name: {
            "events_per_s_median": statistics.median(r["events_per_s"] for r in runs),
            "worker_cpu_us_per_event_median": statistics.median(
                r["worker_cpu_us_per_event"] for r in runs),
            "broker_cpu_us_per_event_median": statistics.median(
                r["broker_cpu_us_per_event"] for r in runs),
            "decisions_topic_bytes_per_event": runs[-1]["decisions_topic_bytes_per_event"],
            "rounds": runs,
        }
        for name, runs in found.items()
    }
    out = results_dir / f"kafka-side-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_bytes(orjson.dumps({"events": events, "packs": list(usable), "rounds": rounds,
                                  "variants": summary}, option=orjson.OPT_INDENT_2))
    click.echo(f"\n{'variant':<34} {'events/s':>10} {'worker µs/ev':>13} {'broker µs/ev':>13} "
               f"{'bytes/ev':>9}")
    for name, s in summary.items():
        click.echo(f"{name:<34} {s['events_per_s_median']:>10,.0f} "
                   f"{s['worker_cpu_us_per_event_median']:>13.1f} "
                   f"{s['broker_cpu_us_per_event_median']:>13.1f} "
                   f"{s['decisions_topic_bytes_per_event']:>9.1f}")
    click.echo(f"JSON: {out}")


if __name__ == "__main__":
    main()
