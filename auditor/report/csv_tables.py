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
RULE_COLUMNS = ("rule", "kind", "severity", "effect", "findings", "examples", "citation",
                "citation_source")
TABLES: dict[str, tuple[str, ...]] = {
    "findings.csv": RULE_COLUMNS,
    "deadlines.csv": RULE_COLUMNS,
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
    "declared_flows.csv": ("id", "description", "processors", "data_classes", "purposes",
                           "operations", "destinations", "basis", "since", "until", "events",
                           "violations", "first_seen", "last_seen"),
    "basis_differs.csv": ("declarations", "data_class", "processor", "origin_country",
                          "destination_country", "declared_basis", "mechanism", "instrument",
                          "events", "violations", "first_seen", "last_seen", "examples"),
    "undeclared_flows.csv": ("data_class", "operation", "processor", "purpose",
                             "destination_country", "events", "violations", "first_seen",
                             "last_seen", "examples"),
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


def _cited(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rule rows with their citation as two plain columns (text, source)."""
    out = []
    for row in rows:
        citation = row.get("citation") or {}
        out.append({**row, "citation": citation.get("text"),
                    "citation_source": citation.get("source")})
    return out


def tables(report: Mapping[str, Any]) -> dict[str, str]:
    """File name -> CSV text; the differences tables only when the report has a baseline, the
    declared-flow tables only when the pack declares flows."""
    deadlines = report.get("deadlines") or {"by_rule": []}
    rows: dict[str, Sequence[Mapping[str, Any]]] = {
        "findings.csv": _cited(report["findings"]["by_rule"]),
        "deadlines.csv": _cited(deadlines["by_rule"]),
        "transfers.csv": report["transfers"],
        "exceptions.csv": report["exceptions"],
        "derogations.csv": report["derogations"],
        "invalid.csv": report["invalid"],
    }
    diff = report.get("differences")
    if diff is not None:
        rows["differences.csv"] = diff["events"]
        rows["differences_by_rule.csv"] = diff["by_rule"]
    declared = report.get("declarations")
    if declared is not None:
        rows["declared_flows.csv"] = declared["declared"]
        rows["basis_differs.csv"] = declared["basis_differs"]
        rows["undeclared_flows.csv"] = declared["undeclared"]
    return {name: render(TABLES[name], table) for name, table in rows.items()}
