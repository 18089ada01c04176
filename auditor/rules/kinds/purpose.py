"""Purpose: what data may (or may never) be used for, by whom."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.policy.model import Rule
from auditor.rules.base import Check, ParamContext, RuleKind
from auditor.rules.facts import Facts, Places


def check(rule: Rule, facts: Facts, places: Places) -> Check:
    denied = rule.params.get("denied")
    allowed = rule.params.get("allowed")
    what = f"{facts.done} by {facts.processor_id} for purpose {facts.purpose}"
    if denied is not None and facts.purpose in denied:
        return Check(True, f"{what}: a purpose this policy rules out")
    if allowed is not None and facts.purpose not in allowed:
        shown = ", ".join(allowed) if allowed else "none"
        return Check(True, f"{what}: allowed purposes here: {shown}")
    return Check(False, f"purpose {facts.purpose} is permitted")


def check_params(ctx: ParamContext, params: Mapping[str, Any]) -> None:
    for key in ("allowed", "denied"):
        for i, name in enumerate(params.get(key, ())):
            ctx.known("purpose", name, f"params.{key}[{i}]")


KIND = RuleKind(
    name="purpose",
    rank=40,
    summary="the purpose is not allowed / is denied (`allowed: []` forbids every purpose)",
    params_doc="`allowed: [purposes]` or `denied: [purposes]`",
    params_schema={
        "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
        "properties": {
            "allowed": {"type": "array", "items": {"$ref": "#/$defs/id"}},
            "denied": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/id"}},
        },
    },
    params_required=True,
    check=check,
    check_params=check_params,
)
