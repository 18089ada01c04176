"""A pack's declared flows compiled once for matching: which declarations cover a flow, and
for one that none covers, how near each came (what ``auditor explain`` shows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from auditor.policy.model import DeclaredFlow

if TYPE_CHECKING:
    from auditor.rules.facts import Facts, Places

# How many of the nearest declarations an undeclared flow's message names.
NEAREST = 2


class Declarations:
    """The declared flows of one policy, indexed by processor.

    ``match`` runs once per distinct flow and legal epoch (the engine caches decisions),
    and looks only at the declarations of the flow's processor.
    """

    def __init__(self, flows: Sequence[DeclaredFlow]) -> None:
        self.flows = tuple(flows)
        by_processor: dict[str, list[DeclaredFlow]] = {}
        for flow in self.flows:  # pack order kept within each processor's list
            for processor in sorted(flow.processors):
                by_processor.setdefault(processor, []).append(flow)
        self._by_processor = {p: tuple(fs) for p, fs in by_processor.items()}

    def __bool__(self) -> bool:
        return bool(self.flows)

    def edges(self) -> tuple[float, ...]:
        """Instants at which a declaration starts or ends (the decision cache splits there)."""
        return tuple(edge for flow in self.flows for edge in flow.span.edges())

    @staticmethod
    def in_scope(facts: Facts) -> bool:
        """Declarations record personal data: not anonymised, of a personal data class."""
        klass = facts.klass
        return not facts.anonymized and (klass is None or klass.personal)

    def match(self, facts: Facts, places: Places) -> tuple[str, ...]:
        """The ids of the declarations that cover the flow, in pack order."""
        return tuple(
            flow.id
            for flow in self._by_processor.get(facts.processor_id, ())
            if not _differences(flow, facts, places, first_only=True)
        )

    def nearest(self, facts: Facts, places: Places) -> list[tuple[DeclaredFlow, list[str]]]:
        """Every declaration with what of the flow it does not cover, nearest first."""
        scored = [(flow, _differences(flow, facts, places)) for flow in self.flows]
        return sorted(scored, key=lambda pair: len(pair[1]))

    def explain_miss(self, facts: Facts, places: Places) -> str:
        """Why no declaration covers the flow: the nearest ones and what differs."""
        near = self.nearest(facts, places)[:NEAREST]
        shown = "; ".join(f"{flow.id} ({', '.join(diff)})" for flow, diff in near)
        return f"nearest: {shown}" if shown else "the pack declares no flows"


def _differences(
    flow: DeclaredFlow, facts: Facts, places: Places, first_only: bool = False
) -> list[str]:
    """What of the flow ``flow`` does not cover (empty: it covers it)."""
    out: list[str] = []
    checks = (
        (flow.processors, facts.processor_id, "processor"),
        (flow.data_classes, facts.data_class, "data class"),
        (flow.purposes, facts.purpose, "purpose"),
        (flow.operations, facts.operation, "operation"),
    )
    for allowed, value, what in checks:
        if allowed is not None and value not in allowed:
            out.append(f"{what} {value} not in [{', '.join(sorted(allowed))}]")
            if first_only:
                return out
    if flow.destinations is not None and not places.any_match(
            flow.destinations, "destination", facts):
        shown = (f"home_region ({facts.home_region or 'none'})" if p == "home_region" else p
                 for p in flow.destinations)
        out.append(f"destination {facts.place('destination')} not in [{', '.join(shown)}]")
        if first_only:
            return out
    if not flow.span.covers(facts.at):
        out.append("event time outside the declaration's dates")
    return out
