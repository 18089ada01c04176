"""A trace of one evaluation, recorded by the code that decides: what `auditor explain` shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.legal.chapter_v import Transfer
from auditor.policy.model import Rule


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing the evaluation did: a rule skipped, passed, broken, waived, or remembered."""

    status: str  # skip, pass, waive, memo, note, or the finding's effect (deny, warn, dryrun)
    rule: str
    kind: str
    text: str
    citation: str = ""


@dataclass(slots=True)
class Trace:
    """Filled in by ``Engine.decide(..., trace=Trace())``; never by the cached hot path."""

    event: str = ""
    transfer: str = ""
    unknown: list[str] = field(default_factory=list)
    steps: list[Entry] = field(default_factory=list)

    def flow(self, event_id: str, summary: str, transfer: Transfer | None) -> None:
        self.event = f"event {event_id}: {summary}"
        t = transfer
        self.transfer = (
            "transfer: none (same country)"
            if t is None
            else f"transfer: {t.regime} {t.from_country}->{t.to_country}: {t.mechanism}"
            + (f" ({t.instrument})" if t.instrument else "")
        )

    def rule(self, status: str, rule: Rule, text: str) -> None:
        citation = rule.citation if status in ("deny", "warn", "dryrun") else ""
        self.steps.append(Entry(status, rule.id, rule.kind, text, citation))

    def lines(self) -> list[str]:
        """The trace as text, one line per step (the format of ``auditor explain``)."""
        out = [self.event, self.transfer]
        out += [f"  FAIL-CLOSED {message}" for message in self.unknown]
        if self.unknown:
            out.append("rules not evaluated: the event names things the policy does not know")
        for step in self.steps:
            if step.status == "note":
                out.append(f"        remembers: {step.text}")
                continue
            status = step.status if step.status in ("skip", "pass", "waive", "memo") \
                else step.status.upper()
            out.append(f"  {status:5} {step.rule} [{step.kind}]: {step.text}")
            if step.citation:
                out.append(f"        cites: {step.citation}")
        return out
