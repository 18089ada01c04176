"""Transfer: GDPR / UK GDPR Chapter V — a lawful basis for data leaving the EEA or the UK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.memory import DAY, Memo, MemoryKey, Overdue, Seen
from auditor.policy.model import Rule
from auditor.rules.base import Check, RuleKind
from auditor.rules.facts import Facts, Places


def check(rule: Rule, facts: Facts, places: Places) -> Check:
    t = facts.transfer
    if t is None:
        return Check(False, "no transfer: origin and destination are in the same country")
    route = f"{facts.data_class} from {t.from_country} to {t.to_country} ({facts.processor_id})"
    if t.mechanism == "unrestricted":
        return Check(False, f"{route}: not restricted ({t.instrument or 'origin outside EEA/UK'})")
    if t.mechanism == "none":
        return Check(
            True,
            f"{route} under {t.regime}: no lawful transfer mechanism (no adequacy, "
            "DPF, BCR, SCC/IDTA or derogation applies)",
        )
    allowed = rule.params.get("mechanisms")
    if allowed is not None and t.mechanism not in allowed:
        return Check(
            True, f"{route} relies on {t.mechanism}; this policy allows only {', '.join(allowed)}"
        )
    if t.mechanism == "derogation":
        return Check(
            True,
            f"{route} relies on an Art. 49 derogation ({t.instrument}): lawful for "
            "occasional transfers only",
            "warn" if rule.effect == "deny" else rule.effect,
        )
    return Check(False, f"{route}: {t.mechanism} ({t.instrument})")


class DerogationLimit:
    """``derogation_limit``: Art. 49 derogations must stay occasional per route."""

    deadline_tags: frozenset[str] = frozenset()

    def wants(self, rule: Rule) -> bool:
        return "derogation_limit" in rule.params

    def judge(self, rule: Rule, seen: Seen, memo: Memo) -> Iterator[Check]:
        limit = rule.params["derogation_limit"]
        if seen.derogation is None:
            return
        key = MemoryKey.of(
            "dg", rule.id, seen.data_class, str(seen.destination_country), seen.processor
        ).text()
        window = limit["window_days"] * DAY
        # Within the window of this event, on either side: a transfer dated years ahead
        # (any tenant's) is never "within D days" of today's, and is dropped here.
        times = [t for t in (memo.store.get(key) or [])
                 if seen.at - window < t < seen.at + window]
        times.append(seen.at)
        # Keep no more than needed to judge the next event: bounded per combination.
        memo.store.put(key, times[-(limit["max"] + 1):])
        if memo.tracing:
            memo.note(f"{len(times)} derogation-based transfer(s) on this route within "
                      f"{limit['window_days']} days (limit {limit['max']})")
        if len(times) > limit["max"]:
            yield Check(
                True,
                f"{len(times)} derogation-based transfers of {seen.data_class} "
                f"to {seen.destination_country} via {seen.processor} within "
                f"{limit['window_days']} days; Art. 49 allows occasional use only "
                f"(limit {limit['max']})",
                "warn",
            )

    def fire(self, rule: Rule, key: MemoryKey, entry: Any) -> Overdue | None:
        return None

    def describe(self, rule: Rule) -> str:
        limit = rule.params["derogation_limit"]
        return (f"counts derogation-based transfers per data class, country and processor: "
                f"more than {limit['max']} within {limit['window_days']} days is a warning")


KIND = RuleKind(
    name="transfer",
    rank=20,
    summary="a Chapter V transfer has no lawful basis, or uses a mechanism not listed; a "
    "derogation gives a `warn` finding",
    params_doc="`mechanisms: [...]` (optional subset of intra_eea, adequacy, dpf, bcr, scc, "
    "idta, derogation)",
    params_schema={
        "type": "object", "additionalProperties": False,
        "properties": {
            "mechanisms": {"type": "array", "minItems": 1, "items": {
                "enum": ["intra_eea", "adequacy", "dpf", "scc", "bcr", "idta", "derogation"]}},
            "derogation_limit": {
                "type": "object", "additionalProperties": False, "required": ["max", "window_days"],
                "description": "Art. 49 derogations must stay occasional: more than max "
                "derogation-based transfers of one data class to one country via one processor "
                "within window_days gives a warn finding.",
                "properties": {"max": {"type": "integer", "minimum": 0},
                               "window_days": {"type": "integer", "minimum": 1}},
            },
        },
    },
    params_required=False,
    check=check,
    memory=DerogationLimit(),
    memory_doc="`derogation_limit: {max, window_days}` (derogations must stay occasional)",
)
