"""Consumer lag asked of a real broker: committed offsets against high watermarks."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from auditor.stream.lag import BrokerLag
from tests.conftest import TopicFactory

pytestmark = pytest.mark.integration


def test_lag_is_the_high_watermark_minus_what_the_group_committed(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    topic = topic_factory(partitions=2)
    # Single-record batches: exact high watermarks on the embedded broker.
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 0,
                         "batch.num.messages": 1})
    for i in range(10):
        producer.produce(topic, b"x", partition=i % 2)
    assert producer.flush(30) == 0
    committer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": "g-lag",
                          "enable.auto.commit": False})
    committer.commit(offsets=[TopicPartition(topic, 0, 4)], asynchronous=False)
    committer.close()
    lag = BrokerLag({"bootstrap.servers": kafka_bootstrap}, "g-lag", timeout_s=10)
    try:
        # Partition 0: 5 records, 4 committed; partition 1: nothing committed.
        assert lag.measure([(topic, 0), (topic, 1)]) == {(topic, 0): 1, (topic, 1): 5}
    finally:
        lag.close()
