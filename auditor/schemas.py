"""The JSON Schemas of schemas/ (event, decision, policy), loaded for validation."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson
from jsonschema import Draft202012Validator

EVENT = "lineage-event-v1.schema.json"
DECISION = "decision-v1.schema.json"
POLICY = "policy-v1.schema.json"
SUITE = "policy-suite-v1.schema.json"
SHADOW = "shadow-difference-v1.schema.json"


@cache
def schema(name: str) -> dict[str, Any]:
    """The parsed schema ``name`` (one of the constants above)."""
    data: dict[str, Any] = orjson.loads(
        (resources.files("auditor") / "_schemas" / name).read_bytes()
    )
    return data


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
