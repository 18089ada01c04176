"""The benchmark run: every phase on one traffic file and one broker, in order."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from auditor.broker import EmbeddedBroker, ensure_topics, wait_for_broker
from bench import inprocess, kafka_io, latency, profiles, workers
from bench.context import Options, Run
from bench.layout import Layout, topic_layout
from bench.measure import Rate
from bench.procs import Children
from bench.results import results
from bench.traffic import build

# Reads of each input topic by (c) and (c_batch); the median one counts.
RAW_READS = 3


def execute(options: Options) -> dict[str, Any]:
    """Run every phase not skipped; returns the results document."""
    options.results.mkdir(parents=True, exist_ok=True)
    path = options.results / f"traffic-{options.events}-seed{options.seed}.jsonl"
    started = time.perf_counter()
    traffic = build(path, options.packs, options.events, options.seed)
    run = Run(options, traffic, Children(Path()))
    run.children.log_dir = run.work_dir
    run.say(f"traffic: {len(traffic.lines):,} events {traffic.per_pack()} -> {path} "
            f"({time.perf_counter() - started:.1f} s)")
    _in_process(run)
    if options.wants("c", "c_batch", "d", "e", "e_batch", "f"):
        with _broker(run) as bootstrap:
            run.bootstrap = bootstrap
            try:
                _on_kafka(run)
            finally:
                run.children.stop_all()
    return results(run)


@contextlib.contextmanager
def _broker(run: Run) -> Iterator[str]:
    if run.options.bootstrap:
        wait_for_broker(run.options.bootstrap, timeout=30)
        run.say(f"broker: {run.options.bootstrap} (external)")
        yield run.options.bootstrap
        return
    with EmbeddedBroker() as broker:
        run.say(f"broker: embedded Tansu on {broker.bootstrap} (pid {broker.pid})")
        run.broker_pid = broker.pid
        yield broker.bootstrap


def _in_process(run: Run) -> None:
    """(a), (b) and (b2), and with --profile a cProfile run of (b)."""
    skip, traffic = run.options.skip, run.traffic
    for name, measure in (
        ("a", inprocess.decode_only),
        ("b", inprocess.decode_classify),
        ("b2", inprocess.pipeline_in_process),
    ):
        if name in skip:
            run.rates[name] = None
            continue
        run.rates[name] = rate = measure(traffic)
        run.say(f"({name}) {rate.per_s:,.0f} events/s in process")
    if run.options.profile and "b" not in skip:
        out = run.work_dir / "profile-b.txt"
        inprocess.decode_classify(traffic, profile=out)
        run.profile["b"] = profiles.summarise_cprofile(out)
        run.say(f"profile of (b): {out}")


def _on_kafka(run: Run) -> None:
    """Load the input topics, then (c), (d), (e), (f) and the worker's profile."""
    options, packs = run.options, run.traffic.packs
    ones = {p: run.topic("in", p) for p in packs}
    batched = {p: run.topic("inb", p) for p in packs}
    need_ones = options.wants("c", "d", "e", "e_procs")
    need_batched = options.wants("c_batch", "e_batch")
    ensure_topics(run.bootstrap, {
        **(dict.fromkeys(ones.values(), options.partitions) if need_ones else {}),
        **(dict.fromkeys(batched.values(), options.partitions) if need_batched else {}),
    })
    per_batch = {"records": options.input_batch_events,
                 "batch_records": max(1, options.input_batch_events // options.batch_events)}
    layouts: dict[str, list[Layout]] = {}
    for pack in packs:
        lines = run.traffic.lines_of(pack)
        for kind, topics, batch_events, needed in (
            ("records", ones, 1, need_ones),
            ("batch_records", batched, options.batch_events, need_batched),
        ):
            if not needed:
                continue
            seconds = kafka_io.preload(run.bootstrap, topics[pack], lines, batch_events,
                                       records_per_batch=per_batch[kind])
            run.preload.setdefault(kind, Rate()).add(pack, len(lines), seconds)
            layout = topic_layout(run.bootstrap, topics[pack])
            layouts.setdefault(kind, []).append(layout)
            run.records_in[topics[pack]] = layout.records
    for kind, rate in run.preload.items():
        merged = Layout.merge(layouts[kind])
        run.layout[kind] = {
            "producer": kafka_io.input_producer(per_batch[kind]),
            "events_per_record": 1 if kind == "records" else options.batch_events,
            "broker_holds": merged.as_json(),
        }
        stats = merged.as_json()["records_per_batch"]
        run.say(f"preloaded ({kind}): {rate.events:,} events at {rate.per_s:,.0f} events/s; "
                f"the broker holds {merged.batches:,} record batches of {stats['median']} "
                f"records (median; min {stats['min']}, max {stats['max']})")

    for name, topics in (("c", ones), ("c_batch", batched)):
        _raw_consume(run, name, topics)
    workers.naive(run, ones)
    for name, topics in (("e", ones), ("e_batch", batched)):
        workers.throughput(run, name, topics)
    workers.throughput(run, "e_procs", ones, processes=options.processes)
    latency.measure(run)
    if options.profile:
        workers.profile(run, ones, batched)


def _raw_consume(run: Run, name: str, topics: dict[str, str]) -> None:
    if name in run.options.skip:
        run.rates[name] = None
        return
    rate = Rate()
    for pack in run.traffic.packs:
        # A read takes a fraction of a second: the median of three is steadier than one.
        reads = sorted((
            kafka_io.consume_decode(run.bootstrap, topics[pack], run.events_of(pack),
                                    run.options.phase_timeout,
                                    records=run.records_in.get(topics[pack]))
            for _ in range(RAW_READS)
        ), key=lambda read: read[1])
        count, seconds = reads[len(reads) // 2]
        rate.add(pack, count, seconds, slowest_s=reads[-1][1], fastest_s=reads[0][1])
    run.rates[name] = rate
    run.say(f"({name}) {rate.per_s:,.0f} events/s raw consume + decode")
