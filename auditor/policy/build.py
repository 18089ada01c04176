"""Building the policy model from merged files, checking every reference it makes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from auditor.legal.tables import load_tables
from auditor.locations import load_catalogue
from auditor.policy.checker import Checker, Draft
from auditor.policy.declared import declared_flows
from auditor.policy.errors import PolicyIssue, Where
from auditor.policy.model import (
    DataClass,
    LocationGroup,
    Named,
    Policy,
    PolicyException,
    Rule,
    Setting,
    Site,
    Span,
)
from auditor.policy.values import parse_instant, suggest

if TYPE_CHECKING:
    from auditor.policy.loader import Merged


def _entries(merged: Merged, section: str) -> list[tuple[str, dict[str, Any], Where]]:
    out = []
    for name, (value, where) in merged.maps.get(section, {}).items():
        if (section, (name,)) in merged.bad:
            continue
        out.append((name, value if isinstance(value, dict) else {}, where))
    return out


def build_policy(merged: Merged, issues: list[PolicyIssue]) -> Policy | None:
    """The checked model of ``merged``; appends an issue for every problem found."""
    c = Checker(merged, issues)
    top = merged.top
    draft = Draft()
    pid, pid_where = merged.scalars.get("id", (None, top.where(())))
    if not isinstance(pid, str):
        c.error(pid_where, "the policy needs an id (e.g. 'id: natterbox'); add it to the top file")
        pid = "unnamed"
    company_raw, company_where = merged.scalars.get("company", (None, top.where(())))
    company = None
    if isinstance(company_raw, dict) and "country" in company_raw:
        cid = str(company_raw.get("id", pid))
        company = c.party(cid, company_raw, company_where, "company")
        draft.processors[cid] = company
    else:
        c.error(company_where, "the policy needs a company: {id, country, parent_country}")

    for name, raw, where in _entries(merged, "sites"):
        c.country(raw.get("country", ""), where, f"sites.{name}.country")
        draft.sites[name] = Site(name, raw.get("description", ""), where, raw.get("country", ""))
    for name, raw, where in _entries(merged, "data_classes"):
        draft.data_classes[name] = DataClass(
            name,
            raw.get("description", ""),
            where,
            bool(raw.get("hr", False)),
            bool(raw.get("personal", True)),
        )
    for name, raw, where in _entries(merged, "purposes"):
        draft.purposes[name] = Named(name, raw.get("description", ""), where)
    for name, raw, where in _entries(merged, "processors"):
        if company is not None and name == company.id:
            c.error(
                where,
                f"'{name}' is the company itself; describe it under company: only",
                f"processors.{name}",
            )
            continue
        draft.processors[name] = c.party(name, raw, where, f"processors.{name}")
    for name, raw, where in _entries(merged, "tenant_settings"):
        setting = Setting(
            name,
            raw.get("description", ""),
            where,
            raw["type"],
            tuple(raw.get("values", ())),
            raw.get("default"),
        )
        draft.settings[name] = setting
        if setting.type == "enum" and not setting.values:
            c.error(where, "an enum setting needs values: [...]", f"tenant_settings.{name}")
        if setting.default is not None:
            c.setting_value(setting, setting.default, where, f"tenant_settings.{name}.default")
    for section, table in (("zones", draft.zones), ("home_regions", draft.home_regions)):
        for name, raw, where in _entries(merged, section):
            table[name] = LocationGroup(
                name,
                raw.get("description", raw.get("name", "")),
                where,
                tuple(raw.get("locations", ())),
            )
    for section, table in (("zones", draft.zones), ("home_regions", draft.home_regions)):
        for name, group in table.items():
            for i, pattern in enumerate(group.locations):
                c.pattern(
                    pattern,
                    draft,
                    group.where,
                    f"{section}.{name}.locations[{i}]",
                    allow_home=False,
                )
    _check_zone_cycles(c, draft)
    transfers = merged.scalars.get("transfers", ({}, top.where(())))
    onward = str((transfers[0] or {}).get("onward_regime", "origin"))
    _home_region_regimes(c, merged, draft, onward == "home_region", transfers[1])
    if "service_delivery" not in draft.purposes:
        c.error(
            top.where(("purposes",)),
            "purposes must define 'service_delivery', the purpose of an event that names none",
        )

    rules = _rules(c, merged, draft)
    exceptions = _exceptions(c, merged, draft, {str(raw.get("id")) for raw, *_ in merged.rules})
    declared = declared_flows(c, merged, draft, rules)
    if company is None:
        return None
    limits = merged.scalars.get("limits", ({}, top.where(())))[0] or {}
    return Policy(
        id=pid,
        title=str(merged.scalars.get("title", (pid, None))[0]),
        version=str(merged.scalars.get("version", ("", None))[0]),
        company=company,
        sites=draft.sites,
        zones=draft.zones,
        home_regions=draft.home_regions,
        data_classes=draft.data_classes,
        processors=draft.processors,
        purposes=draft.purposes,
        settings=draft.settings,
        rules=tuple(rules),
        exceptions=tuple(exceptions),
        files=tuple(merged.files),
        document=_document(merged),
        max_decision_cache=int(limits.get("max_decision_cache", 65536)),
        onward_regime=onward,
        declared_flows=tuple(declared),
    )


def _home_region_regimes(
    c: Checker, merged: Merged, draft: Draft, needed: bool, where: Where
) -> None:
    """Give each home region its stated regime and the countries of its locations.

    With ``transfers.onward_regime: home_region`` a home region whose locations lie both
    in the UK and in the EEA must state its regime: it cannot be derived.
    """
    raws = {name: raw for name, raw, _ in _entries(merged, "home_regions")}
    eea = {row.key for row in load_tables().eea} - {"GB"}
    for name, group in list(draft.home_regions.items()):
        countries = _group_countries(draft, group.locations, set())
        regime = raws.get(name, {}).get("regime")
        if needed and regime is None and "GB" in countries and countries & (eea | {"EEA", "EU"}):
            c.error(
                group.where,
                f"home region '{name}' has locations in the UK and in the EEA, so the regime "
                "of its data on onward hops cannot be derived; state regime: uk_gdpr or "
                f"eu_gdpr (transfers.onward_regime: home_region is set at {where})",
                f"home_regions.{name}.regime",
            )
        draft.home_regions[name] = LocationGroup(
            group.id, group.description, group.where, group.locations, regime, countries
        )


def _group_countries(draft: Draft, patterns: tuple[str, ...], seen: set[str]) -> frozenset[str]:
    """Country codes of location patterns ("EEA" / "EU" for those groups); zones expanded."""
    out: set[str] = set()
    for pattern in patterns:
        prefix, _, rest = pattern.partition(":")
        if prefix == "zone" and rest in draft.zones and rest not in seen:
            out |= _group_countries(draft, draft.zones[rest].locations, {*seen, rest})
        elif prefix == "site" and rest in draft.sites:
            out.add(draft.sites[rest].country)
        elif prefix == "country":
            out.add(rest)
        else:
            country = load_catalogue().country(pattern)
            if country is not None:
                out.add(country)
    return frozenset(out)


def _check_zone_cycles(c: Checker, draft: Draft) -> None:
    def visit(name: str, seen: tuple[str, ...]) -> None:
        for pattern in draft.zones[name].locations:
            if pattern.startswith("zone:"):
                child = pattern[5:]
                if child in seen:
                    c.error(
                        draft.zones[name].where,
                        f"zone '{name}' includes itself through '{child}'",
                        f"zones.{name}",
                    )
                elif child in draft.zones:
                    visit(child, (*seen, child))

    for name in draft.zones:
        visit(name, (name,))


def _rules(c: Checker, merged: Merged, draft: Draft) -> list[Rule]:
    rules: list[Rule] = []
    seen: dict[str, Where] = {}
    for raw, where, src, path, broken in merged.rules:
        rid = raw.get("id")
        c.rule, c.src, c.base = rid, src, path
        if broken:
            _check_broken_rule(c, raw, draft, where)
            continue
        if rid in seen:
            c.error(
                where, f"rule id '{rid}' is already used at {seen[rid]}; rule ids must be unique"
            )
            continue
        seen[rid] = where
        when = c.selector(raw.get("when"), draft, where, "when")
        unless = c.selector(raw.get("unless"), draft, where, "unless")
        params = raw.get("params") or {}
        _check_params(c, raw["kind"], params, draft, where)
        citation = raw["citation"]
        text = citation if isinstance(citation, str) else citation["text"]
        source = "" if isinstance(citation, str) else citation.get("source", "")
        rules.append(
            Rule(
                rid,
                raw["kind"],
                raw["description"],
                raw["severity"],
                raw["effect"],
                text,
                source,
                raw.get("team", ""),
                when,
                unless,
                params,
                where,
            )
        )
    c.rule, c.src, c.base = None, None, ()
    return rules


def _check_broken_rule(c: Checker, raw: dict[str, Any], draft: Draft, where: Where) -> None:
    """Check what can be checked of a rule the schema rejected, so every error shows at once."""
    try:
        for key in ("when", "unless"):
            if isinstance(raw.get(key), dict):
                c.selector(raw[key], draft, where, key)
        if isinstance(raw.get("params"), dict) and isinstance(raw.get("kind"), str):
            _check_params(c, raw["kind"], raw["params"], draft, where)
    except (AttributeError, KeyError, TypeError, ValueError):
        pass  # malformed parts are already reported by the schema check


class _Params:
    """The ParamContext a rule kind checks its parameters' names with (auditor.rules.base)."""

    def __init__(self, c: Checker, draft: Draft, where: Where) -> None:
        self.c = c
        self.draft = draft
        self.where = where

    def error(self, message: str, path: str) -> None:
        self.c.error(self.where, message, path)

    def pattern(self, pattern: str, path: str) -> None:
        self.c.pattern(pattern, self.draft, self.where, path)

    def known(self, what: str, name: str, path: str) -> bool:
        return self.c.known(what, name, self.draft.section(what), self.where, path)

    def country(self, code: str, path: str) -> None:
        self.c.country(code, self.where, path)

    def setting_type(self, name: str) -> str | None:
        setting = self.draft.settings.get(name)
        return setting.type if setting is not None else None


