"""The report as one self-contained HTML page: inline CSS, inline SVG bar charts, no scripts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from html import escape as _escape_html
from typing import Any

from auditor.printable import printable

# Longest tables in the page; the CSV files and report.json hold every row.
MAX_ROWS = 500
MAX_BARS = 15
BASELINE_FIELDS = ("kind", "topic", "path", "id", "version", "records_read",
                   "unreadable_records")
EFFECT_COLOURS = {"deny": "#c62828", "warn": "#ef8f00", "dryrun": "#8a94a6"}
TIME_KEYS = frozenset({"first_seen", "last_seen"})
VERDICT_COLOURS = {"allow": "#2e7d32", "violation": "#c62828", "invalid": "#8d6e63"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;
margin:0 auto;max-width:1180px;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:2px solid
#d8dee9;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.sub{color:#5b6575;margin:0 0 16px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d8dee9;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#f8fafc}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;
word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.card{border:1px solid #d8dee9;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px}.note{color:#5b6575;font-size:12px}
td.t{white-space:nowrap}tr.bad td{background:#fdecea}
svg text{font:12px system-ui,sans-serif;fill:#1d2430}
"""


def escape(text: str) -> str:
    """HTML-escaped, control characters written as escapes (HTML has no place for them)."""
    return _escape_html(printable(text))


