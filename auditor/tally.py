"""Counting decisions: verdicts, findings by rule, transfers (for summaries and reports)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.engine.decision import Decision, Finding
from auditor.legal.chapter_v import Transfer


@dataclass
class Tally:
    """Counts of decisions. ``events`` and ``verdicts`` count event decisions only;
    deadline decisions (spec §2: never mixed with event counts) are ``deadlines``, and
    their findings count in ``by_rule`` like any other finding."""

    events: int = 0
    deadlines: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    deadline_verdicts: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    transfers: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    invalid: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    max_examples: int = 3

    def add(self, decision: Decision) -> None:
        self.count(decision.event_id, decision.verdict, decision.findings, decision.transfer,
                   deadline=decision.is_deadline)

    def add_record(self, record: Mapping[str, Any]) -> None:
        """Count a decision record read back as JSON (e.g. from the decisions topic)."""
        transfer = record.get("transfer")
        self.count(
            record.get("event_id"),
            record.get("verdict", "invalid"),
            [Finding(**f) for f in record.get("findings", [])],
            Transfer(**transfer) if transfer else None,
            deadline="deadline" in record,
        )

    def count(self, event_id: str | None, verdict: str, findings: Sequence[Finding],
              transfer: Transfer | None, *, deadline: bool = False) -> None:
        if deadline:
            self.deadlines += 1
            self.deadline_verdicts[verdict] += 1
        else:
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
        if deadline:
            return
        # Events (not findings) per kind: two residency rules broken by one event count once.
        for kind in {f.kind for f in findings if f.effect == "deny"}:
            self.by_kind[kind] += 1
        t = transfer
        if t is not None:
            self.transfers[(t.regime, t.mechanism, t.from_country, t.to_country)] += 1

    @property
    def violations(self) -> int:
        """Event decisions with verdict violation (deadline decisions apart)."""
        return self.verdicts["violation"]

    @property
    def failed(self) -> bool:
        """A violation (of an event or a deadline) or an invalid event: `check` exits 1."""
        return bool(self.verdicts["violation"] or self.verdicts["invalid"]
                    or self.deadline_verdicts["violation"])
