"""Report writers: byte-stable JSON, one self-contained HTML page, CSV tables."""

from __future__ import annotations

import csv
import io
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import orjson
import pytest

from auditor.engine import Engine
from auditor.events import Invalid
from auditor.events.validate import parse_time
from auditor.policy import load_policy
from auditor.replay.records import Record
from auditor.replay.run import decide_records
from auditor.report import Diff, ReportBuilder, csv_tables
from auditor.report import html as report_html
from auditor.report.about import about
from auditor.report.write import to_json, write_report
from tests.unit.helpers import EXAMPLE_POLICY, ROOT, decide, event

NATTERBOX = ROOT / "policies" / "natterbox.yaml"
NATTERBOX_EVENTS = ROOT / "examples" / "natterbox.jsonl"

VOID = {"meta", "rect", "br", "hr", "img", "input", "link"}
EXTERNAL = {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "source"}
HOSTILE_ID = '<script>alert("x")</script>&'


class Page(HTMLParser):
    """Tags and attributes of a page, and whether every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: set[str] = set()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.update(name for name, _ in attrs)
        self._in_style = tag == "style"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    engine = Engine(load_policy(EXAMPLE_POLICY))
    diff = Diff({"kind": "policy", "path": "draft.yaml", "id": "x", "version": "sha256:0"})
    builder = ReportBuilder({"id": engine.policy.id, "version": engine.version,
                             "legal_tables": engine.tables.version, "path": "p.yaml"}, diff=diff,
                            about=about(engine))
    for i, processor in enumerate(["dpf-processor", "plain-processor", "plain-processor"]):
        builder.add(decide(engine, event(event_id=f"e-{i}", processor=processor)))
    builder.add(decide(engine, event(event_id=HOSTILE_ID, processor="plain-processor")))
    builder.add(engine.invalid(
        Invalid.of("wrong_value", "retention_days", "expected an integer", "bad-1")))
    for i in range(3):
        diff.add_baseline(decide(engine, event(event_id=f"e-{i}")))
    return builder.report(
        period={"from": "2026-03-01T00:00:00Z", "to": "2026-03-31T23:59:59Z",
                "grace_seconds": 0},
        sources=[{"kind": "file", "path": "in.jsonl", "sha256": "0" * 64, "gzip": False,
                  "lines": 5}],
        records_read=5,
    )


def test_json_is_sorted_and_byte_stable(report: dict[str, Any]) -> None:
    data = to_json(report)
    assert data.endswith(b"}\n")
    assert orjson.loads(data) == orjson.loads(orjson.dumps(report))
    again = orjson.loads(data)
    assert to_json(again) == data  # a report read back writes the same bytes
    assert list(orjson.loads(data)) == sorted(report)


def test_html_is_one_self_contained_page(report: dict[str, Any]) -> None:
    text = report_html.render(report)
    page = Page()
    page.feed(text)
    page.close()
    assert text.startswith("<!DOCTYPE html>")
    assert not page.errors
    assert page.stack == []
    assert not EXTERNAL & set(page.tags)
    assert not {"src", "href", "srcset", "action", "onload", "onclick"} & page.attributes
    assert page.tags.count("style") == 1
    assert "url(" not in "".join(page.styles)
    assert "@import" not in "".join(page.styles)
    assert page.tags.count("svg") >= 3  # verdicts, findings by rule, transfers by mechanism
    assert "<script" not in text
    visible = "".join(page.text)
    assert HOSTILE_ID in visible  # shown as text, escaped
    for heading in ("Scope", "Findings", "Register of cross-border transfers",
                    "Exceptions that applied", "Derogations used (Art. 49)",
                    "Differences from the baseline (what if)", "Integrity"):
        assert heading in visible
    assert report["integrity"]["head"] in visible


def test_html_depends_only_on_the_report(report: dict[str, Any]) -> None:
    assert report_html.render(report) == report_html.render(orjson.loads(to_json(report)))


def test_html_cuts_long_tables_and_points_to_the_csv() -> None:
    rows = [{"a": i} for i in range(report_html.MAX_ROWS + 3)]
    text = report_html.table([("a", "A")], rows, frozenset({"a"}), csv_name="x.csv")
    assert text.count("<tr>") == report_html.MAX_ROWS + 1
    assert f"first {report_html.MAX_ROWS:,} of {len(rows):,} rows" in text
    assert "x.csv" in text


def test_csv_tables_match_the_report(report: dict[str, Any], tmp_path: Path) -> None:
    written = write_report(report, tmp_path / "out", ["csv"])
    names = sorted(p.name for p in written)
    assert names == ["deadlines.csv", "derogations.csv", "differences.csv",
                     "differences_by_rule.csv", "exceptions.csv", "findings.csv", "invalid.csv",
                     "transfers.csv"]
    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO((tmp_path / "out" / name).read_text())))
    transfers = rows("transfers.csv")
    assert len(transfers) == len(report["transfers"])
    assert sum(int(r["events"]) for r in transfers) == 4
    findings = rows("findings.csv")
    assert [(r["rule"], int(r["findings"])) for r in findings] == [
        (r["rule"], r["findings"]) for r in report["findings"]["by_rule"]
    ]
    assert HOSTILE_ID in findings[0]["examples"]  # quoted, not broken by the comma-free id
    assert findings[0]["citation"] == report["findings"]["by_rule"][0]["citation"]["text"]
    assert findings[0]["citation_source"] == report["findings"]["by_rule"][0]["citation"]["source"]
    assert [r["event_id"] for r in rows("differences.csv")] == ["e-1", "e-2"]
    assert rows("invalid.csv") == [{"field": "retention_days", "events": "1"}]


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    text = csv_tables.render(("a", "b", "n"), [
        {"a": "=HYPERLINK(\"http://x\")", "b": ["@SUM(1)", "ok"], "n": 3},
        {"a": "plain", "b": "-1+2", "n": 0},
    ])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "'@SUM(1) ok", "3"]
    assert rows[2] == ["plain", "'-1+2", "0"]


def test_formats_choose_files(report: dict[str, Any], tmp_path: Path) -> None:
    written = write_report(report, tmp_path, ["json"])
    assert [p.name for p in written] == ["report.json"]
    written = write_report(report, tmp_path / "h", ["html"])
    assert [p.name for p in written] == ["report.html"]


@pytest.fixture(scope="module")
def natterbox_page() -> tuple[dict[str, Any], str]:
    """The page of a Natterbox replay whose --now closed retention deadlines."""
    engine = Engine(load_policy(NATTERBOX))
    builder = ReportBuilder({"id": engine.policy.id, "version": engine.version,
                             "legal_tables": engine.tables.version, "path": "natterbox.yaml"},
                            about=about(engine))
    lines = NATTERBOX_EVENTS.read_bytes().splitlines()[:600]
    records = (Record(raw, 0, n) for n, raw in enumerate(lines, 1))
    for decision in decide_records(engine, records, now=parse_time("2027-06-01T00:00:00Z")):
        builder.add(decision)
    report = builder.report(period={"from": None, "to": None, "grace_seconds": 0},
                            sources=[{"kind": "file", "path": "natterbox.jsonl",
                                      "sha256": "1" * 64, "gzip": False, "lines": 600}],
                            records_read=600, closed_at="2027-06-01T00:00:00Z")
    return report, report_html.render(report)


def _cards(text: str) -> dict[str, int]:
    return {label: int(n.replace(",", "")) for n, label in
            re.findall(r'<div class="card"><b>([0-9,]+)</b>([^<]+)</div>', text)}


def test_headline_cards_reconcile_with_deadlines_apart(
    natterbox_page: tuple[dict[str, Any], str],
) -> None:
    report, text = natterbox_page
    cards = _cards(text)
    assert cards["events"] == cards["allow"] + cards["violation"] + cards["invalid"] == 600
    assert cards["deadline decisions (not events)"] == report["scope"]["deadline_decisions"] > 0


def test_each_finding_group_quotes_its_rule_citation(
    natterbox_page: tuple[dict[str, Any], str],
) -> None:
    report, text = natterbox_page
    groups = report["findings"]["by_rule"] + report["deadlines"]["by_rule"]
    assert groups
    for group in groups:
        assert f"<blockquote>“{escape(group['citation']['text'])}”</blockquote>" in text


def test_register_explains_none_and_unrestricted_in_words(
    natterbox_page: tuple[dict[str, Any], str],
) -> None:
    _report, text = natterbox_page
    legend = text[text.index('<dl class="legend">'):text.index("</dl>")]
    assert "<dt>unrestricted</dt><dd>Chapter V does not restrict this flow" in legend
    assert "<dt>none</dt><dd>No lawful basis" in legend
    assert "<dt>regime none</dt>" in legend


def test_attestation_block_with_signature_lines(natterbox_page: tuple[dict[str, Any], str]
                                                ) -> None:
    report, text = natterbox_page
    block = text[text.index('<section id="attestation"'):]
    page = Page()
    page.feed(block)
    visible = "".join(page.text)
    for label in ("controller", "period", "inputs", "policy version (content hash)",
                  "legal tables", "chain head", "to verify", "Name", "Date", "Signature"):
        assert label in visible
    assert "Natterbox" in visible
    assert report["integrity"]["head"] in visible
    assert "auditor replay --verify REPORT_DIR" in visible
    assert "1" * 64 in visible  # the input's SHA-256
    assert block.count('<div class="line"></div>') == 4


def test_print_stylesheet_is_a4_with_page_breaks_and_repeated_headings(
    natterbox_page: tuple[dict[str, Any], str],
) -> None:
    _report, text = natterbox_page
    css = text[text.index("<style>"):text.index("</style>")]
    print_css = css[css.index("@media print{"):]
    assert "@page{size:A4" in print_css
    assert "section.page{break-before:page}" in print_css
    assert "thead{display:table-header-group}" in print_css
    assert ".attestation{break-inside:avoid" in print_css
    # Sections after the first page start one; the headline, scope and verdicts share it.
    starts = re.findall(r'<section id="([a-z]+)"( class="page")?>', text)
    assert [s for s, page in starts if page] == [
        "flowmap", "findings", "deadlines", "transfers", "declared", "exceptions",
        "differences", "attestation"]
    assert text.count("<thead>") == text.count("<table><thead>")
    for interactive in ("<script", "<button", "<details", "<form"):
        assert interactive not in text
    # The flow map's colour switch (two radio buttons, no script) is not printed.
    assert text.count("<input") == 2
    assert "@media print{.fm>input,.fm>label{display:none}}" in css
