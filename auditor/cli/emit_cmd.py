"""``auditor emit``: send lineage events from a JSONL file (or stdin) to a Kafka topic."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

import click
import orjson

from auditor import kafka_config
from auditor.broker.admin import BrokerConfigError, BrokerError, wait_for_broker
from auditor.emit import DEFAULT_TOPIC, DeliveryError, EmitError, Emitter, default_key
from auditor.events.validate import validation_error

_QUIET_LOGGERS = ("auditor.emit", "auditor.broker")


def _parse_properties(values: tuple[str, ...]) -> dict[str, str]:
    props: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(
                f"{item!r} is not KEY=VALUE (e.g. -X security.protocol=SSL)",
                param_hint="'-X' / '--producer-property'",
            )
        props[name.strip()] = value
    return props


def _event_id(obj: object) -> str | None:
    if isinstance(obj, dict):
        value = obj.get("event_id")
        if isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return None


@contextlib.contextmanager
def _client_logging(verbose: bool) -> Iterator[None]:
    """Route the Kafka client's log lines to stderr only with --verbose.

    Without it, a broker that is down makes librdkafka log each reconnect attempt; the
    command prints one clear message of its own instead.
    """
    saved = [(name, logging.getLogger(name).level) for name in _QUIET_LOGGERS]
    handler: logging.Handler | None = None
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name, _ in saved:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG if verbose else logging.CRITICAL + 1)
        if handler is not None:
            logger.addHandler(handler)
    try:
        yield
    finally:
        for name, level in saved:
            logger = logging.getLogger(name)
            logger.setLevel(level)
            if handler is not None:
                logger.removeHandler(handler)


class _Pacer:
    """Holds a send rate of N events per second (no-op without a rate)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.start = time.monotonic()
        self.count = 0

    def wait(self) -> None:
        if self.rate is None:
            return
        # Schedule against the start time, not the previous send, so delays do not add up.
        due = self.start + self.count / self.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.count += 1


@click.command("emit")
@click.argument("source", metavar="FILE.jsonl|-", type=click.File("rb"))
@click.option(
    "--bootstrap-servers",
    "-b",
    envvar="AUDITOR_BOOTSTRAP_SERVERS",
    show_envvar=True,
    default="127.0.0.1:9092",
    show_default=True,
    help="Kafka bootstrap servers.",
)
@click.option("--topic", "-t", default=DEFAULT_TOPIC, show_default=True, help="Topic to send to.")
@click.option(
    "--validate/--no-validate",
    default=True,
    show_default=True,
    help="Check each event against lineage event v1 before sending it.",
)
@click.option(
    "--send-invalid",
    is_flag=True,
    help="Send invalid lines too (still reported): to test the auditor's dead-letter path.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="N",
    help="Send at most N events per second (default: as fast as possible).",
)
@click.option(
    "--batch",
    "batch_events",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="Pack up to N events of the same key into one record (NDJSON batch record).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for the broker to answer, and for the last acknowledgements.",
)
@click.option(
    "-X",
    "--producer-property",
    "properties",
    multiple=True,
    metavar="KEY=VALUE",
    help="librdkafka producer property, e.g. for TLS/SASL (repeatable).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show the Kafka client's own log lines.")
def emit(
    *,
    source: IO[bytes],
    bootstrap_servers: str,
    topic: str,
    validate: bool,
    send_invalid: bool,
    rate: float | None,
    batch_events: int,
    timeout: float,
    properties: tuple[str, ...],
    verbose: bool,
) -> None:
    """Send the lineage events of FILE.jsonl (or stdin: -) to Kafka, one per line.

    Blank lines are skipped. An invalid line is reported on stderr with its line number
    and not sent (unless --send-invalid). With --batch N, up to N events of one key go
    in one record, one per line (header content-type: application/x-ndjson). Exit
    status: 0 all sent, 1 an invalid line or a failed delivery, 2 usage error.
    """
    ctx = click.get_current_context()
    from auditor.cli.common import settings_or_exit

    # TLS/SASL from the AUDITOR_* settings, as for every command; -X properties win.
    settings = settings_or_exit(bootstrap_servers=bootstrap_servers)
    producer_config = {**kafka_config.security(settings), **_parse_properties(properties)}
    name = getattr(source, "name", "-")
    name = "<stdin>" if name in ("-", "<stdin>") else str(name)
    with _client_logging(verbose):
        code = _run(
            source=source,
            name=name,
            bootstrap=bootstrap_servers,
            topic=topic,
            validate=validate,
            send_invalid=send_invalid,
            rate=rate,
            batch_events=batch_events,
            timeout=timeout,
            producer_config=producer_config,
        )
    ctx.exit(code)


def _run(
    *,
    source: IO[bytes],
    name: str,
    bootstrap: str,
    topic: str,
    validate: bool,
    send_invalid: bool,
    rate: float | None,
    batch_events: int,
    timeout: float,
    producer_config: dict[str, Any],
) -> int:
    try:
        # Without this wait an unreachable broker shows only as every event timing out
        # after message.timeout.ms (5 minutes by default).
        wait_for_broker(bootstrap, timeout, client_config=producer_config)
    except BrokerConfigError as exc:  # e.g. an unknown -X property
        click.echo(f"error: {exc}", err=True)
        return 2
    except BrokerError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1

    try:
        emitter = Emitter(
            bootstrap,
            topic,
            validate=False,
            producer_config=producer_config,
            batch_events=batch_events,
        )
    except EmitError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2

    queued = invalid = sent_invalid = undelivered = 0
    interrupted = False
    pacer = _Pacer(rate)
    try:
        for lineno, raw in enumerate(source, start=1):
            line = raw.strip()
            if not line:
                continue
            obj: Any = None
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                problem: str | None = f"not valid JSON ({exc})"
            else:
                problem = validation_error(obj) if validate else None
            key = default_key(obj) if isinstance(obj, dict) else None
            event_id = _event_id(obj)
            if problem is not None:
                invalid += 1
                label = f" (event_id {event_id})" if event_id else ""
                click.echo(f"{name}:{lineno}: invalid event{label}: {problem}", err=True)
                if not send_invalid:
                    continue
                sent_invalid += 1
            pacer.wait()
            # The line goes out byte for byte as read: what the service wrote is what the
            # auditor sees, including an invalid line sent on purpose.
            emitter.emit_raw(line, key=key, event_id=event_id)
            queued += 1
    except KeyboardInterrupt:
        interrupted = True
        click.echo("interrupted: sending what was queued", err=True)
    except (EmitError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        undelivered = _close(emitter, timeout)
        _summary(queued - undelivered, undelivered, invalid, sent_invalid, topic)
        return 1
    undelivered = _close(emitter, timeout)
    _summary(queued - undelivered, undelivered, invalid, sent_invalid, topic)
    if interrupted:
        return 130
    return 1 if invalid or undelivered else 0


def _close(emitter: Emitter, timeout: float) -> int:
    """Flush and close; the number of events not delivered."""
    try:
        emitter.close(timeout)
    except DeliveryError as exc:
        click.echo(f"error: {exc}", err=True)
        return len(exc.event_ids)
    return 0


def _summary(delivered: int, undelivered: int, invalid: int, sent_invalid: int, topic: str) -> None:
    parts = [f"sent {delivered} event(s) to {topic}"]
    if invalid:
        extra = f", {sent_invalid} of them sent anyway" if sent_invalid else ""
        parts.append(f"{invalid} invalid line(s){extra}")
    if undelivered:
        parts.append(f"{undelivered} not delivered")
    click.echo("; ".join(parts))
