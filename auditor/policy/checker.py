"""Checking a policy's names and facts while its model is built: every problem located."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from auditor.legal.countries import iso_countries
from auditor.legal.tables import CURRENT_SCC, load_tables
from auditor.locations import load_catalogue
from auditor.policy.errors import PolicyIssue, Where
from auditor.policy.model import (
    Clauses,
    DataClass,
    Dpf,
    LocationGroup,
    Named,
    Party,
    Selector,
    Setting,
    SignedClauses,
    Site,
    Span,
)
from auditor.policy.values import parse_instant, suggest

if TYPE_CHECKING:
    from auditor.policy.loader import Merged
    from auditor.policy.source import PathKey, Source

_DAY = 86400.0
_US_LISTS = {"dpf": "DPF", "privacy_shield": "Privacy Shield", "safe_harbour": "Safe Harbour"}
_SETTING_TYPES = {"bool": (bool,), "int": (int,), "string": (str,), "enum": (str,), "list": (str,)}


class Checker:
    """Collects issues while the model is built; every method is total (never raises)."""

    def __init__(self, merged: Merged, issues: list[PolicyIssue]) -> None:
        self.merged = merged
        self.issues = issues
        self.rule: str | None = None
        self.label = "rule"  # what self.rule names (auditor.policy.errors.PolicyIssue)
        # While a rule or exception is checked: its file and path, to find exact lines.
        self.src: Source | None = None
        self.base: PathKey = ()

    def error(self, where: Where, message: str, path: str = "") -> None:
        if self.src is not None and path:
            where = self.src.where((*self.base, *path_key(path)))
        self.issues.append(PolicyIssue(where, message, self.rule, path, self.label))

    # -- facts ---------------------------------------------------------------
    def span(self, value: Any, where: Where, path: str) -> Span | None:
        """A dated safeguard: ``true`` (no known dates) or ``{since, until}``.

        Dates are calendar days in UTC, as in the legal tables: ``since`` is the first day
        covered, ``until`` the last (events before the next day's 00:00 UTC).
        """
        if value is False or value is None:
            return None
        if value is True:
            return Span()
        since = until = None
        if "since" in value:
            since = parse_instant(value["since"])
            if since is None:
                self.error(where, f"'{value['since']}' is not a date YYYY-MM-DD", path + ".since")
        if "until" in value:
            until = parse_instant(value["until"])
            if until is None:
                self.error(where, f"'{value['until']}' is not a date YYYY-MM-DD", path + ".until")
            else:
                until += _DAY
        if since is not None and until is not None and until <= since:
            self.error(where, "until (the last day covered) is before since", path + ".until")
        return Span(since, until)

    def clauses(self, value: Any, where: Where, path: str) -> Clauses | None:
        """The standard contractual clauses a processor signed (``safeguards.scc``).

        ``true`` or an object without ``version`` means the (EU) 2021/914 clauses; a list
        gives several sets (e.g. old clauses replaced by the 2021/914 ones).
        """
        if value is False or value is None:
            return None
        if value is True:
            return Clauses((SignedClauses(CURRENT_SCC, None, Span()),))
        items = value if isinstance(value, list) else [value]
        known = load_tables().scc_versions()
        sets = []
        for i, item in enumerate(items):
            at = f"{path}[{i}]" if isinstance(value, list) else path
            version = str(item.get("version", CURRENT_SCC))
            if version not in known:
                self.error(
                    where,
                    f"unknown SCC version '{version}'{suggest(version, known)}",
                    at + ".version",
                )
                continue
            span = self.span(item, where, at) or Span()
            signed = None
            if "signed" in item:
                signed = parse_instant(item["signed"])
                if signed is None:
                    self.error(
                        where, f"'{item['signed']}' is not a date YYYY-MM-DD", at + ".signed"
                    )
                    continue
            signed = signed if signed is not None else span.since
            if span.since is None and signed is not None:
                span = Span(signed, span.until)
            first = known[version]
            if signed is None and version != CURRENT_SCC:
                self.error(
                    where,
                    f"the old SCCs ({version}) cover only contracts concluded before they "
                    "were repealed: give signed: YYYY-MM-DD (the day the contract was "
                    "concluded)",
                    at,
                )
            elif signed is not None and signed < first:
                day = datetime.fromtimestamp(first, UTC).date()
                hint = (
                    "; a contract concluded before then was on the old SCCs: add version: "
                    "2010/87/EU (controller to processor), 2001/497/EC or 2004/915/EC"
                    if version == CURRENT_SCC
                    else ""
                )
                self.error(
                    where,
                    f"the {version} clauses could not be signed before {day}{hint}",
                    at + (".signed" if "signed" in item else ".since"),
                )
            sets.append(SignedClauses(version, signed, span))
        # Newest clauses first: the decision names the best basis the processor has.
        sets.sort(key=lambda s: -known.get(s.version, 0.0))
        return Clauses(tuple(sets)) if sets else None

    def us_list(self, raw: Mapping[str, Any], name: str, where: Where, path: str) -> None:
        if raw["country"] != "US":
            self.error(
                where,
                f"the {_US_LISTS[name]} list only holds US organisations; set country: US "
                f"or remove safeguards.{name}",
                f"{path}.safeguards.{name}",
            )

    def country(self, code: str, where: Where, path: str) -> None:
        if code not in iso_countries():
            self.error(where, f"'{code}' is not an ISO 3166-1 alpha-2 country code", path)

    def party(self, pid: str, raw: Mapping[str, Any], where: Where, path: str) -> Party:
        self.country(raw["country"], where, path + ".country")
        parent = raw.get("parent_country", raw["country"])
        self.country(parent, where, path + ".parent_country")
        safe = raw.get("safeguards") or {}
        dpf = None
        if safe.get("dpf"):
            raw_dpf = safe["dpf"] if isinstance(safe["dpf"], dict) else {}
            span = self.span(raw_dpf or True, where, path + ".safeguards.dpf") or Span()
            dpf = Dpf(
                span,
                uk_extension=bool(raw_dpf.get("uk_extension", False)),
                hr=bool(raw_dpf.get("hr", False)),
                non_hr=bool(raw_dpf.get("non_hr", True)),
            )
            self.us_list(raw, "dpf", where, path)
        for name in ("privacy_shield", "safe_harbour"):
            if safe.get(name):
                self.us_list(raw, name, where, path)
        tables = load_tables()
        scopes = raw.get("adequacy_scopes", [])
        for i, scope in enumerate(scopes):
            if scope not in tables.sectoral_scopes:
                self.error(
                    where,
                    f"unknown adequacy scope '{scope}'{suggest(scope, tables.sectoral_scopes)}",
                    f"{path}.adequacy_scopes[{i}]",
                )
        organisation = raw.get("international_organisation")
        if organisation is not None and organisation not in tables.organisations:
            self.error(
                where,
                f"'{organisation}' is not an international organisation the legal tables "
                f"know{suggest(organisation, tables.organisations)}",
                f"{path}.international_organisation",
            )
        return Party(
            id=pid,
            name=str(raw.get("name", pid)),
            country=raw["country"],
            parent_country=parent,
            dpf=dpf,
            privacy_shield=self.span(
                safe.get("privacy_shield"), where, path + ".safeguards.privacy_shield"
            ),
            scc=self.clauses(safe.get("scc"), where, path + ".safeguards.scc"),
            idta=self.span(safe.get("idta"), where, path + ".safeguards.idta"),
            bcr=self.span(safe.get("bcr"), where, path + ".safeguards.bcr"),
            safe_harbour=self.span(
                safe.get("safe_harbour"), where, path + ".safeguards.safe_harbour"
            ),
            adequacy_scopes=frozenset(scopes),
            international_organisation=organisation,
            where=where,
        )

    # -- references ----------------------------------------------------------
    def known(
        self, kind: str, name: str, known: Mapping[str, Any], where: Where, path: str
    ) -> bool:
        if name in known:
            return True
        self.error(where, f"unknown {kind} '{name}'{suggest(name, known)}", path)
        return False

    def pattern(
        self, pattern: str, policy: Draft, where: Where, path: str, allow_home: bool = True
    ) -> None:
        if pattern == "home_region":
            if not allow_home:
                self.error(
                    where,
                    "'home_region' depends on the tenant and cannot be used here; "
                    "list the locations instead",
                    path,
                )
            elif not policy.home_regions:
                self.error(where, "'home_region' is used but no home_regions are defined", path)
            return
        prefix, _, rest = pattern.partition(":")
        if prefix == "zone":
            self.known("zone", rest, policy.zones, where, path)
        elif prefix == "site":
            self.known("site", rest, policy.sites, where, path)
        elif prefix == "country":
            if rest not in ("EEA", "EU"):
                self.country(rest, where, path)
        elif load_catalogue().country(pattern) is None:
            known = [r.region for r in load_catalogue().regions(prefix)]
            self.error(where, f"unknown {prefix} region '{rest}'{suggest(rest, known)}", path)

    def selector(self, raw: Any, policy: Draft, where: Where, path: str) -> Selector | None:
        if raw is None:
            return None
        for key, kind, table in (
            ("data_classes", "data class", policy.data_classes),
            ("purposes", "purpose", policy.purposes),
            ("processors", "processor", policy.processors),
        ):
            for i, name in enumerate(raw.get(key, ())):
                self.known(kind, name, table, where, f"{path}.{key}[{i}]")
        settings: dict[str, tuple[Any, ...]] | None = None
        if "tenant_settings" in raw:
            settings = {}
            for name, wanted in raw["tenant_settings"].items():
                values = tuple(wanted) if isinstance(wanted, list) else (wanted,)
                settings[name] = values
                if self.known(
                    "tenant setting", name, policy.settings, where, f"{path}.tenant_settings.{name}"
                ):
                    for value in values:
                        self.setting_value(
                            policy.settings[name], value, where, f"{path}.tenant_settings.{name}"
                        )
        for i, name in enumerate(raw.get("tenant_settings_set", ())):
            self.known("tenant setting", name, policy.settings, where,
                       f"{path}.tenant_settings_set[{i}]")
        for key in ("origin", "destination"):
            for i, pattern in enumerate(raw.get(key, ())):
                self.pattern(pattern, policy, where, f"{path}.{key}[{i}]")
        enabled_by = raw.get("processor_enabled_by")
        if (
            enabled_by is not None
            and self.known(
                "tenant setting", enabled_by, policy.settings, where, f"{path}.processor_enabled_by"
            )
            and policy.settings[enabled_by].type != "list"
        ):
            self.error(
                where,
                f"tenant setting '{enabled_by}' must have type list to name processors",
                f"{path}.processor_enabled_by",
            )
        special = raw.get("special_categories")
        return Selector(
            data_classes=_set(raw.get("data_classes")),
            operations=_set(raw.get("operations")),
            purposes=_set(raw.get("purposes")),
            processors=_set(raw.get("processors")),
            tenants=_set(raw.get("tenants")),
            tenant_settings=settings,
            tenant_settings_set=_set(raw.get("tenant_settings_set")),
            anonymized=raw.get("anonymized"),
            special_categories=_set(special) if isinstance(special, list) else special,
            origin=tuple(raw["origin"]) if "origin" in raw else None,
            destination=tuple(raw["destination"]) if "destination" in raw else None,
            cross_border=raw.get("cross_border"),
            moves=raw.get("moves"),
            derogation=raw.get("derogation"),
            processor_enabled_by=enabled_by,
        )

    def setting_value(self, setting: Setting, value: Any, where: Where, path: str) -> None:
        types = _SETTING_TYPES[setting.type]
        if type(value) not in types:
            self.error(
                where,
                f"tenant setting '{setting.id}' has type {setting.type}; {value!r} does not fit",
                path,
            )
        elif setting.type == "enum" and value not in setting.values:
            self.error(
                where,
                f"{value!r} is not a value of tenant setting '{setting.id}'; use one "
                f"of: {', '.join(setting.values)}",
                path,
            )


def path_key(text: str) -> PathKey:
    """'when.data_classes[0]' -> ('when', 'data_classes', 0)."""
    key: list[str | int] = []
    for part in text.split("."):
        name, *indexes = part.split("[")
        key.append(name)
        key.extend(int(i.rstrip("]")) for i in indexes)
    return tuple(key)


def _set(values: Any) -> frozenset[str] | None:
    return frozenset(values) if values is not None else None


class Draft:
    """The named things of a policy, filled in before rules are checked against them."""

    def __init__(self) -> None:
        self.sites: dict[str, Site] = {}
        self.zones: dict[str, LocationGroup] = {}
        self.home_regions: dict[str, LocationGroup] = {}
        self.data_classes: dict[str, DataClass] = {}
        self.processors: dict[str, Party] = {}
        self.purposes: dict[str, Named] = {}
        self.settings: dict[str, Setting] = {}

    def section(self, what: str) -> Mapping[str, Any]:
        """The names of one kind a parameter may refer to ('purpose', 'tenant setting', …)."""
        sections: dict[str, Mapping[str, Any]] = {
            "data class": self.data_classes,
            "purpose": self.purposes,
            "processor": self.processors,
            "tenant setting": self.settings,
            "zone": self.zones,
            "site": self.sites,
        }
        return sections[what]
