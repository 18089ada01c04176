"""The dated legal tables (EEA, adequacy, DPF, SCC, IDTA, BCR, derogations) and queries by time."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from auditor.files import read_regular_file
from auditor.legal.countries import iso_countries

FORMAT = "auditor-legal/v2"

REGIMES = ("eu_gdpr", "uk_gdpr")
# Scopes of entity-based decisions: the recipient's own safeguards say whether it is listed.
ENTITY_SCOPES = frozenset(
    {"dpf_list", "dpf_list_uk_extension", "privacy_shield_list", "safe_harbour_list"}
)
# The clauses a bare `scc` in a pack means.
CURRENT_SCC = "2021/914"


class LegalTablesError(ValueError):
    """The legal tables file is malformed; the message names the row and what to fix."""


def day_start(value: date) -> float:
    """POSIX seconds of 00:00 UTC on ``value``."""
    return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()


def day_after(value: date) -> float:
    """POSIX seconds of 00:00 UTC on the day after ``value``: the end of a day included."""
    return day_start(value + timedelta(days=1))


@dataclass(frozen=True, slots=True)
class Dated:
    """One row of a table, in force on [start, end) (``end`` = the day after its `until`)."""

    key: str
    instrument: str
    start: float
    end: float | None
    scope: str = "whole"
    # Sectoral facts of a recipient that put it outside this row (e.g. KR credit information).
    excludes: frozenset[str] = frozenset()
    regime: str = ""
    # Clauses: contracts concluded at or after this instant cannot rely on the row.
    signed_before: float | None = None

    def in_force(self, at: float) -> bool:
        return self.start <= at and (self.end is None or at < self.end)

    def covers_recipient(self, scopes: frozenset[str]) -> bool:
        """True when a recipient stating ``scopes`` is inside this row's scope."""
        if self.scope != "whole" and self.scope not in scopes:
            return False
        return not (self.excludes & scopes)


@dataclass(frozen=True, slots=True)
class LegalTables:
    """Chapter V facts, each dated; every query takes the event time in POSIX seconds."""

    version: str
    digest: str
    eea: tuple[Dated, ...]
    eu_members: frozenset[str]
    eu_adequacy: tuple[Dated, ...]
    uk_adequacy: tuple[Dated, ...]
    scc: tuple[Dated, ...]
    idta: tuple[Dated, ...]
    bcr: Mapping[str, str]
    derogations: Mapping[str, str]
    boundaries: tuple[float, ...] = field(default=())
    # id -> what a recipient asserts by stating it (processor `adequacy_scopes`).
    sectoral_scopes: Mapping[str, str] = field(default_factory=dict)
    # id -> name, for adequacy decisions about an international organisation.
    organisations: Mapping[str, str] = field(default_factory=dict)

    def in_eea(self, country: str, at: float) -> bool:
        return any(row.key == country and row.in_force(at) for row in self.eea)

    def eea_countries(self, at: float) -> frozenset[str]:
        return frozenset(row.key for row in self.eea if row.in_force(at))

    def eu_countries(self, at: float) -> frozenset[str]:
        return frozenset(
            row.key for row in self.eea if row.key in self.eu_members and row.in_force(at)
        )

    def regime(self, origin_country: str, at: float) -> str:
        """``eu_gdpr`` for an EEA origin, ``uk_gdpr`` for a UK one, else ``none``."""
        if self.in_eea(origin_country, at):
            return "eu_gdpr"
        if origin_country == "GB":
            return "uk_gdpr"
        return "none"

    def adequacy(self, regime: str, country: str, at: float, scope: str = "whole") -> Dated | None:
        """The adequacy row of ``regime`` covering ``country`` with exactly ``scope`` at ``at``."""
        for row in self._adequacy_rows(regime, country, at):
            if row.scope == scope:
                return row
        return None

    def adequacy_for(
        self, regime: str, destination: str, at: float, scopes: frozenset[str] = frozenset()
    ) -> Dated | None:
        """The adequacy row covering a recipient at ``destination`` that states ``scopes``.

        A whole-country row always applies; a sectoral row only when the recipient states
        its scope (and none of its exclusions). Entity-based rows (DPF, Privacy Shield,
        Safe Harbour) are never returned here: the recipient's safeguards decide those.
        """
        for row in self._adequacy_rows(regime, destination, at):
            if row.scope not in ENTITY_SCOPES and row.covers_recipient(scopes):
                return row
        return None

    def _adequacy_rows(self, regime: str, destination: str, at: float) -> Iterable[Dated]:
        rows = self.eu_adequacy if regime == "eu_gdpr" else self.uk_adequacy
        for row in rows:
            if not row.in_force(at):
                continue
            if row.key == destination or (row.key == "EEA" and self.in_eea(destination, at)):
                yield row

    def clauses(self, regime: str, version: str, at: float) -> Dated | None:
        """The row under which clauses of ``version`` provide safeguards in ``regime`` at ``at``."""
        for row in self.scc:
            if row.regime == regime and row.key == version and row.in_force(at):
                return row
        return None

    def scc_versions(self) -> dict[str, float]:
        """Each SCC version a pack may name, with the first day it could be signed (EU)."""
        out: dict[str, float] = {}
        for row in self.scc:
            out[row.key] = min(out.get(row.key, row.start), row.start)
        return out

    def standard_clauses(self, regime: str, at: float) -> Dated | None:
        """The newest clauses (EU SCCs) or IDTA (UK) instrument in force at ``at``."""
        rows = [r for r in self.scc if r.regime == regime] if regime == "eu_gdpr" else self.idta
        for row in sorted(rows, key=lambda r: -r.start):
            if row.in_force(at):
                return row
        return None

    def epoch(self, at: float) -> int:
        """Index of the interval between two changes of these tables that holds ``at``."""
        return bisect_right(self.boundaries, at)


