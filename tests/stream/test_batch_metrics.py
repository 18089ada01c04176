"""The worker's metrics hooks: counted once a batch's outputs are delivered; consumer lag."""

from __future__ import annotations

import asyncio
import logging
import threading
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
from auditor.stream.lag import BrokerLag
from auditor.stream.settings import Settings
from auditor.stream.sink import MemorySink
from auditor.stream.source import Rebalance, Record
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
    """What BrokerLag needs of a confluent-kafka consumer: committed offsets, watermarks."""

    offsets: ClassVar = {0: (10, 4), 1: (5, -1001), 2: (3, 3), 3: (7, 9)}  # high, committed

    def committed(self, tps: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition, self.offsets[tp.partition][1])
                for tp in tps]

    def get_watermark_offsets(self, tp: TopicPartition, timeout: float,
                              cached: bool) -> tuple[int, int]:
        assert not cached  # asked of the broker, never the loop's cached state
        return 2, self.offsets[tp.partition][0]


def test_consumer_lag_is_high_watermark_minus_the_groups_committed_offset() -> None:
    lag = BrokerLag.__new__(BrokerLag)
    lag.consumer = _Consumer()  # type: ignore[assignment]
    lag.timeout_s = 1.0
    # Nothing committed on partition 1: the group starts at its low watermark (2).
    assert lag.measure([("in", p) for p in range(4)]) == {
        ("in", 0): 6, ("in", 1): 3, ("in", 2): 0, ("in", 3): 0}
    assert lag.measure([]) == {}


def test_consumer_lag_is_reported_while_a_batch_blocks_the_loop() -> None:
    engine = Engine(load_policy(ROOT / "policies" / "examples" / "gdpr-transfers.yaml"))
    settings = Settings(batch_max=10, batch_within_s=0.01, consumer_lag_interval_s=0.01)
    reports: list[dict[tuple[str, int], int]] = []
    reported_during_stall = threading.Event()
    source = ListSource([Record("in", 0, 0, None, b"t", _event(1, "dpf-processor"), [])])

    def report(lags: dict[tuple[str, int], int]) -> None:
        reports.append(lags)
        if len(reports) >= 3:
            reported_during_stall.set()

    def stuck(*_: object) -> None:
        # A decision that holds the event loop (as a far-future date once did): the lag
        # thread must go on reporting meanwhile.
        reported_during_stall.wait(timeout=10)

    def make_source(on_assign: Rebalance, on_revoke: Rebalance) -> ListSource:
        return source

    async def run() -> None:
        app = create_app(settings, engine, sink=MemorySink(), source=make_source,
                         observe=stuck, report_lag=report)
        await app.start()
        deadline = time.monotonic() + 10
        while not source.done_offsets and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await app.stop()

    asyncio.run(run())
    assert reported_during_stall.is_set()
    assert source.done_offsets == [0]
