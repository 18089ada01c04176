"""The sections of what was audited and found: scope, findings, deadlines, the differences
from a baseline and the attestation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.report.html.blocks import MAX_BARS, bars, escape, num, shown, table

BASELINE_FIELDS = ("kind", "topic", "path", "id", "version", "records_read",
                   "unreadable_records")
EFFECT_COLOURS = {"deny": "#c62828", "warn": "#ef8f00", "dryrun": "#8a94a6"}


def scope_section(report: Mapping[str, Any]) -> str:
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
        ("records read", num(scope["records_read"])),
        ("records outside the window", num(scope["records_outside_window"])),
        ("events decided", num(scope["events"])),
        ("invalid events", num(scope["invalid_events"])),
        ("decision records (with deadline decisions)",
         f"{num(scope['decisions'])} ({num(scope['deadline_decisions'])} deadline)"),
    ]
    out = ["<table>"]
    out += [f"<tr><th>{escape(k)}</th><td>{shown(v)}</td></tr>" for k, v in rows]
    out.append("</table><h3>Sources</h3>")
    for source in scope["sources"]:
        if source["kind"] == "topic":
            out.append(f"<p>topic <code>{escape(source['topic'])}</code></p>")
            out.append(table(
                [("partition", "partition"), ("start_offset", "start offset"),
                 ("end_offset", "end offset reported"), ("read_to_offset", "read to (excl.)"),
                 ("records_read", "records read"),
                 ("records_in_window", "in window"), ("first_offset", "first in window"),
                 ("last_offset", "last in window")],
                source["partitions"],
                frozenset({"records_read", "records_in_window"}),
            ))
        else:
            out.append(
                f"<p>file <code>{escape(source['path'])}</code>: {num(source['lines'])} lines"
                f"{' (gzip)' if source['gzip'] else ''}, sha256 "
                f"<code>{escape(source['sha256'])}</code></p>"
            )
    return "".join(out)


RULE_COLUMNS = [("rule", "rule"), ("kind", "kind"), ("severity", "severity"),
                ("effect", "effect"), ("findings", "findings"), ("examples", "examples"),
                ("citation", "the promise it breaks (the rule's citation)")]


def findings_section(report: Mapping[str, Any]) -> str:
    findings = report["findings"]
    by_rule = findings["by_rule"]
    top = sorted(by_rule, key=lambda r: (-r["findings"], r["rule"]))[:MAX_BARS]
    return "".join([
        '<p class="note">Findings of event decisions. Each group quotes the sentence of the '
        "notice or law its rule encodes.</p>",
        bars([(r["rule"], r["findings"]) for r in top], "findings by rule",
             colours={r["rule"]: EFFECT_COLOURS.get(r["effect"], "#c62828") for r in top}),
        table(RULE_COLUMNS, by_rule, frozenset({"findings"}), csv_name="findings.csv"),
        "<h3>By kind</h3>",
        table([("kind", "kind"), ("findings", "findings"),
               ("events_denied", "events with a deny finding")],
              findings["by_kind"], frozenset({"findings", "events_denied"})),
        "<h3>By severity</h3>",
        table([("severity", "severity"), ("findings", "findings")], findings["by_severity"],
              frozenset({"findings"})),
    ])


def deadlines_section(report: Mapping[str, Any]) -> str:
    block = report.get("deadlines") or {"decisions": 0, "violations": 0, "by_rule": []}
    closed = report["scope"]["deadlines_closed_at"]
    return "".join([
        f"<p>{num(block['decisions'])} deadline decisions ({num(block['violations'])} "
        "violations): a deadline of a rule that remembers (erasure, deletion by the end of "
        "a retention) that passed unmet. They are decisions of their own, not events, and "
        "are not counted in the verdicts above"
        + (f"; deadlines still open were closed at {escape(closed)}" if closed else "")
        + ".</p>",
        table(RULE_COLUMNS, block["by_rule"], frozenset({"findings"})),
    ])

def differences_section(diff: Mapping[str, Any] | None) -> str:
    if diff is None:
        return '<p class="note">No baseline given (--live-decisions or --baseline-policy).</p>'
    base = diff["baseline"]
    described = ", ".join(
        f"{k} {base[k]}" for k in BASELINE_FIELDS if base.get(k) is not None
    )
    return "".join([
        f"<p>baseline: {shown(described)}; policy versions seen: "
        f"<code>{shown(base['policy_versions'])}</code></p>",
        '<div class="cards">',
        *(f'<div class="card"><b>{num(diff[k])}</b>{escape(label)}</div>'
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


def attestation_section(report: Mapping[str, Any]) -> str:
    block = report.get("attestation")
    if not block:
        return '<p class="note">This report has no attestation block.</p>'
    controller = block.get("controller") or {}
    period = block["period"]
    policy = block["policy"]
    chain = block["chain"]
    inputs = []
    for item in block["inputs"]:
        if item.get("kind") == "topic":
            offsets = ", ".join(f"[{p['partition']}] {p['start_offset']}–{p['end_offset']}"
                                for p in item["partitions"])
            inputs.append(f"topic <code>{escape(item['topic'])}</code>, offsets (end "
                          f"excluded) {escape(offsets)}")
        else:
            inputs.append(f"<code>{escape(str(item.get('path')))}</code>, sha256 "
                          f"<code>{escape(str(item.get('sha256')))}</code>")
    window = (f"{period.get('from') or 'start'} → {period.get('to') or 'end'} (record time)"
              if period.get("from") or period.get("to") else "whole input (no time window)")
    rows = [
        ("controller", f"{controller.get('name', '—')} ({controller.get('id', '—')}, "
                       f"{controller.get('country', '—')})" if controller else "—"),
        ("period", window),
        ("events from", f"{period.get('event_time_first') or '—'} to "
                        f"{period.get('event_time_last') or '—'} (event time)"),
        ("deadlines closed at", period.get("deadlines_closed_at") or "not closed (no --now)"),
        ("policy", f"{policy.get('title') or policy.get('id')} - {policy.get('id')}, "
                   f"label {policy.get('label') or '—'}, file {policy.get('path') or '—'}"),
        ("policy version (content hash)", policy.get("version")),
        ("legal tables", block.get("legal_tables")),
        ("decision records", num(chain["records"])),
    ]
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{shown(v)}</td></tr>" for k, v in rows)
    cells += ("<tr><th>inputs</th><td>" + "<br>".join(inputs or ["—"]) + "</td></tr>"
              f"<tr><th>chain head ({escape(chain['algorithm'])})</th><td><code>"
              f"{escape(chain['head'])}</code></td></tr>"
              f"<tr><th>to verify</th><td><code>{escape(block['verify']['command'])}</code>"
              f'<br><span class="src">{escape(block["verify"]["checks"])}</span></td></tr>')
    signature = "".join(
        f'<div><div class="line"></div><span>{escape(label)}</span></div>'
        for label in ("Name", "Role (e.g. Data Protection Officer)", "Date", "Signature")
    )
    return (f'<div class="attestation"><p class="statement">{escape(block["statement"])}</p>'
            f'<table>{cells}</table><div class="signatures">{signature}</div></div>')