def _date(row: Mapping[str, Any], name: str, where: str) -> date | None:
    value = row.get(name)
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise LegalTablesError(f"{where}: '{name}' must be a date YYYY-MM-DD, got {value!r}")
    return value


def _rows(
    doc: Mapping[str, Any],
    section: str,
    key: str,
    scopes: frozenset[str] = frozenset(),
    sectoral: frozenset[str] = frozenset(),
) -> tuple[Dated, ...]:
    rows = doc.get(section)
    if not isinstance(rows, list):
        raise LegalTablesError(f"section '{section}' must be a list of rows")
    out = []
    for i, row in enumerate(rows):
        where = f"{section}[{i}]"
        if not isinstance(row, Mapping) or not isinstance(row.get(key), str):
            raise LegalTablesError(f"{where}: each row needs a '{key}' string")
        first = _date(row, "from", where)
        if first is None:
            raise LegalTablesError(f"{where}: 'from' (first day in force) is required")
        last = _date(row, "until", where)
        if last is not None and last < first:
            raise LegalTablesError(f"{where}: 'until' (last day in force) is before 'from'")
        scope = row.get("scope", "whole")
        if scope != "whole" and scope not in scopes:
            raise LegalTablesError(f"{where}: scope must be one of {sorted({'whole', *scopes})}")
        excludes = row.get("excludes", [])
        if not isinstance(excludes, list) or not set(excludes) <= sectoral:
            raise LegalTablesError(
                f"{where}: 'excludes' must list ids of sectoral_scopes {sorted(sectoral)}"
            )
        if row.get("verify") and not row.get("note"):
            raise LegalTablesError(f"{where}: a row marked verify needs a 'note' saying why")
        regime = row.get("regime", "")
        if section in ("scc", "idta") and regime not in REGIMES:
            raise LegalTablesError(f"{where}: regime must be one of {list(REGIMES)}")
        signed = _date(row, "signed_until", where)
        instrument = row.get("instrument", row.get(key))
        out.append(
            Dated(
                row[key],
                str(instrument),
                day_start(first),
                None if last is None else day_after(last),
                scope,
                frozenset(excludes),
                regime,
                None if signed is None else day_after(signed),
            )
        )
    return tuple(out)


