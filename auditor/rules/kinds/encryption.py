"""Encryption: the least protection in transit and at rest (not stated = not protected)."""

from __future__ import annotations

from auditor.events.vocabulary import AT_REST, IN_TRANSIT
from auditor.policy.model import Rule
from auditor.rules.base import Check, RuleKind
from auditor.rules.facts import Facts, Places

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


def check(rule: Rule, facts: Facts, places: Places) -> Check:
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
            return Check(True, f"{facts.done}: encryption {side} not stated; required: {need}")
        if (minimum is not None and ranks[value] < ranks[minimum]) or (
            one_of is not None and value not in one_of
        ):
            return Check(True, f"{facts.done} with {value} {side}; required: {need}")
    return Check(False, f"encryption in transit {facts.in_transit}, at rest {facts.at_rest}")


KIND = RuleKind(
    name="encryption",
    rank=50,
    summary="weaker than required, **or not stated**",
    params_doc="`in_transit_min` (tls1.0…tls1.3; ipsec and srtp rank with tls1.3), "
    "`in_transit_one_of`, `at_rest_min` (aes-128, aes-256), `at_rest_one_of`",
    params_schema={
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "properties": {
            "in_transit_min": {"enum": ["tls1.0", "tls1.1", "tls1.2", "tls1.3"]},
            "in_transit_one_of": {"type": "array", "minItems": 1,
                                  "items": {"enum": list(IN_TRANSIT)}},
            "at_rest_min": {"enum": ["aes-128", "aes-256"]},
            "at_rest_one_of": {"type": "array", "minItems": 1, "items": {"enum": list(AT_REST)}},
        },
    },
    params_required=True,
    check=check,
)
