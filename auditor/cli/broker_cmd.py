"""``auditor broker``: run the embedded Kafka-protocol broker (Tansu) in the foreground."""

from __future__ import annotations

import re
import signal
import threading
from types import FrameType

import click

from auditor.broker.admin import BrokerError, ensure_topics
from auditor.broker.embedded import EmbeddedBroker

_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}\Z")


def parse_topics(spec: str) -> dict[str, int]:
    """``"lineage.events:4,decisions"`` -> ``{"lineage.events": 4, "decisions": 1}``."""
    topics: dict[str, int] = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, count = item.partition(":")
        name = name.strip()
        # Apache Kafka's own rule for topic names: checked here so that a typo fails the
        # same way on every broker (the embedded one accepts any name).
        if not _TOPIC.match(name) or name in (".", ".."):
            raise ValueError(f"{name!r} is not a valid topic name (letters, digits, '.', '_', '-')")
        if not sep:
            topics[name] = 1
            continue
        try:
            partitions = int(count)
        except ValueError:
            partitions = 0
        if partitions < 1:
            raise ValueError(f"{item!r}: partition count must be an integer >= 1")
        topics[name] = partitions
    return topics


def _topics_option(ctx: click.Context, param: click.Parameter, value: str | None) -> dict[str, int]:
    try:
        return parse_topics(value or "")
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


@click.command("broker")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port on 127.0.0.1 (default: a free one).",
)
@click.option(
    "--topics",
    callback=_topics_option,
    default="",
    metavar="NAME[:PARTITIONS],...",
    help="Topics to create, e.g. lineage.events:4,lineage.decisions:4.",
)
def broker(port: int | None, topics: dict[str, int]) -> None:
    """Run an embedded, memory-only Kafka-compatible broker until Ctrl-C or SIGTERM.

    For local runs and demos only: it keeps nothing on disk, and production runs on
    Apache Kafka.
    """
    ctx = click.get_current_context()
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    embedded = EmbeddedBroker(port=port)
    code = 0
    try:
        embedded.start()
        if topics:
            ensure_topics(embedded.bootstrap, topics)
        click.echo(f"Kafka broker (embedded Tansu, memory only) listening on {embedded.bootstrap}")
        for name, partitions in topics.items():
            click.echo(f"topic {name}: {partitions} partition(s)")
        click.echo(f"export AUDITOR_BOOTSTRAP_SERVERS={embedded.bootstrap}")
        click.echo("Ctrl-C to stop.")
        while not stop.wait(0.5):
            if not embedded.running:
                click.echo(
                    "error: the broker process exited; last log lines:\n" + embedded.log_tail(),
                    err=True,
                )
                code = 1
                break
    except BrokerError as exc:
        click.echo(f"error: {exc}", err=True)
        code = 1
    finally:
        embedded.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code == 0:
        click.echo("broker stopped")
    ctx.exit(code)
