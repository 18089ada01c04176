"""The worker's batch loop in Faust, without Kafka: records from a list, outputs to memory."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import pytest

from auditor.engine import Engine
from auditor.intake import BATCH_CONTENT_TYPE
from auditor.policy import load_policy
from auditor.stream.app import create_app
from auditor.stream.batches import Batcher
from auditor.stream.memory import PartitionMemory
from auditor.stream.pipeline import Pipeline, Source
from auditor.stream.settings import Settings
from auditor.stream.sink import MemorySink
from auditor.stream.source import Rebalance, Record
from tests.stream.sources import ListSource
from tests.unit.helpers import transfer_event

pytestmark = [pytest.mark.stream]
ROOT = Path(__file__).resolve().parents[2]


def _event(i: int, processor: str) -> bytes:
    return transfer_event(f"s-{i}", processor)


def _record(offset: int, value: bytes, *, partition: int = 0,
            headers: list[tuple[str, bytes]] | None = None) -> Record:
    return Record("lineage.events", partition, offset, 1_780_000_000_000 + offset, b"t-1",
                  value, headers or [])


def _engine(name: str = "examples/gdpr-transfers.yaml") -> Engine:
    return Engine(load_policy(ROOT / "policies" / name))


async def _run_until(app: object, predicate: object, timeout_s: float = 10.0) -> None:
    await app.start()  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:  # type: ignore[operator]
        await asyncio.sleep(0.01)
    await app.stop()  # type: ignore[attr-defined]


def test_worker_decides_each_record_routes_outputs_and_marks_them_done() -> None:
    settings = Settings(batch_max=2, batch_within_s=0.01)
    sink = MemorySink()
    source = ListSource([_record(0, _event(1, "dpf-processor")),
                         _record(1, _event(2, "plain-processor")),
                         _record(2, b"{broken")])
    seen: list[tuple[str | None, str | None]] = []
    lags: list[dict[tuple[str, int], int]] = []

    def make_source(on_assign: Rebalance, on_revoke: Rebalance) -> ListSource:
        return source

    async def run() -> None:
        app = create_app(settings, _engine(), sink=sink, source=make_source,
                         observe=lambda d, reason, src: seen.append((d.event_id, reason)),
                         report_lag=lags.append)
        await _run_until(app, lambda: source.done_offsets == [0, 1, 2])

    asyncio.run(run())
    verdicts = [orjson.loads(o.value or b"")["verdict"] for o in sink.records["decision"]]
    assert verdicts == ["allow", "violation", "invalid"]
    assert [orjson.loads(o.value or b"")["event_id"] for o in sink.records["finding"]] == ["s-2"]
    (dead,) = sink.records["dead_letter"]
    assert dead.value == b"{broken"
    assert dict(dead.headers)["__connect.errors.exception.class.name"] == b"not_json"
    assert [o.key for o in sink.records["decision"]] == [b"t-1", b"t-1", b"t-1"]
    assert seen == [("s-1", None), ("s-2", None), (None, "not_json")]
    assert source.done_offsets == [0, 1, 2]
    assert source.closed  # stopping the app closes the consumer (commit, leave the group)
    # The policy's derogation limit remembers: partition 0's clocks, once per batch.
    assert {(o.key, o.partition) for o in sink.records["changelog"]} == {(b'"0|clock"', 0)}


def test_a_batch_record_counts_as_its_events_and_a_batch_stops_at_max_events() -> None:
    pipeline = Pipeline(_engine())
    sink = MemorySink()
    batcher = Batcher(pipeline, sink, max_events=3)
    ndjson = b"\n".join(_event(i, "dpf-processor") for i in range(5))
    batcher.pending.extend([
        _record(0, ndjson, headers=[("content-type", BATCH_CONTENT_TYPE)]),
        _record(1, _event(9, "dpf-processor")),
    ])
    first = batcher.decide(time.monotonic())
    # The whole batch record is decided (a record is never split), then the batch is full.
    assert [r.offset for r in first.records] == [0]
    assert first.events == 5
    second = batcher.decide(time.monotonic())
    assert [r.offset for r in second.records] == [1]
    assert second.events == 1
    assert not batcher.pending


def test_memory_changes_travel_with_the_batch_once_per_key_and_restore() -> None:
    engine = _engine("24calldesk.yaml")
    assert engine.memory is not None
    memory = PartitionMemory()
    batcher = Batcher(Pipeline(engine, memory=memory), MemorySink(), max_events=100)
    lines = (ROOT / "examples" / "24calldesk.jsonl").read_bytes().splitlines()[:60]
    batcher.pending.extend(_record(i, line, partition=i % 2) for i, line in enumerate(lines))
    batch = batcher.decide(time.monotonic())
    changelog = [o for o in batch.outputs if o.kind == "changelog"]
    assert changelog, "the pack's rules that remember wrote nothing"
    keys = [(o.partition, o.key) for o in changelog]
    assert len(keys) == len(set(keys))  # each changed key once, with its last value
    for out in changelog:
        assert orjson.loads(out.key or b"").startswith(f"{out.partition}|")
    # A worker given partition 1 next rebuilds exactly its store from those records.
    again = PartitionMemory()
    again.restore(1, [(o.key, o.value) for o in changelog if o.partition == 1])
    assert again.store(1).data == memory.store(1).data
    assert memory.changes() == []  # nothing changed since


def test_partitions_taken_away_lose_their_undecided_records_and_memory() -> None:
    memory = PartitionMemory()
    memory.store(0).put("wm", 1.0)
    memory.store(1).put("wm", 2.0)
    memory.changes()
    batcher = Batcher(Pipeline(_engine(), memory=memory), MemorySink(), max_events=10)
    batcher.pending.extend([_record(0, b"{}", partition=0), _record(1, b"{}", partition=1)])
    batcher.forget([1])
    assert [r.partition for r in batcher.pending] == [0]
    assert set(memory.stores) == {0}


def test_memory_restore_applies_tombstones_and_skips_other_partitions() -> None:
    memory = PartitionMemory()
    n = memory.restore(2, [
        (orjson.dumps("2|a"), orjson.dumps(1)),
        (orjson.dumps("2|b"), orjson.dumps({"x": [1]})),
        (orjson.dumps("3|c"), orjson.dumps(3)),
        (orjson.dumps("2|a"), None),
        (b"not json", b"1"),
        (orjson.dumps("2|d"), b"{broken"),
    ])
    assert n == 1
    assert memory.store(2).data == {"b": {"x": [1]}}
    memory.store(2).delete("b")
    (tomb,) = memory.changes()
    assert (tomb.key, tomb.value, tomb.partition) == (orjson.dumps("2|b"), None, 2)


def test_a_dead_letter_names_its_line_in_the_batch_record_blank_lines_counted() -> None:
    pipeline = Pipeline(_engine())
    ndjson = b"\n".join([_event(0, "dpf-processor"), b"", b"{broken", b"  ",
                         _event(4, "dpf-processor")])
    out = list(pipeline.process(ndjson, b"t-1", [("content-type", BATCH_CONTENT_TYPE)],
                                Source("lineage.events", 0, 7, None)))
    assert [reason for _d, reason, _o in out] == [None, "not_json", None]
    indexes = [dict(o.headers)["auditor.batch.index"] for _d, _r, outs in out for o in outs
               if o.kind in ("decision", "dead_letter")]
    assert indexes == [b"0", b"2", b"2", b"4"]


def test_an_event_far_ahead_of_its_records_timestamp_is_a_dead_letter() -> None:
    # The record was written 2026-05-28; one event says 2030, one a day later.
    pipeline = Pipeline(_engine(), max_ahead_s=3600)
    sink = MemorySink()
    batcher = Batcher(pipeline, sink, max_events=10)
    batcher.pending.extend([
        _record(0, transfer_event("far", event_time="2030-01-01T00:00:00Z")),
        _record(1, transfer_event("near", event_time="2026-05-28T21:00:00Z")),
        _record(2, transfer_event("fine")),
    ])
    batch = batcher.decide(time.monotonic())
    asyncio.run(batcher.deliver(batch))
    verdicts = [orjson.loads(o.value or b"")["verdict"] for o in sink.records["decision"]]
    assert verdicts == ["invalid", "allow", "allow"]
    (dead,) = sink.records["dead_letter"]
    headers = dict(dead.headers)
    assert headers["__connect.errors.exception.class.name"] == b"future_event_time"
    assert headers["__connect.errors.stage"] == b"TRANSFORMATION"
    assert b"2030-01-01T00:00:00Z" in headers["__connect.errors.exception.message"]
