"""Batch records: events of one key packed, one NDJSON line each, into one Kafka record."""

from __future__ import annotations

# The header that marks a batch record: one event per line (intake.batch_lines reads it).
BATCH_CONTENT_TYPE = b"application/x-ndjson"
Headers = list[tuple[str, str | bytes | None]]
BATCH_HEADERS: Headers = [("content-type", BATCH_CONTENT_TYPE)]
# Under librdkafka's default message.max.bytes (1,000,000) with room for headers.
DEFAULT_BATCH_BYTES = 512_000
DEFAULT_BATCH_LINGER_S = 0.05


class Batch:
    """Events of one key waiting to go out as one NDJSON record."""

    __slots__ = ("event_ids", "key", "lines", "size", "started")

    def __init__(self, key: bytes | None, started: float) -> None:
        self.key = key
        self.lines: list[bytes] = []
        self.event_ids: list[str | None] = []
        self.size = 0
        self.started = started

    def value(self) -> bytes:
        """The record's value: the events' lines."""
        return b"\n".join(self.lines)


class Batches:
    """The open batches, one per key, oldest first (a key whose batch was taken opens its
    next one at the end); ``events`` counts the events they hold.

    It only keeps them: when a batch is full or due, and what sending it means, is the
    emitter's to say.
    """

    __slots__ = ("_open", "events")

    def __init__(self) -> None:
        self._open: dict[bytes | None, Batch] = {}
        self.events = 0

    def size(self, key: bytes | None) -> int:
        """Bytes of the key's open batch (lines and their separators; 0 if none is open)."""
        batch = self._open.get(key)
        return 0 if batch is None else batch.size

    def add(self, key: bytes | None, value: bytes, event_id: str | None, now: float) -> int:
        """Add one event's line to the key's batch (opened at ``now`` if none is open);
        returns how many events that batch holds."""
        batch = self._open.get(key)
        if batch is None:
            batch = self._open[key] = Batch(key, now)
        batch.lines.append(value)
        batch.event_ids.append(event_id)
        batch.size += len(value) + 1
        self.events += 1
        return len(batch.lines)

    def oldest(self) -> Batch | None:
        """The batch opened first of those still open."""
        return next(iter(self._open.values()), None)

    def take(self, key: bytes | None) -> Batch | None:
        """Close the key's open batch and hand it over (None if none is open)."""
        batch = self._open.pop(key, None)
        if batch is not None:
            self.events -= len(batch.lines)
        return batch
