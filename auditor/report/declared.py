"""Declared vs observed over a replay: declarations seen or not, flows seen on another basis
than the one declared, and flows no declaration covers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auditor.engine import Decision
from auditor.policy.model import DeclaredFlow
from auditor.report.register import Seen, iso

# declarations, data class, processor, origin and destination country, declared basis,
# observed mechanism, instrument
BasisKey = tuple[tuple[str, ...], str, str, str, str, tuple[str, ...], str, str | None]
# data class, operation, processor, purpose, destination country
UndeclaredKey = tuple[str, str, str, str, str]
# Mechanisms of flows no basis is needed for: within the EEA, or outside both regimes.
UNRESTRICTED = frozenset({"intra_eea", "unrestricted"})


class DeclaredRegister:
    """Folds event decisions into the declared-vs-observed part of a report.

    Only decisions the engine matched against the declarations count (``outcome.declared``
    not None): personal data whose names the policy knows. Deterministic: rows are sorted,
    examples are the first event ids met.
    """

    def __init__(self, flows: Sequence[DeclaredFlow], max_examples: int = 5) -> None:
        self.flows = tuple(flows)
        self.max_examples = max_examples
        self._basis = {f.id: f.basis for f in self.flows}
        self.seen: dict[str, Seen] = {f.id: Seen() for f in self.flows}
        self.basis_differs: dict[BasisKey, Seen] = {}
        self.undeclared: dict[UndeclaredKey, Seen] = {}

    def add(self, decision: Decision) -> None:
        declared = decision.outcome.declared
        if declared is None or decision.is_deadline or not isinstance(decision.event, dict):
            return
        event = decision.event
        data_class = str(event.get("data_class", ""))
        processor = decision.outcome.processor or str(event.get("processor") or "")
        if not declared:
            key = (data_class, str(event.get("operation", "")), processor,
                   str(event.get("purpose") or "service_delivery"),
                   decision.outcome.destination_country or "")
            _seen(self.undeclared, key).add(decision, self.max_examples)
            return
        for fid in declared:
            self.seen[fid].add(decision, 0)
        t = decision.transfer
        stated = sorted({b for fid in declared for b in (self._basis[fid] or ())})
        # Compared only for a transfer Chapter V restricts, when a declaration states a basis.
        if t is None or t.mechanism in UNRESTRICTED or not stated or t.mechanism in stated:
            return
        bkey = (declared, data_class, processor, t.from_country, t.to_country, tuple(stated),
                t.mechanism, t.instrument)
        _seen(self.basis_differs, bkey).add(decision, self.max_examples)

    def result(self) -> dict[str, Any]:
        """The report's ``declarations`` object (schemas/report-v1.schema.json)."""
        declared = [_declared_row(f, self.seen[f.id]) for f in self.flows]
        return {
            "declared": declared,
            "not_seen": [row["id"] for row in declared if not row["events"]],
            "basis_differs": [_basis_row(k, self.basis_differs[k])
                              for k in sorted(self.basis_differs, key=_sortable)],
            "undeclared": [_undeclared_row(k, self.undeclared[k])
                           for k in sorted(self.undeclared)],
        }


def _seen(table: dict[Any, Seen], key: Any) -> Seen:
    seen = table.get(key)
    if seen is None:
        seen = table[key] = Seen()
    return seen


def _names(values: frozenset[str] | None) -> list[str] | None:
    return sorted(values) if values is not None else None


def _declared_row(flow: DeclaredFlow, seen: Seen) -> dict[str, Any]:
    until = flow.span.until
    return {
        "id": flow.id,
        "description": flow.description,
        "processors": sorted(flow.processors),
        "data_classes": _names(flow.data_classes),
        "purposes": _names(flow.purposes),
        "operations": _names(flow.operations),
        "destinations": list(flow.destinations) if flow.destinations is not None else None,
        "basis": _names(flow.basis),
        "since": _day(flow.span.since),
        # until is stored as the first instant after the last day covered
        "until": _day(until - 1 if until is not None else None),
        **seen.fields(),
    }


def _day(seconds: float | None) -> str | None:
    text = iso(seconds)
    return text[:10] if text is not None else None


def _basis_row(key: BasisKey, seen: Seen) -> dict[str, Any]:
    declarations, data_class, processor, src, dst, stated, mechanism, instrument = key
    return {
        "declarations": list(declarations),
        "data_class": data_class,
        "processor": processor,
        "origin_country": src,
        "destination_country": dst,
        "declared_basis": list(stated),
        "mechanism": mechanism,
        "instrument": instrument,
        **seen.fields(),
        "examples": seen.examples,
    }


def _undeclared_row(key: UndeclaredKey, seen: Seen) -> dict[str, Any]:
    data_class, operation, processor, purpose, country = key
    return {
        "data_class": data_class,
        "operation": operation,
        "processor": processor,
        "purpose": purpose,
        "destination_country": country,
        **seen.fields(),
        "examples": seen.examples,
    }


def _sortable(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if v is None else "\x01" + str(v) for v in key)
