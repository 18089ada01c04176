"""The worker's metrics hooks: counted once a batch's outputs are delivered; consumer lag."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import ClassVar

import pytest
from confluent_kafka import TopicPartition
from prometheus_client import CollectorRegistry

from auditor.engine import Engine
from auditor.ops.metrics import WorkerMetrics
from auditor.policy import load_policy
from auditor.stream.app import create_app
from auditor.stream.settings import Settings
from auditor.stream.sink import MemorySink
from auditor.stream.source import KafkaSource, Rebalance, Record
from tests.stream.sources import ListSource
from tests.unit.helpers import transfer_event

pytestmark = [pytest.mark.stream]
ROOT = Path(__file__).resolve().parents[2]


def _event(i: int, processor: str) -> bytes:
    return transfer_event(f"a-{i}", processor)


def test_metrics_count_a_batch_after_its_delivery_even_after_a_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logging.getLogger("auditor.worker"), "disabled", True)
    engine = Engine(load_policy(ROOT / "policies" / "examples" / "gdpr-transfers.yaml"))
    settings = Settings(batch_max=3, batch_within_s=0.01)
    sink = MemorySink()
    sink.fail_next = True  # the first delivery fails and is retried (after 1 s)
    metrics = WorkerMetrics(CollectorRegistry(), engine)
    delivered: list[int] = []
    source = ListSource([
        Record("in", 0, i, None, b"t", value, [])
        for i, value in enumerate([_event(1, "dpf-processor"), _event(2, "plain-processor"),
                                   b"[1, 2"])
    ])

    def on_delivered(records: int, consumed_at: float, decided_at: float) -> None:
        delivered.append(records)
        metrics.delivered(records, consumed_at, decided_at)

    def make_source(on_assign: Rebalance, on_revoke: Rebalance) -> ListSource:
        return source

    async def run() -> None:
        app = create_app(settings, engine, sink=sink, source=make_source,
                         observe=metrics.observe, on_delivered=on_delivered)
        await app.start()
        deadline = time.monotonic() + 10
        while sum(delivered) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await app.stop()

    asyncio.run(run())
    assert delivered == [3]
    assert len(sink.records["decision"]) == 3  # delivered once, after the retry
    assert source.done_offsets == [0, 1, 2]
    assert metrics.events == {"allow": 1, "violation": 1, "invalid": 1}
    assert metrics.invalid["not_json"] == 1
    assert metrics.latency.count == 3
    assert metrics.last_decision > 0


class _Consumer:
    """What KafkaSource.lag needs of a confluent-kafka consumer."""

    offsets: ClassVar = {0: (10, 4), 1: (-1, -1001), 2: (3, 3), 3: (7, -1001)}

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition("in", p) for p in self.offsets]

    def position(self, tps: list[TopicPartition]) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition, self.offsets[tp.partition][1])
                for tp in tps]

    def get_watermark_offsets(self, tp: TopicPartition, cached: bool) -> tuple[int, int]:
        assert cached  # the lag timer must not wait on the broker
        return 0, self.offsets[tp.partition][0]


def test_consumer_lag_is_high_watermark_minus_position_of_fetched_partitions() -> None:
    source = KafkaSource.__new__(KafkaSource)
    source.consumer = _Consumer()  # type: ignore[assignment]
    # Partitions 1 and 3 have no fetch position yet (librdkafka's OFFSET_INVALID): left out.
    assert source.lag() == {("in", 0): 6, ("in", 2): 0}
