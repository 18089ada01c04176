"""Rule kinds as a registry: one module per kind, everything else derived from it."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from jsonschema import Draft202012Validator

import auditor.rules.kinds as kinds_package
from auditor import schemas
from auditor.engine.decision import KINDS
from auditor.rules import ENGINE_FINDING_KINDS, RuleKind, finding_kinds, kind_names, rule_kinds
from auditor.rules.generate import main as generate


def test_every_module_of_the_kinds_package_is_a_kind() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(kinds_package.__path__))
    assert sorted(kind_names()) == modules
    for name in modules:
        kind = importlib.import_module(f"auditor.rules.kinds.{name}").KIND
        assert isinstance(kind, RuleKind)
        assert kind.check is not None or kind.memory is not None, name


def test_finding_kinds_are_the_rule_kinds_and_the_engines_own() -> None:
    assert finding_kinds() == (*kind_names(), *ENGINE_FINDING_KINDS)
    assert finding_kinds() == KINDS


@pytest.mark.parametrize("name", kind_names())
def test_parameter_schemas_are_valid_json_schema(name: str) -> None:
    policy = schemas.schema(schemas.POLICY)
    params = rule_kinds()[name].params_schema
    Draft202012Validator.check_schema({"$defs": policy["$defs"], **params})


def test_schemas_and_docs_are_what_the_registry_makes() -> None:
    assert generate(["--check"]) == 0, "run: python -m auditor.rules.generate"


def test_the_policy_schema_knows_every_kind_and_only_those() -> None:
    rule = schemas.schema(schemas.POLICY)["$defs"]["rule"]
    assert rule["properties"]["kind"]["enum"] == list(kind_names())
    decision = schemas.schema(schemas.DECISION)["$defs"]["finding"]
    assert decision["properties"]["kind"]["enum"] == list(finding_kinds())
