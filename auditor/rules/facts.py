"""What the engine knows about one flow once its names are resolved against the policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.legal.chapter_v import Transfer
from auditor.legal.countries import iso_countries
from auditor.legal.tables import LegalTables
from auditor.locations import CloudCatalogue
from auditor.policy.model import DataClass, LocationGroup, Party, Policy
from auditor.rules.declared import Declarations

PAST = {
    "store": "stored",
    "process": "processed",
    "transfer": "transferred",
    "access": "accessed",
    "delete": "deleted",
    "anonymize": "anonymised",
    "erasure_request": "named in an erasure request",
}

# Operations that move data when origin and destination differ (delete, anonymize and
# erasure_request name the store concerned, so they never move anything).
MOVING = frozenset({"store", "process", "access"})


@dataclass(slots=True)
class Facts:
    """One flow with every name resolved; built once per distinct flow and legal epoch."""

    at: float
    tenant: str | None
    data_class: str
    klass: DataClass | None
    operation: str
    origin: str
    origin_country: str | None
    destination: str
    destination_country: str | None
    processor_id: str
    processor: Party | None
    purpose: str
    in_transit: str | None
    at_rest: str | None
    retention_days: int | None
    retention_stated: bool
    special: tuple[str, ...]
    anonymized: bool
    home_region: str | None
    home: LocationGroup | None
    settings: dict[str, Any]
    derogation: str | None
    transfer: Transfer | None = None
    # The ids of the declared flows that cover this flow; None when the pack declares no
    # flows or the flow is out of their scope (auditor.rules.declared).
    declared: tuple[str, ...] | None = None

    @property
    def moves(self) -> bool:
        """Data moves between two places: a transfer, or a store, process or access whose
        origin and destination differ (what "encrypted in transit" promises cover)."""
        if self.operation == "transfer":
            return True
        return self.operation in MOVING and self.origin != self.destination

    @property
    def done(self) -> str:
        """'call_recording stored' - the subject of most finding messages."""
        return f"{self.data_class} {PAST[self.operation]}"

    def place(self, which: str) -> str:
        if which == "origin":
            return f"{self.origin} ({self.origin_country})"
        return f"{self.destination} ({self.destination_country})"


class Places:
    """Resolves locations to countries and matches location patterns, for one policy."""

    def __init__(self, policy: Policy, tables: LegalTables, catalogue: CloudCatalogue) -> None:
        self.policy = policy
        self.tables = tables
        self.catalogue = catalogue
        self._countries = iso_countries()
        self.declarations = Declarations(policy.declared_flows)  # compiled once per engine
        self._patterns: dict[str, _Pattern] = {}

    def country(self, location: str) -> str | None:
        """The ISO country of a LOCATION, or None when the policy cannot place it."""
        prefix, _, rest = location.partition(":")
        if prefix == "country":
            return rest if rest in self._countries else None
        if prefix == "site":
            site = self.policy.sites.get(rest)
            return site.country if site is not None else None
        return self.catalogue.country(location)

    def matches(self, pattern: str, location: str, country: str | None, facts: Facts) -> bool:
        """Whether a location (in ``country``) matches a pattern: ``home_region``, a zone,
        ``country:<CC>``, ``country:EEA`` / ``country:EU`` (membership at the flow's time),
        or a location written out."""
        return self._compiled(pattern).holds(self, location, country, facts)

    def any_match(self, patterns: tuple[str, ...] | list[str], which: str, facts: Facts) -> bool:
        location = facts.origin if which == "origin" else facts.destination
        country = facts.origin_country if which == "origin" else facts.destination_country
        return self.any_of(patterns, location, country, facts)

    def any_of(self, patterns: tuple[str, ...] | list[str], location: str,
               country: str | None, facts: Facts) -> bool:
        compiled = self._compiled
        return any(compiled(p).holds(self, location, country, facts) for p in patterns)

    def _compiled(self, pattern: str) -> _Pattern:
        found = self._patterns.get(pattern)
        if found is None:
            found = self._patterns[pattern] = _Pattern.of(pattern, self.policy)
        return found

    def label(self, pattern: str, facts: Facts) -> str:
        """How a pattern reads in a message: 'EEA', 'home region EUR1', 'zone uk-dc'."""
        if pattern == "home_region":
            return f"home region {facts.home_region}" if facts.home_region else "home region (none)"
        prefix, _, rest = pattern.partition(":")
        if prefix == "zone":
            zone = self.policy.zones[rest]
            return zone.description or f"zone {rest}"
        if prefix == "country":
            return rest
        return pattern

    def country_set(self, codes: list[str], at: float) -> set[str]:
        out: set[str] = set()
        for code in codes:
            if code == "EEA":
                out |= self.tables.eea_countries(at)
            elif code == "EU":
                out |= self.tables.eu_countries(at)
            else:
                out.add(code)
        return out


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A location pattern with its zones flattened: a new flow is matched against every
    rule's patterns, so what can be worked out from the policy alone is worked out once."""

    locations: frozenset[str]
    countries: frozenset[str]
    # country:EEA / country:EU: membership depends on the flow's time.
    unions: tuple[str, ...]
    home_region: bool

    @classmethod
    def of(cls, pattern: str, policy: Policy) -> _Pattern:
        locations: set[str] = set()
        countries: set[str] = set()
        unions: set[str] = set()
        home = False
        todo, seen = [pattern], set()
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            if p == "home_region":
                home = True
                continue
            prefix, _, rest = p.partition(":")
            if prefix == "zone":
                todo.extend(policy.zones[rest].locations)
            elif prefix == "country":
                (unions if rest in ("EEA", "EU") else countries).add(rest)
            else:
                locations.add(p)
        return cls(frozenset(locations), frozenset(countries), tuple(sorted(unions)), home)

    def holds(self, places: Places, location: str, country: str | None, facts: Facts) -> bool:
        if location in self.locations:
            return True
        if country is not None:
            if country in self.countries:
                return True
            for union in self.unions:
                if (places.tables.in_eea(country, facts.at) if union == "EEA"
                        else country in places.tables.eu_countries(facts.at)):
                    return True
        if self.home_region and facts.home is not None:
            return places.any_of(facts.home.locations, location, country, facts)
        return False
