"""The report as one self-contained HTML page: inline CSS, inline SVG bar charts, no scripts.

This module puts the page together: its style sheet, headline and cards, and its sections
in order. The sections are drawn by ``sections`` (scope, findings, deadlines, differences,
attestation), ``register`` (the register of transfers), ``declared`` (declared vs observed)
and ``auditor.report.flowmap``, all with the tables and bar charts of ``blocks``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from auditor.report import flowmap
from auditor.report.html.blocks import MAX_ROWS, bars, escape, num, table
from auditor.report.html.declared import declared_section
from auditor.report.html.register import transfers_section
from auditor.report.html.sections import (
    attestation_section,
    deadlines_section,
    differences_section,
    findings_section,
    scope_section,
)

__all__ = ["CSS", "MAX_ROWS", "bars", "render", "table"]

PAGE = ' class="page"'  # a section that starts a printed page
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
blockquote{margin:0;font-style:italic}.src{color:#5b6575;font-size:11px;font-style:normal}
dl.legend{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:8px 0 14px}
dl.legend dt{font-weight:600}dl.legend dd{margin:0}
.attestation{border:2px solid #1d2430;border-radius:6px;padding:12px 18px}
.statement{margin:4px 0 12px}
.signatures{display:grid;grid-template-columns:1fr 1fr;gap:30px 40px;margin-top:28px}
.line{border-bottom:1px solid #1d2430;height:34px}.line+span{color:#5b6575;font-size:12px}
@media print{
@page{size:A4;margin:16mm 14mm 18mm}
body{max-width:none;padding:0;font-size:9.5pt;color:#000}
section.page{break-before:page}
h2{break-after:avoid}h3{break-after:avoid}
table{font-size:8.5pt}thead{display:table-header-group}tr,.card{break-inside:avoid}
td,th{padding:2px 5px}tr:nth-child(even) td{background:none}
th{background:#eee}tr.bad td{background:none;font-weight:600}
svg{max-width:100%;height:auto}.screen{display:none}
.attestation{break-inside:avoid;border-color:#000}
}
""" + flowmap.CSS


def render(report: Mapping[str, Any]) -> str:
    """The whole page (UTF-8 text); depends only on ``report``.

    On screen one long page; printed (A4), each section starts a page, tables repeat their
    headings, and the attestation stays on one page with its signature lines.
    """
    scope = report["scope"]
    policy = scope["policy"]
    verdicts = report["verdicts"]
    integrity = report["integrity"]
    deadlines = report.get("deadlines") or {"decisions": 0, "violations": 0}
    # (id, heading, whether it starts a printed page, content). The headline, scope and
    # verdicts share the first page; the short tables after the register share one.
    sections: list[tuple[str, str, bool, Callable[[], str]]] = [
        ("scope", "Scope", False, lambda: scope_section(report)),
        ("verdicts", "Verdicts", False, lambda: (
            f'<p class="note">Event decisions: allow + violation + invalid = '
            f"{num(scope['events'])} events. Deadline decisions are counted apart "
            "(Deadlines).</p>"
            + bars([(v, verdicts[v]) for v in VERDICT_COLOURS], "event decisions by verdict",
                   colours=VERDICT_COLOURS))),
        ("flowmap", "Flow map", True, lambda: flowmap.section(report)),
        ("findings", "Findings", True, lambda: findings_section(report)),
        ("deadlines", "Deadlines (rules that remember)", True, lambda: deadlines_section(report)),
        ("transfers", "Register of cross-border transfers", True,
         lambda: transfers_section(report)),
        ("declared", "Declared vs observed", True, lambda: declared_section(report)),
        ("exceptions", "Exceptions that applied", True, lambda: table(
            [("id", "exception"), ("rule", "rule waived"), ("events", "events"),
             ("first_seen", "first seen"), ("last_seen", "last seen"),
             ("examples", "example events")],
            report["exceptions"], frozenset({"events"}), csv_name="exceptions.csv")),
        ("derogations", "Derogations used (Art. 49)", False, lambda: table(
            [("derogation", "derogation"), ("instrument", "basis"),
             ("origin_country", "from"), ("destination_country", "to"),
             ("data_class", "data class"), ("processor", "processor"), ("events", "events"),
             ("violations", "violations"), ("first_seen", "first seen"),
             ("last_seen", "last seen")],
            report["derogations"], frozenset({"events", "violations"}),
            csv_name="derogations.csv", flag="violations")),
        ("invalid", "Invalid input", False, lambda: table(
            [("field", "field"), ("events", "events")], report["invalid"],
            frozenset({"events"}))),
        ("differences", "Differences from the baseline (what if)", True,
         lambda: differences_section(report["differences"])),
        ("integrity", "Integrity", False, lambda: (
            f"<p>{escape(integrity['algorithm'])} over {num(integrity['records'])} decision "
            "records (events and deadline decisions), in order: h<sub>0</sub> = 32 zero "
            "bytes, h<sub>i</sub> = SHA-256(h<sub>i−1</sub> ‖ canonical JSON of decision i). "
            "A re-run that reproduced the same decisions prints the same value.</p>"
            f"<p>chain head: <code>{escape(integrity['head'])}</code></p>")),
        ("attestation", "Attestation", True, lambda: attestation_section(report)),
    ]
    cards = "".join(
        f'<div class="card"><b>{num(n)}</b>{escape(label)}</div>'
        for label, n in (("events", scope["events"]), ("allow", verdicts["allow"]),
                         ("violation", verdicts["violation"]), ("invalid", verdicts["invalid"]),
                         ("deadline decisions (not events)", deadlines["decisions"]),
                         ("cross-border flows", sum(r["events"] for r in report["transfers"])))
    )
    generated = report.get("generated_at")
    body = "".join(
        f'<section id="{key}"{PAGE if page else ""}><h2>{escape(title)}</h2>{make()}</section>'
        for key, title, page, make in sections
    )
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
