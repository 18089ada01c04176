"""What-if: events whose replayed decision differs from a baseline (live decisions or a policy)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from auditor.engine import Decision

# (verdict, the rule ids of its findings, sorted)
Judged = tuple[str, tuple[str, ...]]


def _label(rule: object, effect: object) -> str:
    # A deny finding is named by its rule; warn/dryrun ones say so, so that an effect
    # change (deny -> warn) shows as a change of that rule.
    return str(rule) if effect == "deny" else f"{rule}[{effect}]"


def _rules(findings: Iterable[Any]) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                _label(f.get("rule"), f.get("effect")) if isinstance(f, Mapping)
                else _label(f.rule, f.effect)
                for f in findings
            }
        )
    )


def judged(decision: Decision) -> Judged:
    """What two decisions of one event are compared on: the verdict, and the rules with
    findings (with their effect, as ``rule[warn]``)."""
    return (decision.verdict, _rules(decision.findings))


def rule_changes(before: Judged, after: Judged) -> tuple[list[str], list[str]]:
    """(rules added, rules removed) from ``before`` to ``after``, each sorted."""
    return sorted(set(after[1]) - set(before[1])), sorted(set(before[1]) - set(after[1]))


class Diff:
    """Pairs replayed and baseline decisions by event id and lists those that differ.

    An event differs when its verdict or the set of rules with findings (and their effect)
    differs. A
    baseline may hold an event more than once (at-least-once delivery): the last one read
    counts. Decisions without an event id (unreadable input) cannot be paired.
    """

    def __init__(self, baseline: Mapping[str, Any], max_examples: int = 5) -> None:
        self.description = dict(baseline)
        self.max_examples = max_examples
        self.replayed: dict[str, Judged] = {}
        self.baseline: dict[str, Judged] = {}
        self.baseline_records = 0
        self.unreadable = 0
        self.policy_versions: set[str] = set()

    def add_replayed(self, decision: Decision) -> None:
        if decision.event_id is not None:
            self.replayed[decision.event_id] = judged(decision)

    def add_baseline(self, decision: Decision) -> None:
        self.baseline_records += 1
        if decision.event_id is not None:
            self.baseline[decision.event_id] = judged(decision)
        self.policy_versions.add(str(decision.outcome.body["policy"]["version"]))

    def add_baseline_record(self, record: object) -> None:
        """A decision record as read back (JSON decoded); anything else counts as unreadable.

        Call it once every replayed decision is in: records of other events are not kept
        (a live topic holds far more than the window).
        """
        self.baseline_records += 1
        if not isinstance(record, Mapping):
            self.unreadable += 1
            return
        event_id = record.get("event_id")
        verdict = record.get("verdict")
        findings = record.get("findings")
        if (
            not isinstance(event_id, str)
            or verdict not in ("allow", "violation", "invalid")
            or not isinstance(findings, list)
            or not all(isinstance(f, Mapping) and "rule" in f for f in findings)
        ):
            self.unreadable += 1
            return
        if event_id in self.replayed:
            self.baseline[event_id] = (verdict, _rules(findings))
        policy = record.get("policy")
        if isinstance(policy, Mapping) and isinstance(policy.get("version"), str):
            self.policy_versions.add(policy["version"])

    def result(self) -> dict[str, Any]:
        """The report's ``differences`` section (events in replay order)."""
        changed: list[dict[str, Any]] = []
        missing: list[str] = []
        transitions: Counter[tuple[str, str]] = Counter()
        added: Counter[str] = Counter()
        removed: Counter[str] = Counter()
        compared = 0
        for event_id, (verdict, rules) in self.replayed.items():
            before = self.baseline.get(event_id)
            if before is None:
                missing.append(event_id)
                continue
            compared += 1
            old_verdict = before[0]
            if before == (verdict, rules):
                continue
            plus, minus = rule_changes(before, (verdict, rules))
            added.update(plus)
            removed.update(minus)
            if old_verdict != verdict:
                transitions[(old_verdict, verdict)] += 1
            changed.append(
                {
                    "event_id": event_id,
                    "baseline_verdict": old_verdict,
                    "replay_verdict": verdict,
                    "added_rules": plus,
                    "removed_rules": minus,
                }
            )
        return {
            "baseline": {
                **self.description,
                "records_read": self.baseline_records,
                "unreadable_records": self.unreadable,
                "policy_versions": sorted(self.policy_versions),
            },
            "events_compared": compared,
            "not_in_baseline": len(missing),
            "not_in_baseline_examples": missing[: self.max_examples],
            "changed": len(changed),
            "verdict_changed": sum(transitions.values()),
            "verdict_changes": [
                {"from": old, "to": new, "events": count}
                for (old, new), count in sorted(transitions.items())
            ],
            "by_rule": [
                {"rule": rule, "added": added[rule], "removed": removed[rule]}
                for rule in sorted(set(added) | set(removed))
            ],
            "events": changed,
        }
