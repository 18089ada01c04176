"""The "Declared vs observed" section of the HTML report (docs/declared-flows.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.report.html.blocks import escape, table

SEEN = frozenset({"events", "violations"})


def declared_section(report: Mapping[str, Any]) -> str:
    """What the pack declares against what the period shows; a note for a pack that
    declares no flows (or a report written before declarations existed)."""
    declared = report.get("declarations")
    if declared is None:
        return ('<p class="note">The pack declares no flows (declared_flows), so nothing is '
                "compared.</p>")
    any_ = ("data_classes", "purposes", "operations", "destinations")
    rows = [{**row, **{k: "any" for k in any_ if row[k] is None},
             "basis": row["basis"] or "not stated"} for row in declared["declared"]]
    undeclared = declared["undeclared"]
    cards = (
        ("declared flows", len(rows)),
        ("not seen in the period", len(declared["not_seen"])),
        ("seen on another basis", len(declared["basis_differs"])),
        ("undeclared flows", len(undeclared)),
        ("events of undeclared flows", sum(r["events"] for r in undeclared)),
    )
    return "".join([
        '<div class="cards">',
        *(f'<div class="card"><b>{n:,}</b>{escape(label)}</div>' for label, n in cards),
        "</div><h3>Undeclared flows</h3>",
        '<p class="note">Flows of personal data that no declaration of the pack covers: a new '
        "processor, country, purpose or data class. Add a declaration (auditor register writes "
        "a draft) or stop the flow.</p>",
        table([("data_class", "data class"), ("operation", "operation"),
               ("processor", "processor"), ("purpose", "purpose"),
               ("destination_country", "to"), ("events", "events"),
               ("violations", "violations"), ("first_seen", "first seen"),
               ("last_seen", "last seen"), ("examples", "example events")],
              undeclared, SEEN, csv_name="undeclared_flows.csv", flag="violations"),
        "<h3>Declared, seen on another basis</h3>",
        '<p class="note">Cross-border flows a declaration covers whose Chapter V mechanism is '
        "not the basis it declares.</p>",
        table([("declarations", "declarations"), ("data_class", "data class"),
               ("processor", "processor"), ("origin_country", "from"),
               ("destination_country", "to"), ("declared_basis", "declared basis"),
               ("mechanism", "observed"), ("events", "events"), ("violations", "violations"),
               ("first_seen", "first seen"), ("last_seen", "last seen"),
               ("examples", "example events")],
              declared["basis_differs"], SEEN, csv_name="basis_differs.csv", flag="violations"),
        "<h3>Declared flows</h3>",
        '<p class="note">Every declaration with the events it covered; those with none were not '
        "seen in the period (a sub-processor no longer used, or traffic the replay did not "
        "read).</p>",
        table([("id", "declaration"), ("processors", "processors"),
               ("data_classes", "data classes"), ("purposes", "purposes"),
               ("destinations", "destinations"), ("basis", "basis"), ("events", "events"),
               ("first_seen", "first seen"), ("last_seen", "last seen")],
              rows, SEEN, csv_name="declared_flows.csv"),
    ])
