"""The hand-written validator (auditor.events.validate, the hot path) and the published
JSON Schema (schemas/lineage-event-v1.schema.json, the contract) accept the same events.

Events are generated from a valid one by replacing or removing fields, at the top level
and inside the nested objects, with values of every JSON type and with near misses of the
valid ones (other enum members' spelling, times without offsets, locations without a
scheme); each must be valid for both or for neither.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from auditor.events.invalid import Invalid
from auditor.events.validate import parse_event

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "schemas" / "lineage-event-v1.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())

BASE: dict[str, Any] = {
    "event_id": "e-1",
    "event_time": "2026-03-14T09:26:53Z",
    "data_class": "call_recording",
    "operation": "store",
    "origin": {"location": "aws:eu-west-2", "regime": "uk_gdpr"},
    "destination": {"location": "country:DE", "system": "s3"},
    "spec_version": "1",
    "tenant": {"id": "t-1", "home_region": "eu", "settings": {"a": "b", "n": 1, "f": True}},
    "service": "calls",
    "processor": "aws",
    "purpose": "service_delivery",
    "encryption": {"in_transit": "tls1.3", "at_rest": "aes-256"},
    "retention_days": 30,
    "special_categories": ["health"],
    "anonymized": False,
    "subject": {"key": "crm|42"},
    "derogation": "explicit_consent",
    "upstream": ["a", "b"],
    "labels": {"team": "x"},
}

# Where a mutation may land: a top-level field, or a field of a nested object.
PATHS: list[tuple[str | int, ...]] = [(k,) for k in BASE]
PATHS += [
    ("origin", "location"), ("origin", "regime"), ("destination", "location"),
    ("destination", "system"), ("tenant", "id"), ("tenant", "home_region"),
    ("tenant", "settings"), ("tenant", "settings", "a"), ("encryption", "in_transit"),
    ("encryption", "at_rest"), ("subject", "key"), ("labels", "team"),
    ("special_categories", 0), ("upstream", 0),
]

ODD_VALUES = st.sampled_from([
    None, True, False, 0, -1, 1.5, 10**20, "", " ", "x", "1", [], ["x"], [1], {}, {"k": "v"},
    # near misses and other members of the vocabularies
    "2026-03-14T09:26:53", "2026-03-14 09:26:53Z", "2026-03-14t09:26:53z",
    "2026-03-14T09:26:53.123+02:00", "2026-02-30T00:00:00Z", "2026-03-14T24:00:00Z",
    "2026-03-14T09:26:60Z", "aws:eu-west-1", "aws:", "country:FR", "site:hq", "eu-west-2",
    "aws:eu west", "eu_gdpr", "none", "transfer", "erasure_request", "delete", "tls1.2",
    "ssl3", "aes-128", "biometric", "racial", "public_register", "2", "e\u0007", "a" * 129,
])


def _set(event: dict[str, Any], path: tuple[str | int, ...], value: Any, remove: bool) -> None:
    node: Any = event
    for step in path[:-1]:
        node = node.get(step) if isinstance(node, dict) else None  # ints only come last
        if not isinstance(node, dict | list):
            return
    last = path[-1]
    if isinstance(node, list):
        if remove:
            node.clear()
        elif node:
            node[0] = value
    elif remove:
        node.pop(last, None)
    else:
        node[last] = value


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(PATHS))
        remove = draw(st.booleans())
        _set(event, path, draw(ODD_VALUES), remove)
    return event


def _schema_accepts(event: dict[str, Any]) -> bool:
    return VALIDATOR.is_valid(event)


def test_the_base_event_is_valid_for_both() -> None:
    assert _schema_accepts(BASE)
    assert type(parse_event(BASE)) is not Invalid


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(events())
def test_the_validator_and_the_schema_agree(event: dict[str, Any]) -> None:
    ours = parse_event(event)
    reason = ours.message if type(ours) is Invalid else None
    schema_errors = [e.message for e in VALIDATOR.iter_errors(event)]
    assert (reason is None) == (not schema_errors), (event, reason, schema_errors)
