"""auditor.kafka_partitioner against a real producer: where librdkafka's murmur2_random
(the Java client's default partitioner) writes each key is where it says."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Message, Producer

from auditor.broker import ensure_topics
from auditor.kafka_partitioner import partition_of

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("partitions", [3, 7])
def test_partition_of_is_where_a_murmur2_producer_writes(
    kafka_bootstrap: str, partitions: int
) -> None:
    topic = f"test.partitioner.{uuid.uuid4().hex[:12]}"
    ensure_topics(kafka_bootstrap, {topic: partitions})
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random",
                         "linger.ms": 5})
    # Tenant-like ids, subject keys, UUIDs, every length mod 4, non-ASCII.
    keys = [f"tenant-{i}".encode() for i in range(300)]
    keys += [uuid.uuid4().bytes for _ in range(100)]
    keys += [b"x" * n for n in range(1, 40)]
    keys += ["tenant-ü-東京".encode(), b"21", b"\xff\x00\x80"]
    written: dict[bytes, int] = {}

    def delivered(err: object, msg: Message) -> None:
        assert err is None, err
        key = msg.key()
        partition = msg.partition()
        assert key is not None
        assert partition is not None
        written[key] = partition

    for key in keys:
        producer.produce(topic, b"v", key, on_delivery=delivered)
        producer.poll(0)
    assert producer.flush(30) == 0
    assert len(written) == len(set(keys))
    wrong = {k: (p, partition_of(k, partitions)) for k, p in written.items()
             if p != partition_of(k, partitions)}
    assert wrong == {}
    assert set(written.values()) == set(range(partitions))  # the keys spread: not vacuous
