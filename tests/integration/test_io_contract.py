"""KafkaSource and KafkaSink on a real broker pass the contract their in-memory twins pass."""

from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from auditor import kafka_config
from auditor.stream.app import Source
from auditor.stream.pipeline import Output, normalise_headers
from auditor.stream.settings import Settings
from auditor.stream.sink import KafkaSink, Sink
from auditor.stream.source import KafkaSource
from tests.conftest import TopicFactory
from tests.contract import Headers, SinkContract, SourceContract

pytestmark = [pytest.mark.integration]
KINDS = ("decision", "finding", "dead_letter", "changelog")


class KafkaBackend:
    def __init__(self, bootstrap: str, topics: TopicFactory) -> None:
        self.bootstrap = bootstrap
        self.input = topics(1, "contract-in")
        self.outputs = {kind: topics(1, f"contract-{kind}") for kind in KINDS}
        self.settings = Settings(
            bootstrap_servers=bootstrap, input_topics=(self.input,),
            group_id=f"contract-{uuid.uuid4().hex[:8]}",
            # The embedded broker joins groups in half the session timeout.
            session_timeout_s=6, heartbeat_interval_s=1, fetch_max_wait_ms=50,
            # This pair (KafkaSource storing offsets, KafkaSink) is the at-least-once one;
            # the transactional sink commits offsets itself (tests/stream/test_transactions).
            processing_guarantee="at_least_once",
        )

    def produce(self, values: list[bytes], *, key: bytes | None = None,
                headers: Headers | None = None) -> None:
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 0,
                             "batch.num.messages": 1})
        for value in values:
            producer.produce(self.input, value, key, headers=list(headers or []))
        assert producer.flush(30) == 0

    def source(self) -> Source:
        return KafkaSource(self.settings)

    def sink(self) -> Sink:
        return KafkaSink(kafka_config.connection(self.settings), self.outputs, timeout_s=10)

    def read(self, kind: str, count: int) -> list[tuple[bytes | None, bytes | None, Headers]]:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "unused",
                             "enable.auto.commit": False, "fetch.wait.max.ms": 50})
        consumer.assign([TopicPartition(self.outputs[kind], 0, OFFSET_BEGINNING)])
        out: list[tuple[bytes | None, bytes | None, Headers]] = []
        deadline = time.monotonic() + 30
        try:
            while len(out) < count and time.monotonic() < deadline:
                msg = consumer.poll(0.2)
                if msg is not None and msg.error() is None:
                    out.append((msg.key(), msg.value(), normalise_headers(msg.headers())))
        finally:
            consumer.close()
        return out

    def break_next_delivery(self, sink: Sink) -> list[Output]:
        # A partition the topic does not have: the broker cannot take the record.
        return [Output("decision", b"k", b"lost", [], partition=99)]


class TestKafkaSource(SourceContract):
    @pytest.fixture(autouse=True)
    def _backend(self, kafka_bootstrap: str, topic_factory: TopicFactory) -> None:
        self.backend = KafkaBackend(kafka_bootstrap, topic_factory)


class TestKafkaSink(SinkContract):
    @pytest.fixture(autouse=True)
    def _backend(self, kafka_bootstrap: str, topic_factory: TopicFactory) -> None:
        self.backend = KafkaBackend(kafka_bootstrap, topic_factory)
