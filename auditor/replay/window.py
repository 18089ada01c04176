"""The slice of a topic to replay: a time window (both ends included), partitions, offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from auditor.events.validate import parse_time

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?\Z")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, None: 1000}


class WindowError(ValueError):
    """A window option that cannot be used; the message names the option and the fix."""


@dataclass(frozen=True, slots=True)
class Window:
    """Which records of a topic a replay decides.

    ``start_ms``/``end_ms`` are the first and last record timestamps (milliseconds since
    the epoch) inside the window, both included; None leaves that side open. Offsets:
    ``start_offset`` is the first offset read, ``end_offset`` the one it stops before.
    """

    start: str | None = None
    end: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    partitions: tuple[int, ...] | None = None
    start_offset: int | None = None
    end_offset: int | None = None
    grace_ms: int = 0

    @property
    def timed(self) -> bool:
        return self.start_ms is not None or self.end_ms is not None

    @property
    def seek_ms(self) -> int | None:
        """The timestamp to look the start offset up with: the window's start less the grace."""
        return None if self.start_ms is None else max(self.start_ms - self.grace_ms, 0)

    def contains(self, timestamp_ms: int | None) -> bool:
        """True if a record with this timestamp is inside the window (None: only if untimed)."""
        if timestamp_ms is None:
            return not self.timed
        if self.start_ms is not None and timestamp_ms < self.start_ms:
            return False
        return self.end_ms is None or timestamp_ms <= self.end_ms


def instant_us(text: str, option: str) -> int:
    """Microseconds since the epoch of an RFC 3339 date-time with offset (exact, no float)."""
    if parse_time(text) is None:
        raise WindowError(
            f"{option}: {text!r} is not an RFC 3339 date-time with offset "
            "(e.g. 2026-03-01T00:00:00Z)"
        )
    moment = datetime.fromisoformat(text.upper())
    return (moment - _EPOCH) // timedelta(microseconds=1)


def duration_ms(text: str, option: str = "--grace") -> int:
    """Milliseconds of ``90``, ``90s``, ``15m``, ``2h``, ``1d`` or ``500ms`` (bare = seconds)."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise WindowError(f"{option}: {text!r} is not a duration (e.g. 30s, 15m, 2h, 1d)")
    return round(float(match.group(1)) * _UNIT_MS[match.group(2)])


def make_window(
    start: str | None = None,
    end: str | None = None,
    partitions: tuple[int, ...] | None = None,
    start_offset: int | None = None,
    end_offset: int | None = None,
    grace: str | None = None,
) -> Window:
    """A checked Window; raises WindowError with a message naming the option."""
    start_ms = end_ms = None
    if start is not None:
        start_ms = -(-instant_us(start, "--from") // 1000)  # first whole ms at or after
    if end is not None:
        end_ms = instant_us(end, "--to") // 1000  # last whole ms at or before
    if start_ms is not None and end_ms is not None and start_ms > end_ms:
        raise WindowError(f"--from {start} is after --to {end}")
    for name, value in (("--start-offset", start_offset), ("--end-offset", end_offset)):
        if value is not None and value < 0:
            raise WindowError(f"{name}: {value} is negative; offsets start at 0")
    if start_offset is not None and end_offset is not None and start_offset > end_offset:
        raise WindowError(f"--start-offset {start_offset} is after --end-offset {end_offset}")
    if partitions is not None:
        if any(p < 0 for p in partitions):
            raise WindowError("--partition: partition numbers start at 0")
        partitions = tuple(sorted(set(partitions)))
    grace_ms = 0
    if grace is not None:
        grace_ms = duration_ms(grace)
        if start_ms is None:
            raise WindowError("--grace only applies with --from (it seeks back from there)")
    return Window(start, end, start_ms, end_ms, partitions, start_offset, end_offset, grace_ms)