def _names(doc: Mapping[str, Any], section: str) -> dict[str, str]:
    value = doc.get(section) or {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise LegalTablesError(f"section '{section}' must map ids to descriptions")
    return dict(value)


def build_tables(doc: Mapping[str, Any], raw: bytes) -> LegalTables:
    """Legal tables from a parsed document (``raw`` is hashed into the digest)."""
    if doc.get("format") != FORMAT:
        # v1 read `until` as the first day out of force; v2 reads it as the last day in force.
        raise LegalTablesError(
            f"format: expected '{FORMAT}', got {doc.get('format')!r} (in v2 `until` is the "
            "last day in force: re-express every `until` of a v1 file as the day before)"
        )
    sectoral = _names(doc, "sectoral_scopes")
    organisations = _names(doc, "international_organisations")
    scopes = frozenset(sectoral) | ENTITY_SCOPES
    eea = _rows(doc, "eea", "country")
    scc = _rows(doc, "scc", "version")
    idta = tuple(sorted(_rows(doc, "idta", "instrument"), key=lambda r: -r.start))
    eu_adequacy = _rows(doc, "eu_adequacy", "destination", scopes, frozenset(sectoral))
    uk_adequacy = _rows(doc, "uk_adequacy", "destination", scopes, frozenset(sectoral))
    for section, rows in (("eu_adequacy", eu_adequacy), ("uk_adequacy", uk_adequacy)):
        for i, row in enumerate(rows):
            if row.key not in iso_countries() and row.key != "EEA" and row.key not in organisations:
                raise LegalTablesError(
                    f"{section}[{i}]: destination '{row.key}' is neither an ISO 3166-1 code, "
                    "EEA, nor an id of international_organisations"
                )
    bcr = doc.get("bcr") or {}
    derogations = doc.get("derogations") or {}
    if set(bcr) != set(REGIMES):
        raise LegalTablesError("bcr: give the instrument text for eu_gdpr and uk_gdpr")
    edges: set[float] = set()
    for row in (*eea, *scc, *idta, *eu_adequacy, *uk_adequacy):
        edges.add(row.start)
        if row.end is not None:
            edges.add(row.end)
    return LegalTables(
        version=str(doc.get("version", "unversioned")),
        digest="sha256:" + hashlib.sha256(raw).hexdigest(),
        eea=eea,
        eu_members=frozenset(r["country"] for r in doc["eea"] if r.get("eu")),
        eu_adequacy=eu_adequacy,
        uk_adequacy=uk_adequacy,
        scc=scc,
        idta=idta,
        bcr=dict(bcr),
        derogations=dict(derogations),
        boundaries=tuple(sorted(edges)),
        sectoral_scopes=sectoral,
        organisations=organisations,
    )


def load_tables_file(path: Path) -> LegalTables:
    """Load legal tables from ``path``; raises LegalTablesError naming what is wrong."""
    try:
        # Held to a policy file's bound: the tables are read like one (and are 10 KB).
        # Imported here: the policy package imports these tables (its model's clauses).
        from auditor.policy.limits import LIMITS

        raw = read_regular_file(path, LIMITS.max_bytes)
    except OSError as exc:
        raise LegalTablesError(f"{path}: not read: {exc.strerror or exc}") from None
    try:
        doc = YAML(typ="safe").load(raw)
    except YAMLError as exc:
        raise LegalTablesError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, Mapping):
        raise LegalTablesError(f"{path}: expected a mapping at the top level")
    try:
        return build_tables(doc, raw)
    except LegalTablesError as exc:
        raise LegalTablesError(f"{path}: {exc}") from None


@cache
def load_tables() -> LegalTables:
    """The legal tables shipped with the package."""
    ref = resources.files("auditor.legal") / "data" / "legal-tables.yaml"
    with resources.as_file(ref) as path:
        return load_tables_file(Path(path))


def canonical_digest(parts: Iterable[object]) -> str:
    """sha256 over the canonical JSON of ``parts`` (sorted keys), as ``sha256:<hex>``."""
    h = hashlib.sha256()
    for part in parts:
        h.update(orjson.dumps(part, option=orjson.OPT_SORT_KEYS, default=str))
        h.update(b"\x00")
    return "sha256:" + h.hexdigest()
