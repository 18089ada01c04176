"""Decision v1 (spec §2): findings, the transfer record, and the decision for one event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from auditor.events.invalid import Invalid
from auditor.legal.chapter_v import Transfer
from auditor.policy.model import Rule
from auditor.rules.registry import finding_kinds

# Every kind a finding can have: the rule kinds, then the engine's own.
KINDS = finding_kinds()
VERDICTS = ("allow", "violation", "invalid")


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    kind: str
    severity: str
    effect: str
    message: str


@dataclass(frozen=True, slots=True)
class AppliedException:
    id: str
    rule: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything of a decision but the event id: shared by all events of one flow."""

    verdict: str
    findings: tuple[Finding, ...]
    transfer: Transfer | None
    exceptions: tuple[AppliedException, ...]
    body: dict[str, Any]
    # For rules that need memory: those applying to this flow, and the flow's resolved
    # processor and destination country (what the memory keys on).
    stateful: tuple[Rule, ...] = ()
    processor: str = ""
    destination_country: str | None = None
    # The declared flows that cover this flow (None: no declarations, or out of scope).
    declared: tuple[str, ...] | None = None
    # ``body`` serialised once, without its braces: every decision of this outcome splices
    # it between its event id and its event (Decision.to_json) instead of serialising again.
    json: bytes = b""

    @classmethod
    def of(
        cls,
        findings: tuple[Finding, ...],
        transfer: Transfer | None,
        exceptions: tuple[AppliedException, ...],
        policy: dict[str, str],
        invalid: bool = False,
        **extra: Any,
    ) -> Outcome:
        if invalid:
            verdict = "invalid"
        elif any(f.effect == "deny" for f in findings):
            verdict = "violation"
        else:
            verdict = "allow"
        body: dict[str, Any] = {
            "verdict": verdict,
            "findings": findings,
            "transfer": transfer,
            "policy": policy,
        }
        if exceptions:
            body["exceptions"] = exceptions
        deadline = extra.pop("deadline", None)
        if deadline is not None:
            body["deadline"] = deadline
        return cls(verdict, findings, transfer, exceptions, body, **extra,
                   json=orjson.dumps(body)[1:-1])


class Decision:
    """The decision for one event: its id, the shared outcome, and the event itself.

    ``event_json`` is the event serialised as orjson writes it, when the input layer has
    it already (it does for every event read from bytes): the record reuses it.
    """

    __slots__ = ("event", "event_id", "event_json", "event_time", "outcome")

    def __init__(
        self,
        event_id: str | None,
        outcome: Outcome,
        event: Any = None,
        event_time: float | None = None,
        event_json: bytes = b"",
    ) -> None:
        self.event_id = event_id
        self.outcome = outcome
        self.event = event
        self.event_time = event_time
        self.event_json = event_json

    @property
    def verdict(self) -> str:
        return self.outcome.verdict

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.outcome.findings

    @property
    def transfer(self) -> Transfer | None:
        return self.outcome.transfer

    @property
    def is_deadline(self) -> bool:
        """A deadline decision: a record of its own, not an input event's (spec §2)."""
        return "deadline" in self.outcome.body

    def as_dict(self, with_event: bool = True) -> dict[str, Any]:
        """The decision record; the valid input event rides along as ``event`` (the audit log
        keeps what was judged, unknown fields included)."""
        out = {"event_id": self.event_id, **self.outcome.body}
        if with_event and self.event is not None:
            out["event"] = self.event
        return out

    def to_json(self, with_event: bool = True) -> bytes:
        """The record as JSON: the bytes ``orjson.dumps(self.as_dict(with_event))`` gives,
        spliced from the outcome's serialised body (made once per flow) and the event."""
        head = b'{"event_id":' + orjson.dumps(self.event_id) + b","
        if with_event and self.event is not None:
            event = self.event_json or orjson.dumps(self.event)
            return head + self.outcome.json + b',"event":' + event + b"}"
        return head + self.outcome.json + b"}"

    def plain(self, with_event: bool = True) -> dict[str, Any]:
        """The decision as plain JSON values (dataclasses turned into dicts)."""
        result: dict[str, Any] = orjson.loads(self.to_json(with_event))
        return result


class Step:
    """What deciding one input gives: the deadlines its event time passed, then its own
    decision. ``invalid`` says why an input is not an event (its dead-letter reason)."""

    # A plain class: made once per event, and a frozen dataclass's __init__ costs 3x.
    __slots__ = ("deadlines", "decision", "invalid")

    def __init__(self, decision: Decision, deadlines: tuple[Decision, ...] = (),
                 invalid: Invalid | None = None) -> None:
        self.decision = decision
        self.deadlines = deadlines
        self.invalid = invalid

    def decisions(self) -> tuple[Decision, ...]:
        """Every decision, in output order: deadlines first."""
        return (*self.deadlines, self.decision) if self.deadlines else (self.decision,)
