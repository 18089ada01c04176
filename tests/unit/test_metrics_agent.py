"""The agent's metrics hooks in Faust's test context: counted once outputs are delivered."""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry

from auditor.engine import Engine
from auditor.ops.metrics import WorkerMetrics
from auditor.policy import load_policy
from auditor.stream.app import create_app, input_lag
from auditor.stream.settings import Settings
from auditor.stream.sink import MemorySink

pytestmark = [
    pytest.mark.stream,
    # Faust's test context leaks its consumer thread's loop (see tests/stream/test_agent.py).
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
ROOT = Path(__file__).resolve().parents[2]


def _event(i: int, processor: str) -> bytes:
    return orjson.dumps({
        "event_id": f"a-{i}", "event_time": "2026-03-02T09:00:00Z",
        "data_class": "personal_data", "operation": "transfer",
        "origin": {"location": "aws:eu-central-1"},
        "destination": {"location": "aws:us-east-1"}, "processor": processor,
    })


def test_metrics_count_a_batch_after_its_delivery_even_after_a_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The retry's log record would hold the failure's traceback, and through it Faust's
    # leaked loop, past this test's warning filters (pytest keeps captured records).
    monkeypatch.setattr(logging.getLogger("auditor.worker"), "disabled", True)
    engine = Engine(load_policy(ROOT / "policies" / "examples" / "gdpr-transfers.yaml"))
    settings = Settings(data_dir=tmp_path, batch_max=3, batch_within_s=0.01)
    sink = MemorySink()
    sink.fail_next = True  # the first delivery fails and is retried (after 1 s)
    metrics = WorkerMetrics(CollectorRegistry(), engine)
    delivered: list[int] = []

    def on_delivered(records: int, consumed_at: float, decided_at: float) -> None:
        delivered.append(records)
        metrics.delivered(records, consumed_at, decided_at)

    async def run() -> None:
        app = create_app(settings, engine, sink=sink, observe=metrics.observe,
                         on_delivered=on_delivered)
        async with app.agents["auditor.decide"].test_context() as ctx:
            await ctx.put(_event(1, "dpf-processor"), key=b"t")
            await ctx.put(_event(2, "plain-processor"), key=b"t")
            await ctx.put(b"[1, 2", key=b"t")
            for _ in range(300):
                if sum(delivered) == 3:
                    break
                await asyncio.sleep(0.02)

    asyncio.run(run())
    gc.collect()
    assert sum(delivered) == 3
    assert len(sink.records["decision"]) == 3  # delivered once, after the retry
    assert metrics.events == {"allow": 1, "violation": 1, "invalid": 1}
    assert metrics.invalid["not_json"] == 1
    assert metrics.latency.count == 3
    assert metrics.last_decision > 0


class _Consumer:
    """What input_lag needs of Faust's consumer: assignment, highwater, position."""

    def __init__(self) -> None:
        from faust.types import TP

        self.tps = {TP("in", 0): (10, 4), TP("in", 1): (None, 0), TP("in-memory-changelog", 0):
                    (5, 0), TP("in", 2): (3, 3)}

    def assignment(self) -> set[object]:
        return set(self.tps)

    def highwater(self, tp: object) -> int | None:
        return self.tps[tp][0]  # type: ignore[index]

    async def position(self, tp: object) -> int:
        return self.tps[tp][1]  # type: ignore[index]


def test_input_lag_is_high_watermark_minus_position_of_input_partitions() -> None:
    lags = asyncio.run(input_lag(_Consumer(), ["in"]))
    # Partition 1 has not been fetched yet (no high watermark); changelogs are not input.
    assert lags == {("in", 0): 6, ("in", 2): 0}
