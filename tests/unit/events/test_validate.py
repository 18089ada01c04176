"""Validation of lineage event v1: what is accepted, what is refused and the message given."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.events import Event, Invalid, parse_event, validation_error
from auditor.events.validate import parse_time, readable_event_id
from tests.unit.helpers import BASE_EVENT, event


def test_full_event_is_valid_and_yields_its_flow() -> None:
    parsed = parse_event(event())
    assert isinstance(parsed, Event)
    assert parsed.event_id == "e-1"
    assert parsed.at == 1772442000.0
    assert parsed.tenant == "acme"
    assert (parsed.subject, parsed.system) == ("s-1", "s3://bucket")
    flow = parsed.flow
    assert (flow.data_class, flow.operation, flow.origin, flow.destination) == (
        "personal_data", "transfer", "aws:eu-central-1", "aws:us-east-1"
    )


def test_minimal_event_is_valid() -> None:
    minimal = {
        k: BASE_EVENT[k]
        for k in ("event_id", "event_time", "data_class", "operation", "origin", "destination")
    }
    assert validation_error(minimal) is None


def test_unknown_top_level_fields_are_ignored() -> None:
    assert validation_error(event(shiny_new_field={"a": [1, 2]})) is None


@pytest.mark.parametrize(
    ("changes", "field_named"),
    [
        ({"event_id": ""}, "event_id"),
        ({"event_id": "x" * 129}, "event_id"),
        ({"event_id": 17}, "event_id"),
        ({"event_time": "2026-03-02"}, "event_time"),
        ({"event_time": "2026-03-02T09:00:00"}, "event_time"),
        ({"event_time": "2026-13-02T09:00:00Z"}, "event_time"),
        ({"event_time": "2026-03-02 09:00:00Z"}, "event_time"),
        ({"event_time": "2026-03-02T09:00:00+0200"}, "event_time"),
        ({"operation": "copy"}, "operation"),
        ({"operation": ["store"]}, "operation"),
        ({"derogation": {"a": 1}}, "derogation"),
        ({"encryption": {"in_transit": ["tls1.3"]}}, "encryption.in_transit"),
        ({"special_categories": [["health"]]}, "special_categories[0]"),
        ({"origin": "aws:eu-central-1"}, "origin"),
        ({"origin": {"location": "mars:base-1"}}, "origin.location"),
        ({"destination": {"location": ""}}, "destination.location"),
        ({"destination": {"location": "aws:us-east-1", "system": 3}}, "destination.system"),
        ({"spec_version": "2"}, "spec_version"),
        ({"spec_version": 1}, "spec_version"),
        ({"encryption": {"in_transit": "tls1.4"}}, "encryption.in_transit"),
        ({"encryption": {"at_rest": "rot13"}}, "encryption.at_rest"),
        ({"retention_days": -1}, "retention_days"),
        ({"retention_days": True}, "retention_days"),
        ({"retention_days": "30"}, "retention_days"),
        ({"special_categories": ["health", "shoe_size"]}, "special_categories[1]"),
        ({"anonymized": "yes"}, "anonymized"),
        ({"tenant": {"home_region": "EUR1"}}, "tenant.id"),
        ({"tenant": {"id": "a", "settings": {"x": [1]}}}, "tenant.settings.x"),
        ({"subject": {"key": 5}}, "subject"),
        ({"derogation": "because"}, "derogation"),
        ({"upstream": ["a", 3]}, "upstream[1]"),
        ({"labels": {"a": 1}}, "labels.a"),
        ({"processor": None}, "processor"),
        ({"service": 5}, "service"),
    ],
)
def test_wrong_field_is_named_in_the_message(changes: dict[str, Any], field_named: str) -> None:
    message = validation_error(event(**changes))
    assert message is not None
    assert message.startswith(field_named + ":"), message
    invalid = parse_event(event(**changes))
    assert isinstance(invalid, Invalid)
    assert invalid.field == field_named
    if "event_id" not in changes:
        assert invalid.event_id == "e-1"  # readable: it names the event
    expected = {"spec_version": "unsupported_version", "tenant.id": "missing_field"}
    assert invalid.code == expected.get(field_named, "wrong_value")


def test_origin_regime_is_part_of_the_flow() -> None:
    onward = parse_event(event(origin={"location": "country:SG", "regime": "eu_gdpr"}))
    assert isinstance(onward, Event)
    assert onward.flow.origin_regime == "eu_gdpr"
    plain = parse_event(event(origin={"location": "country:SG"}))
    assert isinstance(plain, Event)
    assert plain.flow != onward.flow
    wrong = parse_event(event(origin={"location": "country:SG", "regime": "us_law"}))
    assert isinstance(wrong, Invalid)
    assert wrong.field == "origin.regime"


@pytest.mark.parametrize(
    "missing", ["event_id", "event_time", "data_class", "operation", "origin", "destination"]
)
def test_missing_required_field(missing: str) -> None:
    broken = event()
    del broken[missing]
    assert validation_error(broken) == f"{missing}: required field is missing"
    invalid = parse_event(broken)
    assert isinstance(invalid, Invalid)
    assert (invalid.code, invalid.field) == ("missing_field", missing)


@pytest.mark.parametrize("value", [None, 3, "text", [1], True])
def test_non_object_is_invalid(value: object) -> None:
    assert validation_error(value) == validation_error(value)  # stable
    assert (validation_error(value) or "").startswith("event: expected a JSON object")
    invalid = parse_event(value)
    assert isinstance(invalid, Invalid)
    assert invalid.code == "not_object"


def test_integral_float_retention_counts_as_integer() -> None:
    parsed = parse_event(event(retention_days=30.0))
    assert isinstance(parsed, Event)
    assert parsed.flow.retention_days == 30
    assert type(parsed.flow.retention_days) is int


def test_bool_and_int_settings_give_different_flows() -> None:
    a = parse_event(event(tenant={"id": "t", "settings": {"x": True}}))
    b = parse_event(event(tenant={"id": "t", "settings": {"x": 1}}))
    assert isinstance(a, Event)
    assert isinstance(b, Event)
    assert a.flow != b.flow


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T09:00:00Z", 1772442000.0),
        ("2026-03-02t09:00:00z", 1772442000.0),
        ("2026-03-02T10:00:00+01:00", 1772442000.0),
        ("2026-03-02T09:00:00.250Z", 1772442000.25),
        ("2016-12-31T23:59:60Z", None),
        ("2026-02-30T09:00:00Z", None),
        ("2026-03-02T24:00:00Z", None),
        ("2026-W10-1T09:00:00Z", None),
        ("2026-03-02T09:00Z", None),
    ],
)
def test_parse_time(text: str, expected: float | None) -> None:
    assert parse_time(text) == expected


def test_readable_event_id() -> None:
    assert readable_event_id({"event_id": "ok"}) == "ok"
    assert readable_event_id({"event_id": "x" * 500}) is None
    assert readable_event_id([1]) is None
