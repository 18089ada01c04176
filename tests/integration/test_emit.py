"""Integration tests of the emitter library and of ``auditor emit`` against a real broker."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition
from confluent_kafka.admin import AdminClient

from auditor.cli.emit_cmd import emit as emit_command
from auditor.emit import (
    BATCH_CONTENT_TYPE,
    DeliveryError,
    DeliveryReport,
    Emitter,
    InvalidEventError,
    default_key,
)
from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration

TopicFactory = Callable[..., str]


def event(event_id: str, **extra: Any) -> dict[str, Any]:
    """A valid lineage event v1 (spec §1: the required fields only, plus ``extra``)."""
    base: dict[str, Any] = {
        "event_id": event_id,
        "event_time": "2026-03-14T09:26:53Z",
        "data_class": "call_recording",
        "operation": "store",
        "origin": {"location": "aws:eu-west-2"},
        "destination": {"location": "aws:eu-west-2", "system": "s3"},
    }
    base.update(extra)
    return base


def read_back(bootstrap: str, topic: str, count: int, timeout: float = 60) -> list[Message]:
    """The first ``count`` records of every partition of ``topic`` (assigned, no group join)."""
    meta = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    partitions = sorted(meta.topics[topic].partitions)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "test-read-back",
            "enable.auto.commit": False,
        }
    )
    out: list[Message] = []
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            out.append(msg)
    finally:
        consumer.close()
    assert len(out) == count, f"read {len(out)} of {count} records from {topic}"
    return out


def value_of(msg: Message) -> Any:
    raw = msg.value()
    assert raw is not None
    return orjson.loads(raw)


def ids_of(messages: list[Message]) -> list[str]:
    return sorted(value_of(m)["event_id"] for m in messages)


def closed_bootstrap() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


# -- library -----------------------------------------------------------------------------


def test_valid_events_arrive_keyed_by_tenant(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    topic = topic_factory(partitions=4)
    events = [event(f"t{t}-{i}", tenant={"id": f"tenant-{t}"}) for i in range(10) for t in range(3)]
    events.append(event("subj-1", subject={"key": "subject-abc"}))
    events.append(event("bare-1"))
    reports: list[DeliveryReport] = []
    with Emitter(kafka_bootstrap, topic, on_delivery=reports.append) as emitter:
        for e in events:
            emitter.emit(e)
    assert sorted(r.event_id or "" for r in reports) == sorted(e["event_id"] for e in events)
    assert all(r.error is None and r.topic == topic and r.offset is not None for r in reports)

    got = read_back(kafka_bootstrap, topic, len(events))
    by_id = {value_of(m)["event_id"]: m for m in got}
    assert {i: value_of(m) for i, m in by_id.items()} == {e["event_id"]: e for e in events}
    assert by_id["subj-1"].key() == b"subject-abc"
    assert by_id["bare-1"].key() == b"bare-1"
    for t in range(3):
        mine = [m for m in got if m.key() == f"tenant-{t}".encode()]
        # One tenant: one partition, in the order emitted.
        assert len({m.partition() for m in mine}) == 1
        ordered = sorted(mine, key=lambda m: m.offset() or 0)
        assert [value_of(m)["event_id"] for m in ordered] == [f"t{t}-{i}" for i in range(10)]


def test_default_key_order_of_preference() -> None:
    assert default_key(event("e", tenant={"id": "acme"}, subject={"key": "s"})) == b"acme"
    assert default_key(event("e", subject={"key": "s"})) == b"s"
    assert default_key(event("e")) == b"e"
    assert default_key({}) is None


def test_invalid_event_raises_and_sends_nothing(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    topic = topic_factory()
    bad = event("bad-1")
    del bad["destination"]
    with Emitter(kafka_bootstrap, topic) as emitter:
        with pytest.raises(InvalidEventError, match="destination") as info:
            emitter.emit(bad)
        assert info.value.event_id == "bad-1"
        with pytest.raises(InvalidEventError, match="operation"):
            emitter.emit(event("bad-2", operation="copy"))
        # One partition keeps order: had an invalid event been sent, it would come
        # before this valid one.
        emitter.emit(event("sentinel"))
    (first,) = read_back(kafka_bootstrap, topic, 1)
    assert value_of(first)["event_id"] == "sentinel"
    assert first.offset() == 0


def test_emit_many_counts_and_stops_at_the_first_invalid(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    topic = topic_factory()
    with Emitter(kafka_bootstrap, topic) as emitter:
        assert emitter.emit_many(event(f"m{i}") for i in range(5)) == 5
        with pytest.raises(InvalidEventError, match=r"event #2: event_time") as info:
            emitter.emit_many([event("n0"), event("n1"), event("n2", event_time="yesterday")])
        assert info.value.index == 2
    assert ids_of(read_back(kafka_bootstrap, topic, 7)) == sorted(
        [f"m{i}" for i in range(5)] + ["n0", "n1"]
    )


def test_unvalidated_emitter_passes_invalid_events_through(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    topic = topic_factory()
    with Emitter(kafka_bootstrap, topic, validate=False, key=lambda e: b"fixed") as emitter:
        emitter.emit({"event_id": "half-an-event"})
    (msg,) = read_back(kafka_bootstrap, topic, 1)
    assert value_of(msg) == {"event_id": "half-an-event"}
    assert msg.key() == b"fixed"


def test_delivery_error_when_the_broker_is_unreachable() -> None:
    emitter = Emitter(closed_bootstrap(), producer_config={"message.timeout.ms": 1000})
    emitter.emit(event("lost-1"))
    emitter.emit(event("lost-2"))
    with pytest.raises(DeliveryError, match="lost-1") as info:
        emitter.flush(30)
    assert sorted(i or "" for i in info.value.event_ids) == ["lost-1", "lost-2"]
    assert emitter.failures == []  # reported once
    emitter.close(1)


def test_close_reports_and_drops_what_is_still_undelivered() -> None:
    emitter = Emitter(closed_bootstrap())  # default message.timeout.ms: 5 minutes
    emitter.emit(event("stuck-1"))
    with pytest.raises(DeliveryError, match="still undelivered") as info:
        emitter.close(0.5)
    assert info.value.undelivered == ["stuck-1"]
    assert emitter.pending == 0


# -- batch records ------------------------------------------------------------------------


def lines_of(msg: Message) -> list[Any]:
    return [orjson.loads(line) for line in (msg.value() or b"").split(b"\n")]


def test_batch_records_carry_each_tenants_events_in_order(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    topic = topic_factory(partitions=4)
    events = [event(f"b{t}-{i}", tenant={"id": f"tenant-{t}"}) for i in range(25) for t in range(3)]
    reports: list[DeliveryReport] = []
    with Emitter(kafka_bootstrap, topic, batch_events=10, on_delivery=reports.append) as emitter:
        assert emitter.emit_many(events) == 75
    assert emitter.delivered == 75
    assert sorted(r.event_id or "" for r in reports) == sorted(e["event_id"] for e in events)
    assert all(r.error is None and r.batch_index is not None for r in reports)

    got = read_back(kafka_bootstrap, topic, 9)  # 25 events per tenant: 10 + 10 + 5
    assert all(dict(m.headers() or [])["content-type"] == BATCH_CONTENT_TYPE for m in got)
    for t in range(3):
        mine = sorted((m for m in got if m.key() == f"tenant-{t}".encode()),
                      key=lambda m: m.offset() or 0)
        assert len({m.partition() for m in mine}) == 1
        assert [len(lines_of(m)) for m in mine] == [10, 10, 5]
        assert [line for m in mine for line in lines_of(m)] == [
            e for e in events if e["tenant"]["id"] == f"tenant-{t}"
        ]


def test_emit_command_batch_option_sends_batch_records(
    kafka_bootstrap: str, topic_factory: TopicFactory, tmp_path: Path
) -> None:
    topic = topic_factory()
    path = write_jsonl(
        tmp_path / "batch.jsonl",
        [orjson.dumps(event(f"k{i}", tenant={"id": "acme"})).decode() for i in range(7)],
    )
    result = CliRunner().invoke(
        emit_command, [str(path), "-b", kafka_bootstrap, "-t", topic, "--batch", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "sent 7 event(s)" in result.stdout
    got = read_back(kafka_bootstrap, topic, 2)
    assert [[e["event_id"] for e in lines_of(m)] for m in got] == [
        [f"k{i}" for i in range(5)],
        ["k5", "k6"],
    ]
    assert CliRunner().invoke(emit_command, [str(path), "--batch", "0"]).exit_code == 2


def test_the_worker_decides_every_event_of_a_batch_record(cluster: Cluster) -> None:
    topics = cluster.topics(partitions=2)
    cluster.start_worker(topics)
    events = [event(f"w{i}", tenant={"id": f"tenant-{i % 2}"}) for i in range(30)]
    events.insert(7, {"event_id": "w-broken", "operation": "store"})  # invalid, in a batch
    with Emitter(cluster.bootstrap, topics.input, validate=False, batch_events=8) as emitter:
        emitter.emit_many(events)
    decisions = cluster.read(topics.decisions, until=lambda r: len(r) >= len(events))
    by_id = {orjson.loads(m.value() or b"")["event_id"]: m for m in decisions}
    assert set(by_id) == {e["event_id"] for e in events}
    assert orjson.loads(by_id["w-broken"].value() or b"")["verdict"] == "invalid"
    assert all("auditor.batch.index" in dict(m.headers() or []) for m in decisions)
    for t in range(2):  # decisions keyed by tenant, in the order emitted
        mine = sorted((m for m in decisions if m.key() == f"tenant-{t}".encode()),
                      key=lambda m: m.offset() or 0)
        assert [orjson.loads(m.value() or b"")["event_id"] for m in mine] == [
            f"w{i}" for i in range(30) if i % 2 == t
        ]
    dead = cluster.read(topics.dead_letter, until=lambda r: len(r) >= 1)
    assert dead[0].value() == orjson.dumps(events[7])


# -- command line ------------------------------------------------------------------------


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mixed_file(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "events.jsonl",
        [
            orjson.dumps(event("c1", tenant={"id": "acme"})).decode(),
            "",
            "{not json",
            orjson.dumps(event("c2", operation="copy")).decode(),
            "   ",
            orjson.dumps(event("c3")).decode(),
        ],
    )


def test_emit_command_sends_valid_lines_and_reports_invalid_ones(
    kafka_bootstrap: str, topic_factory: TopicFactory, tmp_path: Path
) -> None:
    topic = topic_factory()
    result = CliRunner().invoke(
        emit_command, [str(mixed_file(tmp_path)), "-b", kafka_bootstrap, "--topic", topic]
    )
    assert result.exit_code == 1, result.output
    assert "events.jsonl:3: invalid event: not valid JSON" in result.stderr
    assert "events.jsonl:4: invalid event (event_id c2): operation" in result.stderr
    assert "Traceback" not in result.stderr
    assert "sent 2 event(s)" in result.stdout
    assert "2 invalid line(s)" in result.stdout
    got = read_back(kafka_bootstrap, topic, 2)
    assert ids_of(got) == ["c1", "c3"]
    assert {m.key() for m in got} == {b"acme", b"c3"}


def test_emit_command_send_invalid_feeds_the_dead_letter_path(
    kafka_bootstrap: str, topic_factory: TopicFactory, tmp_path: Path
) -> None:
    topic = topic_factory()
    result = CliRunner().invoke(
        emit_command,
        [str(mixed_file(tmp_path)), "-b", kafka_bootstrap, "-t", topic, "--send-invalid"],
    )
    assert result.exit_code == 1, result.output
    assert "sent 4 event(s)" in result.stdout
    assert "2 of them sent anyway" in result.stdout
    values = sorted(m.value() or b"" for m in read_back(kafka_bootstrap, topic, 4))
    assert b"{not json" in values


def test_emit_command_reads_stdin_and_env_bootstrap(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    topic = topic_factory()
    lines = "\n".join(orjson.dumps(event(f"s{i}")).decode() for i in range(3))
    result = CliRunner().invoke(
        emit_command,
        ["-", "-t", topic, "--rate", "1000"],
        input=lines,
        env={"AUDITOR_BOOTSTRAP_SERVERS": kafka_bootstrap},
    )
    assert result.exit_code == 0, result.output
    assert "sent 3 event(s)" in result.stdout
    assert ids_of(read_back(kafka_bootstrap, topic, 3)) == ["s0", "s1", "s2"]


def test_emit_command_unreachable_broker_is_a_clear_error(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "one.jsonl", [orjson.dumps(event("u1")).decode()])
    bootstrap = closed_bootstrap()
    result = CliRunner().invoke(emit_command, [str(path), "-b", bootstrap, "--timeout", "1"])
    assert result.exit_code == 1
    assert f"error: Kafka broker at {bootstrap} did not answer" in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "args",
    [
        ["--rate", "0"],
        ["-X", "no-equals-sign"],
        ["--bogus"],
    ],
)
def test_emit_command_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    path = write_jsonl(tmp_path / "one.jsonl", [orjson.dumps(event("x1")).decode()])
    result = CliRunner().invoke(emit_command, [str(path), "-b", closed_bootstrap(), *args])
    assert result.exit_code == 2, result.output


def test_emit_command_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(emit_command, [str(tmp_path / "absent.jsonl")])
    assert result.exit_code == 2
    assert "absent.jsonl" in result.stderr
