"""The register of cross-border transfers (GDPR Art. 30(1)(e), Chapter V) and its legend."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from auditor.report.html.blocks import bars, escape, table

# Chapter V mechanisms in words (docs/transfers.md), for the register's legend.
MECHANISMS = (
    ("intra_eea", "EU GDPR data that stays within the European Economic Area: not a "
     "restricted transfer."),
    ("adequacy", "The destination country (or the recipient's sector) has an adequacy "
     "decision of the EU, or adequacy regulations of the UK, in force on the event's day "
     "(GDPR Art. 45)."),
    ("dpf", "The US recipient is on the EU-US Data Privacy Framework list (for UK data: with "
     "the UK Extension) on the event's day."),
    ("bcr", "The recipient's group has approved binding corporate rules (Art. 47)."),
    ("scc", "Standard contractual clauses the recipient signed, of a version that still "
     "covers a transfer on that day (Art. 46(2)(c))."),
    ("idta", "The UK International Data Transfer Agreement or the UK Addendum to the EU "
     "clauses (UK GDPR Art. 46)."),
    ("derogation", "An Art. 49 derogation claimed for the transfer (e.g. explicit consent): "
     "lawful only for occasional transfers, so always reported as a warning."),
    ("unrestricted", "Chapter V does not restrict this flow, so no safeguard is needed: the "
     "data is not personal data (anonymised, or a class the policy marks non-personal), or "
     "it is under neither the EU nor the UK GDPR where it starts (regime none), or it is "
     "the exporter's own staff reaching it, who are not an importer (EDPB Guidelines "
     "05/2021). The instrument column says which. The policy's own promises still apply."),
    ("none", "No lawful basis: personal data under the EU or UK GDPR went to a third country "
     "with no adequacy, framework, clauses, corporate rules or derogation in force for it "
     "on that day. Always a violation, unless a named, dated exception of the policy "
     "covers it - and then the decision lists that exception (see Exceptions)."),
)
REGIMES = (
    ("eu_gdpr", "the data was in the EEA when it left (or left it earlier: an onward "
     "transfer), so the EU GDPR restricts where it goes"),
    ("uk_gdpr", "the same for the UK GDPR"),
    ("none", "neither applies: Chapter V does not restrict the flow (mechanism "
     "unrestricted)"),
)


def _legend() -> str:
    parts = ['<h3>How to read the register</h3><dl class="legend">']
    parts += [f"<dt>regime {escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in REGIMES]
    parts += [f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in MECHANISMS]
    parts.append("</dl>")
    return "".join(parts)


def transfers_section(report: Mapping[str, Any]) -> str:
    rows = report["transfers"]
    mechanisms: Counter[str] = Counter()
    for row in rows:
        mechanisms[row["mechanism"]] += row["events"]
    return "".join([
        '<p class="note">Cross-border flows by data class, countries, processor and legal '
        "basis (GDPR Art. 30(1)(e), Chapter V); first and last seen are event times.</p>",
        _legend(),
        bars(sorted(mechanisms.items(), key=lambda kv: (-kv[1], kv[0])), "events by mechanism"),
        table([("data_class", "data class"), ("origin_country", "from"),
               ("destination_country", "to"), ("processor", "processor"), ("regime", "regime"),
               ("mechanism", "mechanism"), ("instrument", "instrument"), ("events", "events"),
               ("violations", "violations"), ("first_seen", "first seen"),
               ("last_seen", "last seen")],
              rows, frozenset({"events", "violations"}), csv_name="transfers.csv",
              flag="violations"),
    ])
