"""Deciding replayed records through the one decide loop: topic records and file lines alike."""

from __future__ import annotations

import copy
from typing import Any

import orjson

from auditor.engine import Engine
from auditor.policy import load_policy
from auditor.replay.records import Record
from auditor.replay.run import decide_records
from tests.unit.helpers import EXAMPLE_POLICY, ROOT, event

NATTERBOX = ROOT / "policies" / "natterbox.yaml"
SCHEMAS = ROOT / "schemas" / "openlineage"


def tenant_event(event_id: str, home_region: str) -> dict[str, Any]:
    first = orjson.loads((ROOT / "examples" / "natterbox.jsonl").read_bytes().splitlines()[2])
    out: dict[str, Any] = copy.deepcopy(first)
    out["event_id"] = event_id
    out["tenant"]["home_region"] = home_region
    return out


def rules(decision_findings: Any) -> list[str]:
    return [f.rule for f in decision_findings]


def test_topic_partitions_keep_their_own_memory_as_the_worker_does() -> None:
    first = orjson.dumps(tenant_event("a", "EUR1"))
    moved = orjson.dumps(tenant_event("b", "UKI1"))
    # Files: one memory for the run, so the second home region breaks the promise.
    files = list(decide_records(Engine(load_policy(NATTERBOX)),
                                [Record(first, 0, 1), Record(moved, 0, 2)]))
    assert "natterbox.home-region-fixed" in rules(files[1].findings)
    # A topic: the same two events in two partitions are remembered apart (the worker
    # keeps one store per partition); in one partition they meet.
    apart = list(decide_records(Engine(load_policy(NATTERBOX)),
                                [Record(first, 0, 0), Record(moved, 1, 0)]))
    assert "natterbox.home-region-fixed" not in rules(apart[1].findings)
    together = list(decide_records(Engine(load_policy(NATTERBOX)),
                                   [Record(first, 3, 0), Record(moved, 3, 1)]))
    assert "natterbox.home-region-fixed" in rules(together[1].findings)


def test_topic_records_are_decoded_as_the_worker_decodes_them() -> None:
    engine = Engine(load_policy(EXAMPLE_POLICY))
    batch = b"\n".join(orjson.dumps(event(event_id=f"b-{i}")) for i in range(3))
    run_event = (SCHEMAS / "example-run-event.json").read_bytes()
    records = [
        Record(batch, 0, 0, (("content-type", b"application/x-ndjson"),)),
        Record(run_event, 0, 1),
        Record(b"", 0, 2),  # a tombstone
    ]
    out = list(decide_records(engine, records))
    assert [d.event_id for d in out[:3]] == ["b-0", "b-1", "b-2"]
    assert out[3].verdict != "invalid"  # the OpenLineage facet was unwrapped
    assert out[4].verdict == "invalid"
    # A file line holding a RunEvent is unwrapped as a topic record is: one input layer.
    line = Record(orjson.dumps(orjson.loads(run_event)), 0, 1)
    as_file = list(decide_records(Engine(load_policy(EXAMPLE_POLICY)), [line]))
    assert [d.plain() for d in as_file] == [out[3].plain()]


def test_now_closes_open_deadlines_of_every_store() -> None:
    stored = tenant_event("s", "EUR1")
    stored.update(data_class="operational_log", operation="store",
                  destination={"location": "aws:eu-central-1"}, retention_days=30,
                  purpose="service_delivery")
    raw = orjson.dumps(stored)
    engine = Engine(load_policy(NATTERBOX))
    now = 1_798_761_600.0  # 2027-01-01, long after the 30 days
    out = list(decide_records(engine, [Record(raw, 0, 0), Record(raw, 1, 0)],
                              now=now))
    deadlines = [d for d in out if d.is_deadline]
    assert len(deadlines) == 2  # one per partition's memory
    assert all(d.event is None for d in deadlines)
