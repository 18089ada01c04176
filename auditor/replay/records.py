"""One input record of a replay, and the error a source raises when it cannot be read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from auditor.intake import Oversized


class SourceError(Exception):
    """The replay's source (broker, topic, file) cannot be read; the message says why."""


@dataclass(frozen=True, slots=True)
class Record:
    """Raw input as read: ``stream`` selects the memory store (a partition; 0 for files)."""

    raw: bytes | Oversized  # Oversized: a file line over the size limit, not kept
    stream: int
    position: int  # the Kafka offset, or the line number in its file
    headers: tuple[tuple[str, bytes], ...] = ()
    size: int = 0  # bytes it stands for, for progress
    timestamp_ms: int | None = None  # a topic record's Kafka timestamp: its clock


class ReplaySource(Protocol):
    """What a replay reads from: a topic window or files."""

    unit: str  # what progress counts: "records" or "bytes"

    @property
    def total(self) -> int | None: ...  # known once planned; None if unknown

    @property
    def records_read(self) -> int: ...

    @property
    def outside_window(self) -> int: ...

    def plan(self) -> object: ...
    def records(self) -> Iterator[Record]: ...
    def sources(self) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...
