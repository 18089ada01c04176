"""Building a pack's declared flows (``declared_flows``), checking every name they use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from auditor.policy.errors import Where
from auditor.policy.model import DeclaredFlow, Party, Rule, Span
from auditor.policy.values import parse_instant

if TYPE_CHECKING:
    from auditor.policy.checker import Checker, Draft
    from auditor.policy.loader import Merged

_DAY = 86400.0
UNDECLARED_KIND = "undeclared_flow"
# A basis that rests on the processor's own safeguard: one of the listed processors must
# have it in the registry, or the declaration contradicts the pack.
_PARTY_BASIS = ("dpf", "scc", "bcr", "idta")


def declared_flows(
    c: Checker, merged: Merged, draft: Draft, rules: Sequence[Rule]
) -> list[DeclaredFlow]:
    """The checked declarations of ``merged``, in pack order (includes first).

    Appends an issue (file, line, declaration, what to change) for every unknown name,
    bad date, duplicate id or basis no listed processor can give; and for a rule of kind
    ``undeclared_flow`` in a pack that declares nothing.
    """
    out: list[DeclaredFlow] = []
    seen: dict[str, Where] = {}
    c.label = "declared flow"
    for raw, where, src, path, broken in merged.declared:
        fid = raw.get("id")
        c.rule, c.src, c.base = fid if isinstance(fid, str) else None, src, path
        if broken:
            continue  # the schema error is reported; its names may be of any type
        if fid in seen:
            c.error(where, f"declared flow id '{fid}' is already used at {seen[fid]}; "
                    "declared flow ids must be unique")
            continue
        seen[fid] = where
        flow = _flow(c, raw, draft, where)
        if flow is not None:
            out.append(flow)
    c.rule, c.src, c.base, c.label = None, None, (), "rule"
    if not merged.declared:
        for rule in rules:
            if rule.kind == UNDECLARED_KIND:
                c.error(rule.where, f"rule '{rule.id}' of kind {UNDECLARED_KIND} needs the "
                        "pack to declare its flows: add declared_flows, or remove the rule")
    return out


def _flow(c: Checker, raw: dict[str, Any], draft: Draft, where: Where) -> DeclaredFlow | None:
    ok = True
    for key, kind, table in (
        ("processors", "processor", draft.processors),
        ("data_classes", "data class", draft.data_classes),
        ("purposes", "purpose", draft.purposes),
    ):
        for i, name in enumerate(raw.get(key, ())):
            ok = c.known(kind, name, table, where, f"{key}[{i}]") and ok
    for i, pattern in enumerate(raw.get("destinations", ())):
        c.pattern(pattern, draft, where, f"destinations[{i}]")
    parties = [draft.processors[p] for p in raw["processors"] if p in draft.processors]
    for i, basis in enumerate(raw.get("basis", ())):
        if basis in _PARTY_BASIS and parties and not any(_has(p, basis) for p in parties):
            names = ", ".join(p.id for p in parties)
            c.error(where, f"basis {basis}: no processor of this declaration ({names}) has "
                    f"{basis} among its safeguards; add it to the processor, or drop it here",
                    f"basis[{i}]")
    span = _span(c, raw, where)
    if not ok or span is None:
        return None
    citation = raw.get("citation", "")
    return DeclaredFlow(
        id=raw["id"],
        processors=frozenset(raw["processors"]),
        destinations=tuple(raw["destinations"]) if "destinations" in raw else None,
        data_classes=_set(raw.get("data_classes")),
        purposes=_set(raw.get("purposes")),
        operations=_set(raw.get("operations")),
        basis=_set(raw.get("basis")),
        span=span,
        description=str(raw.get("description", "")),
        citation=citation if isinstance(citation, str) else citation["text"],
        citation_source="" if isinstance(citation, str) else citation.get("source", ""),
        where=where,
    )


def _has(party: Party, basis: str) -> bool:
    return getattr(party, basis) is not None


def _span(c: Checker, raw: dict[str, Any], where: Where) -> Span | None:
    """since = first day covered, until = last day covered (UTC), as for safeguards."""
    bounds: dict[str, float | None] = {"since": None, "until": None}
    for key in bounds:
        if key in raw:
            at = parse_instant(raw[key])
            if at is None:
                c.error(where, f"'{raw[key]}' is not a date YYYY-MM-DD", key)
                return None
            bounds[key] = at + _DAY if key == "until" else at
    since, until = bounds["since"], bounds["until"]
    if since is not None and until is not None and until <= since:
        c.error(where, "until (the last day covered) is before since", "until")
        return None
    return Span(since, until)


def _set(values: Any) -> frozenset[str] | None:
    return frozenset(values) if values is not None else None

