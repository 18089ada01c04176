"""Counting with first and last seen: the register of transfers, exceptions and derogations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from auditor.engine import Decision

# data class, origin country, destination country, processor, regime, mechanism, instrument
TransferKey = tuple[str, str, str, str, str, str, str | None]


def iso(seconds: float | None) -> str | None:
    """An instant as RFC 3339 UTC with milliseconds (``2026-03-02T08:00:00.021Z``)."""
    if seconds is None:
        return None
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Seen:
    """How many decisions, by verdict, and the earliest and latest event time among them."""

    events: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    first: float | None = None
    last: float | None = None
    examples: list[str] = field(default_factory=list)

    def add(self, decision: Decision, max_examples: int) -> None:
        self.events += 1
        self.verdicts[decision.verdict] += 1
        at = decision.event_time
        if at is not None:
            self.first = at if self.first is None else min(self.first, at)
            self.last = at if self.last is None else max(self.last, at)
        if len(self.examples) < max_examples and decision.event_id is not None:
            self.examples.append(decision.event_id)

    def fields(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "violations": self.verdicts["violation"],
            "first_seen": iso(self.first),
            "last_seen": iso(self.last),
        }


class Register:
    """Cross-border transfers (GDPR Art. 30(1)(e)), exceptions applied, derogations used."""

    def __init__(self, max_examples: int = 5) -> None:
        self.max_examples = max_examples
        self.transfers: dict[TransferKey, Seen] = {}
        self.exceptions: dict[tuple[str, str], Seen] = {}
        self.derogations: dict[tuple[str, str | None, str, str, str, str, str], Seen] = {}

    def add(self, decision: Decision) -> None:
        for applied in decision.outcome.exceptions:
            self._seen(self.exceptions, (applied.id, applied.rule)).add(
                decision, self.max_examples
            )
        t = decision.transfer
        if t is None or not isinstance(decision.event, dict):
            return
        event = decision.event
        data_class = str(event.get("data_class", ""))
        processor = decision.outcome.processor or str(event.get("processor") or "")
        key = (data_class, t.from_country, t.to_country, processor, t.regime, t.mechanism,
               t.instrument)
        self._seen(self.transfers, key).add(decision, self.max_examples)
        if t.mechanism == "derogation":
            code = str(event.get("derogation") or "")
            dkey = (code, t.instrument, t.regime, t.from_country, t.to_country, data_class,
                    processor)
            self._seen(self.derogations, dkey).add(decision, self.max_examples)

    @staticmethod
    def _seen(table: dict[Any, Seen], key: Any) -> Seen:
        seen = table.get(key)
        if seen is None:
            seen = table[key] = Seen()
        return seen

    def transfer_rows(self) -> list[dict[str, Any]]:
        rows = []
        for key in sorted(self.transfers, key=_sortable):
            data_class, src, dst, processor, regime, mechanism, instrument = key
            rows.append(
                {
                    "data_class": data_class,
                    "origin_country": src,
                    "destination_country": dst,
                    "processor": processor,
                    "regime": regime,
                    "mechanism": mechanism,
                    "instrument": instrument,
                    **self.transfers[key].fields(),
                }
            )
        return rows

    def exception_rows(self) -> list[dict[str, Any]]:
        return [
            {"id": exc_id, "rule": rule, **seen.fields(), "examples": seen.examples}
            for (exc_id, rule), seen in sorted(self.exceptions.items())
        ]

    def derogation_rows(self) -> list[dict[str, Any]]:
        rows = []
        for key in sorted(self.derogations, key=_sortable):
            code, instrument, regime, src, dst, data_class, processor = key
            seen = self.derogations[key]
            rows.append(
                {
                    "derogation": code,
                    "instrument": instrument,
                    "regime": regime,
                    "origin_country": src,
                    "destination_country": dst,
                    "data_class": data_class,
                    "processor": processor,
                    **seen.fields(),
                    "examples": seen.examples,
                }
            )
        return rows


def _sortable(key: tuple[Any, ...]) -> tuple[str, ...]:
    # None sorts before any text: a stable order whatever the values.
    return tuple("" if v is None else "\x01" + str(v) for v in key)
