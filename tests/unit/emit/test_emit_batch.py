"""Batch records of the emitter: NDJSON lines per key, sent when full, old or flushed."""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

import auditor.emit as emit_module
from auditor.emit import (
    BATCH_CONTENT_TYPE,
    DeliveryError,
    DeliveryReport,
    Emitter,
    QueueFullError,
)
from auditor.intake import BATCH_CONTENT_TYPE as WORKER_CONTENT_TYPE
from auditor.intake import split_batch


class FakeError:
    """The two methods of confluent_kafka.KafkaError the emitter reads."""

    def name(self) -> str:
        return "_MSG_TIMED_OUT"

    def str(self) -> str:
        return "Local: Message timed out"


@dataclass
class Record:
    topic: str
    value: bytes
    key: bytes | None
    headers: list[tuple[str, Any]] | None
    on_delivery: Callable[[Any, Any], None]
    partition: int = 0
    offset: int = 0

    def header(self, name: str) -> Any:
        return dict(self.headers or []).get(name)

    def lines(self) -> list[Any]:
        return [orjson.loads(line) for line in self.value.split(b"\n")]


@dataclass
class FakeMessage:
    """The three methods of confluent_kafka.Message a delivery report reads."""

    record: Record

    def topic(self) -> str:
        return self.record.topic

    def partition(self) -> int:
        return self.record.partition

    def offset(self) -> int:
        return self.record.offset


@dataclass
class FakeProducer:
    """Stands in for confluent_kafka.Producer: keeps records, acks them on flush."""

    config: dict[str, Any]
    records: list[Record] = field(default_factory=list)
    unacked: list[Record] = field(default_factory=list)
    fail: bool = False
    full: bool = False

    def produce(self, topic: str, value: bytes, key: bytes | None = None, *,
                headers: list[tuple[str, Any]] | None = None,
                on_delivery: Callable[[Any, Any], None]) -> None:
        if self.full:
            raise BufferError("Local: Queue full")
        record = Record(topic, value, key, headers, on_delivery, offset=len(self.records))
        self.records.append(record)
        self.unacked.append(record)

    def poll(self, timeout: float = 0) -> int:
        return 0

    def flush(self, timeout: float = 0) -> int:
        acked, self.unacked = self.unacked, []
        for record in acked:
            record.on_delivery(FakeError() if self.fail else None, FakeMessage(record))
        return 0

    def __len__(self) -> int:
        return len(self.unacked)

    def purge(self) -> None:
        self.unacked = []

    def close(self) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(
        emit_module, "time", types.SimpleNamespace(monotonic=fake.monotonic, sleep=fake.sleep)
    )
    return fake


@pytest.fixture
def producers(monkeypatch: pytest.MonkeyPatch) -> list[FakeProducer]:
    made: list[FakeProducer] = []

    def factory(config: dict[str, Any]) -> FakeProducer:
        made.append(FakeProducer(config))
        return made[-1]

    monkeypatch.setattr(emit_module, "Producer", factory)
    return made


def event(event_id: str, tenant: str | None = "acme") -> dict[str, Any]:
    out: dict[str, Any] = {
        "event_id": event_id,
        "event_time": "2026-03-14T09:26:53Z",
        "data_class": "call_recording",
        "operation": "store",
        "origin": {"location": "aws:eu-west-2"},
        "destination": {"location": "aws:eu-west-2"},
    }
    if tenant is not None:
        out["tenant"] = {"id": tenant}
    return out


def test_the_header_is_the_one_the_worker_splits_on() -> None:
    assert BATCH_CONTENT_TYPE == WORKER_CONTENT_TYPE == b"application/x-ndjson"


def test_full_batches_go_out_as_ndjson_records_and_flush_sends_the_rest(
    producers: list[FakeProducer], clock: Clock
) -> None:
    emitter = Emitter("127.0.0.1:1", "t", batch_events=3)
    events = [event(f"e{i}") for i in range(7)]
    for e in events:
        emitter.emit(e)
    (producer,) = producers
    assert [len(r.lines()) for r in producer.records] == [3, 3]
    assert emitter.pending == 7
    emitter.flush()
    assert [r.lines() for r in producer.records] == [events[0:3], events[3:6], events[6:]]
    assert all(r.key == b"acme" for r in producer.records)
    assert all(r.header("content-type") == BATCH_CONTENT_TYPE for r in producer.records)
    assert emitter.delivered == 7
    assert emitter.pending == 0


def test_the_worker_reads_back_every_event_of_a_batch_record(
    producers: list[FakeProducer], clock: Clock
) -> None:
    events = [event(f"w{i}") for i in range(5)]
    with Emitter("127.0.0.1:1", "t", batch_events=10) as emitter:
        emitter.emit_many(events)
    (record,) = producers[0].records
    lines = split_batch(record.value, {"content-type": record.header("content-type")})
    assert [orjson.loads(line) for line in lines] == events


