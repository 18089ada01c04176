"""Writing a report to a directory: report.json, report.html and the CSV tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from auditor.report import csv_tables, html

FORMATS = ("json", "html", "csv")


def to_json(report: Mapping[str, Any]) -> bytes:
    """The report as JSON: keys sorted, two-space indent, a final newline (byte-stable)."""
    return orjson.dumps(report, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def write_report(report: Mapping[str, Any], out: Path, formats: Iterable[str]) -> list[Path]:
    """Write the chosen formats into ``out`` (created if needed); the paths written, in order.

    Raises OSError when the directory or a file cannot be written.
    """
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    wanted = set(formats)
    if "json" in wanted:
        files["report.json"] = to_json(report)
    if "html" in wanted:
        files["report.html"] = html.render(report).encode("utf-8")
    if "csv" in wanted:
        for name, text in csv_tables.tables(report).items():
            files[name] = text.encode("utf-8")
    written = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written
