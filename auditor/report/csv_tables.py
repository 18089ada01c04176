"""The report's tables as CSV files (one header row; lists joined with spaces)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from auditor.printable import printable

TRANSFER_COLUMNS = (
    "data_class", "origin_country", "destination_country", "processor", "regime", "mechanism",
    "instrument", "events", "violations", "first_seen", "last_seen",
)  # fmt: skip
TABLES: dict[str, tuple[str, ...]] = {
    "findings.csv": ("rule", "kind", "severity", "effect", "findings", "examples"),
    "transfers.csv": TRANSFER_COLUMNS,
    "exceptions.csv": ("id", "rule", "events", "violations", "first_seen", "last_seen",
                       "examples"),
    "derogations.csv": ("derogation", "instrument", "regime", "origin_country",
                        "destination_country", "data_class", "processor", "events", "violations",
                        "first_seen", "last_seen", "examples"),
    "invalid.csv": ("field", "events"),
    "differences.csv": ("event_id", "baseline_verdict", "replay_verdict", "added_rules",
                        "removed_rules"),
    "differences_by_rule.csv": ("rule", "added", "removed"),
}  # fmt: skip


# A cell starting with one of these is a formula to a spreadsheet; event ids and data
# classes come from producers, so such text gets a leading quote (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return str(value)
    text = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    # Control characters escaped: `cat` of a report must not drive the terminal.
    text = printable(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def tables(report: Mapping[str, Any]) -> dict[str, str]:
    """File name -> CSV text; the differences tables only when the report has a baseline."""
    rows: dict[str, Sequence[Mapping[str, Any]]] = {
        "findings.csv": report["findings"]["by_rule"],
        "transfers.csv": report["transfers"],
        "exceptions.csv": report["exceptions"],
        "derogations.csv": report["derogations"],
        "invalid.csv": report["invalid"],
    }
    diff = report.get("differences")
    if diff is not None:
        rows["differences.csv"] = diff["events"]
        rows["differences_by_rule.csv"] = diff["by_rule"]
    return {name: render(TABLES[name], table) for name, table in rows.items()}
