"""Forged event times in the worker: quarantined, never a stall, never another's deadline."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from auditor.cli import main
from tests.integration.conftest import Cluster
from tests.integration.test_worker import ids, value

pytestmark = pytest.mark.integration

POLICY = """apiVersion: auditor/v1
id: clock
company: {id: me, country: DK}
home_regions: {EU1: {locations: ["country:DE"]}}
data_classes: {transcript: {}}
purposes: {service_delivery: {}}
rules:
  - {id: clock.keep, kind: retention, description: d, severity: medium, effect: deny,
     citation: c, params: {max_days: 90, track_deletion: true}}
"""


def event(event_id: str, when: str, tenant: str, operation: str = "process") -> bytes:
    return orjson.dumps({
        "event_id": event_id, "event_time": when, "data_class": "transcript",
        "operation": operation, "origin": {"location": "country:DK"},
        "destination": {"location": "country:DK", "system": "db"},
        "tenant": {"id": tenant, "home_region": "EU1"}, "subject": {"key": f"{tenant}-1"},
        "retention_days": 1,
    })


# b stores a copy due 03-02 10:00; a sends dates from the far future; b deletes in time.
LINES = [
    event("b-store", "2026-03-01T10:00:00Z", "b", "store"),
    event("a-5026", "5026-01-01T00:00:00Z", "a"),
    event("a-2030", "2030-01-01T00:00:00Z", "a"),
    event("b-later", "2026-03-01T18:00:00Z", "b"),
    event("b-delete", "2026-03-02T09:00:00Z", "b", "delete"),
]


def test_far_future_events_are_dead_letters_and_the_worker_goes_on(
    cluster: Cluster, tmp_path: Path
) -> None:
    policy = tmp_path / "clock.yaml"
    policy.write_text(POLICY)
    topics = cluster.topics(partitions=1)
    cluster.start_worker(topics, policy=policy)
    cluster.produce(topics.input, LINES, key=b"k")
    records = cluster.read(topics.decisions, until=lambda r: len(r) >= len(LINES), timeout=90)
    decided = {orjson.loads(value(m))["event_id"]: orjson.loads(value(m)) for m in records}
    assert ids(records) == [orjson.loads(line)["event_id"] for line in LINES]  # no deadline
    assert {k: d["verdict"] for k, d in decided.items()} == {
        "b-store": "allow", "a-5026": "invalid", "a-2030": "invalid", "b-later": "allow",
        "b-delete": "allow"}
    message = decided["a-5026"]["findings"][0]["message"]
    assert message.startswith("event_time: 5026-01-01T00:00:00Z is ")
    assert "AUDITOR_EVENT_TIME_MAX_AHEAD_S" in message
    dead = cluster.read(topics.dead_letter, until=lambda r: len(r) >= 2)
    assert [dict(m.headers() or [])["__connect.errors.exception.class.name"] for m in dead] \
        == [b"future_event_time", b"future_event_time"]


def test_with_no_bound_a_date_in_5026_is_decided_at_once_and_closes_only_its_tenant(
    cluster: Cluster, tmp_path: Path
) -> None:
    policy = tmp_path / "clock.yaml"
    policy.write_text(POLICY)
    topics = cluster.topics(partitions=1)
    # A bound of 4,000 years: every event is believed, as `auditor check` without --now.
    cluster.start_worker(topics, policy=policy,
                         extra_env={"AUDITOR_EVENT_TIME_MAX_AHEAD_S": str(4000 * 365 * 86400)})
    lines = [*LINES, event("a-store", "5026-01-01T01:00:00Z", "a", "store"),
             event("a-next", "5026-01-03T00:00:00Z", "a")]
    cluster.produce(topics.input, lines, key=b"k")
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    checked = CliRunner().invoke(main, ["check", "--policy", str(policy), str(path)])
    expected = [orjson.loads(line) for line in checked.output.splitlines()]
    # a's own copy is overdue at a's next event; b's copy, deleted in time, is not.
    assert [r["event_id"] for r in expected] == [
        "b-store", "a-5026", "a-2030", "b-later", "b-delete", "a-store",
        "deadline:clock.keep:a-store:a-1", "a-next"]
    records = cluster.read(topics.decisions, until=lambda r: len(r) >= len(expected),
                           timeout=90)
    assert [orjson.loads(value(m)) for m in records] == expected
