"""The partition key of an event: from the raw event (emitters) and from the validated one
(the worker's re-keying) they are the same key."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from auditor.events.flow import Event
from auditor.events.keys import event_key, partition_key
from auditor.intake import Intake

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted((ROOT / "examples").glob("*.jsonl"))

BASE = {
    "event_id": "e-1",
    "event_time": "2026-03-01T10:00:00Z",
    "data_class": "transcript",
    "operation": "store",
    "origin": {"location": "country:DK"},
    "destination": {"location": "country:DK"},
}


def _event(raw: bytes) -> Event:
    item = Intake().read(raw)
    assert isinstance(item, Event), item
    return item


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_typed_key_is_the_emitters_key(path: Path) -> None:
    events = [item for line in path.read_bytes().splitlines() if line.strip()
              if isinstance(item := Intake().read(line), Event)]
    assert events
    for event in events:
        assert event_key(event) == partition_key(event.value)


@pytest.mark.parametrize(("extra", "key"), [
    ({"tenant": {"id": "acme"}, "subject": {"key": "s-1"}}, b"acme"),
    ({"tenant": {"id": ""}, "subject": {"key": "s-1"}}, b"s-1"),  # empty: the next one
    ({"subject": {"key": "s-1"}}, b"s-1"),
    ({"subject": {"key": ""}}, b"e-1"),
    ({}, b"e-1"),
    ({"tenant": {"id": "zürich|東京"}}, "zürich|東京".encode()),
])
def test_tenant_else_subject_else_event_id(extra: dict[str, object], key: bytes) -> None:
    event = _event(orjson.dumps({**BASE, **extra}))
    assert event_key(event) == key
    assert partition_key(event.value) == key
