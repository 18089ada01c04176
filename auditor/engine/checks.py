"""The check of each rule kind and of selectors; each says why it passed or failed."""

from __future__ import annotations

from collections.abc import Callable

from auditor.engine.facts import Facts, Places
from auditor.policy.model import Rule, Selector

# A check returns (violated, text): text is the finding message when violated, else why
# the rule is satisfied (shown by `auditor explain`). effect None = the rule's own effect.
Result = tuple[bool, str, str | None]

_TRANSIT_RANK = {
    "none": 0,
    "tls1.0": 1,
    "tls1.1": 2,
    "tls1.2": 3,
    "tls1.3": 4,
    "ipsec": 4,
    "srtp": 4,
}
_REST_RANK = {"none": 0, "aes-128": 1, "aes-256": 2}


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


def residency(rule: Rule, facts: Facts, places: Places) -> Result:
    allowed = rule.params["allowed"]
    check = rule.params.get("check", "destination")
    sides = ("origin", "destination") if check == "both" else (check,)
    labels = ", ".join(dict.fromkeys(places.label(p, facts) for p in allowed))
    for side in sides:
        if not places.any_match(allowed, side, facts):
            where = facts.place(side)
            verb = facts.done if side == "destination" else f"{facts.data_class} taken from"
            return True, f"{verb} in {where}; allowed: {labels}", None
    return False, f"{' and '.join(facts.place(s) for s in sides)} is within: {labels}", None


def transfer(rule: Rule, facts: Facts, places: Places) -> Result:
    t = facts.transfer
    if t is None:
        return False, "no transfer: origin and destination are in the same country", None
    route = f"{facts.data_class} from {t.from_country} to {t.to_country} ({facts.processor_id})"
    if t.mechanism == "unrestricted":
        return False, f"{route}: not restricted ({t.instrument or 'origin outside EEA/UK'})", None
    if t.mechanism == "none":
        return (
            True,
            (
                f"{route} under {t.regime}: no lawful transfer mechanism (no adequacy, "
                "DPF, BCR, SCC/IDTA or derogation applies)"
            ),
            None,
        )
    allowed = rule.params.get("mechanisms")
    if allowed is not None and t.mechanism not in allowed:
        return (
            True,
            (f"{route} relies on {t.mechanism}; this policy allows only {', '.join(allowed)}"),
            None,
        )
    if t.mechanism == "derogation":
        effect = "warn" if rule.effect == "deny" else rule.effect
        return (
            True,
            (
                f"{route} relies on an Art. 49 derogation ({t.instrument}): lawful for "
                "occasional transfers only"
            ),
            effect,
        )
    return False, f"{route}: {t.mechanism} ({t.instrument})", None


def sovereignty(rule: Rule, facts: Facts, places: Places) -> Result:
    party = facts.processor
    if party is None:
        return False, "processor unknown", None
    for key, country, what in (
        ("allowed_parent_countries", party.parent_country, "ultimately owned from"),
        ("allowed_countries", party.country, "established in"),
    ):
        codes = rule.params.get(key)
        if codes is not None and country not in places.country_set(codes, facts.at):
            return (
                True,
                (f"{facts.done} by {party.id}, {what} {country}; allowed: {', '.join(codes)}"),
                None,
            )
    return (
        False,
        f"{party.id} is established in {party.country}, owned from {party.parent_country}",
        None,
    )


def purpose(rule: Rule, facts: Facts, places: Places) -> Result:
    denied = rule.params.get("denied")
    allowed = rule.params.get("allowed")
    what = f"{facts.done} by {facts.processor_id} for purpose {facts.purpose}"
    if denied is not None and facts.purpose in denied:
        return True, f"{what}: a purpose this policy rules out", None
    if allowed is not None and facts.purpose not in allowed:
        shown = ", ".join(allowed) if allowed else "none"
        return True, f"{what}: allowed purposes here: {shown}", None
    return False, f"purpose {facts.purpose} is permitted", None


def encryption(rule: Rule, facts: Facts, places: Places) -> Result:
    p = rule.params
    for side, value, ranks in (
        ("in transit", facts.in_transit, _TRANSIT_RANK),
        ("at rest", facts.at_rest, _REST_RANK),
    ):
        key = "in_transit" if side == "in transit" else "at_rest"
        minimum = p.get(f"{key}_min")
        one_of = p.get(f"{key}_one_of")
        if minimum is None and one_of is None:
            continue
        need = f"at least {minimum}" if minimum is not None else "one of " + ", ".join(one_of or [])
        if value is None:
            return True, f"{facts.done}: encryption {side} not stated; required: {need}", None
        if (minimum is not None and ranks[value] < ranks[minimum]) or (
            one_of is not None and value not in one_of
        ):
            return True, f"{facts.done} with {value} {side}; required: {need}", None
    return False, f"encryption in transit {facts.in_transit}, at rest {facts.at_rest}", None


def retention(rule: Rule, facts: Facts, places: Places) -> Result:
    if facts.operation != "store" and not facts.retention_stated:
        return False, "not a stored copy and no retention stated", None
    limit = rule.params["max_days"]
    setting = rule.params.get("tenant_setting")
    source = ""
    if setting is not None and type(facts.settings.get(setting)) is int:
        limit = facts.settings[setting]
        source = f" ({setting})"
    if not facts.retention_stated:
        if rule.params.get("unstated", "violation") == "allow":
            return False, "retention not stated (allowed by this rule)", None
        return True, f"{facts.done} with no retention stated; max {limit} days{source}", None
    if facts.retention_days is None:
        return True, f"{facts.done} indefinitely; max {limit} days{source}", None
    if facts.retention_days > limit:
        return True, f"{facts.done} for {facts.retention_days} days; max {limit} days{source}", None
    return False, f"kept {facts.retention_days} days, within {limit}{source}", None


def special_category(rule: Rule, facts: Facts, places: Places) -> Result:
    wanted = rule.params.get("categories")
    present = [c for c in facts.special if wanted is None or c in wanted]
    if not present:
        return False, "no special-category data", None
    if facts.anonymized:
        return False, f"special-category data ({', '.join(present)}) is anonymised", None
    return (
        True,
        (f"{facts.done} with special-category data ({', '.join(present)}) that is not anonymised"),
        None,
    )


CHECKS: dict[str, Callable[[Rule, Facts, Places], Result]] = {
    "residency": residency,
    "transfer": transfer,
    "sovereignty": sovereignty,
    "purpose": purpose,
    "encryption": encryption,
    "retention": retention,
    "special_category": special_category,
}
