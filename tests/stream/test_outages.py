"""Kafka away: delivery retried without committing, readiness and metrics say so, the worker
stops only at the outage limit; librdkafka's lines rate-limited."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from auditor.engine import Engine
from auditor.kafka_logs import RateLimit
from auditor.ops.kafka_metrics import KafkaStanding
from auditor.policy import load_policy
from auditor.stream.batches import BatchAbandoned, Batcher
from auditor.stream.health import Health
from auditor.stream.pipeline import Output, Pipeline
from auditor.stream.sink import Commit, DeliveryFailed, MemorySink
from auditor.stream.source import Record
from tests.unit.helpers import transfer_event

pytestmark = [pytest.mark.stream]
ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class AwaySink(MemorySink):
    """Fails while ``away``; each attempt costs ``attempt_s`` on the clock (a timeout)."""

    def __init__(self, clock: Clock, away: int, attempt_s: float = 30.0) -> None:
        super().__init__()
        self.clock = clock
        self.away = away
        self.attempt_s = attempt_s
        self.attempts = 0

    async def deliver(self, outputs: Sequence[Output], commit: Commit | None = None) -> None:
        self.attempts += 1
        self.clock.now += self.attempt_s
        if self.attempts <= self.away:
            raise DeliveryFailed("12 outputs undelivered", "Local: Message timed out")
        await super().deliver(outputs, commit)


def batcher(sink: MemorySink, clock: Clock, health: Health, limit_s: float) -> Batcher:
    engine = Engine(load_policy(ROOT / "policies" / "examples" / "gdpr-transfers.yaml"))
    b = Batcher(Pipeline(engine), sink, max_events=10, retry_pause_s=0.0,
                outage_limit_s=limit_s, health=health, clock=clock)
    b.pending.append(Record("in", 0, 0, None, b"t", transfer_event("e-1"), []))
    return b


def test_delivery_is_retried_while_kafka_is_away_and_readiness_says_so() -> None:
    clock = Clock()
    health = Health(clock)
    health.policy_loaded("p")
    health.assigned([0])
    registry = CollectorRegistry()
    KafkaStanding(registry, health, "at_least_once")
    sink = AwaySink(clock, away=3)
    seen: list[tuple[bool, list[str], float | None]] = []
    original = sink.deliver

    async def watching(outputs: Sequence[Output], commit: Commit | None = None) -> None:
        ready, report = health.readiness()
        seen.append((ready, report["waiting_for"],
                     registry.get_sample_value("auditor_kafka_unavailable_seconds")))
        await original(outputs, commit)

    sink.deliver = watching  # type: ignore[method-assign]
    b = batcher(sink, clock, health, limit_s=600)
    asyncio.run(b.deliver(b.decide(0.0)))
    assert sink.attempts == 4
    assert len(sink.records["decision"]) == 1  # delivered once Kafka was back
    assert seen[0] == (True, [], 0.0)
    ready, waiting, away = seen[-1]  # during the last attempt: 3 failed, 90 s on the clock
    assert not ready
    assert waiting[0].startswith("Kafka: outputs failing since ")
    assert waiting[0].endswith("(Local: Message timed out)")
    assert away == 60.0  # since the first failure
    assert health.readiness()[0]  # ready again
    assert registry.get_sample_value("auditor_delivery_failures_total") == 3
    assert registry.get_sample_value("auditor_processing_guarantee",
                                     {"guarantee": "at_least_once"}) == 1


def test_the_worker_stops_at_the_outage_limit_with_a_clear_message() -> None:
    clock = Clock()
    health = Health(clock)
    sink = AwaySink(clock, away=1000)
    b = batcher(sink, clock, health, limit_s=100)
    with pytest.raises(BatchAbandoned) as info:
        asyncio.run(b.deliver(b.decide(0.0)))
    assert sink.attempts == 4  # 30 s each: the limit is passed after 120 s
    message = str(info.value)
    assert message.startswith("the outputs of a batch of 1 records were not delivered for "
                              "120 s (4 attempts; AUDITOR_KAFKA_OUTAGE_LIMIT_S is 100)")
    assert message.endswith("Stopping without committing it: it is decided again when the "
                            "worker restarts")
    assert sink.records["decision"] == []


def test_kafka_lines_are_rate_limited_by_kind() -> None:
    clock = Clock()
    limit = RateLimit(60.0, clock)
    records = []
    for i in range(200):
        clock.now += 0.5
        record = logging.LogRecord(
            "auditor.kafka", logging.ERROR, __file__, 1, "%s [%s] %s",
            ("FAIL", "auditor-worker#producer-5", f"127.0.0.1:{9000 + i % 3}/bootstrap: "
             f"Connect to ipv4#127.0.0.1:9092 failed: Connection refused (after {i}ms in "
             "state CONNECT)"), None)
        if limit.filter(record):
            records.append(record.getMessage())
    # 100 s of reconnects: one line, then one a minute later saying what was left out.
    assert len(records) == 2
    assert records[1].endswith("(119 more like it left out since the last one)")
    other = logging.LogRecord("auditor.kafka", logging.ERROR, __file__, 1,
                              "SESSTMOUT session timed out", None, None)
    assert limit.filter(other)  # another kind of line still passes
