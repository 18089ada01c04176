"""Undeclared flow: a flow of personal data that none of the pack's declared flows covers."""

from __future__ import annotations

from auditor.policy.model import Rule
from auditor.rules.base import Check, RuleKind
from auditor.rules.facts import Facts, Places


def check(rule: Rule, facts: Facts, places: Places) -> Check:
    # The engine matched the declarations once for this flow (facts.declared).
    matched = facts.declared
    if matched is None:
        return Check(False, "not personal data (anonymised or a non-personal data class): "
                     "declarations cover personal data only")
    if matched:
        return Check(False, "declared by " + ", ".join(matched))
    what = (f"{facts.done}, processor {facts.processor_id}, destination "
            f"{facts.place('destination')}, purpose {facts.purpose}")
    return Check(True, f"undeclared flow: {what}; no declared flow covers it "
                 f"({places.declarations.explain_miss(facts, places)})")


KIND = RuleKind(
    name="undeclared_flow",
    rank=100,
    summary="a flow of personal data matches none of the pack's `declared_flows` "
    "([declared flows](declared-flows.md)); a pack that declares flows and has no such rule "
    "gets `auditor.undeclared-flow` (warn)",
    params_doc="none",
    params_schema={"type": "object", "additionalProperties": False, "maxProperties": 0},
    params_required=False,
    check=check,
)
