"""When the shipped legal tables were last reviewed (their file's ``reviewed`` date)."""

from __future__ import annotations

import datetime as dt
from importlib import resources

from ruamel.yaml import YAML

from auditor.legal.tables import LegalTables


def reviewed_at(tables: LegalTables) -> float | None:
    """The ``reviewed`` date of ``tables`` as Unix time (00:00 UTC), or None if unknown.

    LegalTables does not keep the date, so it is read from the packaged file when that
    file is the one ``tables`` came from (same version).
    """
    ref = resources.files("auditor.legal") / "data" / "legal-tables.yaml"
    doc = YAML(typ="safe").load(ref.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or str(doc.get("version")) != tables.version:
        return None
    reviewed = doc.get("reviewed")
    if isinstance(reviewed, dt.datetime):
        return reviewed.replace(tzinfo=reviewed.tzinfo or dt.UTC).timestamp()
    if isinstance(reviewed, dt.date):
        return dt.datetime(reviewed.year, reviewed.month, reviewed.day, tzinfo=dt.UTC).timestamp()
    return None
