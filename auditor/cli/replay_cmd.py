"""`auditor replay`: decide a topic's time window or JSONL files again and write an audit report."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from auditor import kafka_config
from auditor.cli.common import intake_or_exit, load_engine_or_exit, policy_root_option
from auditor.engine import Engine
from auditor.events.validate import parse_time
from auditor.replay import Record, SourceError, Window, WindowError, make_window
from auditor.replay.files import FileSource
from auditor.replay.job import ReplayJob
from auditor.replay.progress import progress_bar, tracked
from auditor.replay.records import ReplaySource
from auditor.replay.topic import TopicSource
from auditor.report.write import FORMATS, write_report

TOPIC_ONLY = ("start", "end", "partitions", "start_offset", "end_offset", "grace")
OPTION_NAMES = {
    "start": "--from",
    "end": "--to",
    "partitions": "--partition",
    "start_offset": "--start-offset",
    "end_offset": "--end-offset",
    "grace": "--grace",
}
def _time_option(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    seconds = parse_time(value)
    if seconds is None:
        raise click.BadParameter(
            f"{value!r} is not an RFC 3339 date-time with offset (e.g. 2026-04-01T00:00:00Z)",
            param_hint=option,
        )
    return seconds


def _check_usage(topic: str | None, files: tuple[str, ...], given: dict[str, Any]) -> None:
    if topic is None and not files:
        raise click.UsageError("give a source: --topic TOPIC, or one or more JSONL files")
    if topic is not None and files:
        raise click.UsageError("give either --topic or files, not both")
    if topic is None:
        used = [OPTION_NAMES[k] for k in TOPIC_ONLY if given.get(k) not in (None, ())]
        if used:
            raise click.UsageError(f"{', '.join(used)} select records of a topic: add --topic")


def _summary(report: dict[str, Any], written: list[Path], label: str) -> None:
    scope = report["scope"]
    policy = scope["policy"]
    v = report["verdicts"]
    click.echo(f"replay of {label} with policy {policy['id']} ({policy['version'][:19]}…)")
    click.echo(
        f"events {scope['events']:,}: allow {v['allow']:,}, violation {v['violation']:,}, "
        f"invalid {v['invalid']:,}"
        + (f"; {scope['deadline_decisions']:,} deadline decisions"
           if scope["deadline_decisions"] else "")
    )
    if scope["records_outside_window"]:
        click.echo(f"records outside the window (skipped): {scope['records_outside_window']:,}")
    transfers = report["transfers"]
    click.echo(
        f"cross-border flows: {sum(r['events'] for r in transfers):,} in {len(transfers)} "
        f"register rows; exceptions applied: {sum(r['events'] for r in report['exceptions']):,}; "
        f"derogations used: {sum(r['events'] for r in report['derogations']):,}"
    )
    diff = report["differences"]
    if diff is not None:
        click.echo(
            f"differences from the baseline: {diff['changed']:,} events changed "
            f"({diff['verdict_changed']:,} verdicts) of {diff['events_compared']:,} compared; "
            f"{diff['not_in_baseline']:,} not in the baseline"
        )
    integrity = report["integrity"]
    click.echo(
        f"chain {integrity['algorithm']} over {integrity['records']:,} decisions: "
        f"{integrity['head']}"
    )
    if written:
        click.echo("wrote " + ", ".join(str(p) for p in written))


@click.command("replay")
@click.option("--policy", "policy_path", required=True, metavar="PACK.yaml",
              help="The policy to decide with: the current pack or a draft (what if).")
@policy_root_option
@click.argument("files", nargs=-1, metavar="[EVENTS.jsonl ...]")
@click.option("--topic", metavar="TOPIC", help="Replay this topic (instead of files).")
@click.option("--from", "start", metavar="TIME",
              help="Window start, RFC 3339 (record timestamps; included).")
@click.option("--to", "end", metavar="TIME",
              help="Window end, RFC 3339 (record timestamps; included).")
@click.option("--partition", "partitions", type=click.IntRange(min=0), multiple=True,
              help="Only this partition (repeatable; default all).")
@click.option("--start-offset", type=click.IntRange(min=0),
              help="First offset to read in each partition.")
@click.option("--end-offset", type=click.IntRange(min=0),
              help="Offset to stop before in each partition (exclusive).")
@click.option("--grace", metavar="DURATION",
              help="Seek back this much before --from (e.g. 10m): a safety margin for brokers "
                   "whose time index is approximate, and for clock skew of --live-decisions.")
@click.option("--bootstrap-servers", envvar="AUDITOR_BOOTSTRAP_SERVERS",
              default="127.0.0.1:9092", show_default=True, metavar="HOST:PORT[,...]",
              help="Kafka bootstrap servers (env AUDITOR_BOOTSTRAP_SERVERS).")
@click.option("--live-decisions", "live_topic", metavar="TOPIC",
              help="Compare with the worker's decisions on this topic (e.g. auditor.decisions).")
@click.option("--baseline-policy", metavar="PACK.yaml",
              help="Compare with the decisions of this policy on the same input.")
@click.option("--out", "out_dir", default="audit-report", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Directory to write to.")
@click.option("--format", "formats", type=click.Choice(FORMATS), multiple=True,
              help="Report formats (repeatable; default all three).")
@click.option("--now", "now_text", metavar="TIME",
              help="Close deadlines still open at the end of the input at this time; "
              "for files, also their clock (AUDITOR_EVENT_TIME_MAX_AHEAD_S).")
@click.option("--generated-at", metavar="TIME",
              help="Time to print as the report's date (the report reads no clock).")
@click.option("--examples", "max_examples", type=click.IntRange(1, 100), default=5,
              show_default=True, help="Example event ids kept per rule and register row.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=30.0,
              show_default=True, help="Seconds to wait for the broker before giving up.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def replay(
    policy_path: str,
    policy_roots: tuple[Path, ...],
    files: tuple[str, ...],
    topic: str | None,
    start: str | None,
    end: str | None,
    partitions: tuple[int, ...],
    start_offset: int | None,
    end_offset: int | None,
    grace: str | None,
    bootstrap_servers: str,
    live_topic: str | None,
    baseline_policy: str | None,
    out_dir: Path,
    formats: tuple[str, ...],
    now_text: str | None,
    generated_at: str | None,
    max_examples: int,
    timeout_s: float,
    quiet: bool,
) -> None:
    """Decide a topic's time window (or JSONL files) again and write an audit report.

    Writes report.json, report.html and CSV tables to --out and prints a summary with
    the hash chain of the decisions. Commits nothing and sends no alerts.

    Exit status: 0 report written (violations are findings, not errors); 1 the source
    cannot be read or the report cannot be written; 2 usage error or a policy that fails
    to load.
    """
    _check_usage(topic, files, {"start": start, "end": end, "partitions": partitions,
                                "start_offset": start_offset, "end_offset": end_offset,
                                "grace": grace})
    if live_topic and baseline_policy:
        raise click.UsageError("give one baseline: --live-decisions or --baseline-policy")
    try:
        window = make_window(start, end, partitions or None, start_offset, end_offset, grace)
    except WindowError as exc:
        raise click.UsageError(str(exc)) from exc
    now = _time_option(now_text, "--now")
    _time_option(generated_at, "--generated-at")
    engine = load_engine_or_exit(policy_path, policy_roots)
    baseline = load_engine_or_exit(baseline_policy, policy_roots) if baseline_policy else None
    try:
        report = _run(engine, baseline, policy_path, topic, files, window, bootstrap_servers,
                      live_topic, baseline_policy, now, now_text, generated_at, max_examples,
                      timeout_s, quiet)
    except SourceError as exc:
        click.echo(f"auditor replay: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("auditor replay: interrupted; no report written", err=True)
        sys.exit(130)
    try:
        written = write_report(report, out_dir, formats or FORMATS)
    except OSError as exc:
        click.echo(f"auditor replay: cannot write the report to {out_dir}: {exc}", err=True)
        sys.exit(1)
    _summary(report, written, topic or ", ".join(files))


def _run(
    engine: Engine,
    baseline: Engine | None,
    policy_path: str,
    topic: str | None,
    files: tuple[str, ...],
    window: Window,
    bootstrap_servers: str,
    live_topic: str | None,
    baseline_policy: str | None,
    now: float | None,
    now_text: str | None,
    generated_at: str | None,
    max_examples: int,
    timeout_s: float,
    quiet: bool,
) -> dict[str, Any]:
    """Build the sources from the options, plan them (end offsets captured now), run."""
    config: dict[str, Any] = {}
    fetch_wait: int | None = None
    if topic or live_topic:
        from auditor.cli.common import settings_or_exit

        settings = settings_or_exit(bootstrap_servers=bootstrap_servers)
        config = kafka_config.connection(settings)
        fetch_wait = settings.fetch_max_wait_ms
    intake = intake_or_exit()
    source: ReplaySource = (
        TopicSource(topic, window, config, timeout_s=timeout_s, fetch_wait_ms=fetch_wait)
        if topic
        else FileSource(files, intake.max_event_bytes)
    )
    # Decisions are written after their events: read them from the window's start on.
    live = (
        TopicSource(live_topic, Window(start_ms=window.start_ms, grace_ms=window.grace_ms),
                    config, filter_time=False, timeout_s=timeout_s, fetch_wait_ms=fetch_wait)
        if live_topic
        else None
    )
    job = ReplayJob(engine, source, policy_path=policy_path, window=window,
                    intake=intake, baseline=baseline, baseline_path=baseline_policy,
                    live=live, live_topic=live_topic, now=now, now_text=now_text,
                    max_examples=max_examples)
    try:
        job.plan()
        with progress_bar(quiet) as progress:

            def track(records: Iterable[Record], label: str, total: int | None, unit: str
                      ) -> Iterable[Record]:
                return tracked(records, progress, label, total, unit)

            return job.run(track, generated_at)
    finally:
        job.close()
