"""`auditor check` (spec §3) and `auditor explain`: offline classification of JSONL events."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from auditor.cli.common import (
    cell,
    intake_or_exit,
    load_engine_or_exit,
    open_lines_or_exit,
    policy_root_option,
)
from auditor.engine import Decider, Decision, Trace, decide_all
from auditor.events.validate import parse_time
from auditor.printable import printable
from auditor.tally import Tally


def _write_jsonl(stream: Iterator[Decision], out: IO[bytes], with_event: bool) -> Tally:
    tally = Tally()
    for decision in stream:
        tally.add(decision)
        out.write(decision.to_json(with_event) + b"\n")
    return tally


def _write_table(stream: Iterator[Decision], console: Console) -> Tally:
    tally = Tally()
    table = Table("event_id", "verdict", "findings", "transfer", show_lines=False)
    # Ids are names: fold them onto more lines rather than cut them short.
    table.columns[0].overflow = "fold"
    for decision in stream:
        tally.add(decision)
        findings = "\n".join(printable(f"[{f.effect}] {f.rule} ({f.kind}): {f.message}")
                             for f in decision.findings)
        t = decision.transfer
        table.add_row(
            cell(decision.event_id or "-"),
            decision.verdict,
            Text(findings or "-"),
            f"{t.from_country}->{t.to_country} {t.mechanism}" if t else "-",
        )
    console.print(table)
    return tally


def print_summary(tally: Tally, console: Console, title: str) -> None:
    console.print(Text(printable(title), style="bold"))
    console.print(
        f"events: {tally.events}  allow: {tally.verdicts['allow']}  "
        f"violation: {tally.verdicts['violation']}  invalid: {tally.verdicts['invalid']}"
    )
    if tally.by_rule:
        _by_rule(console, "findings by rule", tally.by_rule, tally.examples)
    if tally.by_kind:
        console.print(cell(
            "events with deny findings, by kind: "
            + ", ".join(f"{kind} {count}" for kind, count in sorted(tally.by_kind.items()))
        ))
    if tally.invalid:
        console.print(cell(
            "invalid events by field: "
            + ", ".join(f"{field} {count}" for field, count in sorted(tally.invalid.items()))
        ))
    if tally.transfers:
        table = Table("regime", "mechanism", "from", "to", "events", title="transfers")
        for (regime, mechanism, src, dst), count in sorted(tally.transfers.items()):
            table.add_row(cell(regime), cell(mechanism), cell(src), cell(dst), str(count))
        console.print(table)
    # Deadlines that passed are decisions of their own, never counted as events (spec §2).
    d = tally.deadlines
    if d.decisions:
        console.print(
            f"deadline decisions: {d.decisions}  violation: {d.verdicts['violation']}"
        )
        _by_rule(console, "deadlines passed, by rule", d.by_rule, d.examples)


def _by_rule(console: Console, title: str, counts: Counter[tuple[str, str, str, str]],
             examples: dict[str, list[str]]) -> None:
    # One rule per line, examples on the next: a rule's id is its name and is never cut
    # short at any terminal width (two ids can share a prefix).
    console.print(f"[bold]{title}[/bold] (count, rule, kind, severity, effect)")
    for (rule, kind, severity, effect), count in sorted(
        counts.items(), key=lambda kv: (-kv[1], kv[0])
    ):
        console.print(f"{count:>8}  {escape(printable(rule))}  {kind} {severity} {effect}",
                      highlight=False)
        shown = examples.get(rule)
        if shown:
            console.print(f"{'':>8}  e.g. {escape(printable(', '.join(shown)))}",
                          highlight=False)


@click.command()
@click.option(
    "--policy",
    "policy_path",
    required=True,
    metavar="FILE|PACK",
    help="The policy pack to check against: a file, or a shipped pack by name (natterbox, …).",
)
@policy_root_option
@click.argument("events", default="-", metavar="[EVENTS.jsonl | -]")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "table", "summary"]),
    default="jsonl",
    show_default=True,
    help="Output: one decision per line, a table, or counts.",
)
@click.option("--no-event", is_flag=True, help="jsonl: leave the input event out of each record.")
@click.option(
    "--now",
    "now_text",
    metavar="TIME",
    help="Close open deadlines (erasure, retention) at this RFC 3339 time after the last "
    "event. Also the file's clock: an event more than AUDITOR_EVENT_TIME_MAX_AHEAD_S after "
    "it is invalid (future_event_time).",
)
def check(policy_path: str, policy_roots: tuple[Path, ...], events: str, fmt: str,
          no_event: bool, now_text: str | None) -> None:
    """Classify lineage events (JSONL, gzip or stdin) and write one decision per line.

    Exit status: 0 no violation and no invalid input; 1 at least one violation or invalid
    event; 2 usage error or a policy that fails to load.
    """
    now = None
    if now_text is not None:
        now = parse_time(now_text)
        if now is None:
            raise click.BadParameter(
                f"{now_text!r} is not an RFC 3339 date-time with offset", param_hint="--now"
            )
    engine = load_engine_or_exit(policy_path, policy_roots)
    intake = intake_or_exit()
    lines = open_lines_or_exit(events, intake)
    stream = decide_all(Decider(engine, intake), (line.raw for line in lines), now)
    console = Console(soft_wrap=False, width=200 if not sys.stdout.isatty() else None)
    try:
        if fmt == "jsonl":
            tally = _write_jsonl(stream, sys.stdout.buffer, not no_event)
            sys.stdout.buffer.flush()
        elif fmt == "table":
            tally = _write_table(stream, console)
        else:
            tally = Tally()
            for decision in stream:
                tally.add(decision)
            print_summary(tally, console, f"{engine.policy.id} ({engine.version[:19]}): {events}")
    except BrokenPipeError:  # `auditor check ... | head` is fine
        sys.stderr.close()
        sys.exit(1)
    except OSError as exc:
        click.echo(f"auditor check: cannot read {events}: {exc}", err=True)
        sys.exit(2)
    sys.exit(1 if tally.failed else 0)


@click.command()
@click.option("--policy", "policy_path", required=True, metavar="FILE|PACK")
@policy_root_option
@click.argument("events", default="-", metavar="[EVENTS.jsonl | -]")
@click.option("--event-id", "event_ids", multiple=True, help="Only explain these events.")
def explain(policy_path: str, policy_roots: tuple[Path, ...], events: str,
            event_ids: tuple[str, ...]) -> None:
    """Show, rule by rule, why each event gets its decision.

    Every line is decided in order, as `auditor check` does (rules that remember see the
    events before it); the explanation is the trace of that same evaluation.
    """
    intake = intake_or_exit()
    decider = Decider(load_engine_or_exit(policy_path, policy_roots), intake)
    wanted = set(event_ids)
    found: set[str] = set()
    for line in open_lines_or_exit(events, intake):
        item = intake.read(line.raw)
        trace = Trace() if not wanted or item.event_id in wanted else None
        step = decider.item(item, trace=trace)
        if trace is None:
            continue
        if item.event_id is not None:
            found.add(item.event_id)
        # Event text is escaped: what explain prints is seen, never obeyed by a terminal.
        for deadline in step.deadlines:
            click.echo(f"line {line.number}: before this event, "
                       f"{printable(_deadline_text(deadline))}")
        if step.invalid is not None:
            click.echo(f"line {line.number}: invalid event: {printable(step.invalid.message)}\n")
            continue
        click.echo(f"line {line.number}:")
        for text in trace.lines():
            click.echo("  " + printable(text))
        click.echo("  decision: " + printable(orjson.dumps(step.decision.as_dict(False)).decode()))
        click.echo()
    missing = sorted(wanted - found)
    if missing:
        click.echo(f"auditor explain: no event with id {', '.join(map(repr, missing))} in "
                   f"{printable(events)}", err=True)
        sys.exit(1)


def _deadline_text(decision: Decision) -> str:
    finding = decision.findings[0]
    return f"deadline {decision.event_id}: {finding.effect.upper()} {finding.message}"
