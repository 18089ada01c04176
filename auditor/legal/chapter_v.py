"""Chapter V: the lawful basis of a transfer, judged by the tables in force at the event's time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from auditor.legal.tables import REGIMES, LegalTables
from auditor.policy.model import LocationGroup, Party

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


OWN_STAFF = "the exporter's own staff: not a Chapter V transfer (EDPB Guidelines 05/2021)"

# Order of preference (legal-reference.md): intra-EEA, adequacy (country or sectoral),
# entity-based lists (DPF; Privacy Shield and Safe Harbour for replays), BCR, SCC / IDTA,
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
    regime: str | None = None,
    own_staff: bool = False,
) -> Transfer | None:
    """The transfer record of data moving from ``from_country`` to ``to_country`` at ``at``.

    None when both are the same country (spec §2: the record is null within one country,
    even for a recipient that is an international organisation). ``party`` is the
    recipient (the event's processor) whose facts count: entity-based safeguards, the
    sectoral adequacy scopes it states, and whether it is an international organisation
    (then judged as such, not as its host country); None when unknown.

    ``regime`` (``eu_gdpr`` / ``uk_gdpr``) is the regime the data stays under on an onward
    hop (the event's ``origin.regime``, or the regime of the tenant's home region where the
    pack says so): a hop from a third country is judged under it instead of ``none``. When
    the origin itself is in the EEA or the UK under the other regime, both apply and the
    less lawful outcome is reported (no basis before a derogation before any other basis).
    Raises ValueError for any other ``regime``.

    ``own_staff``: the data is reached by the exporter's own employees (EDPB Guidelines
    05/2021, example 2): they are not an importer, so there is no Chapter V transfer (regime
    ``none``, mechanism ``unrestricted``, as for anonymised data); the pack's own promises
    still judge the access.
    """
    if regime is not None and regime not in REGIMES:
        raise ValueError(f"regime must be one of {', '.join(REGIMES)} or None, got {regime!r}")
    if from_country == to_country:
        return None
    if not personal:
        return Transfer(
            "none", from_country, to_country, "unrestricted", "not personal data (GDPR Recital 26)"
        )
    local = tables.regime(from_country, at)
    judge = _Judge(tables, from_country, to_country, at, party, hr, derogation)
    if regime is None or regime == local:
        found = judge.under(local)
    elif local == "none":
        found = judge.under(regime)
    else:
        declared, here = judge.under(regime), judge.under(local)
        found = here if _rank(here) < _rank(declared) else declared
    if own_staff and found.regime != "none" and found.mechanism not in _WITHIN_REGIME:
        # A third country is involved, but no importer: no Chapter V transfer.
        return Transfer("none", from_country, to_country, "unrestricted", OWN_STAFF)
    return found


# Hops that are no restricted transfer anyway (EEA to EEA, back in the UK): reported as such.
_WITHIN_REGIME = frozenset({"intra_eea", "unrestricted"})


def _rank(t: Transfer) -> int:
    return {"none": 0, "derogation": 1}.get(t.mechanism, 2)


def home_region_regime(tables: LegalTables, home: LocationGroup, at: float) -> str | None:
    """The regime data of a tenant of ``home`` stays under on onward hops, or None.

    The home region's stated ``regime`` if any, else derived from the countries its
    locations lie in at ``at``: all in the EEA -> ``eu_gdpr``; all in the UK (after the
    transition period) -> ``uk_gdpr``; anything else (a third country, or a mix) -> None.
    """
    if home.regime is not None:
        return None if home.regime == "none" else home.regime
    return regime_of_countries(tables, home.countries, at)


def regime_of_countries(tables: LegalTables, countries: Iterable[str], at: float) -> str | None:
    """``eu_gdpr`` if every country is in the EEA at ``at``, ``uk_gdpr`` if all are GB
    outside it, else None. "EEA" and "EU" stand for any member."""
    regimes = {"eu_gdpr" if c in ("EEA", "EU") else tables.regime(c, at) for c in countries}
    if len(regimes) == 1:
        only = regimes.pop()
        return None if only == "none" else only
    return None


class _Judge(NamedTuple):
    # A NamedTuple: one per new flow, and a frozen dataclass of 7 fields costs 3x to make.
    tables: LegalTables
    from_country: str
    to_country: str
    at: float
    party: Party | None
    hr: bool
    derogation: str | None

    def under(self, regime: str) -> Transfer:
        found = self._basis(regime)
        if found is None:
            return Transfer(regime, self.from_country, self.to_country, "none", None)
        return Transfer(regime, self.from_country, self.to_country, *found)

    def _basis(self, regime: str) -> tuple[str, str | None] | None:
        tables, at, party = self.tables, self.at, self.party
        if regime == "none":
            return "unrestricted", None
        organisation = party.international_organisation if party is not None else None
        destination = organisation or self.to_country
        if organisation is None:
            # The data is back where its regime applies: no third country is involved.
            if regime == "eu_gdpr" and tables.in_eea(self.to_country, at):
                return "intra_eea", "EEA Agreement"
            if regime == "uk_gdpr" and self.to_country == "GB":
                return "unrestricted", "destination in the UK: not a restricted transfer"
        scopes = party.adequacy_scopes if party is not None else frozenset()
        row = tables.adequacy_for(regime, destination, at, scopes)
        if row is not None:
            return "adequacy", row.instrument
        if party is not None:
            found = self._entity_based(regime, organisation is None)
            if found is not None:
                return found
        if self.derogation is not None:
            return "derogation", tables.derogations.get(self.derogation, self.derogation)
        return None

    def _entity_based(self, regime: str, geographic: bool) -> tuple[str, str] | None:
        tables, at, party = self.tables, self.at, self.party
        assert party is not None
        if geographic and self.to_country == "US" and party.country == "US":
            found = self._us_lists(regime, party)
            if found is not None:
                return found
        if party.bcr is not None and party.bcr.covers(at):
            return "bcr", tables.bcr[regime]
        if regime == "uk_gdpr" and party.idta is not None and party.idta.covers(at):
            row = tables.standard_clauses(regime, at)
            if row is not None:
                return "idta", row.instrument
        for signed in party.scc.sets if party.scc is not None else ():
            row = tables.clauses(regime, signed.version, at)
            if row is None or not signed.span.covers(at):
                continue
            if row.signed_before is not None and (
                signed.signed is None or signed.signed >= row.signed_before
            ):
                continue  # concluded after these clauses could no longer be signed
            return "scc", row.instrument
        return None

    def _us_lists(self, regime: str, party: Party) -> tuple[str, str] | None:
        tables, at = self.tables, self.at
        dpf = party.dpf
        if dpf is not None and dpf.span.covers(at) and (dpf.hr if self.hr else dpf.non_hr):
            if regime == "eu_gdpr":
                row = tables.adequacy(regime, "US", at, "dpf_list")
                if row is not None:
                    return "dpf", row.instrument
            elif dpf.uk_extension:
                row = tables.adequacy(regime, "US", at, "dpf_list_uk_extension")
                if row is not None:
                    return "dpf", row.instrument
        # The invalidated lists (kept for replays) were adequacy decisions, entity-based.
        for listed, scope in (
            (party.privacy_shield, "privacy_shield_list"),
            (party.safe_harbour, "safe_harbour_list"),
        ):
            if regime == "eu_gdpr" and listed is not None and listed.covers(at):
                row = tables.adequacy(regime, "US", at, scope)
                if row is not None:
                    return "adequacy", row.instrument
        return None
