"""What `replay` and `register` read: JSONL files, or a topic's window (one set of options)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from auditor import kafka_config
from auditor.intake import Intake
from auditor.replay import Window, WindowError, make_window
from auditor.replay.files import FileSource
from auditor.replay.records import ReplaySource
from auditor.replay.topic import TopicSource

F = TypeVar("F", bound=Callable[..., Any])
# The options that select records of a topic, by parameter name.
TOPIC_OPTIONS = {"start": "--from", "end": "--to", "partitions": "--partition",
                 "start_offset": "--start-offset", "end_offset": "--end-offset",
                 "grace": "--grace"}

_OPTIONS = (
    click.argument("files", nargs=-1, metavar="[EVENTS.jsonl ...]"),
    click.option("--topic", metavar="TOPIC", help="Read this topic's window (instead of files)."),
    click.option("--from", "start", metavar="TIME",
                 help="Window start, RFC 3339 (record timestamps; included)."),
    click.option("--to", "end", metavar="TIME",
                 help="Window end, RFC 3339 (record timestamps; included)."),
    click.option("--partition", "partitions", type=click.IntRange(min=0), multiple=True,
                 help="Only this partition (repeatable; default all)."),
    click.option("--start-offset", type=click.IntRange(min=0),
                 help="First offset to read in each partition."),
    click.option("--end-offset", type=click.IntRange(min=0),
                 help="Offset to stop before in each partition (exclusive)."),
    click.option("--grace", metavar="DURATION",
                 help="Seek back this much before --from (e.g. 10m): a safety margin for "
                      "brokers whose time index is approximate, and for clock skew."),
    click.option("--bootstrap-servers", envvar="AUDITOR_BOOTSTRAP_SERVERS",
                 default="127.0.0.1:9092", show_default=True, metavar="HOST:PORT[,...]",
                 help="Kafka bootstrap servers (env AUDITOR_BOOTSTRAP_SERVERS)."),
    click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=30.0,
                 show_default=True, help="Seconds to wait for the broker before giving up."),
)


def source_options(command: F) -> F:
    """Add the FILES argument and the topic-window options to a command."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def window_or_usage_error(topic: str | None, files: tuple[str, ...], **given: Any) -> Window:
    """The window the options select; a click UsageError if they do not fit together."""
    if topic is None and not files:
        raise click.UsageError("give a source: --topic TOPIC, or one or more JSONL files")
    if topic is not None and files:
        raise click.UsageError("give either --topic or files, not both")
    used = [TOPIC_OPTIONS[k] for k, v in given.items() if v not in (None, ())]
    if topic is None and used:
        raise click.UsageError(f"{', '.join(used)} select records of a topic: add --topic")
    try:
        return make_window(given["start"], given["end"], given["partitions"] or None,
                           given["start_offset"], given["end_offset"], given["grace"])
    except WindowError as exc:
        raise click.UsageError(str(exc)) from exc


def kafka_client(bootstrap_servers: str) -> tuple[dict[str, Any], int | None]:
    """The Kafka client config (with the AUDITOR_* security settings) and the fetch wait."""
    from auditor.cli.common import settings_or_exit

    settings = settings_or_exit(bootstrap_servers=bootstrap_servers)
    return kafka_config.connection(settings), settings.fetch_max_wait_ms


def open_source(topic: str | None, files: tuple[str, ...], window: Window,
                bootstrap_servers: str, timeout_s: float, intake: Intake) -> ReplaySource:
    """The topic window or the files to read (not planned yet)."""
    if topic is None:
        return FileSource(files, intake.max_event_bytes)
    config, fetch_wait = kafka_client(bootstrap_servers)
    return TopicSource(topic, window, config, timeout_s=timeout_s, fetch_wait_ms=fetch_wait)
