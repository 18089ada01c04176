"""Declared vs observed in a replay report, and the flow map of the HTML page."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from auditor import schemas
from auditor.engine import Engine
from auditor.policy import load_policy
from auditor.report import SCHEMA, ReportBuilder, flowmap
from auditor.report import html as report_html
from auditor.report.write import write_report
from tests.unit.helpers import EXAMPLE_POLICY, decide, event

PACK = """apiVersion: auditor/v1
id: declaring
company: {id: me, country: DE}
data_classes: {personal_data: {}, stats: {personal: false}}
purposes: {service_delivery: {}, analytics: {}}
processors:
  vendor: {country: US, safeguards: {scc: true, dpf: true}}
  india: {country: IN, safeguards: {scc: true}}
zones:
  eu: {locations: ["country:EEA"]}
declared_flows:
  - id: own
    processors: [me]
    destinations: ["zone:eu"]
  - id: vendor-hosting
    processors: [vendor]
    data_classes: [personal_data]
    purposes: [service_delivery]
    destinations: ["country:US", "country:IN"]
    basis: [dpf]
  - id: india-support
    processors: [india]
    operations: [access]
    destinations: ["country:IN"]
    basis: [scc]
    since: "2026-01-01"
    until: "2026-12-31"
"""
US = {"location": "aws:us-east-1"}
IN = {"location": "aws:ap-south-1"}


def report_of(engine: Engine, events: list[dict[str, Any]]) -> dict[str, Any]:
    builder = ReportBuilder({"id": engine.policy.id, "version": engine.version,
                             "legal_tables": engine.tables.version, "path": "p.yaml"},
                            declared_flows=engine.policy.declared_flows)
    for value in events:
        builder.add(decide(engine, value))
    return builder.report(period={"from": None, "to": None, "grace_seconds": 0}, sources=[],
                          records_read=len(events))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("pack") / "p.yaml"
    path.write_text(PACK)
    engine = Engine(load_policy(path))
    return report_of(engine, [
        event(event_id="own-1", processor="me", destination={"location": "aws:eu-west-1"}),
        event(event_id="dpf-1", processor="vendor", destination=US),
        event(event_id="dpf-2", processor="vendor", destination=US),
        # declared for India, but India has no DPF: the vendor's SCCs are used instead
        event(event_id="scc-1", processor="vendor", destination=IN),
        event(event_id="new-purpose", processor="vendor", destination=US, purpose="analytics"),
        event(event_id="new-processor", processor="india", destination=IN),  # not an access
        event(event_id="stats", processor="india", destination=IN, data_class="stats"),
    ])


def test_declared_flows_seen_not_seen_and_on_another_basis(report: dict[str, Any]) -> None:
    declared = report["declarations"]
    assert [(r["id"], r["events"]) for r in declared["declared"]] == [
        ("own", 1), ("vendor-hosting", 3), ("india-support", 0)]
    assert declared["declared"][2]["since"] == "2026-01-01"
    assert declared["declared"][2]["until"] == "2026-12-31"
    assert declared["declared"][0]["data_classes"] is None  # any
    assert declared["not_seen"] == ["india-support"]
    (differs,) = declared["basis_differs"]
    assert {k: differs[k] for k in ("declarations", "data_class", "processor", "origin_country",
                                    "destination_country", "declared_basis", "mechanism",
                                    "events", "examples")} == {
        "declarations": ["vendor-hosting"], "data_class": "personal_data",
        "processor": "vendor", "origin_country": "DE", "destination_country": "IN",
        "declared_basis": ["dpf"], "mechanism": "scc", "events": 1, "examples": ["scc-1"]}
    assert [(r["processor"], r["operation"], r["purpose"], r["destination_country"],
             r["examples"]) for r in declared["undeclared"]] == [
        ("india", "transfer", "service_delivery", "IN", ["new-processor"]),
        ("vendor", "transfer", "analytics", "US", ["new-purpose"]),
    ]


def test_the_report_with_declarations_validates_against_its_schema(
    report: dict[str, Any],
) -> None:
    errors = list(schemas.validator(SCHEMA).iter_errors(report))
    assert errors == []


def test_a_pack_without_declarations_has_none_in_its_report() -> None:
    engine = Engine(load_policy(EXAMPLE_POLICY))
    plain = report_of(engine, [event()])
    assert plain["declarations"] is None
    assert "nothing is compared" in report_html.render(plain)


def test_csv_and_html_show_declared_vs_observed(report: dict[str, Any], tmp_path: Path) -> None:
    written = {p.name for p in write_report(report, tmp_path, ["csv", "html"])}
    assert {"declared_flows.csv", "basis_differs.csv", "undeclared_flows.csv"} <= written

    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO((tmp_path / name).read_text())))
    assert [r["id"] for r in rows("declared_flows.csv")] == [
        "own", "vendor-hosting", "india-support"]
    assert rows("basis_differs.csv")[0]["declared_basis"] == "dpf"
    assert [r["processor"] for r in rows("undeclared_flows.csv")] == ["india", "vendor"]
    page = (tmp_path / "report.html").read_text()
    section = page[page.index("<h2>Declared vs observed</h2>"):]
    assert "<b>1</b>not seen in the period" in section
    assert "<b>2</b>undeclared flows" in section
    assert "<td>new-purpose</td>" in section


def test_the_flow_map_draws_one_band_per_basis_split_by_verdict(
    report: dict[str, Any],
) -> None:
    page = report_html.render(report)
    section = page[page.index("<h2>Flow map</h2>"):page.index("<h2>Findings</h2>")]
    main = section[:section.index("<h3>")]
    # DE -> US dpf (3 events), DE -> IN scc (2), DE -> IN unrestricted (the statistics),
    # DE -> IE intra_eea (1): four bands by basis, each drawn again by verdict
    colours = re.findall(r'class="b" d="[^"]+" stroke="([^"]+)"', main)
    assert sorted(colours) == sorted(flowmap.MECHANISM_COLOURS[m] for m in (
        "dpf", "scc", "unrestricted", "intra_eea"))
    assert main.count('class="v"') == 4  # every event allowed: no violation part
    assert "DE → US · dpf · 3 events (0 violations)" in main
    assert 'id="fm-verdict"' in section
    assert "<script" not in section
    # one small map per data class, its bands labelled by processor where wide enough
    assert section.count("flow map: personal_data") == 1


def test_a_band_with_violations_splits_in_proportion() -> None:
    rows = [
        {"data_class": "d", "origin_country": "DE", "destination_country": "US",
         "processor": "p", "regime": "eu_gdpr", "mechanism": "none", "events": 30,
         "violations": 10},
        {"data_class": "d", "origin_country": "DE", "destination_country": "US",
         "processor": "q", "regime": "eu_gdpr", "mechanism": "none", "events": 10,
         "violations": 10},
    ]
    (link,) = flowmap.links(rows, lambda row: "")
    assert (link.events, link.violations, dict(link.processors)) == (40, 20, {"p": 30, "q": 10})
    svg = flowmap.sankey([link], "t", 800, 40)
    widths = {cls: float(w) for cls, w in re.findall(
        r'class="(\w)" d="[^"]+" stroke="[^"]+" stroke-width="([\d.]+)"', svg)}
    allowed, violating = re.findall(
        r'class="v" d="[^"]+" stroke="([^"]+)" stroke-width="([\d.]+)"', svg)
    assert allowed[0] == flowmap.VERDICT_COLOURS["allow"]
    assert violating[0] == flowmap.VERDICT_COLOURS["violation"]
    assert float(allowed[1]) == pytest.approx(float(violating[1]), abs=0.1)
    assert float(allowed[1]) + float(violating[1]) == pytest.approx(widths["b"], abs=0.1)


def test_no_transfer_no_map() -> None:
    assert "No cross-border flow" in flowmap.section({"transfers": []})


def test_only_flows_chapter_v_restricts_are_compared_with_the_declared_basis(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PACK.split("declared_flows:", maxsplit=1)[0] + """declared_flows:
  - id: own-everywhere
    processors: [me]
    destinations: ["country:IE", "country:CH", "country:DE"]
    basis: [derogation]
""")
    engine = Engine(load_policy(path))
    report = report_of(engine, [
        event(event_id="intra", processor="me", destination={"location": "aws:eu-west-1"}),
        event(event_id="adequacy", processor="me", destination={"location": "aws:eu-central-2"}),
        # from the US into Germany: under neither regime, nothing to rely on
        event(event_id="inbound", processor="me", origin={"location": "aws:us-east-1"},
              destination={"location": "aws:eu-central-1"}),
    ])
    (differs,) = report["declarations"]["basis_differs"]
    assert (differs["mechanism"], differs["examples"]) == ("adequacy", ["adequacy"])
    assert report["declarations"]["declared"][0]["events"] == 3
