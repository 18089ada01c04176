"""Invariants under arbitrary input: the validator agrees with the JSON Schema, and
classification never raises, is deterministic and always yields a schema-valid decision."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor import schemas
from auditor.engine import Decider
from auditor.events import CODES, Event, Invalid, validation_error
from auditor.intake import Intake
from tests.unit.helpers import BASE_EVENT, decide, example_engine

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
# Values a field could plausibly be given: near misses of valid ones.
plausible = st.sampled_from(
    [
        "",
        "x",
        "aws:eu-west-2",
        "aws:eu-west-10",
        "country:US",
        "site:x",
        "mars:1",
        "store",
        "copy",
        "tls1.3",
        "tls1.4",
        "aes-256",
        "health",
        "explicit_consent",
        "1",
        "2",
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:00:00",
        "2026-03-02T09:00:00.5+01:00",
        "2026-02-29T09:00:00Z",
        "1999-12-31T23:59:60Z",
        0,
        -1,
        30,
        30.0,
        30.5,
        True,
        False,
        None,
        [],
        ["health"],
        ["x"],
        {},
        {"location": "aws:eu-west-1"},
        {"id": "t"},
        {"key": "k"},
    ]
)
FIELDS = [
    ("event_id",),
    ("event_time",),
    ("data_class",),
    ("operation",),
    ("origin",),
    ("origin", "location"),
    ("origin", "regime"),
    ("destination",),
    ("destination", "location"),
    ("destination", "system"),
    ("spec_version",),
    ("tenant",),
    ("tenant", "id"),
    ("tenant", "home_region"),
    ("tenant", "settings"),
    ("tenant", "settings", "tier"),
    ("service",),
    ("processor",),
    ("purpose",),
    ("encryption",),
    ("encryption", "in_transit"),
    ("encryption", "at_rest"),
    ("retention_days",),
    ("special_categories",),
    ("anonymized",),
    ("subject",),
    ("subject", "key"),
    ("derogation",),
    ("upstream",),
    ("labels",),
    ("labels", "team"),
    ("extra",),
]


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    event = copy.deepcopy(BASE_EVENT)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        path = draw(st.sampled_from(FIELDS))
        target: Any = event
        for key in path[:-1]:
            if not isinstance(target, dict):
                break
            target = target.setdefault(key, {})
        if not isinstance(target, dict):
            continue
        if draw(st.booleans()) and path[-1] in target:
            del target[path[-1]]
        else:
            target[path[-1]] = copy.deepcopy(draw(plausible | json_values))
    return event


def _trailing_newline(value: Any) -> bool:
    """Python's re `$` accepts a trailing newline that ECMA-262 (JSON Schema) does not."""
    if isinstance(value, str):
        return value.endswith("\n")
    if isinstance(value, dict):
        return any(_trailing_newline(v) for v in value.values())
    if isinstance(value, list):
        return any(_trailing_newline(v) for v in value)
    return False


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_events())
def test_validator_agrees_with_json_schema(event: dict[str, Any]) -> None:
    if _trailing_newline(event):
        return
    schema_ok = schemas.validator(schemas.EVENT).is_valid(event)
    message = validation_error(event)
    assert (message is None) == schema_ok, message or "schema rejects what the validator accepts"


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | mutated_events())
def test_classify_never_raises_and_decisions_validate(value: Any) -> None:
    engine = example_engine()
    decision = decide(engine, value)
    record = decision.plain()
    schemas.validator(schemas.DECISION).validate(record)
    assert decide(engine, value).as_dict() == decision.as_dict()  # deterministic
    if decision.verdict == "invalid":
        assert [f["kind"] for f in record["findings"]] == ["schema"]


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_raw_bytes_never_raise(raw: bytes) -> None:
    step = Decider(example_engine()).raw(raw)
    schemas.validator(schemas.DECISION).validate(step.decision.plain())
    assert (step.invalid is None) == (step.decision.verdict != "invalid")
    if step.invalid is not None:
        assert step.invalid.code in CODES


def test_hostile_nesting_is_refused_by_the_decoder() -> None:
    intake = Intake()
    deep = intake.read(b"[" * 5000 + b"]" * 5000)
    assert isinstance(deep, Invalid)
    assert deep.code == "too_deep"
    for raw, code in ((b'{"a": 1', "not_json"), (b"\xff\xfe", "not_utf8")):
        bad = intake.read(raw)
        assert isinstance(bad, Invalid)
        assert bad.code == code
    good = intake.read(orjson.dumps(BASE_EVENT))
    assert isinstance(good, Event)
    assert good.value == BASE_EVENT


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | mutated_events())
def test_a_record_is_the_bytes_of_its_dict(value: Any) -> None:
    # Decision.to_json splices pre-serialised parts: the bytes must be orjson's own.
    for raw in (orjson.dumps(value), json.dumps(value).encode()):
        for decision in Decider(example_engine()).raw(raw).decisions():
            for with_event in (True, False):
                assert decision.to_json(with_event) == orjson.dumps(decision.as_dict(with_event))