def _e(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return escape(", ".join(str(v) for v in value))
    return escape(str(value))


def _num(value: int) -> str:
    return f"{value:,}"


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
            f'<text x="{label_w + width + 6}" y="{y + 15}">{_num(count)}</text>'
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
                cells.append(f'<td class="n">{_num(value)}</td>')
            elif key in TIME_KEYS:
                cells.append(f'<td class="t">{_e(value)}</td>')
            else:
                cells.append(f"<td>{_e(value)}</td>")
        marked = ' class="bad"' if flag is not None and row.get(flag) else ""
        body.append(f"<tr{marked}>" + "".join(cells) + "</tr>")
    more = ""
    if len(rows) > limit:
        where = f" (all of them in {csv_name} and report.json)" if csv_name else ""
        more = f'<p class="note">first {limit:,} of {len(rows):,} rows{where}</p>'
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def _scope(report: Mapping[str, Any]) -> str:
    scope = report["scope"]
    policy = scope["policy"]
    period = scope["period"]
    seen = scope["event_time"]
    rows = [
        ("policy", f"{policy['id']} ({policy.get('path') or ''})"),
        ("policy version (content hash)", policy["version"]),
        ("legal tables", policy["legal_tables"]),
        ("period (record time, both ends included)",
         f"{period.get('from') or 'start'} → {period.get('to') or 'end'}"),
        ("event time seen", f"{seen['first'] or '—'} → {seen['last'] or '—'}"),
        ("deadlines closed at", scope["deadlines_closed_at"]),
        ("records read", _num(scope["records_read"])),
        ("records outside the window", _num(scope["records_outside_window"])),
        ("events decided", _num(scope["events"])),
        ("invalid events", _num(scope["invalid_events"])),
        ("decision records (with deadline decisions)",
         f"{_num(scope['decisions'])} ({_num(scope['deadline_decisions'])} deadline)"),
    ]
    out = ["<table>"]
    out += [f"<tr><th>{escape(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows]
    out.append("</table><h3>Sources</h3>")
    for source in scope["sources"]:
        if source["kind"] == "topic":
            out.append(f"<p>topic <code>{escape(source['topic'])}</code></p>")
            out.append(table(
                [("partition", "partition"), ("start_offset", "start offset"),
                 ("end_offset", "end offset (excl.)"), ("records_read", "records read"),
                 ("records_in_window", "in window"), ("first_offset", "first in window"),
                 ("last_offset", "last in window")],
                source["partitions"],
                frozenset({"records_read", "records_in_window"}),
            ))
        else:
            out.append(
                f"<p>file <code>{escape(source['path'])}</code>: {_num(source['lines'])} lines"
                f"{' (gzip)' if source['gzip'] else ''}, sha256 "
                f"<code>{escape(source['sha256'])}</code></p>"
            )
    return "".join(out)


def _findings(report: Mapping[str, Any]) -> str:
    findings = report["findings"]
    by_rule = findings["by_rule"]
    top = sorted(by_rule, key=lambda r: (-r["findings"], r["rule"]))[:MAX_BARS]
    return "".join([
        bars([(r["rule"], r["findings"]) for r in top], "findings by rule",
             colours={r["rule"]: EFFECT_COLOURS.get(r["effect"], "#c62828") for r in top}),
        table([("rule", "rule"), ("kind", "kind"), ("severity", "severity"),
               ("effect", "effect"), ("findings", "findings"), ("examples", "example events")],
              by_rule, frozenset({"findings"}), csv_name="findings.csv"),
        "<h3>By kind</h3>",
        table([("kind", "kind"), ("findings", "findings"),
               ("events_denied", "events with a deny finding")],
              findings["by_kind"], frozenset({"findings", "events_denied"})),
        "<h3>By severity</h3>",
        table([("severity", "severity"), ("findings", "findings")], findings["by_severity"],
              frozenset({"findings"})),
    ])


def _transfers(report: Mapping[str, Any]) -> str:
    rows = report["transfers"]
    mechanisms: Counter[str] = Counter()
    for row in rows:
        mechanisms[row["mechanism"]] += row["events"]
    return "".join([
        '<p class="note">Cross-border flows by data class, countries, processor and legal '
        "basis (GDPR Art. 30(1)(e), Chapter V); first and last seen are event times.</p>",
        bars(sorted(mechanisms.items(), key=lambda kv: (-kv[1], kv[0])), "events by mechanism"),
        table([("data_class", "data class"), ("origin_country", "from"),
               ("destination_country", "to"), ("processor", "processor"), ("regime", "regime"),
               ("mechanism", "mechanism"), ("instrument", "instrument"), ("events", "events"),
               ("violations", "violations"), ("first_seen", "first seen"),
               ("last_seen", "last seen")],
              rows, frozenset({"events", "violations"}), csv_name="transfers.csv",
              flag="violations"),
    ])


def _differences(diff: Mapping[str, Any] | None) -> str:
    if diff is None:
        return '<p class="note">No baseline given (--live-decisions or --baseline-policy).</p>'
    base = diff["baseline"]
    described = ", ".join(
        f"{k} {base[k]}" for k in BASELINE_FIELDS if base.get(k) is not None
    )
    return "".join([
        f"<p>baseline: {_e(described)}; policy versions seen: "
        f"<code>{_e(base['policy_versions'])}</code></p>",
        '<div class="cards">',
        *(f'<div class="card"><b>{_num(diff[k])}</b>{escape(label)}</div>'
          for k, label in (("events_compared", "events compared"),
                           ("changed", "decisions changed"),
                           ("verdict_changed", "verdicts changed"),
                           ("not_in_baseline", "not in the baseline"))),
        "</div><h3>Verdict changes</h3>",
        table([("from", "baseline"), ("to", "replay"), ("events", "events")],
              diff["verdict_changes"], frozenset({"events"})),
        "<h3>By rule</h3>",
        table([("rule", "rule"), ("added", "events with a new finding"),
               ("removed", "events that lost the finding")],
              diff["by_rule"], frozenset({"added", "removed"}),
              csv_name="differences_by_rule.csv"),
        "<h3>Events</h3>",
        table([("event_id", "event"), ("baseline_verdict", "baseline"),
               ("replay_verdict", "replay"), ("added_rules", "rules added"),
               ("removed_rules", "rules removed")],
              diff["events"], csv_name="differences.csv"),
    ])


def render(report: Mapping[str, Any]) -> str:
    """The whole page (UTF-8 text); depends only on ``report``."""
    scope = report["scope"]
    policy = scope["policy"]
    verdicts = report["verdicts"]
    integrity = report["integrity"]
    sections: list[tuple[str, Callable[[], str]]] = [
        ("Scope", lambda: _scope(report)),
        ("Verdicts", lambda: bars([(v, verdicts[v]) for v in VERDICT_COLOURS],
                                  "decisions by verdict",
                                  colours=VERDICT_COLOURS)),
        ("Findings", lambda: _findings(report)),
        ("Register of cross-border transfers", lambda: _transfers(report)),
        ("Exceptions that applied", lambda: table(
            [("id", "exception"), ("rule", "rule waived"), ("events", "events"),
             ("first_seen", "first seen"), ("last_seen", "last seen"),
             ("examples", "example events")],
            report["exceptions"], frozenset({"events"}), csv_name="exceptions.csv")),
        ("Derogations used (Art. 49)", lambda: table(
            [("derogation", "derogation"), ("instrument", "basis"),
             ("origin_country", "from"), ("destination_country", "to"),
             ("data_class", "data class"), ("processor", "processor"), ("events", "events"),
             ("violations", "violations"), ("first_seen", "first seen"),
             ("last_seen", "last seen")],
            report["derogations"], frozenset({"events", "violations"}),
            csv_name="derogations.csv", flag="violations")),
        ("Invalid input", lambda: table([("field", "field"), ("events", "events")],
                                        report["invalid"], frozenset({"events"}))),
        ("Differences from the baseline (what if)", lambda: _differences(report["differences"])),
        ("Integrity", lambda: (
            f"<p>{escape(integrity['algorithm'])} over {_num(integrity['records'])} decision "
            "records, in order: h<sub>0</sub> = 32 zero bytes, h<sub>i</sub> = "
            "SHA-256(h<sub>i−1</sub> ‖ canonical JSON of decision i). A re-run that "
            "reproduced the same decisions prints the same value.</p>"
            f"<p>chain head: <code>{escape(integrity['head'])}</code></p>")),
    ]
    cards = "".join(
        f'<div class="card"><b>{_num(n)}</b>{escape(label)}</div>'
        for label, n in (("events", scope["events"]), ("allow", verdicts["allow"]),
                         ("violation", verdicts["violation"]), ("invalid", verdicts["invalid"]),
                         ("cross-border flows", sum(r["events"] for r in report["transfers"])))
    )
    generated = report.get("generated_at")
    body = "".join(f"<h2>{escape(title)}</h2>{make()}" for title, make in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Audit report: {escape(policy['id'])}</title><style>{CSS}</style></head><body>"
        f"<h1>Audit report: policy {escape(policy['id'])}</h1>"
        f'<p class="sub">auditor replay · report v{escape(report["version"])}'
        f"{' · generated ' + escape(generated) if generated else ''} · chain "
        f"<code>{escape(integrity['head'][:16])}…</code></p>"
        f'<div class="cards">{cards}</div>{body}</body></html>\n'
    )
