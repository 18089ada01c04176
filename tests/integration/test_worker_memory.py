"""Rules that remember, in the worker: the memory survives a restart (changelog-backed)."""

from __future__ import annotations

import signal
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Message

from tests.integration.conftest import Cluster
from tests.integration.test_worker import ids, value

pytestmark = pytest.mark.integration

POLICY = """apiVersion: auditor/v1
id: memory
company: {id: me, country: DK}
home_regions: {EU1: {locations: ["country:DE"]}, EU2: {locations: ["country:SE"]}}
data_classes: {transcript: {}}
purposes: {service_delivery: {}}
rules:
  - {id: memory.home-region, kind: home_region, description: d, severity: high, effect: deny,
     citation: "Once set, Home Regions cannot be changed."}
  - {id: memory.forget-me, kind: erasure, description: d, severity: high, effect: deny,
     citation: "There is a Forget me function", params: {deadline_days: 30}}
"""


def event(event_id: str, when: str, operation: str, region: str = "EU1") -> bytes:
    return orjson.dumps(
        {
            "event_id": event_id,
            "event_time": when,
            "data_class": "transcript",
            "operation": operation,
            "origin": {"location": "country:DK"},
            "destination": {"location": "country:DK", "system": "db"},
            "tenant": {"id": "acme", "home_region": region},
            "subject": {"key": "subject-1"},
        }
    )


def test_erasure_request_before_a_restart_blocks_events_after_it(
    cluster: Cluster, tmp_path: Path
) -> None:
    policy = tmp_path / "memory.yaml"
    policy.write_text(POLICY)
    topics = cluster.topics()
    worker = cluster.start_worker(topics, policy=policy)
    cluster.produce(
        topics.input,
        [
            event("e1", "2026-03-01T10:00:00Z", "store"),
            event("e2", "2026-03-02T10:00:00Z", "erasure_request"),
        ],
        key=b"acme",
    )
    first = cluster.read(topics.decisions, until=lambda r: len(r) >= 2)
    assert ids(first) == ["e1", "e2"]
    assert worker.kill(signal.SIGTERM) == 0  # offsets committed: e1, e2 are not re-read

    cluster.start_worker(topics, policy=policy, name="worker-2")
    cluster.produce(
        topics.input,
        [
            event("e3", "2026-03-03T10:00:00Z", "access"),
            event("e4", "2026-03-04T10:00:00Z", "process", "EU2"),
        ],
        key=b"acme",
    )
    def both(r: list[Message]) -> bool:
        return {"e3", "e4"} <= set(ids(r))

    records = cluster.read(topics.decisions, until=both)
    if not both(records):  # a second, fresh reader (see docs/kafka-brokers.md on fetches)
        records = cluster.read(topics.decisions, until=both)
    decided = {orjson.loads(value(m))["event_id"]: orjson.loads(value(m)) for m in records}
    assert ids(records).count("e2") == 1  # nothing was decided twice: the memory came back
    e3 = decided["e3"]
    assert e3["verdict"] == "violation"
    assert [f["kind"] for f in e3["findings"]] == ["erasure"]
    e4_kinds = sorted(f["kind"] for f in decided["e4"]["findings"])
    assert e4_kinds == ["erasure", "home_region"]
