"""From one Kafka record to its outputs: decisions, findings and dead letters (no I/O here)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.engine import Decision, Engine
from auditor.engine.memory import Store
from auditor.events.keys import partition_key
from auditor.inputs import NotJson, decode
from auditor.stream.openlineage import unwrap_run_event

Headers = list[tuple[str, bytes]]
BATCH_CONTENT_TYPE = b"application/x-ndjson"
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
REASONS = (
    "not_json",
    "not_utf8",
    "too_deep",
    "too_large",
    "not_object",
    "missing_field",
    "unsupported_version",
    "wrong_value",
    "openlineage",
)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Output:
    """A record to produce: ``kind`` is decision, finding, dead_letter or changelog.

    ``value`` None is a tombstone (changelog only); ``partition`` None lets the producer's
    partitioner place the record by its key.
    """

    kind: str
    key: bytes | None
    value: bytes | None
    headers: Headers
    partition: int | None = None


def reason_class(message: str) -> str:
    """The bounded class of an invalid-input message (a metric label, a DLQ header)."""
    if message.startswith("event: not valid JSON"):
        if "UTF-8" in message or "utf-8" in message:
            return "not_utf8"
        if "depth limit" in message:
            return "too_deep"
        return "not_json"
    if message.startswith("event:") and "byte limit" in message:
        return "too_large"
    if message.startswith("event: expected a JSON object"):
        return "not_object"
    if message.startswith("openlineage:"):
        return "openlineage"
    if message.startswith("spec_version:"):
        return "unsupported_version"
    if message.endswith("required field is missing"):
        return "missing_field"
    return "wrong_value"


def split_batch(value: bytes, headers: Mapping[str, bytes]) -> list[bytes]:
    """The events of one record: one, or every line of an NDJSON batch record."""
    if headers.get("content-type") == BATCH_CONTENT_TYPE:
        return [line for line in value.split(b"\n") if line.strip()]
    return [value]


class Pipeline:
    """Turns input records into output records with one engine; one code path for all."""

    def __init__(
        self,
        engine: Engine,
        *,
        worker_id: str = "worker-1",
        max_event_bytes: int = 1_048_576,
        max_copied_bytes: int = 262_144,
    ) -> None:
        self.engine = engine
        self.worker_id = worker_id.encode()
        self.max_event_bytes = max_event_bytes
        # Output records stay well under Kafka's default 1 MB limit: an event larger than
        # this is left out of its decision record and cut short in its dead letter.
        self.max_copied_bytes = max_copied_bytes

    def decide(self, raw: bytes, store: Store | None = None) -> tuple[Decision, str | None]:
        """The decision for one raw event and, if it is invalid, the reason class.

        Deadline decisions the event's time passed wait in ``self.engine.due``.
        """
        if len(raw) > self.max_event_bytes:
            message = f"event: {len(raw)} bytes is over the {self.max_event_bytes}-byte limit"
            return self.engine.invalid(message), "too_large"
        value = decode(raw)
        if type(value) is NotJson:
            return self.engine.invalid(str(value)), reason_class(str(value))
        if type(value) is dict and "eventType" in value and "run" in value:
            event = unwrap_run_event(value)
            if isinstance(event, str):
                return self.engine.invalid(event), "openlineage"
            value = event
        decision = self.engine.classify(value, store)
        if decision.verdict == "invalid":
            return decision, reason_class(decision.findings[0].message)
        return decision, None

    def process(
        self,
        value: bytes | None,
        key: bytes | None,
        headers: Headers,
        source: Source,
        store: Store | None = None,
    ) -> Iterator[tuple[Decision, str | None, list[Output]]]:
        """Decisions and output records for one input record (several for a batch)."""
        header_map = dict(headers)
        provenance = [
            ("auditor.source.topic", source.topic.encode()),
            ("auditor.source.partition", str(source.partition).encode()),
            ("auditor.source.offset", str(source.offset).encode()),
            ("auditor.worker", self.worker_id),
        ]
        if source.timestamp_ms is not None:
            provenance.append(("auditor.source.timestamp", str(source.timestamp_ms).encode()))
        items = split_batch(value or b"", header_map)
        batch = len(items) > 1 or header_map.get("content-type") == BATCH_CONTENT_TYPE
        for index, raw in enumerate(items):
            decision, reason = self.decide(raw, store)
            for deadline in self._drain_due():
                record = deadline.to_json()
                yield (
                    deadline,
                    None,
                    [
                        Output("decision", key, record, provenance),
                        Output("finding", key, record, provenance),
                    ],
                )
            extra = [(H_BATCH_INDEX, str(index).encode())] if batch else []
            out_key = self._key(decision, key)
            record = decision.to_json(with_event=len(raw) <= self.max_copied_bytes)
            outputs = [Output("decision", out_key, record, provenance + extra)]
            if decision.verdict == "violation":
                outputs.append(Output("finding", out_key, record, provenance + extra))
            elif reason is not None:
                dead = self._dead_letter_headers(headers, source, decision, reason) + extra
                copied = raw
                if len(raw) > self.max_copied_bytes:
                    dead += [
                        (H_TRUNCATED, str(len(raw)).encode()),
                        (H_SHA256, hashlib.sha256(raw).hexdigest().encode()),
                    ]
                    copied = raw[: self.max_copied_bytes]
                outputs.append(Output("dead_letter", key, copied, dead))
            yield decision, reason, outputs

    def _drain_due(self) -> list[Decision]:
        due = self.engine.due
        if not due:
            return due
        out = list(due)
        due.clear()
        return out

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
        stage = (
            b"VALUE_CONVERTER"
            if reason in ("not_json", "not_utf8", "too_deep", "too_large")
            else b"TRANSFORMATION"
        )
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
