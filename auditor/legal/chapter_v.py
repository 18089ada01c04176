"""Chapter V: the lawful basis of a transfer, judged by the tables in force at the event's time."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.legal.tables import LegalTables
from auditor.policy.model import Party

MECHANISMS = (
    "intra_eea",
    "adequacy",
    "dpf",
    "scc",
    "bcr",
    "idta",
    "derogation",
    "unrestricted",
    "none",
)


@dataclass(frozen=True, slots=True)
class Transfer:
    """The decision's ``transfer`` record (spec §2)."""

    regime: str
    from_country: str
    to_country: str
    mechanism: str
    instrument: str | None


# Order of preference (legal-reference.md): intra-EEA, adequacy, DPF, BCR, SCC / IDTA,
# derogation, none.


def judge_transfer(
    tables: LegalTables,
    from_country: str,
    to_country: str,
    at: float,
    *,
    party: Party | None,
    hr: bool = False,
    personal: bool = True,
    derogation: str | None = None,
) -> Transfer | None:
    """The transfer record of data moving from ``from_country`` to ``to_country`` at ``at``.

    None when both are the same country. ``party`` is the recipient (the event's
    processor) whose entity-based safeguards count; None when it is unknown.
    """
    if from_country == to_country:
        return None
    if not personal:
        return Transfer(
            "none", from_country, to_country, "unrestricted", "not personal data (GDPR Recital 26)"
        )
    regime = tables.regime(from_country, at)
    if regime == "none":
        return Transfer("none", from_country, to_country, "unrestricted", None)
    if tables.in_eea(to_country, at) and regime == "eu_gdpr":
        return Transfer(regime, from_country, to_country, "intra_eea", "EEA Agreement")
    row = tables.adequacy(regime, to_country, at)
    if row is not None:
        return Transfer(regime, from_country, to_country, "adequacy", row.instrument)
    if party is not None:
        found = _entity_based(tables, regime, to_country, at, party, hr)
        if found is not None:
            return Transfer(regime, from_country, to_country, *found)
    if derogation is not None:
        return Transfer(
            regime,
            from_country,
            to_country,
            "derogation",
            tables.derogations.get(derogation, derogation),
        )
    return Transfer(regime, from_country, to_country, "none", None)


def _entity_based(
    tables: LegalTables, regime: str, to_country: str, at: float, party: Party, hr: bool
) -> tuple[str, str] | None:
    if to_country == "US" and party.country == "US":
        dpf = party.dpf
        if dpf is not None and dpf.span.covers(at) and (dpf.hr if hr else dpf.non_hr):
            if regime == "eu_gdpr":
                row = tables.adequacy(regime, "US", at, "dpf_list")
                if row is not None:
                    return "dpf", row.instrument
            elif dpf.uk_extension:
                row = tables.adequacy(regime, "US", at, "dpf_list_uk_extension")
                if row is not None:
                    return "dpf", row.instrument
        shield = party.privacy_shield
        if regime == "eu_gdpr" and shield is not None and shield.covers(at):
            row = tables.adequacy(regime, "US", at, "privacy_shield_list")
            if row is not None:
                return "adequacy", row.instrument
    if party.bcr is not None and party.bcr.covers(at):
        return "bcr", tables.bcr[regime]
    clauses = party.scc if regime == "eu_gdpr" else party.idta
    if clauses is not None and clauses.covers(at):
        row = tables.standard_clauses(regime, at)
        if row is not None:
            return ("scc" if regime == "eu_gdpr" else "idta"), row.instrument
    return None
