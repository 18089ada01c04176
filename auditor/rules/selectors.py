"""Selectors: which flows a rule or an exception applies to (every given field must match)."""

from __future__ import annotations

from auditor.policy.model import Rule, Selector
from auditor.rules.facts import Facts, Places


def selector_miss(sel: Selector, facts: Facts, places: Places, explain: bool = False) -> str | None:
    """None if ``sel`` matches the flow, else the first selector field that does not.

    Without ``explain`` the answer is just the field's name: this runs for every rule on
    every new flow, and the wording is only read by ``auditor explain``.
    """
    if sel.data_classes is not None and facts.data_class not in sel.data_classes:
        return (
            f"data_class {facts.data_class} not in {sorted(sel.data_classes)}"
            if explain
            else "data_classes"
        )
    if sel.operations is not None and facts.operation not in sel.operations:
        return (
            f"operation {facts.operation} not in {sorted(sel.operations)}"
            if explain
            else "operations"
        )
    if sel.purposes is not None and facts.purpose not in sel.purposes:
        return f"purpose {facts.purpose} not in {sorted(sel.purposes)}" if explain else "purposes"
    if sel.processors is not None and facts.processor_id not in sel.processors:
        return (
            f"processor {facts.processor_id} not in {sorted(sel.processors)}"
            if explain
            else "processors"
        )
    if sel.tenants is not None and facts.tenant not in sel.tenants:
        return f"tenant {facts.tenant} not in {sorted(sel.tenants)}" if explain else "tenants"
    if sel.tenant_settings is not None:
        for name, wanted in sel.tenant_settings.items():
            value = facts.settings.get(name)
            if not any(value == w and type(value) is type(w) for w in wanted):
                return (
                    f"tenant setting {name}={value!r} not in {list(wanted)}"
                    if explain
                    else "tenant_settings"
                )
    if sel.tenant_settings_set is not None:
        for name in sorted(sel.tenant_settings_set):
            if facts.settings.get(name) is None:
                return f"tenant setting {name} not set" if explain else "tenant_settings_set"
    if sel.anonymized is not None and facts.anonymized != sel.anonymized:
        return f"anonymized is {facts.anonymized}"
    if sel.special_categories is not None:
        if isinstance(sel.special_categories, bool):
            if bool(facts.special) != sel.special_categories:
                return f"special categories present: {bool(facts.special)}"
        elif not sel.special_categories.intersection(facts.special):
            return f"none of the special categories {sorted(sel.special_categories)}"
    for which, patterns in (("origin", sel.origin), ("destination", sel.destination)):
        if patterns is not None and not places.any_match(patterns, which, facts):
            return f"{which} {facts.place(which)} not in {list(patterns)}" if explain else which
    if sel.cross_border is not None:
        crossing = facts.origin_country != facts.destination_country
        if crossing != sel.cross_border:
            return "flow stays in one country" if sel.cross_border else "flow crosses a border"
    if sel.moves is not None and facts.moves != sel.moves:
        if sel.moves:
            return f"{facts.operation} does not move data between two places"
        return f"{facts.operation} moves data between two places"
    if sel.derogation is not None and (facts.derogation is not None) != sel.derogation:
        return f"derogation is {facts.derogation}"
    if sel.processor_enabled_by is not None:
        enabled = str(facts.settings.get(sel.processor_enabled_by) or "")
        if facts.processor_id not in {p.strip() for p in enabled.split(",")}:
            return f"processor {facts.processor_id} not in {sel.processor_enabled_by}={enabled!r}"
    return None


def applies(rule: Rule, facts: Facts, places: Places, explain: bool = False) -> str | None:
    """None if ``rule`` applies to the flow, else why not."""
    if rule.when is not None:
        miss = selector_miss(rule.when, facts, places, explain)
        if miss is not None:
            return "when: " + miss
    if rule.unless is not None and selector_miss(rule.unless, facts, places) is None:
        return "unless: matched"
    return None
