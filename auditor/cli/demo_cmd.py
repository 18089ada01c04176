"""`auditor demo`: the main job on the embedded broker, from a fresh clone."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click
from rich.console import Console

from auditor.cli.check_cmd import print_summary
from auditor.cli.common import load_engine_or_exit
from auditor.policy.packs import resolve_policy
from auditor.traffic import PACKS

if TYPE_CHECKING:
    from auditor.demo import Progress


@click.command()
@click.option(
    "--pack",
    type=click.Choice(PACKS),
    default="natterbox",
    show_default=True,
    help="Seed pack whose policy and example traffic to play.",
)
@click.option("--events", "count", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option(
    "--rate",
    type=float,
    default=500.0,
    show_default=True,
    help="Events per second to send (0 = as fast as possible).",
)
@click.option(
    "--live/--no-live", default=None, help="Live view (default when the output is a terminal)."
)
@click.option(
    "--keep-running",
    "keep",
    is_flag=True,
    help="Keep the broker and worker up after the traffic (to replay it) until Ctrl-C.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=300.0,
    show_default=True,
    help="Give up if the decisions are not all in by then (seconds).",
)
def demo(
    pack: str, count: int, rate: float, live: bool | None, timeout_s: float, keep: bool
) -> None:
    """Start the embedded broker and a worker, play PACK's traffic, show decisions live.

    Ctrl-C stops everything it started; nothing is left running.
    """
    from auditor.demo import WORKER_LOG, interrupt_safely, run_demo, run_directory

    policy = resolve_policy(pack)  # a shipped pack by name, from any directory
    engine = load_engine_or_exit(str(policy))  # a broken pack fails here, before any process
    console = Console()
    interactive = console.is_terminal if live is None else live
    if not console.is_terminal:
        console = Console(width=160)  # logs and CI: keep table columns readable
    run_dir = run_directory()

    def report(progress: Progress, bootstrap: str) -> None:
        print_summary(progress.tally, console, f"{engine.policy.id}: {count} events decided")
        console.print(
            f"end to end: {progress.rate():,.0f} events/s; produce->decision latency "
            f"p50 {progress.percentile(0.5):.0f} ms, p99 {progress.percentile(0.99):.0f} ms"
        )
        if keep:
            # Plain echo: the command must stay on one line to be copied.
            click.echo(
                f"\nThe broker keeps running on {bootstrap}. Replay its topic into an audit "
                "report from another terminal:\n"
                f"  auditor replay --policy {pack} --topic lineage.events "
                f"--bootstrap-servers {bootstrap} --live-decisions auditor.decisions "
                "--out audit-report\nCtrl-C (or SIGTERM) stops the broker and the worker."
            )
            while True:
                time.sleep(3600)

    try:
        progress = interrupt_safely(
            lambda: run_demo(
                pack, policy, count, rate, interactive, console, timeout_s, run_dir, after=report
            )
        )
    except (RuntimeError, TimeoutError) as exc:
        console.print(
            f"[red]demo failed:[/red] {exc} (worker log: {run_dir / WORKER_LOG})"
        )
        sys.exit(1)
    if progress is None:
        console.print("stopped: broker and worker are down")
        sys.exit(0 if keep else 130)
