"""Integration tests of the broker helpers: embedded Tansu lifecycle, topic admin, round trip."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient

from auditor.broker import (
    BrokerError,
    BrokerUnavailableError,
    EmbeddedBroker,
    ensure_topics,
    wait_for_broker,
)
from auditor.cli.broker_cmd import parse_topics

pytestmark = pytest.mark.integration

TopicFactory = Callable[..., str]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is not running.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _partitions(bootstrap: str, topic: str) -> int:
    meta = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    return len(meta.topics[topic].partitions)


def test_embedded_broker_starts_answers_and_stops() -> None:
    broker = EmbeddedBroker()
    with broker:
        pid = broker.pid
        assert pid is not None
        assert _alive(pid)
        assert broker.bootstrap == f"127.0.0.1:{broker.port}"
        meta = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
        assert meta.brokers
        log_file = broker.log_file
        assert log_file is not None
        assert "listening on" in broker.log_tail()
    assert not _alive(pid)
    assert not broker.running
    assert log_file is not None
    assert not log_file.exists()
    with pytest.raises(BrokerError, match="not running"):
        _ = broker.bootstrap
    broker.stop()  # idempotent


def test_embedded_broker_is_stopped_at_interpreter_exit() -> None:
    code = (
        "from auditor.broker import EmbeddedBroker\n"
        "b = EmbeddedBroker().start()\n"
        "print(b.pid, b.port, flush=True)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    pid, port = (int(x) for x in out.stdout.split())
    try:
        assert not _alive(pid)
        assert not _accepts(port)
    finally:
        if _alive(pid):  # only if the test fails: never leave the broker running
            os.killpg(pid, signal.SIGKILL)


def test_wrong_binary_path_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-tansu"
    with pytest.raises(BrokerError, match="does not exist or is not executable") as info:
        EmbeddedBroker(binary=missing).start()
    assert str(missing) in str(info.value)


def test_broker_that_exits_at_once_reports_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "fake-tansu"
    fake.write_text("#!/bin/sh\necho 'boom: cannot bind' >&2\nexit 3\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    broker = EmbeddedBroker(binary=fake, port=_closed_port())
    with pytest.raises(BrokerError, match="exited with status 3") as info:
        broker.start()
    assert "boom: cannot bind" in str(info.value)
    assert not broker.running


def test_produce_consume_round_trip_with_a_group(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    topic = topic_factory(partitions=3)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _msg: object) -> None:
        if err is not None:
            errors.append(err)

    sent = [(f"k{i % 5}".encode(), f"v{i}".encode()) for i in range(100)]
    for key, value in sent:
        producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
    assert producer.flush(30) == 0
    assert errors == []

    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": f"test-group-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            # Tansu completes a group join after about half the session timeout.
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
        }
    )
    received: list[tuple[bytes, bytes]] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 60
        while len(received) < len(sent) and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            got_key, got_value = msg.key(), msg.value()
            assert got_key is not None
            assert got_value is not None
            received.append((got_key, got_value))
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()

    assert sorted(received) == sorted(sent)
    # Kafka keeps order per partition, so per key.
    for k in {key for key, _ in sent}:
        assert [v for key, v in received if key == k] == [v for key, v in sent if key == k]


def test_ensure_topics_is_idempotent(kafka_bootstrap: str) -> None:
    name = f"test.ensure.{uuid.uuid4().hex[:12]}"
    other = f"test.ensure.{uuid.uuid4().hex[:12]}"
    ensure_topics(kafka_bootstrap, {name: 3})
    ensure_topics(kafka_bootstrap, {name: 3, other: 2})
    # An existing topic is left as it is, whatever count is asked for.
    ensure_topics(kafka_bootstrap, {name: 5})
    assert _partitions(kafka_bootstrap, name) == 3
    assert _partitions(kafka_bootstrap, other) == 2


def test_ensure_topics_rejects_bad_arguments(kafka_bootstrap: str) -> None:
    with pytest.raises(ValueError, match="partition count"):
        ensure_topics(kafka_bootstrap, {"test.bad": 0})
    with pytest.raises(ValueError, match="must not be empty"):
        ensure_topics(kafka_bootstrap, {"": 1})


def test_unreachable_broker_is_a_clear_error() -> None:
    bootstrap = f"127.0.0.1:{_closed_port()}"
    with pytest.raises(BrokerUnavailableError, match=bootstrap):
        wait_for_broker(bootstrap, timeout=1)
    with pytest.raises(BrokerUnavailableError, match=bootstrap):
        ensure_topics(bootstrap, {"test.never": 1}, timeout=1)


def test_parse_topics() -> None:
    assert parse_topics("lineage.events:4, decisions ,") == {"lineage.events": 4, "decisions": 1}
    for bad in ("x:0", "x:two", "bad name:1", ".."):
        with pytest.raises(ValueError, match=r"partition count|not a valid topic name"):
            parse_topics(bad)


def test_broker_command_runs_creates_topics_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from auditor.cli.broker_cmd import broker; broker()",
            "--topics",
            "lineage.events:4,decisions",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "listening on 127.0.0.1:" in first, first
        bootstrap = first.rsplit(" ", 1)[1].strip()
        assert _partitions(bootstrap, "lineage.events") == 4
        assert _partitions(bootstrap, "decisions") == 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:  # only if the test fails: stop what it started
            proc.terminate()
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert "broker stopped" in out
    assert "Traceback" not in err
    assert not _accepts(int(bootstrap.rsplit(":", 1)[1]))
