"""The Faust agent in Faust's own test context: batches in, outputs to an in-memory sink."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import orjson
import pytest

from auditor.engine import Engine
from auditor.policy import load_policy
from auditor.stream.app import create_app
from auditor.stream.settings import Settings
from auditor.stream.sink import MemorySink

pytestmark = [
    pytest.mark.stream,
    # Faust's test context creates a consumer thread whose private event loop it never
    # closes; that leak is Faust's, collected at the end of the test (see _collect).
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
ROOT = Path(__file__).resolve().parents[2]


def _event(i: int, processor: str) -> bytes:
    return orjson.dumps({
        "event_id": f"s-{i}", "event_time": "2026-03-02T09:00:00Z",
        "data_class": "personal_data", "operation": "transfer",
        "origin": {"location": "aws:eu-central-1"},
        "destination": {"location": "aws:us-east-1"}, "processor": processor,
        "tenant": {"id": "t-1"},
    })


def test_agent_decides_each_event_and_routes_outputs(tmp_path: Path) -> None:
    engine = Engine(load_policy(ROOT / "policies" / "examples" / "gdpr-transfers.yaml"))
    settings = Settings(data_dir=tmp_path, batch_max=2, batch_within_s=0.01)
    sink = MemorySink()
    seen: list[tuple[str | None, str | None]] = []

    async def run() -> None:
        # Made inside the running loop so that Faust uses it (and opens no loop of its own).
        app = create_app(settings, engine, sink=sink,
                         observe=lambda d, reason, src: seen.append((d.event_id, reason)))
        async with app.agents["auditor.decide"].test_context() as ctx:
            await ctx.put(_event(1, "dpf-processor"), key=b"t-1")
            await ctx.put(_event(2, "plain-processor"), key=b"t-1")
            await ctx.put(b"{broken", key=b"t-1")
            for _ in range(100):
                if len(sink.records["decision"]) == 3:
                    break
                await asyncio.sleep(0.02)

    asyncio.run(run())
    gc.collect()  # while this test's warning filters apply
    verdicts = [orjson.loads(o.value)["verdict"] for o in sink.records["decision"]]
    assert verdicts == ["allow", "violation", "invalid"]
    assert [orjson.loads(o.value)["event_id"] for o in sink.records["finding"]] == ["s-2"]
    (dead,) = sink.records["dead_letter"]
    assert dead.value == b"{broken"
    assert dict(dead.headers)["__connect.errors.exception.class.name"] == b"not_json"
    assert [o.key for o in sink.records["decision"]] == [b"t-1", b"t-1", b"t-1"]
    assert seen == [("s-1", None), ("s-2", None), (None, "not_json")]
