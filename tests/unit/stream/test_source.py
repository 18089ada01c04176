"""The Kafka source's part in readiness: each assigned partition's first fetch."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from confluent_kafka import KafkaError, TopicPartition

from auditor.stream import source as source_module
from auditor.stream.health import Health
from auditor.stream.settings import Settings
from auditor.stream.source import KafkaSource


class FakeMessage:
    """What the source reads of a confluent-kafka Message."""

    def __init__(self, topic: str, partition: int, offset: int = 0,
                 error: KafkaError | None = None) -> None:
        self._topic, self._partition, self._offset, self._error = topic, partition, offset, error

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def error(self) -> KafkaError | None:
        return self._error

    def timestamp(self) -> tuple[int, int]:
        return 1, 1_780_000_000_000

    def key(self) -> bytes:
        return b"k"

    def value(self) -> bytes:
        return b"{}"

    def headers(self) -> None:
        return None


class FakeConsumer:
    """A consumer whose consume() hands out scripted batches."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.batches: deque[list[FakeMessage]] = deque()
        self.callbacks: dict[str, Any] = {}

    def subscribe(self, topics: list[str], **callbacks: Any) -> None:
        self.callbacks = callbacks

    def consume(self, num_messages: int, timeout: float) -> list[FakeMessage]:
        return self.batches.popleft() if self.batches else []

    def assign_from_group(self, *partitions: tuple[str, int]) -> None:
        self.callbacks["on_assign"](self, [TopicPartition(t, p) for t, p in partitions])

    def revoke_from_group(self, *partitions: tuple[str, int]) -> None:
        self.callbacks["on_revoke"](self, [TopicPartition(t, p) for t, p in partitions])


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch) -> tuple[KafkaSource, FakeConsumer, Health]:
    monkeypatch.setattr(source_module, "Consumer", FakeConsumer)
    health = Health()
    health.policy_loaded("p")
    made = KafkaSource(Settings(input_topics=("in",)), health=health,
                       on_assign=health.assigned, on_revoke=health.revoked)
    consumer = made.consumer
    assert isinstance(consumer, FakeConsumer)
    return made, consumer, health


def eof(topic: str, partition: int) -> FakeMessage:
    return FakeMessage(topic, partition, error=KafkaError(KafkaError._PARTITION_EOF))


def test_the_consumer_reports_partition_ends(
        source: tuple[KafkaSource, FakeConsumer, Health]) -> None:
    _, consumer, _ = source
    assert consumer.config["enable.partition.eof"] is True


def test_ready_once_every_assigned_partition_returned_a_record_or_its_end(
        source: tuple[KafkaSource, FakeConsumer, Health]) -> None:
    kafka, consumer, health = source
    consumer.assign_from_group(("in", 0), ("in", 1), ("in", 2))
    assert health.readiness()[1]["fetching"] == ["in[0]", "in[1]", "in[2]"]
    assert not health.readiness()[0]
    consumer.batches.extend([
        [FakeMessage("in", 0, 5), eof("in", 1)],  # a record of 0, the end of 1
        [],                                        # nothing yet from 2
        [eof("in", 2)],
    ])
    assert [r.offset for r in kafka.take(100, 0)] == [5]  # the end is no record
    assert health.readiness()[1]["fetching"] == ["in[2]"]
    kafka.take(100, 0)
    assert not health.readiness()[0]
    kafka.take(100, 0)
    assert health.readiness()[0]


def test_a_partition_revoked_before_its_first_fetch_is_not_waited_for(
        source: tuple[KafkaSource, FakeConsumer, Health]) -> None:
    kafka, consumer, health = source
    consumer.assign_from_group(("in", 0), ("in", 1))
    consumer.batches.append([eof("in", 0)])
    kafka.take(100, 0)
    assert not health.readiness()[0]
    consumer.revoke_from_group(("in", 1))
    assert health.readiness()[0]
    # Assigned again later: its first fetch is waited for again.
    consumer.assign_from_group(("in", 1))
    assert not health.readiness()[0]
    consumer.batches.append([FakeMessage("in", 1, 0)])
    kafka.take(100, 0)
    assert health.readiness()[0]
