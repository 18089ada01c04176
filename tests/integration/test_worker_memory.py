"""Rules that remember, in the worker: the memory survives a restart (changelog-backed)."""

from __future__ import annotations

import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Message

from tests.integration.conftest import Cluster
from tests.integration.test_observability import metrics_url, wait_for
from tests.integration.test_worker import ids, value
from tests.memory_pack import HOME_REGION_POLICY

pytestmark = pytest.mark.integration

POLICY = HOME_REGION_POLICY + """\
  - {id: memory.forget-me, kind: erasure, description: d, severity: high, effect: deny,
     citation: "There is a Forget me function", params: {deadline_days: 30}}
"""


def readiness(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:  # its socket, closed now rather than by the garbage collector
            return exc.code, orjson.loads(exc.read())


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

    restarted = cluster.start_worker(topics, policy=policy, name="worker-2")
    # Not ready until the group assigned its partitions and their memory is restored.
    probe = metrics_url(restarted).removesuffix("/metrics") + "/readyz"
    reports = []

    def ready() -> bool:
        status, report = readiness(probe)
        reports.append((status, report))
        return status == 200

    wait_for("the restarted worker to be ready", ready)
    assert reports[0][0] == 503
    assert "no partitions assigned by the consumer group yet" in reports[0][1]["waiting_for"]
    _, report = reports[-1]
    assert report["policy"] == "memory"
    assert report["partitions"] == [0, 1, 2, 3]
    assert report["restoring"] == []
    log = restarted.output()
    for partition in report["partitions"]:
        assert f"memory of partition {partition} restored" in log  # before it said ready
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
