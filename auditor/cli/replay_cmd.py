"""`auditor replay`: decide a topic's time window or JSONL files again and write an audit report."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from auditor.cli.common import intake_or_exit, load_engine_or_exit, policy_root_option
from auditor.cli.sources import kafka_client, open_source, source_options, window_or_usage_error
from auditor.engine import Engine
from auditor.events.validate import parse_time
from auditor.replay import Record, SourceError, Window
from auditor.replay.job import ReplayJob
from auditor.replay.progress import progress_bar, tracked
from auditor.replay.topic import TopicSource
from auditor.replay.verify import changed_inputs, differences, read_report, source_of, window_of
from auditor.report.write import FORMATS, write_report


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


def scope_sources(report: dict[str, Any]) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = report["scope"]["sources"]
    live = (report.get("differences") or {}).get("baseline", {})
    if "partitions" in live:  # the live decisions topic read as the baseline
        sources = [*sources, {"topic": live.get("topic"), "partitions": live["partitions"]}]
    return sources


def _summary(report: dict[str, Any], written: list[Path], label: str) -> None:
    scope = report["scope"]
    policy = scope["policy"]
    v = report["verdicts"]
    click.echo(f"replay of {label} with policy {policy['id']} ({policy['version'][:19]}…)")
    click.echo(
        f"events {scope['events']:,}: allow {v['allow']:,}, violation {v['violation']:,}, "
        f"invalid {v['invalid']:,}"
        + (f"; deadline decisions (not events) {scope['deadline_decisions']:,}, "
           f"violation {report['deadlines']['violations']:,}"
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
    declared = report["declarations"]
    if declared is not None:
        undeclared = declared["undeclared"]
        click.echo(
            f"declared flows: {len(declared['declared']):,}, not seen: "
            f"{len(declared['not_seen']):,}; seen on another basis: "
            f"{sum(r['events'] for r in declared['basis_differs']):,} events; undeclared: "
            f"{sum(r['events'] for r in undeclared):,} events in {len(undeclared)} rows"
        )
    diff = report["differences"]
    if diff is not None:
        click.echo(
            f"differences from the baseline: {diff['changed']:,} events changed "
            f"({diff['verdict_changed']:,} verdicts) of {diff['events_compared']:,} compared; "
            f"{diff['not_in_baseline']:,} not in the baseline"
        )
    for source in scope_sources(report):
        for part in source.get("partitions", []):
            seen, reported = part["end_offset"], part.get("reported_end_offset", 0)
            if seen > reported:
                click.echo(f"{source['topic']}[{part['partition']}]: the broker reported its "
                           f"end at offset {reported:,}; records up to {seen:,} were there "
                           "and were read")
    integrity = report["integrity"]
    click.echo(
        f"chain {integrity['algorithm']} over {integrity['records']:,} decisions: "
        f"{integrity['head']}"
    )
    if written:
        click.echo("wrote " + ", ".join(str(p) for p in written))


@click.command("replay")
@click.option("--policy", "policy_path", metavar="FILE|PACK",
              help="The policy to decide with: the current pack or a draft (what if). "
                   "Required, but with --verify.")
@policy_root_option
@source_options
@click.option("--live-decisions", "live_topic", metavar="TOPIC",
              help="Compare with the worker's decisions on this topic (e.g. auditor.decisions).")
@click.option("--baseline-policy", metavar="FILE|PACK",
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
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--verify", "verify_dir", metavar="REPORT_DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Verify a report: read its inputs again (same files, or the same offsets "
                   "of its topic), decide them with its policy and --now, and compare the "
                   "chain head. Run it where the paths in the report resolve.")
def replay(
    policy_path: str | None,
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
    verify_dir: Path | None,
) -> None:
    """Decide a topic's time window (or JSONL files) again and write an audit report.

    Writes report.json, report.html and CSV tables to --out and prints a summary with
    the hash chain of the decisions. Commits nothing and sends no alerts. With --verify
    REPORT_DIR it writes nothing: it checks that report's chain head instead.

    Exit status: 0 report written (verified, with --verify; violations are findings, not
    errors); 1 the source cannot be read, the report cannot be written (or is not
    verified); 2 usage error or a policy that fails to load.
    """
    if verify_dir is not None:
        given = {"--policy": policy_path, "--topic": topic, "--from": start, "--to": end,
                 "--partition": partitions, "--start-offset": start_offset,
                 "--end-offset": end_offset, "--grace": grace, "--live-decisions": live_topic,
                 "--baseline-policy": baseline_policy, "--format": formats,
                 "--now": now_text, "--generated-at": generated_at}
        used = [name for name, value in given.items() if value not in (None, ())]
        ctx = click.get_current_context()
        used += [name for name, param in (("--out", "out_dir"), ("--examples", "max_examples"))
                 if ctx.get_parameter_source(param) is not click.core.ParameterSource.DEFAULT]
        if files or used:
            raise click.UsageError(
                f"--verify takes what it needs from the report: drop "
                f"{', '.join(used + (['the files'] if files else []))}"
            )
        sys.exit(_verify(verify_dir, policy_roots, bootstrap_servers, timeout_s, quiet))
    if policy_path is None:
        raise click.UsageError("Missing option '--policy' (or verify a report: --verify DIR)")
    window = window_or_usage_error(topic, files, start=start, end=end, partitions=partitions,
                                   start_offset=start_offset, end_offset=end_offset,
                                   grace=grace)
    if live_topic and baseline_policy:
        raise click.UsageError("give one baseline: --live-decisions or --baseline-policy")
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
    intake = intake_or_exit()
    source = open_source(topic, files, window, bootstrap_servers, timeout_s, intake)
    # Decisions are written after their events: read them from the window's start on.
    live = None
    if live_topic:
        config, fetch_wait = kafka_client(bootstrap_servers)
        live = TopicSource(live_topic,
                           Window(start_ms=window.start_ms, grace_ms=window.grace_ms), config,
                           filter_time=False, timeout_s=timeout_s, fetch_wait_ms=fetch_wait)
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


def _verify(folder: Path, policy_roots: tuple[Path, ...], bootstrap_servers: str,
            timeout_s: float, quiet: bool) -> int:
    """--verify: 0 if the report's inputs and policy give its chain head again, else 1."""
    try:
        recorded = read_report(folder)
    except SourceError as exc:
        click.echo(f"auditor replay: {exc}", err=True)
        return 1
    scope = recorded["scope"]
    policy_path = scope["policy"]["path"]
    engine = load_engine_or_exit(policy_path, policy_roots)
    problems = []
    if engine.version != scope["policy"]["version"]:
        problems.append(f"policy {policy_path} is now {engine.version}, the report was "
                        f"decided with {scope['policy']['version']}")
    closed_at = scope["deadlines_closed_at"]
    intake = intake_or_exit()
    config: dict[str, Any] = {}
    fetch_wait: int | None = None
    if any(s.get("kind") == "topic" for s in scope["sources"]):
        config, fetch_wait = kafka_client(bootstrap_servers)
    try:
        source = source_of(recorded, max_line_bytes=intake.max_event_bytes,
                           client_config=config, timeout_s=timeout_s, fetch_wait_ms=fetch_wait)
        job = ReplayJob(engine, source, policy_path=policy_path, window=window_of(recorded),
                        intake=intake, now=_time_option(closed_at, "--now"),
                        now_text=closed_at)
        try:
            job.plan()
            problems += changed_inputs(recorded, source.sources())
            with progress_bar(quiet) as progress:

                def track(records: Iterable[Record], label: str, total: int | None, unit: str
                          ) -> Iterable[Record]:
                    return tracked(records, progress, label, total, unit)

                fresh = job.run(track)
        finally:
            job.close()
    except SourceError as exc:
        click.echo(f"auditor replay: {exc}", err=True)
        return 1
    problems += differences(recorded, fresh)
    integrity = recorded["integrity"]
    if problems:
        click.echo(f"NOT VERIFIED: {folder / 'report.json'}")
        for problem in problems:
            click.echo(f"  {problem}")
        return 1
    click.echo(
        f"verified: {folder / 'report.json'}: {integrity['algorithm']} over "
        f"{integrity['records']:,} decisions gives {integrity['head']} again "
        f"(policy {engine.policy.id} {engine.version[:19]}…, inputs unchanged)"
    )
    return 0