def _check_params(
    c: Checker, kind: str, params: Mapping[str, Any], draft: Draft, where: Where
) -> None:
    # Imported here: the rule kinds import the policy model, whose package imports this.
    from auditor.rules import rule_kinds

    found = rule_kinds().get(kind)
    if found is not None:
        found.check_params(_Params(c, draft, where), params)


def _exceptions(
    c: Checker, merged: Merged, draft: Draft, rule_ids: set[str]
) -> list[PolicyException]:
    out: list[PolicyException] = []
    seen: set[str] = set()
    for raw, where, src, path, broken in merged.exceptions:
        c.rule, c.src, c.base = raw.get("rule"), src, path
        if broken:
            continue
        if raw["id"] in seen:
            c.error(where, f"exception id '{raw['id']}' is used twice")
        seen.add(raw["id"])
        if raw["rule"] not in rule_ids:
            c.error(
                where,
                f"exception '{raw['id']}' names unknown rule '{raw['rule']}'"
                f"{suggest(raw['rule'], rule_ids)}",
                "rule",
            )
        expires = parse_instant(raw["expires"])
        starts = parse_instant(raw["starts"]) if "starts" in raw else None
        if expires is None:
            c.error(where, f"expires '{raw['expires']}' is not a date or date-time", "expires")
        if "starts" in raw and starts is None:
            c.error(where, f"starts '{raw['starts']}' is not a date or date-time", "starts")
        if expires is not None and starts is not None and starts >= expires:
            c.error(where, "starts must be before expires", "starts")
        when = c.selector(raw.get("when"), draft, where, "when")
        citation = raw.get("citation", "")
        out.append(
            PolicyException(
                raw["id"],
                raw["rule"],
                raw["justification"],
                raw["approver"],
                Span(starts, expires),
                when,
                where,
                citation if isinstance(citation, str) else citation["text"],
                "" if isinstance(citation, str) else citation.get("source", ""),
            )
        )
    c.rule, c.src, c.base = None, None, ()
    return out


def _document(merged: Merged) -> dict[str, Any]:
    """The merged policy as plain data, the input of its content hash."""
    doc: dict[str, Any] = {k: v for k, (v, _) in merged.scalars.items()}
    for section, entries in merged.maps.items():
        doc[section] = {name: value for name, (value, _) in entries.items()}
    doc["rules"] = [raw for raw, *_ in merged.rules]  # only called when nothing is broken
    doc["exceptions"] = [raw for raw, *_ in merged.exceptions]
    if merged.declared:  # only when present: packs without declarations keep their hash
        doc["declared_flows"] = [raw for raw, *_ in merged.declared]
    return doc
