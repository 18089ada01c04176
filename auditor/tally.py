"""Counting decisions: verdicts, findings by rule, transfers (for summaries and reports).

Event decisions and deadline decisions are counted apart (spec §2: counts of events never
mix them): ``events``, ``verdicts`` and the tables below them hold event decisions only,
so allow + violation + invalid = events; ``deadlines`` counts the deadline decisions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.engine.decision import Decision, Finding
from auditor.legal.chapter_v import Transfer


@dataclass
class DeadlineTally:
    """Deadline decisions: deadlines of rules that remember that passed unmet."""

    decisions: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def count(self, decision_id: str | None, verdict: str, findings: Sequence[Finding],
              max_examples: int) -> None:
        self.decisions += 1
        self.verdicts[verdict] += 1
        for f in findings:
            self.by_rule[(f.rule, f.kind, f.severity, f.effect)] += 1
            shown = self.examples.setdefault(f.rule, [])
            if len(shown) < max_examples and decision_id is not None \
                    and decision_id not in shown:
                shown.append(decision_id)


@dataclass
class Tally:
    events: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    transfers: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    invalid: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    max_examples: int = 3
    deadlines: DeadlineTally = field(default_factory=DeadlineTally)

    def add(self, decision: Decision) -> None:
        if decision.is_deadline:
            self.deadlines.count(decision.event_id, decision.verdict, decision.findings,
                                 self.max_examples)
            return
        self.count(decision.event_id, decision.verdict, decision.findings, decision.transfer)

    def add_record(self, record: Mapping[str, Any]) -> None:
        """Count a decision record read back as JSON (e.g. from the decisions topic)."""
        findings = [Finding(**f) for f in record.get("findings", [])]
        if "deadline" in record:
            self.deadlines.count(record.get("event_id"), record.get("verdict", "violation"),
                                 findings, self.max_examples)
            return
        transfer = record.get("transfer")
        self.count(
            record.get("event_id"),
            record.get("verdict", "invalid"),
            findings,
            Transfer(**transfer) if transfer else None,
        )

    def count(self, event_id: str | None, verdict: str, findings: Sequence[Finding],
              transfer: Transfer | None) -> None:
        """Count one event decision."""
        self.events += 1
        self.verdicts[verdict] += 1
        for f in findings:
            if f.kind == "schema":
                self.invalid[f.message.split(":", 1)[0]] += 1
                continue
            self.by_rule[(f.rule, f.kind, f.severity, f.effect)] += 1
            shown = self.examples.setdefault(f.rule, [])
            if len(shown) < self.max_examples and event_id is not None \
                    and event_id not in shown:
                shown.append(event_id)
        # Events (not findings) per kind: two residency rules broken by one event count once.
        for kind in {f.kind for f in findings if f.effect == "deny"}:
            self.by_kind[kind] += 1
        t = transfer
        if t is not None:
            self.transfers[(t.regime, t.mechanism, t.from_country, t.to_country)] += 1

    @property
    def violations(self) -> int:
        return self.verdicts["violation"]

    @property
    def decisions(self) -> int:
        """Every decision record: events and deadline decisions."""
        return self.events + self.deadlines.decisions

    @property
    def failed(self) -> bool:
        """A violation (of an event or a deadline) or an invalid event: `check` exits 1."""
        return bool(self.verdicts["violation"] or self.verdicts["invalid"]
                    or self.deadlines.verdicts["violation"])
