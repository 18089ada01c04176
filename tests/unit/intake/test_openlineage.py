"""The auditor_dataFlow OpenLineage facet: golden example, its schema, and unwrapping."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from auditor import schemas
from auditor.events import Invalid
from auditor.intake.openlineage import (
    FACET,
    FACET_SCHEMA_URL,
    FACET_VERSION,
    unwrap_run_event,
)
from tests.openlineage_facet import golden_run_event
from tests.unit.helpers import ROOT, decide, example_engine

GOLDEN = ROOT / "schemas" / "openlineage" / "example-run-event.json"
FACETS = ROOT / "schemas" / "openlineage" / "facets"
FACET_SCHEMA = FACETS / FACET_VERSION / "auditor-data-flow-run-facet.json"
# Published facet versions and the sha256 of their schema: a version never changes.
PUBLISHED = {"1-0-0": "a566c28c46d88ba27b2b0a156a7d96cbda8680d35efd32465b7c743d8976b510"}
# OpenLineage's own RunFacet definition, reduced to what a run facet must have (no network).
RUN_FACET: dict[str, Any] = {
    "$id": "https://openlineage.io/spec/2-0-2/OpenLineage.json",
    "$defs": {
        "RunFacet": {
            "type": "object",
            "required": ["_producer", "_schemaURL"],
            "properties": {"_producer": {"type": "string"}, "_schemaURL": {"type": "string"}},
        }
    },
}


def test_the_facet_schema_url_is_versioned_and_each_version_immutable() -> None:
    schema = orjson.loads(FACET_SCHEMA.read_bytes())
    assert schema["$id"] + "#/$defs/AuditorDataFlowRunFacet" == FACET_SCHEMA_URL
    assert f"/facets/{FACET_VERSION}/" in FACET_SCHEMA_URL
    published = {p.name: hashlib.sha256((p / FACET_SCHEMA.name).read_bytes()).hexdigest()
                 for p in FACETS.iterdir()}
    assert published == PUBLISHED, "a published facet schema changed: add a new version"
    golden = orjson.loads(GOLDEN.read_bytes())["run"]["facets"][FACET]
    assert golden["_schemaURL"] == FACET_SCHEMA_URL


def test_golden_example_is_what_the_client_builds() -> None:
    assert orjson.loads(GOLDEN.read_bytes()) == orjson.loads(golden_run_event())


def test_golden_facet_validates_against_the_facet_schema() -> None:
    facet_schema = orjson.loads(FACET_SCHEMA.read_bytes())
    registry = Registry().with_resources(
        [
            (
                RUN_FACET["$id"],
                Resource.from_contents(RUN_FACET, default_specification=DRAFT202012),
            ),
            (
                schemas.schema(schemas.EVENT)["$id"],
                Resource.from_contents(schemas.schema(schemas.EVENT)),
            ),
        ]
    )
    validator = Draft202012Validator(facet_schema, registry=registry)
    facets = orjson.loads(GOLDEN.read_bytes())["run"]["facets"]
    validator.validate(facets)
    facets[FACET]["operation"] = "copy"
    assert not validator.is_valid(facets)


def test_unwrap_fills_id_and_time_from_the_run_event() -> None:
    event = unwrap_run_event(orjson.loads(GOLDEN.read_bytes()))
    assert isinstance(event, dict)
    assert event["event_id"] == "0191c4a8-7e44-7c1a-9d52-3c7f2f0f5a11:COMPLETE"
    assert event["event_time"] == "2026-03-02T09:00:00.000Z"
    assert "_producer" not in event
    decision = decide(example_engine(), event)
    assert decision.verdict == "allow"
    assert decision.transfer is not None
    assert decision.transfer.mechanism == "dpf"


def test_run_event_without_the_facet_is_explained() -> None:
    invalid = unwrap_run_event({"eventType": "START", "run": {"runId": "r", "facets": {}}})
    expected = "openlineage: RunEvent has no run facet 'auditor_dataFlow' carrying a lineage event"
    assert isinstance(invalid, Invalid)
    assert (invalid.code, invalid.message) == ("openlineage", expected)
