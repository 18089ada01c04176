"""The dated legal tables (EEA, adequacy, DPF, SCC, IDTA, BCR, derogations) and queries by time."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from auditor.files import read_regular_file
from auditor.policy.limits import LIMITS

REGIMES = ("eu_gdpr", "uk_gdpr")
_SCOPES = {"whole", "dpf_list", "dpf_list_uk_extension", "privacy_shield_list"}


class LegalTablesError(ValueError):
    """The legal tables file is malformed; the message names the row and what to fix."""


def day_start(value: date) -> float:
    """POSIX seconds of 00:00 UTC on ``value``."""
    return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()


@dataclass(frozen=True, slots=True)
class Dated:
    """One row of a table, in force on [start, end)."""

    key: str
    instrument: str
    start: float
    end: float | None
    scope: str = "whole"

    def in_force(self, at: float) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


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
        """The adequacy row of ``regime`` covering ``country`` with ``scope`` at ``at``."""
        rows = self.eu_adequacy if regime == "eu_gdpr" else self.uk_adequacy
        for row in rows:
            if row.scope != scope or not row.in_force(at):
                continue
            if row.key == country or (row.key == "EEA" and self.in_eea(country, at)):
                return row
        return None

    def standard_clauses(self, regime: str, at: float) -> Dated | None:
        """The SCC (EU) or IDTA (UK) instrument in force at ``at``, newest first."""
        rows = self.scc if regime == "eu_gdpr" else self.idta
        for row in rows:
            if row.in_force(at):
                return row
        return None

    def epoch(self, at: float) -> int:
        """Index of the interval between two changes of these tables that holds ``at``."""
        return bisect_right(self.boundaries, at)


def _date(row: Mapping[str, Any], name: str, where: str) -> float | None:
    value = row.get(name)
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise LegalTablesError(f"{where}: '{name}' must be a date YYYY-MM-DD, got {value!r}")
    return day_start(value)


def _rows(doc: Mapping[str, Any], section: str, key: str) -> tuple[Dated, ...]:
    rows = doc.get(section)
    if not isinstance(rows, list):
        raise LegalTablesError(f"section '{section}' must be a list of rows")
    out = []
    for i, row in enumerate(rows):
        where = f"{section}[{i}]"
        if not isinstance(row, Mapping) or not isinstance(row.get(key), str):
            raise LegalTablesError(f"{where}: each row needs a '{key}' string")
        start = _date(row, "from", where)
        if start is None:
            raise LegalTablesError(f"{where}: 'from' (first day in force) is required")
        end = _date(row, "until", where)
        if end is not None and end <= start:
            raise LegalTablesError(f"{where}: 'until' must be after 'from'")
        scope = row.get("scope", "whole")
        if scope not in _SCOPES:
            raise LegalTablesError(f"{where}: scope must be one of {sorted(_SCOPES)}")
        instrument = row.get("instrument", row.get(key))
        out.append(Dated(row[key], str(instrument), start, end, scope))
    return tuple(out)


def build_tables(doc: Mapping[str, Any], raw: bytes) -> LegalTables:
    """Legal tables from a parsed document (``raw`` is hashed into the digest)."""
    eea = _rows(doc, "eea", "country")
    scc = tuple(sorted(_rows(doc, "scc", "instrument"), key=lambda r: -r.start))
    idta = tuple(sorted(_rows(doc, "idta", "instrument"), key=lambda r: -r.start))
    eu_adequacy = _rows(doc, "eu_adequacy", "destination")
    uk_adequacy = _rows(doc, "uk_adequacy", "destination")
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
    )


def load_tables_file(path: Path) -> LegalTables:
    """Load legal tables from ``path``; raises LegalTablesError naming what is wrong."""
    try:
        # Held to a policy file's bound: the tables are read like one (and are 10 KB).
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
