"""The policy model: a loaded, checked pack of facts, rules and exceptions (immutable)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.policy.errors import Where

SEVERITIES = ("low", "medium", "high", "critical")
EFFECTS = ("deny", "warn", "dryrun")


@dataclass(frozen=True, slots=True)
class Span:
    """A period [since, until) in POSIX seconds; None = open."""

    since: float | None = None
    until: float | None = None

    def covers(self, at: float) -> bool:
        return (self.since is None or self.since <= at) and (self.until is None or at < self.until)

    def edges(self) -> tuple[float, ...]:
        return tuple(x for x in (self.since, self.until) if x is not None)


@dataclass(frozen=True, slots=True)
class Dpf:
    """A processor's entry on the Data Privacy Framework list."""

    span: Span
    uk_extension: bool = False
    hr: bool = False
    non_hr: bool = True


@dataclass(frozen=True, slots=True)
class SignedClauses:
    """One set of standard contractual clauses a processor signed.

    ``version`` names the Commission decision ("2021/914", "2010/87/EU", ...); ``signed``
    is the day the contract was concluded (None: not stated, only for 2021/914); ``span``
    is when the processor says they apply (by default from ``signed``).
    """

    version: str
    signed: float | None
    span: Span


@dataclass(frozen=True, slots=True)
class Clauses:
    """Every set of standard contractual clauses a processor signed, newest first."""

    sets: tuple[SignedClauses, ...]

    def edges(self) -> tuple[float, ...]:
        return tuple(edge for s in self.sets for edge in s.span.edges())


@dataclass(frozen=True, slots=True)
class Party:
    """The company or a processor: where it is established and who ultimately owns it."""

    id: str
    name: str
    country: str
    parent_country: str
    dpf: Dpf | None = None
    privacy_shield: Span | None = None
    scc: Clauses | None = None
    idta: Span | None = None
    bcr: Span | None = None
    safe_harbour: Span | None = None
    # Sectoral adequacy scopes the recipient is within (ids of the legal tables'
    # sectoral_scopes, e.g. ca_pipeda): a sectoral decision covers it only if listed here.
    adequacy_scopes: frozenset[str] = frozenset()
    # Set when the recipient is an international organisation (an id of the legal tables).
    international_organisation: str | None = None
    where: Where = field(default=Where(""), compare=False)

    def edges(self) -> tuple[float, ...]:
        """Every instant at which one of this party's dated safeguards starts or ends.

        The engine's decision cache must split time at each of them (with the legal
        tables' boundaries): a decision may change there.
        """
        out: list[float] = []
        for dated in (
            self.dpf.span if self.dpf is not None else None,
            self.privacy_shield,
            self.safe_harbour,
            self.scc,
            self.idta,
            self.bcr,
        ):
            if dated is not None:
                out.extend(dated.edges())
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Named:
    """A data class, purpose, site, zone or home region: an id the events may use."""

    id: str
    description: str = ""
    where: Where = field(default=Where(""), compare=False)


@dataclass(frozen=True, slots=True)
class DataClass(Named):
    hr: bool = False
    personal: bool = True


@dataclass(frozen=True, slots=True)
class Site(Named):
    country: str = ""


@dataclass(frozen=True, slots=True)
class LocationGroup(Named):
    """A zone or a home region: a list of location patterns."""

    locations: tuple[str, ...] = ()
    # Home regions only: the regime the pack states for its data (`regime:`), and the
    # countries its locations lie in ("EEA" / "EU" for those patterns), resolved at load.
    regime: str | None = None
    countries: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Setting(Named):
    type: str = "string"
    values: tuple[str, ...] = ()
    default: str | int | bool | None = None


@dataclass(frozen=True, slots=True)
class Selector:
    """Which events a rule or exception applies to; every given field must match (AND)."""

    data_classes: frozenset[str] | None = None
    operations: frozenset[str] | None = None
    purposes: frozenset[str] | None = None
    processors: frozenset[str] | None = None
    tenants: frozenset[str] | None = None
    tenant_settings: Mapping[str, tuple[Any, ...]] | None = None
    tenant_settings_set: frozenset[str] | None = None
    anonymized: bool | None = None
    special_categories: bool | frozenset[str] | None = None
    origin: tuple[str, ...] | None = None
    destination: tuple[str, ...] | None = None
    cross_border: bool | None = None
    moves: bool | None = None
    derogation: bool | None = None
    processor_enabled_by: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    kind: str
    description: str
    severity: str
    effect: str
    citation: str
    citation_source: str = ""
    team: str = ""
    when: Selector | None = None
    unless: Selector | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    where: Where = field(default=Where(""), compare=False)


@dataclass(frozen=True, slots=True)
class PolicyException:
    """A waiver of one rule for the events its selector matches, while in force."""

    id: str
    rule: str
    justification: str
    approver: str
    span: Span
    when: Selector | None = None
    where: Where = field(default=Where(""), compare=False)
    # The sentence the waiver rests on (e.g. a notice's own legal argument) and its source.
    citation: str = ""
    citation_source: str = ""


@dataclass(frozen=True, slots=True)
class DeclaredFlow:
    """A flow the pack declares (its Art. 30 record, its published sub-processor list).

    A flow matches when its processor is listed, its data class, purpose and operation are
    listed and its destination matches a pattern (each: or the field is absent), and its
    event time is within ``span``. ``basis`` is the Chapter V mechanisms the declaration relies on
    (None: not stated); replay compares it with the observed mechanism.
    """

    id: str
    processors: frozenset[str]
    destinations: tuple[str, ...] | None = None
    data_classes: frozenset[str] | None = None
    purposes: frozenset[str] | None = None
    operations: frozenset[str] | None = None
    basis: frozenset[str] | None = None
    span: Span = Span()
    description: str = ""
    citation: str = ""
    citation_source: str = ""
    where: Where = field(default=Where(""), compare=False)


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    title: str
    version: str
    company: Party
    sites: Mapping[str, Site]
    zones: Mapping[str, LocationGroup]
    home_regions: Mapping[str, LocationGroup]
    data_classes: Mapping[str, DataClass]
    processors: Mapping[str, Party]
    purposes: Mapping[str, Named]
    settings: Mapping[str, Setting]
    rules: tuple[Rule, ...]
    exceptions: tuple[PolicyException, ...]
    files: tuple[str, ...]
    document: Mapping[str, Any]
    max_decision_cache: int = 65536
    # `transfers.onward_regime`: "origin" (only the event's origin.regime) or
    # "home_region" (else the regime of the tenant's home region; see chapter_v).
    onward_regime: str = "origin"
    # `declared_flows`: what the pack says its flows are (docs/declared-flows.md).
    declared_flows: tuple[DeclaredFlow, ...] = ()
