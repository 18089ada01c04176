"""From one Kafka record to its outputs: decisions, findings and dead letters (no I/O here)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.engine import Decider, Decision, Engine
from auditor.events.flow import Event
from auditor.events.invalid import CODES
from auditor.events.keys import partition_key
from auditor.intake import (
    DEFAULT_MAX_AHEAD_S,
    DEFAULT_MAX_EVENT_BYTES,
    Intake,
    batch_lines,
    is_batch,
)
from auditor.memory import DictStores
from auditor.stream.rekey import Rekey, forward_headers, origin

if TYPE_CHECKING:
    from auditor.stream.memory import PartitionMemory

Headers = list[tuple[str, bytes]]
# Kafka Connect's dead-letter context headers, so existing DLQ tooling reads ours.
H_TOPIC = "__connect.errors.topic"
H_PARTITION = "__connect.errors.partition"
H_OFFSET = "__connect.errors.offset"
H_CONNECTOR = "__connect.errors.connector.name"
H_TASK = "__connect.errors.task.id"
H_STAGE = "__connect.errors.stage"
H_CLASS = "__connect.errors.class.name"
H_EXC_CLASS = "__connect.errors.exception.class.name"
H_EXC_MESSAGE = "__connect.errors.exception.message"
H_BATCH_INDEX = "auditor.batch.index"
H_TRUNCATED = "auditor.dlq.original.bytes"
H_SHA256 = "auditor.dlq.original.sha256"
# On a decision made from the repartition topic: where it was read (topic/partition/offset).
H_VIA = "auditor.rekey.via"
# The invalid-input codes (a metric label, the dead-letter exception class header).
REASONS = tuple(CODES)
# Codes of input that never got as far as being JSON (Kafka Connect's converter stage).
_CONVERTER_CODES = frozenset({"not_json", "not_utf8", "too_deep", "too_large"})


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from. ``stream``: the partition whose memory decided it, when
    not ``partition`` (a re-keyed event, first read here, decided from that partition of
    the repartition topic)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None = None
    stream: int | None = None

    @property
    def memory(self) -> int:
        """The partition whose memory decided the record."""
        return self.partition if self.stream is None else self.stream


@dataclass(frozen=True, slots=True)
class Output:
    """A record to produce: ``kind`` is decision, finding, dead_letter, changelog or
    repartition (an event forwarded to its key's partition: auditor.stream.rekey).

    ``value`` None is a tombstone (changelog only); ``partition`` None lets the producer's
    partitioner place the record by its key.
    """

    kind: str
    key: bytes | None
    value: bytes | None
    headers: Headers
    partition: int | None = None


class Pipeline:
    """Turns input records into output records through the one decide loop."""

    def __init__(
        self,
        engine: Engine,
        *,
        memory: PartitionMemory | None = None,
        worker_id: str = "worker-1",
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        max_ahead_s: float = DEFAULT_MAX_AHEAD_S,
        max_copied_bytes: int = 262_144,
        rekey: Rekey | None = None,
    ) -> None:
        self.engine = engine
        # Events in a partition other than their key's are forwarded to it (None: decided
        # where they are, as for a policy without rules that remember).
        self.rekey = rekey
        # The memory of rules that remember, one store per input partition (None: the
        # policy has no such rule).
        self.memory = memory
        self.decider = Decider(engine, Intake(max_event_bytes, max_ahead_s),
                               memory if memory is not None else DictStores())
        self.worker_id = worker_id.encode()
        # Output records stay well under Kafka's default 1 MB limit: an event larger than
        # this is left out of its decision record and cut short in its dead letter.
        self.max_copied_bytes = max_copied_bytes

    def use(self, engine: Engine) -> None:
        """Decide with ``engine`` from the next input on, with the same memory stores (a
        new policy version, taken between batches: auditor.stream.rollout)."""
        self.engine = engine
        self.decider.engine = engine

    def source_of(self, topic: str, partition: int, offset: int, timestamp_ms: int | None,
                  headers: Headers) -> Source:
        """Where a record was first read: for one the worker forwarded to the repartition
        topic, where it was read before (with ``stream`` its partition there), else itself.
        What decisions name (their ``auditor.source.*`` headers) and observers see."""
        rekey = self.rekey
        if rekey is not None and topic == rekey.topic:
            first = origin(headers)
            if first is not None:
                return Source(first.topic, first.partition, first.offset, first.timestamp_ms,
                              partition)
        return Source(topic, partition, offset, timestamp_ms)

    def process(
        self,
        value: bytes | None,
        key: bytes | None,
        headers: Headers,
        source: Source,
    ) -> Iterator[tuple[Decision | None, str | None, list[Output]]]:
        """Decisions and output records for one input record (several for a batch):
        (decision, invalid-input code or None, outputs), deadline decisions first.

        With re-keying, an event that belongs to another partition is not decided here:
        it yields (None, None, [its repartition record]); one read from the repartition
        topic is decided with the provenance of where it was first read.
        """
        rekey = self.rekey
        stream = source.partition  # whose memory decides it
        # Input is placed by its key; what comes from the repartition topic is where it goes.
        placing = rekey if rekey is not None and source.topic != rekey.topic else None
        first = origin(headers) if rekey is not None and placing is None else None
        if first is not None:
            headers = first.headers
            via = f"{source.topic}/{source.partition}/{source.offset}".encode()
            source = Source(first.topic, first.partition, first.offset, first.timestamp_ms)
        provenance = [
            ("auditor.source.topic", source.topic.encode()),
            ("auditor.source.partition", str(source.partition).encode()),
            ("auditor.source.offset", str(source.offset).encode()),
            ("auditor.worker", self.worker_id),
        ]
        if source.timestamp_ms is not None:
            provenance.append(("auditor.source.timestamp", str(source.timestamp_ms).encode()))
        if first is not None:
            provenance.append((H_VIA, via))
            # A forwarded record holds one event, a line of a batch record or not.
            batch = first.line is not None
            items = [(first.line or 0, value or b"")]
        else:
            batch = is_batch(dict(headers))
            items = batch_lines(value or b"") if batch else [(0, value or b"")]
        decider = self.decider
        # The record's Kafka timestamp is its clock: no event in it may be far ahead of it.
        clock = None if source.timestamp_ms is None else source.timestamp_ms / 1000
        for index, raw in items:
            if placing is not None:
                item = decider.read(raw, clock)
                # Only a valid event has a key to go by: invalid input stays here.
                if type(item) is Event:
                    moved = placing.misplaced(item, stream)
                    if moved is not None:
                        marks = forward_headers(headers, source.topic, source.partition,
                                                source.offset, source.timestamp_ms,
                                                index if batch else None)
                        yield None, None, [Output("repartition", moved.key, raw, marks,
                                                  moved.partition)]
                        continue
                step = decider.item(item, stream)
            else:
                step = decider.raw(raw, stream, clock=clock)
            for deadline in step.deadlines:
                record = deadline.to_json()
                yield (
                    deadline,
                    None,
                    [
                        Output("decision", key, record, provenance),
                        Output("finding", key, record, provenance),
                    ],
                )
            decision = step.decision
            extra = [(H_BATCH_INDEX, str(index).encode())] if batch else []
            out_key = self._key(decision, key)
            record = decision.to_json(with_event=len(raw) <= self.max_copied_bytes)
            outputs = [Output("decision", out_key, record, provenance + extra)]
            invalid = step.invalid
            if decision.verdict == "violation":
                outputs.append(Output("finding", out_key, record, provenance + extra))
            elif invalid is not None:
                dead = self._dead_letter_headers(headers, source, decision, invalid.code) + extra
                copied = raw
                if len(raw) > self.max_copied_bytes:
                    dead += [
                        (H_TRUNCATED, str(len(raw)).encode()),
                        (H_SHA256, hashlib.sha256(raw).hexdigest().encode()),
                    ]
                    copied = raw[: self.max_copied_bytes]
                outputs.append(Output("dead_letter", key, copied, dead))
            yield decision, invalid.code if invalid is not None else None, outputs

    @staticmethod
    def _key(decision: Decision, key: bytes | None) -> bytes | None:
        # Decisions follow their event's partition key, so one tenant's decisions stay in
        # order; an unreadable event keeps the input record's key.
        if decision.event is not None:
            return partition_key(decision.event)
        return key

    def _dead_letter_headers(
        self, headers: Headers, source: Source, decision: Decision, reason: str
    ) -> Headers:
        stage = b"VALUE_CONVERTER" if reason in _CONVERTER_CODES else b"TRANSFORMATION"
        return [
            *headers,
            (H_TOPIC, source.topic.encode()),
            (H_PARTITION, str(source.partition).encode()),
            (H_OFFSET, str(source.offset).encode()),
            (H_CONNECTOR, b"auditor"),
            (H_TASK, self.worker_id),
            (H_STAGE, stage),
            (H_CLASS, b"auditor.stream.pipeline.Pipeline"),
            (H_EXC_CLASS, reason.encode()),
            (H_EXC_MESSAGE, decision.findings[0].message.encode("utf-8", "replace")),
        ]


def normalise_headers(headers: Any) -> Headers:
    """Kafka headers from any client shape (list of pairs, mapping or None) as (str, bytes)."""
    if not headers:
        return []
    pairs: Iterable[tuple[Any, Any]] = headers.items() if isinstance(headers, Mapping) else headers
    out: Headers = []
    for name, value in pairs:
        text = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        out.append((text, value if isinstance(value, bytes) else str(value or "").encode()))
    return out
