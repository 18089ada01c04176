"""The observed register as draft declarations: what ``auditor register`` writes, YAML a pack
can include (docs/declared-flows.md)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from auditor.engine import Decision
from auditor.policy.model import Policy
from auditor.report.register import Seen, iso

# Mechanisms that are no basis to declare: not personal data, or no lawful basis at all.
NOT_A_BASIS = frozenset({"unrestricted", "none"})
BY = ("country", "location")
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # the policy schema's id
MAX_ID = 128


@dataclass
class Observed:
    """The events of one data class, processor and purpose."""

    seen: Seen = field(default_factory=Seen)
    operations: set[str] = field(default_factory=set)
    destinations: set[str] = field(default_factory=set)
    basis: set[str] = field(default_factory=set)
    no_basis: int = 0


@dataclass
class Skipped:
    """Decisions left out of the draft, by why."""

    invalid: int = 0
    unknown: int = 0
    not_personal: int = 0
    declared: int = 0


class DraftRegister:
    """Folds the decisions of a run into one draft declaration per data class, processor and
    purpose: the operations, destinations and Chapter V mechanisms observed.

    Only personal data whose names the policy knows is drafted (declarations cover nothing
    else). ``undeclared_only``: also leave out flows the pack's declarations already cover.
    Deterministic: entries and lists are sorted, no clock is read.
    """

    def __init__(self, policy: Policy, *, by: str = "country", prefix: str = "observed",
                 undeclared_only: bool = False) -> None:
        if by not in BY:
            raise ValueError(f"by must be one of {BY}")
        self.policy = policy
        self.by = by
        self.prefix = prefix
        self.undeclared_only = undeclared_only
        self.flows: dict[tuple[str, str, str], Observed] = {}
        self.skipped = Skipped()
        self.events = 0
        self.first: float | None = None
        self.last: float | None = None

    def add(self, decision: Decision) -> None:
        if decision.is_deadline:
            return
        event = decision.event
        if decision.verdict == "invalid" or not isinstance(event, dict):
            self.skipped.invalid += 1
            return
        if any(f.kind == "unknown_reference" for f in decision.findings):
            self.skipped.unknown += 1
            return
        data_class = str(event["data_class"])
        if event.get("anonymized") is True or not self.policy.data_classes[data_class].personal:
            self.skipped.not_personal += 1
            return
        if self.undeclared_only and decision.outcome.declared:
            self.skipped.declared += 1
            return
        self.events += 1
        key = (data_class, decision.outcome.processor,
               str(event.get("purpose") or "service_delivery"))
        flow = self.flows.get(key)
        if flow is None:
            flow = self.flows[key] = Observed()
        flow.seen.add(decision, 0)
        at = decision.event_time
        if at is not None:
            self.first = at if self.first is None else min(self.first, at)
            self.last = at if self.last is None else max(self.last, at)
        flow.operations.add(str(event["operation"]))
        flow.destinations.add(
            f"country:{decision.outcome.destination_country}" if self.by == "country"
            else str(event["destination"]["location"])
        )
        t = decision.transfer
        if t is not None and t.mechanism == "none":
            flow.no_basis += 1
        elif t is not None and t.mechanism not in NOT_A_BASIS:
            flow.basis.add(t.mechanism)

    def yaml(self, header: list[str]) -> str:
        """The draft as a policy fragment (``apiVersion`` and ``declared_flows``), with
        ``header`` lines (what was read) as comments at the top."""
        s = self.skipped
        lines = [
            "# Draft declarations written by `auditor register` from observed traffic: review",
            "# every entry (narrow or widen it, add a citation) before a pack includes this",
            "# file (include: [<this file>]). An observed flow is not a lawful one.",
            *(f"# {line}" for line in header),
            f"# events drafted: {self.events:,}; left out: {s.invalid:,} invalid, "
            f"{s.unknown:,} naming what the pack does not know, {s.not_personal:,} not "
            f"personal or anonymised" + (f", {s.declared:,} already declared"
                                         if self.undeclared_only else ""),
            f"# event time: {iso(self.first) or '-'} -> {iso(self.last) or '-'}",
            "apiVersion: auditor/v1",
        ]
        if not self.flows:
            return "\n".join([*lines, "declared_flows: []", ""])
        lines.append("declared_flows:")
        for key in sorted(self.flows):
            lines += self._entry(key, self.flows[key])
        return "\n".join([*lines, ""])

    def _entry(self, key: tuple[str, str, str], flow: Observed) -> list[str]:
        data_class, processor, purpose = key
        seen = flow.seen
        fields: dict[str, Any] = seen.fields()
        violations = _n(fields["violations"], "violation")
        described = (f"observed: {_n(seen.events, 'event')} ({violations}), "
                     f"{fields['first_seen']} to {fields['last_seen']}")
        out = [f"  - id: {_id(self.prefix, key)}",
               f"    description: {json.dumps(described)}",
               f"    processors: [{processor}]",
               f"    data_classes: [{data_class}]",
               f"    purposes: [{purpose}]",
               f"    operations: [{', '.join(sorted(flow.operations))}]",
               f"    destinations: [{', '.join(json.dumps(d) for d in sorted(flow.destinations))}]"]
        if flow.basis:
            out.append(f"    basis: [{', '.join(sorted(flow.basis))}]")
        if seen.verdicts["violation"]:
            out.append(f"    # violations among these events: {seen.verdicts['violation']:,}; "
                       "see the findings before you declare them")
        if flow.no_basis:
            out.append(f"    # events that crossed a border with no lawful basis (mechanism none): "
                       f"{flow.no_basis:,}; declaring them does not make them lawful")
        return out



def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _id(prefix: str, key: tuple[str, ...]) -> str:
    """``prefix.data_class.processor.purpose``; a digest keeps a long one unique and short."""
    text = ".".join((prefix, *key))
    if len(text) <= MAX_ID:
        return text
    return text[: MAX_ID - 13] + "-" + hashlib.sha256(text.encode()).hexdigest()[:12]
