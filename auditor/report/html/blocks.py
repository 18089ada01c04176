"""The page's building blocks: values as the page shows them, tables and bar charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape as _escape_html
from typing import Any

from auditor.printable import printable


def escape(text: str) -> str:
    """HTML-escaped, control characters written as escapes (HTML has no place for them)."""
    return _escape_html(printable(text))


# Longest tables in the page; the CSV files and report.json hold every row.
MAX_ROWS = 500
MAX_BARS = 15
TIME_KEYS = frozenset({"first_seen", "last_seen"})


def shown(value: Any) -> str:
    """A value as a cell shows it: escaped, a list joined, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, list):
        return escape(", ".join(str(v) for v in value))
    return escape(str(value))


def num(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def _citation(value: Any) -> str:
    """The sentence a rule cites, quoted, with where it comes from."""
    if not isinstance(value, Mapping) or not value.get("text"):
        return "—"
    source = value.get("source")
    return (f"<blockquote>“{escape(str(value['text']))}”</blockquote>"
            + (f'<span class="src">{escape(str(source))}</span>' if source else ""))


def bars(items: Sequence[tuple[str, int]], title: str, colour: str = "#3b6ea8",
         colours: Mapping[str, str] | None = None) -> str:
    """A horizontal bar chart as inline SVG (labels escaped, widths to 0.1 px)."""
    if not items:
        return ""
    label_w, bar_w, row_h = 300, 360, 22
    top = max(count for _label, count in items) or 1
    height = row_h * len(items) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + bar_w + 90}" '
        f'height="{height}" viewBox="0 0 {label_w + bar_w + 90} {height}">'
        f"<title>{escape(title)}</title>"
    ]
    for i, (label, count) in enumerate(items):
        y = i * row_h
        width = round(bar_w * count / top, 1)
        shown = label if len(label) <= 44 else label[:43] + "…"
        fill = (colours or {}).get(label, colour)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(shown)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{width}" height="14" fill="{fill}"/>'
            f'<text x="{label_w + width + 6}" y="{y + 15}">{num(count)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def table(columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, Any]],
          numeric: frozenset[str] = frozenset(), limit: int = MAX_ROWS,
          csv_name: str | None = None, flag: str | None = None) -> str:
    """An HTML table of ``rows`` (``columns``: key, heading); longer tables are cut at ``limit``.

    Rows whose ``flag`` value is truthy (e.g. ``violations``) are highlighted.
    """
    if not rows:
        return '<p class="note">none</p>'
    head = "".join(f"<th>{escape(h)}</th>" for _key, h in columns)
    body = []
    for row in rows[:limit]:
        cells = []
        for key, _h in columns:
            value = row.get(key)
            if key in numeric and isinstance(value, int):
                cells.append(f'<td class="n">{num(value)}</td>')
            elif key in TIME_KEYS:
                cells.append(f'<td class="t">{shown(value)}</td>')
            elif key == "citation":
                cells.append(f"<td>{_citation(value)}</td>")
            else:
                cells.append(f"<td>{shown(value)}</td>")
        marked = ' class="bad"' if flag is not None and row.get(flag) else ""
        body.append(f"<tr{marked}>" + "".join(cells) + "</tr>")
    more = ""
    if len(rows) > limit:
        where = f" (all of them in {csv_name} and report.json)" if csv_name else ""
        more = f'<p class="note">first {limit:,} of {len(rows):,} rows{where}</p>'
    # thead repeats the heading on every printed page.
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"

