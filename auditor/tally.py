"""Counting decisions: verdicts, findings by rule, transfers (for summaries and reports)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from auditor.engine.decision import Decision


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

    def add(self, decision: Decision) -> None:
        self.events += 1
        self.verdicts[decision.verdict] += 1
        for f in decision.findings:
            if f.kind == "schema":
                self.invalid[f.message.split(":", 1)[0]] += 1
                continue
            self.by_rule[(f.rule, f.kind, f.severity, f.effect)] += 1
            shown = self.examples.setdefault(f.rule, [])
            if len(shown) < self.max_examples and decision.event_id is not None:
                shown.append(decision.event_id)
        # Events (not findings) per kind: two residency rules broken by one event count once.
        for kind in {f.kind for f in decision.findings if f.effect == "deny"}:
            self.by_kind[kind] += 1
        t = decision.transfer
        if t is not None:
            self.transfers[(t.regime, t.mechanism, t.from_country, t.to_country)] += 1

    @property
    def violations(self) -> int:
        return self.verdicts["violation"]
