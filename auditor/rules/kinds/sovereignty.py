"""Sovereignty: who may hold the data, by where a processor is established and owned from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.policy.model import Rule
from auditor.rules.base import Check, ParamContext, RuleKind
from auditor.rules.facts import Facts, Places


def check(rule: Rule, facts: Facts, places: Places) -> Check:
    party = facts.processor
    if party is None:
        return Check(False, "processor unknown")
    for key, country, what in (
        ("allowed_parent_countries", party.parent_country, "ultimately owned from"),
        ("allowed_countries", party.country, "established in"),
    ):
        codes = rule.params.get(key)
        if codes is not None and country not in places.country_set(codes, facts.at):
            return Check(
                True, f"{facts.done} by {party.id}, {what} {country}; allowed: {', '.join(codes)}"
            )
    return Check(
        False, f"{party.id} is established in {party.country}, owned from {party.parent_country}"
    )


def check_params(ctx: ParamContext, params: Mapping[str, Any]) -> None:
    for key in ("allowed_parent_countries", "allowed_countries"):
        for i, code in enumerate(params.get(key, ())):
            if code not in ("EEA", "EU"):
                ctx.country(code, f"params.{key}[{i}]")


KIND = RuleKind(
    name="sovereignty",
    rank=30,
    summary="the processor's parent (or establishment) is elsewhere",
    params_doc="`allowed_parent_countries`, `allowed_countries`: codes or `EEA` / `EU`",
    params_schema={
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "properties": {
            "allowed_parent_countries": {"$ref": "#/$defs/countrySet"},
            "allowed_countries": {"$ref": "#/$defs/countrySet"},
        },
    },
    params_required=True,
    check=check,
    check_params=check_params,
)
