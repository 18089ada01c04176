"""``python -m bench``: run the benchmark, print the table, write the JSON."""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import click
import orjson

from bench.context import PHASES, Options
from bench.kafka_io import PhaseError
from bench.report import table
from bench.run import execute
from bench.traffic import DEFAULT_PACKS, loadable_packs

ROOT = Path(__file__).resolve().parents[1]


def _split(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(",") if p.strip())


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes the Ctrl-C path, so the finally blocks stop every child process.
    raise KeyboardInterrupt


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--events", type=click.IntRange(min=1), default=200_000, show_default=True,
              help="Events of generated traffic (an equal share per pack).")
@click.option("--packs", default=",".join(DEFAULT_PACKS), show_default=True,
              help="Seed packs in the mix (comma-separated; a pack without traffic module or "
              "policy is left out).")
@click.option("--seed", type=int, default=7, show_default=True, help="Traffic seed.")
@click.option("--skip", default="", metavar="PHASES",
              help=f"Phases to skip, comma-separated, of: {', '.join(PHASES)}.")
@click.option("--batch-events", type=click.IntRange(min=2), default=100, show_default=True,
              help="Events per batch record for c_batch and e_batch.")
@click.option("--input-batch-events", type=click.IntRange(min=1), default=100,
              show_default=True,
              help="Events per record batch of the input topics (fixed producer batching: "
              "every run writes the same layout; batch records: this many events / "
              "--batch-events records per record batch).")
@click.option("--processes", type=click.IntRange(min=1),
              default=len(os.sched_getaffinity(0)), show_default="one per CPU",
              help="Decision processes of the worker in row e_procs (AUDITOR_PROCESSES).")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=5000.0,
              show_default=True, help="Offered load of the latency phase (f), events/s.")
@click.option("--latency-seconds", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True, help="How long the latency phase offers load, per pack.")
@click.option("--bootstrap", default=None, metavar="HOST:PORT",
              help="Use this Kafka cluster instead of starting the embedded broker.")
@click.option("--partitions", type=click.IntRange(min=1), default=4, show_default=True,
              help="Partitions of every topic the benchmark creates.")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=ROOT / "bench" / "results", show_default=True,
              help="Where the traffic file, logs and JSON go.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON output file (default: RESULTS/<UTC time>.json).")
@click.option("--phase-timeout", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds a phase may take before the run fails.")
@click.option("--profile", is_flag=True,
              help="Also profile (b) with cProfile and the worker (e) with py-spy (extra runs).")
@click.option("--worker-env", "worker_env", multiple=True, metavar="KEY=VALUE",
              help="Extra AUDITOR_* setting for the worker, e.g. AUDITOR_BATCH_MAX=2000.")
def main(events: int, packs: str, seed: int, skip: str, batch_events: int,
         input_batch_events: int, processes: int, rate: float,
         latency_seconds: float, bootstrap: str | None, partitions: int, results: Path,
         out: Path | None, phase_timeout: float, profile: bool,
         worker_env: tuple[str, ...]) -> None:
    """Measure the auditor's hot path: in process, raw Kafka, a naive agent, the worker."""
    skipped = frozenset(_split(skip))
    unknown = skipped - set(PHASES)
    if unknown:
        raise click.BadParameter(f"unknown phase(s) {', '.join(sorted(unknown))}; "
                                 f"known: {', '.join(PHASES)}", param_hint="'--skip'")
    pairs = []
    for item in worker_env:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("AUDITOR_"):
            raise click.BadParameter(f"{item!r} is not AUDITOR_NAME=VALUE",
                                     param_hint="'--worker-env'")
        pairs.append((key, value))
    asked = _split(packs)
    usable = loadable_packs(asked)
    if not usable:
        raise click.BadParameter(f"none of {', '.join(asked)} loads", param_hint="'--packs'")
    left_out = [p for p in asked if p not in usable]
    if left_out:
        click.echo(f"left out (no traffic module or policy): {', '.join(left_out)}", err=True)
    if events < len(usable):
        raise click.BadParameter(f"at least one event per pack ({len(usable)})",
                                 param_hint="'--events'")
    options = Options(
        events=events, packs=usable, seed=seed, skip=skipped, batch_events=batch_events,
        input_batch_events=input_batch_events, processes=processes,
        rate=rate, latency_seconds=latency_seconds, bootstrap=bootstrap, partitions=partitions,
        results=results, out=out, phase_timeout=phase_timeout, profile=profile,
        worker_env=tuple(pairs),
    )
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        doc = execute(options)
    except KeyboardInterrupt:
        click.echo("interrupted: every process the benchmark started is stopped", err=True)
        sys.exit(130)
    except PhaseError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    path = out or results / f"{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    click.echo("")
    click.echo(table(doc))
    click.echo(f"\nJSON: {path}")


if __name__ == "__main__":
    main()
