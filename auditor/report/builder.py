"""The report model: decisions, in order, folded into plain JSON values with a fixed order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from auditor.engine import Decision, Outcome
from auditor.policy.model import DeclaredFlow
from auditor.report.about import PolicyAbout
from auditor.report.attestation import attestation
from auditor.report.chain import ALGORITHM, GENESIS, HashChain, has_float
from auditor.report.declared import DeclaredRegister
from auditor.report.diff import Diff
from auditor.report.register import Register, iso
from auditor.tally import Tally

REPORT_VERSION = "1"
SEVERITIES = ("critical", "high", "medium", "low")


class ReportBuilder:
    """Builds one report from the decisions of one run, fed in output order.

    Deterministic: the same decisions in the same order give an equal report (lists are
    sorted, examples are the first ones seen, no clock is read). Event decisions and
    deadline decisions are counted apart (spec §2): ``verdicts`` and ``findings`` hold
    event decisions only, ``deadlines`` the rest. ``about`` names the controller and the
    sentence each rule cites (without it, only built-in rules have a citation).
    """

    def __init__(
        self,
        policy: Mapping[str, Any],
        *,
        max_examples: int = 5,
        diff: Diff | None = None,
        about: PolicyAbout | None = None,
        declared_flows: Sequence[DeclaredFlow] = (),
    ) -> None:
        self.policy = dict(policy)
        self.about = about or PolicyAbout()
        self.max_examples = max_examples
        self.tally = Tally(max_examples=max_examples)
        self.register = Register(max_examples)
        self.chain = HashChain()
        self.diff = diff
        # Declared vs observed, for a pack that declares its flows (report.declarations).
        self.declared = DeclaredRegister(declared_flows, max_examples) if declared_flows else None
        self.events = 0
        self.deadlines = 0
        self.first: float | None = None
        self.last: float | None = None
        # id(outcome) -> (outcome, its body as plain JSON); the outcome is kept so the id
        # cannot be reused by another object while cached.
        self._bodies: dict[int, tuple[Outcome, dict[str, Any], bool]] = {}

    def add(self, decision: Decision) -> None:
        record, floats = self._record(decision)
        self.chain.add(record, floats)
        self.tally.add(decision)
        self.register.add(decision)
        if self.declared is not None:
            self.declared.add(decision)
        if decision.is_deadline:
            self.deadlines += 1
        else:
            self.events += 1
            at = decision.event_time
            if at is not None:
                self.first = at if self.first is None else min(self.first, at)
                self.last = at if self.last is None else max(self.last, at)
        if self.diff is not None:
            self.diff.add_replayed(decision)

    def _record(self, decision: Decision) -> tuple[dict[str, Any], bool]:
        """The decision record as plain JSON values (equal to ``decision.plain()``), and
        whether it holds a float. Events of one flow share an outcome, whose plain form is
        made once."""
        outcome = decision.outcome
        cached = self._bodies.get(id(outcome))
        if cached is None or cached[0] is not outcome:
            if len(self._bodies) >= 4096:
                self._bodies.clear()  # bounded, like the engine's own cache
            body = orjson.loads(orjson.dumps(outcome.body))
            cached = self._bodies[id(outcome)] = (outcome, body, has_float(body))
        record = {"event_id": decision.event_id, **cached[1]}
        floats = cached[2]
        if decision.event is not None:
            record["event"] = decision.event
            floats = floats or has_float(decision.event)
        return record, floats

    def report(
        self,
        *,
        period: Mapping[str, Any],
        sources: Sequence[Mapping[str, Any]],
        records_read: int,
        records_outside_window: int = 0,
        closed_at: str | None = None,
        generated_at: str | None = None,
    ) -> dict[str, Any]:
        """The report (schemas/report-v1.schema.json) of everything added so far."""
        t = self.tally
        event_time = {"first": iso(self.first), "last": iso(self.last)}
        source_list = [dict(s) for s in sources]
        scope: dict[str, Any] = {
            "period": dict(period),
            "event_time": event_time,
            "sources": source_list,
            "records_read": records_read,
            "records_outside_window": records_outside_window,
            "events": self.events,
            "invalid_events": t.verdicts["invalid"],
            "decisions": t.decisions,
            "deadline_decisions": self.deadlines,
            "deadlines_closed_at": closed_at,
            "policy": self.policy,
        }
        integrity = {
            "algorithm": ALGORITHM,
            "genesis": GENESIS.hex(),
            "records": self.chain.records,
            "head": self.chain.head,
        }
        return {
            "report": "auditor replay",
            "version": REPORT_VERSION,
            "generated_at": generated_at,
            "scope": scope,
            "verdicts": {v: t.verdicts[v] for v in ("allow", "violation", "invalid")},
            "findings": self._findings(),
            "deadlines": self._deadlines(),
            "invalid": [
                {"field": name, "events": count} for name, count in sorted(t.invalid.items())
            ],
            "transfers": self.register.transfer_rows(),
            "exceptions": self.register.exception_rows(),
            "derogations": self.register.derogation_rows(),
            "differences": None if self.diff is None else self.diff.result(),
            "declarations": None if self.declared is None else self.declared.result(),
            "integrity": integrity,
            "attestation": attestation(
                self.about, policy=self.policy, period=period, event_time=event_time,
                sources=source_list, integrity=integrity, closed_at=closed_at,
            ),
        }

    def _rule_row(self, key: tuple[str, str, str, str], count: int,
                  examples: Mapping[str, list[str]]) -> dict[str, Any]:
        rule, kind, severity, effect = key
        return {
            "rule": rule,
            "kind": kind,
            "severity": severity,
            "effect": effect,
            "findings": count,
            "examples": list(examples.get(rule, [])),
            "citation": self.about.citation(rule),
        }

    def _deadlines(self) -> dict[str, Any]:
        d = self.tally.deadlines
        return {
            "decisions": d.decisions,
            "violations": d.verdicts["violation"],
            "by_rule": [self._rule_row(key, count, d.examples)
                        for key, count in sorted(d.by_rule.items())],
        }

    def _findings(self) -> dict[str, Any]:
        t = self.tally
        kinds: Counter[str] = Counter()
        severities: Counter[str] = Counter()
        by_rule = []
        for key, count in sorted(t.by_rule.items()):
            kinds[key[1]] += count
            severities[key[2]] += count
            by_rule.append(self._rule_row(key, count, t.examples))
        return {
            "by_rule": by_rule,
            "by_kind": [
                {"kind": kind, "findings": kinds[kind], "events_denied": t.by_kind[kind]}
                for kind in sorted(set(kinds) | set(t.by_kind))
            ],
            "by_severity": [
                {"severity": s, "findings": severities[s]} for s in SEVERITIES if severities[s]
            ],
        }