def test_batches_are_per_key_and_keep_each_keys_order(
    producers: list[FakeProducer], clock: Clock
) -> None:
    with Emitter("127.0.0.1:1", "t", batch_events=2) as emitter:
        for i in range(3):
            emitter.emit(event(f"a{i}", "tenant-a"))
            emitter.emit(event(f"b{i}", "tenant-b"))
    by_key: dict[bytes | None, list[str]] = {}
    for record in producers[0].records:
        assert len({line["tenant"]["id"] for line in record.lines()}) == 1
        by_key.setdefault(record.key, []).extend(line["event_id"] for line in record.lines())
    assert by_key == {b"tenant-a": ["a0", "a1", "a2"], b"tenant-b": ["b0", "b1", "b2"]}


def test_a_batch_never_grows_past_batch_bytes(producers: list[FakeProducer], clock: Clock) -> None:
    size = len(orjson.dumps(event("s0")))
    with Emitter("127.0.0.1:1", "t", batch_events=100, batch_bytes=2 * size + 2) as emitter:
        for i in range(5):
            emitter.emit(event(f"s{i}"))
    records = producers[0].records
    assert [len(r.lines()) for r in records] == [2, 2, 1]
    assert all(len(r.value) <= 2 * size + 2 for r in records)


def test_an_old_batch_goes_out_at_the_next_emit_or_poll(
    producers: list[FakeProducer], clock: Clock
) -> None:
    emitter = Emitter("127.0.0.1:1", "t", batch_events=100, batch_linger_s=0.05)
    emitter.emit(event("o1", "slow"))
    clock.now += 0.01
    emitter.emit(event("o2", "other"))
    assert producers[0].records == []
    clock.now += 0.045  # the first batch is now 55 ms old, the second 45 ms
    emitter.poll()
    assert [r.key for r in producers[0].records] == [b"slow"]
    clock.now += 0.01
    emitter.emit(event("o3", "slow"))  # a fresh batch for the key; "other" is due
    assert [r.key for r in producers[0].records] == [b"slow", b"other"]
    emitter.close()
    assert [r.lines()[0]["event_id"] for r in producers[0].records] == ["o1", "o2", "o3"]


def test_delivery_reports_name_each_event_and_its_line(
    producers: list[FakeProducer], clock: Clock
) -> None:
    reports: list[DeliveryReport] = []
    with Emitter("127.0.0.1:1", "t", batch_events=3, on_delivery=reports.append) as emitter:
        emitter.emit_many(event(f"r{i}") for i in range(4))
    assert [(r.event_id, r.offset, r.batch_index, r.error) for r in reports] == [
        ("r0", 0, 0, None),
        ("r1", 0, 1, None),
        ("r2", 0, 2, None),
        ("r3", 1, 0, None),
    ]


def test_a_failed_batch_record_fails_every_event_in_it(
    producers: list[FakeProducer], clock: Clock
) -> None:
    emitter = Emitter("127.0.0.1:1", "t", batch_events=10)
    producers[0].fail = True
    emitter.emit_many(event(f"f{i}") for i in range(3))
    with pytest.raises(DeliveryError, match="3 event") as info:
        emitter.flush()
    assert info.value.event_ids == ["f0", "f1", "f2"]
    assert emitter.delivered == 0
    emitter.close()


def test_a_batch_that_cannot_be_queued_names_its_events(producers: list[FakeProducer]) -> None:
    emitter = Emitter("127.0.0.1:1", "t", batch_events=2, queue_full_timeout=0.1)
    emitter.emit(event("q0"))
    producers[0].full = True
    with pytest.raises(QueueFullError, match="still full") as info:
        emitter.emit(event("q1"))
    assert info.value.event_ids == ["q0", "q1"]
    producers[0].full = False
    emitter.close()


def test_raw_values_that_are_not_one_line_go_out_alone_after_the_open_batch(
    producers: list[FakeProducer], clock: Clock
) -> None:
    with Emitter("127.0.0.1:1", "t", batch_events=10, validate=False) as emitter:
        emitter.emit_raw(b'{"event_id": "x0"}', key=b"k")
        emitter.emit_raw(b'{\n"event_id": "x1"}', key=b"k", event_id="x1")
        emitter.emit_raw(b"   ", key=b"k")
        emitter.emit_raw(b"{not json", key=b"k")
    records = producers[0].records
    assert [(r.value, r.header("content-type")) for r in records] == [
        (b'{"event_id": "x0"}', BATCH_CONTENT_TYPE),
        (b'{\n"event_id": "x1"}', None),
        (b"   ", None),
        (b"{not json", BATCH_CONTENT_TYPE),
    ]


def test_without_batching_each_event_is_a_plain_record(
    producers: list[FakeProducer], clock: Clock
) -> None:
    with Emitter("127.0.0.1:1", "t") as emitter:
        emitter.emit_many(event(f"p{i}") for i in range(3))
    records = producers[0].records
    assert [r.lines() for r in records] == [[event(f"p{i}")] for i in range(3)]
    assert all(r.headers is None for r in records)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("batch_events", 0, "batch_events must be an integer >= 1"),
        ("batch_events", 2.5, "batch_events must be an integer >= 1"),
        ("batch_bytes", 0, "batch_bytes must be an integer >= 1"),
        ("batch_linger_s", -1, "batch_linger_s must be a number >= 0"),
    ],
)
def test_bad_batch_options_are_clear_errors(
    producers: list[FakeProducer], option: str, value: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Emitter("127.0.0.1:1", "t", **{option: value})
    assert producers == []
