"""Shared helpers for unit tests: sample events and engines for the example pack."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from auditor.engine import Decider, Decision, Engine, Trace
from auditor.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_POLICY = ROOT / "policies" / "examples" / "gdpr-transfers.yaml"

BASE_EVENT: dict[str, Any] = {
    "event_id": "e-1",
    "event_time": "2026-03-02T09:00:00Z",
    "data_class": "personal_data",
    "operation": "transfer",
    "origin": {"location": "aws:eu-central-1"},
    "destination": {"location": "aws:us-east-1", "system": "s3://bucket"},
    "processor": "dpf-processor",
    "tenant": {"id": "acme", "settings": {"tier": "gold"}},
    "encryption": {"in_transit": "tls1.3", "at_rest": "aes-256"},
    "retention_days": 30,
    "subject": {"key": "s-1"},
    "labels": {"team": "x"},
    "upstream": ["e-0"],
    "service": "crm",
}


def event(**changes: Any) -> dict[str, Any]:
    """A valid event with top-level fields replaced."""
    out = copy.deepcopy(BASE_EVENT)
    out.update(changes)
    return out


@cache
def example_engine() -> Engine:
    return Engine(load_policy(EXAMPLE_POLICY))


def transfer_event(event_id: str, processor: str = "dpf-processor", **extra: Any) -> bytes:
    """A small EU -> US transfer event of tenant t-1, as raw JSON (stream and metrics tests)."""
    return orjson.dumps({
        "event_id": event_id, "event_time": "2026-03-02T09:00:00Z",
        "data_class": "personal_data", "operation": "transfer",
        "origin": {"location": "aws:eu-central-1"},
        "destination": {"location": "aws:us-east-1"}, "processor": processor,
        "tenant": {"id": "t-1"}, **extra,
    })


def decide(engine: Engine, value: object) -> Decision:
    """The decision of one decoded event through the decide loop, with a fresh memory."""
    return Decider(engine).value(value).decision


def explain(engine: Engine, value: object) -> list[str]:
    """The trace of deciding one decoded event, as ``auditor explain`` prints it."""
    trace = Trace()
    Decider(engine).value(value, trace=trace)
    return trace.lines()
