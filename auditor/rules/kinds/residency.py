"""Residency: where data may be stored, processed or taken from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.policy.model import Rule
from auditor.rules.base import Check, ParamContext, RuleKind
from auditor.rules.facts import Facts, Places


def check(rule: Rule, facts: Facts, places: Places) -> Check:
    allowed = rule.params["allowed"]
    side_param = rule.params.get("check", "destination")
    sides = ("origin", "destination") if side_param == "both" else (side_param,)
    labels = ", ".join(dict.fromkeys(places.label(p, facts) for p in allowed))
    for side in sides:
        if not places.any_match(allowed, side, facts):
            where = facts.place(side)
            verb = facts.done if side == "destination" else f"{facts.data_class} taken from"
            return Check(True, f"{verb} in {where}; allowed: {labels}")
    return Check(False, f"{' and '.join(facts.place(s) for s in sides)} is within: {labels}")


def check_params(ctx: ParamContext, params: Mapping[str, Any]) -> None:
    for i, pattern in enumerate(params.get("allowed", ())):
        ctx.pattern(pattern, f"params.allowed[{i}]")


KIND = RuleKind(
    name="residency",
    rank=10,
    summary="the location is not allowed",
    params_doc="`allowed: [patterns]`, `check: destination` (default) / `origin` / `both`",
    params_schema={
        "type": "object", "additionalProperties": False, "required": ["allowed"],
        "properties": {
            "allowed": {"type": "array", "minItems": 1,
                        "items": {"$ref": "#/$defs/locationPattern"}},
            "check": {"enum": ["destination", "origin", "both"]},
        },
    },
    params_required=True,
    check=check,
    check_params=check_params,
)
