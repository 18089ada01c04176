"""A partition's memory restored from its changelog at assignment: readiness waits for it,
a long restore completes, a stalled one stops the worker."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from confluent_kafka import KafkaError, TopicPartition

from auditor.engine import Engine
from auditor.policy import load_policy
from auditor.stream import changelog
from auditor.stream.app import WorkerApp, create_app
from auditor.stream.health import Health
from auditor.stream.memory import PartitionMemory
from auditor.stream.settings import Settings
from auditor.stream.sink import MemorySink
from auditor.stream.source import Rebalance, Record
from tests.stream.sources import ListSource

pytestmark = [pytest.mark.stream]
ROOT = Path(__file__).resolve().parents[2]
KEYS = 5000


class ChangelogRecord:
    def __init__(self, offset: int) -> None:
        self._offset = offset

    def error(self) -> KafkaError | None:
        return None

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return orjson.dumps(f"0|subject-{self._offset}")

    def value(self) -> bytes:
        return orjson.dumps({"n": self._offset})


class FakeChangelog:
    """Partition 0 of the changelog: KEYS records, 500 a call (none if ``stalled``); it
    notes whether the worker said it was ready while it was being read."""

    stalled: ClassVar[bool] = False
    health: ClassVar[Health | None] = None
    ready_while_reading: ClassVar[list[bool]] = []

    def __init__(self, config: dict[str, Any]) -> None:
        self.next = 0

    def get_watermark_offsets(self, partition: TopicPartition,
                              timeout: float) -> tuple[int, int]:
        return 0, KEYS

    def assign(self, partitions: list[TopicPartition]) -> None:
        pass

    def consume(self, num_messages: int, timeout: float) -> list[ChangelogRecord]:
        assert self.health is not None
        self.ready_while_reading.append(self.health.readiness()[0])
        if self.stalled:
            time.sleep(0.01)
            return []
        out = [ChangelogRecord(o) for o in range(self.next, min(self.next + 500, KEYS))]
        self.next += len(out)
        return out

    def close(self) -> None:
        pass


class AssigningSource(ListSource):
    """Assigns partition 0 on the first take, as the group would."""

    def __init__(self, on_assign: Rebalance) -> None:
        super().__init__([Record("lineage.events", 0, 0, None, b"t", b"{broken", [])])
        self.on_assign: Rebalance | None = on_assign

    def take(self, max_records: int, within_s: float) -> list[Record]:
        if self.on_assign is not None:
            assign, self.on_assign = self.on_assign, None
            assign([0])  # inside take, as librdkafka's callback runs inside consume
        return super().take(max_records, within_s)


def _run(monkeypatch: pytest.MonkeyPatch, *, stalled: bool
         ) -> tuple[WorkerApp, Health, list[BaseException]]:
    """Run a worker whose source assigns partition 0 until it decided a record or crashed:
    the app, its health, and what it crashed with."""
    monkeypatch.setattr(changelog, "Consumer", FakeChangelog)
    monkeypatch.setattr(FakeChangelog, "stalled", stalled)
    monkeypatch.setattr(FakeChangelog, "ready_while_reading", [])
    engine = Engine(load_policy(ROOT / "policies" / "examples" / "gdpr-transfers.yaml"))
    assert engine.memory is not None
    health = Health()
    health.policy_loaded("p")
    monkeypatch.setattr(FakeChangelog, "health", health)
    settings = Settings(batch_within_s=0.01, restore_stall_s=0.2)
    sources: list[AssigningSource] = []

    def make_source(on_assign: Rebalance, on_revoke: Rebalance) -> AssigningSource:
        sources.append(AssigningSource(on_assign))
        return sources[0]

    app = create_app(settings, engine, sink=MemorySink(), source=make_source, health=health)
    crashed: list[BaseException] = []

    async def crash(reason: BaseException) -> None:  # what Faust would stop the worker for
        crashed.append(reason)

    monkeypatch.setattr(app, "crash", crash)

    async def run() -> None:
        await app.start()
        deadline = time.monotonic() + 20
        while (time.monotonic() < deadline and not crashed
               and not (sources and sources[0].done_offsets)):
            await asyncio.sleep(0.01)
        await app.stop()

    asyncio.run(run())
    return app, health, crashed


def test_a_restore_completes_and_then_the_worker_is_ready(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app, health, crashed = _run(monkeypatch, stalled=False)
    assert FakeChangelog.ready_while_reading
    assert not any(FakeChangelog.ready_while_reading)  # never ready while restoring
    memory = app.decide_service.batcher.memory
    assert isinstance(memory, PartitionMemory)
    assert len(memory.store(0).data) == KEYS
    assert memory.store(0).get("subject-4999") == {"n": 4999}
    assert crashed == []
    ready, report = health.readiness()
    assert ready
    assert report["partitions"] == [0]
    assert report["restoring"] == []


def test_a_stalled_restore_stops_the_worker_never_ready(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, health, crashed = _run(monkeypatch, stalled=True)
    [exc] = crashed
    assert isinstance(exc, changelog.RestoreFailed)
    assert "AUDITOR_RESTORE_STALL_S" in str(exc)
    assert not any(FakeChangelog.ready_while_reading)
    ready, report = health.readiness()
    assert not ready
    assert report["restoring"] == [0]
