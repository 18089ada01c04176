"""`auditor register`: the observed register of files or a topic window, as draft declarations."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import click

from auditor.cli.common import intake_or_exit, load_engine_or_exit, policy_root_option
from auditor.cli.sources import open_source, source_options, window_or_usage_error
from auditor.engine import Decider
from auditor.replay import Record, SourceError
from auditor.replay.progress import progress_bar, tracked
from auditor.replay.run import feed
from auditor.report.draft import BY, ID, DraftRegister


@click.command("register")
@click.option("--policy", "policy_path", required=True, metavar="PACK.yaml",
              help="The pack whose names the traffic uses (and whose declarations "
                   "--undeclared-only leaves out).")
@policy_root_option
@source_options
@click.option("--out", "out_path", default="-", show_default=True, metavar="FILE.yaml",
              help="Where to write the draft (- for stdout).")
@click.option("--by", type=click.Choice(BY), default="country", show_default=True,
              help="Destinations as countries (country:US) or as the locations seen.")
@click.option("--undeclared-only", is_flag=True,
              help="Only flows the pack's declarations do not cover yet.")
@click.option("--id-prefix", "prefix", default="observed", show_default=True,
              help="First part of every drafted declaration id.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def register(
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
    timeout_s: float,
    out_path: str,
    by: str,
    undeclared_only: bool,
    prefix: str,
    quiet: bool,
) -> None:
    """Write the flows observed in JSONL files or a topic window as draft declarations.

    Every event is decided with PACK as `auditor replay` does; the flows of personal data
    are grouped by data class, processor and purpose, with the operations, destinations and
    Chapter V mechanisms seen, and written as YAML the pack can include.

    Exit status: 0 draft written; 1 the source cannot be read or the draft cannot be
    written; 2 usage error or a policy that fails to load.
    """
    window = window_or_usage_error(topic, files, start=start, end=end, partitions=partitions,
                                   start_offset=start_offset, end_offset=end_offset,
                                   grace=grace)
    if not ID.match(prefix):
        raise click.BadParameter(f"{prefix!r} is not an id (letters, digits, . _ -)",
                                 param_hint="--id-prefix")
    engine = load_engine_or_exit(policy_path, policy_roots)
    intake = intake_or_exit()
    source = open_source(topic, files, window, bootstrap_servers, timeout_s, intake)
    draft = DraftRegister(engine.policy, by=by, prefix=prefix, undeclared_only=undeclared_only)
    try:
        source.plan()
        decider = Decider(engine, intake)
        with progress_bar(quiet) as progress:
            records: Iterable[Record] = tracked(source.records(), progress, "reading events",
                                                source.total, source.unit)
            for record in records:
                for decision in feed(decider, record):
                    draft.add(decision)
    except SourceError as exc:
        click.echo(f"auditor register: {exc}", err=True)
        sys.exit(1)
    finally:
        source.close()
    label = f"topic {topic}" if topic else ", ".join(files)
    text = draft.yaml([
        f"policy: {engine.policy.id} ({engine.version}), {policy_path}",
        f"source: {label}: {source.records_read:,} records read"
        + (f", {source.outside_window:,} outside the window" if source.outside_window else ""),
    ])
    if out_path == "-":
        click.echo(text, nl=False)
    else:
        try:
            Path(out_path).write_text(text, encoding="utf-8")
        except OSError as exc:
            click.echo(f"auditor register: cannot write {out_path}: {exc.strerror}", err=True)
            sys.exit(1)
    click.echo(f"drafted {len(draft.flows):,} declarations from {draft.events:,} events of "
               f"{label}" + (f" into {out_path}" if out_path != "-" else ""), err=True)
