"""The one input layer: bytes to a typed event or an invalid reason with a stable code."""

from __future__ import annotations

import orjson
import pytest

from auditor.events import CODES, Event, Invalid
from auditor.intake import Intake, Oversized
from tests.unit.helpers import ROOT, event


def test_an_event_and_its_value() -> None:
    read = Intake().read(orjson.dumps(event(event_id="x-1")))
    assert isinstance(read, Event)
    assert read.event_id == "x-1"
    assert read.value["event_id"] == "x-1"


@pytest.mark.parametrize(("raw", "code"), [
    (b"{not json", "not_json"),
    (b"\xff\xfe", "not_utf8"),
    (b"[" * 2000 + b"]" * 2000, "too_deep"),
    (b"[1, 2]", "not_object"),
    (b'{"event_id": "a"}', "missing_field"),
    (orjson.dumps(event(spec_version="9")), "unsupported_version"),
    (orjson.dumps(event(operation="copy")), "wrong_value"),
    (b'{"eventType": "START", "run": {"runId": "r", "facets": {}}}', "openlineage"),
])
def test_each_kind_of_bad_input_has_its_code(raw: bytes, code: str) -> None:
    read = Intake().read(raw)
    assert isinstance(read, Invalid)
    assert read.code == code
    assert code in CODES
    assert read.message.startswith(read.field + ": ")


def test_one_size_limit_from_the_setting() -> None:
    big = orjson.dumps(event(labels={"blob": "x" * 1_500_000}))
    default = Intake().read(big)
    assert isinstance(default, Invalid)
    assert default.code == "too_large"
    assert default.message == f"event: {len(big)} bytes is over the 1048576-byte limit"
    assert isinstance(Intake(4_000_000).read(big), Event)
    over = Intake(1024).read(Oversized(5000))
    assert isinstance(over, Invalid)
    assert over.message == "event: 5000 bytes is over the 1024-byte limit"


def test_an_openlineage_run_event_is_unwrapped() -> None:
    raw = (ROOT / "schemas" / "openlineage" / "example-run-event.json").read_bytes()
    read = Intake().read(raw)
    assert isinstance(read, Event)
    assert read.event_id.endswith(":COMPLETE")
    assert "_producer" not in read.value


def test_invalid_keeps_the_readable_event_id() -> None:
    read = Intake().read(orjson.dumps(event(event_id="named", retention_days=-1)))
    assert isinstance(read, Invalid)
    assert read.event_id == "named"
