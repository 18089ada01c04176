"""The report model: counts equal `auditor check`'s, the register, the hash chain, the schema."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor import schemas
from auditor.engine import Decider, Decision, Engine, decide_all
from auditor.events.validate import parse_time
from auditor.policy import load_policy
from auditor.replay.records import Record
from auditor.replay.run import decide_records
from auditor.report import SCHEMA, Diff, HashChain, ReportBuilder, canonical
from auditor.report.about import about
from auditor.tally import Tally
from tests.lines import numbered_lines, raw_lines
from tests.unit.helpers import EXAMPLE_POLICY, ROOT, decide, event

NATTERBOX = ROOT / "policies" / "natterbox.yaml"
NATTERBOX_EVENTS = ROOT / "examples" / "natterbox.jsonl"
NOW = "2027-06-01T00:00:00Z"


def build(policy: Path, path: Path, now: str | None = None) -> tuple[dict[str, Any], Engine]:
    engine = Engine(load_policy(policy))
    builder = ReportBuilder({"id": engine.policy.id, "version": engine.version,
                             "legal_tables": engine.tables.version, "path": str(policy)},
                            about=about(engine))
    records = (Record(raw, 0, n) for n, raw in numbered_lines(path))
    for decision in decide_records(engine, records,
                                   now=parse_time(now) if now else None):
        builder.add(decision)
    report = builder.report(period={"from": None, "to": None, "grace_seconds": 0},
                            sources=[], records_read=0, closed_at=now)
    return report, engine


def checked(policy: Path, path: Path, now: str | None = None) -> list[Decision]:
    engine = Engine(load_policy(policy))
    return list(decide_all(Decider(engine), raw_lines(path), parse_time(now) if now else None))


@pytest.fixture(scope="module")
def natterbox() -> tuple[dict[str, Any], list[Decision]]:
    report, _engine = build(NATTERBOX, NATTERBOX_EVENTS, NOW)
    return report, checked(NATTERBOX, NATTERBOX_EVENTS, NOW)


def test_counts_equal_those_of_auditor_check(
    natterbox: tuple[dict[str, Any], list[Decision]],
) -> None:
    report, checked_decisions = natterbox
    tally = Tally(max_examples=5)
    for d in checked_decisions:
        tally.add(d)
    scope = report["scope"]
    assert scope["decisions"] == tally.decisions == len(checked_decisions)
    assert tally.events == scope["events"] == sum(tally.verdicts.values())
    deadlines = sum(1 for d in checked_decisions if d.event is None and d.verdict != "invalid")
    assert scope["deadline_decisions"] == tally.deadlines.decisions == deadlines > 0
    assert scope["events"] == tally.events == 2000
    assert report["verdicts"] == {v: tally.verdicts[v] for v in ("allow", "violation", "invalid")}
    assert scope["invalid_events"] == tally.verdicts["invalid"] > 0
    by_rule = {(r["rule"], r["kind"], r["severity"], r["effect"]): r["findings"]
               for r in report["findings"]["by_rule"]}
    assert by_rule == dict(tally.by_rule)
    assert {r["rule"]: r["examples"] for r in report["findings"]["by_rule"]} == tally.examples
    overdue = {(r["rule"], r["kind"], r["severity"], r["effect"]): r["findings"]
               for r in report["deadlines"]["by_rule"]}
    assert overdue == dict(tally.deadlines.by_rule)
    assert {r["field"]: r["events"] for r in report["invalid"]} == dict(tally.invalid)
    transfers: Counter[tuple[str, str, str, str]] = Counter()
    for row in report["transfers"]:
        transfers[(row["regime"], row["mechanism"], row["origin_country"],
                   row["destination_country"])] += row["events"]
    assert transfers == tally.transfers
    denied = {k["kind"]: k["events_denied"] for k in report["findings"]["by_kind"]
              if k["events_denied"]}
    assert denied == dict(tally.by_kind)


def test_headline_numbers_reconcile_deadline_decisions_apart(
    natterbox: tuple[dict[str, Any], list[Decision]],
) -> None:
    # Spec §2: counts of events never mix deadline decisions (--now closed 300 here).
    report, checked_decisions = natterbox
    scope, verdicts, deadlines = report["scope"], report["verdicts"], report["deadlines"]
    assert sum(verdicts.values()) == scope["events"] == 2000
    assert scope["events"] + scope["deadline_decisions"] == scope["decisions"]
    assert deadlines["decisions"] == scope["deadline_decisions"] > 0
    assert deadlines["violations"] == sum(
        1 for d in checked_decisions if d.is_deadline and d.verdict == "violation"
    )
    assert sum(r["findings"] for r in deadlines["by_rule"]) == sum(
        len(d.findings) for d in checked_decisions if d.is_deadline
    )
    # No deadline finding is counted with the events' findings.
    assert not any(e.startswith("deadline:") for r in report["findings"]["by_rule"]
                   for e in r["examples"])
    denied_events = sum(1 for d in checked_decisions
                        if not d.is_deadline and d.verdict == "violation")
    assert verdicts["violation"] == denied_events


def test_every_finding_group_quotes_the_sentence_its_rule_cites(
    natterbox: tuple[dict[str, Any], list[Decision]],
) -> None:
    report, _ = natterbox
    rules = {r.id: r for r in Engine(load_policy(NATTERBOX)).rules}  # built-in ones too
    groups = report["findings"]["by_rule"] + report["deadlines"]["by_rule"]
    assert groups
    for group in groups:
        if group["rule"] == "auditor.unknown-reference":  # the engine's own: fails closed
            assert group["citation"]["source"].startswith("auditor")
            continue
        rule = rules[group["rule"]]
        assert group["citation"] == {"text": rule.citation, "source": rule.citation_source}
    ai = next(g for g in groups if g["rule"] == "natterbox.ai-supplier-encrypted-in-transit")
    assert ai["citation"]["text"] == "Data is always encrypted in transit and at rest."


def test_built_in_rules_cite_what_they_stand_for(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = [event(event_id="no-basis", processor="plain-processor"),
             event(event_id="unknown", processor="nobody")]
    events.write_bytes(b"\n".join(orjson.dumps(e) for e in lines) + b"\n")
    report, _ = build(EXAMPLE_POLICY, events)
    cited = {g["rule"]: g["citation"] for g in report["findings"]["by_rule"]}
    assert cited["auditor.unknown-reference"]["text"].startswith("An event that names")
    # The example pack's own transfer rule carries its own citation.
    assert cited["gdpr.chapter-v"]["text"]
    schemas.validator(SCHEMA).validate(report)


def test_attestation_names_controller_period_inputs_policy_and_chain(tmp_path: Path) -> None:
    report, engine = build(NATTERBOX, NATTERBOX_EVENTS, NOW)
    block = report["attestation"]
    assert block["controller"] == {"id": "natterbox", "name": engine.policy.company.name,
                                   "country": "GB"}
    assert block["period"]["event_time_first"] == report["scope"]["event_time"]["first"]
    assert block["period"]["deadlines_closed_at"] == NOW
    assert block["policy"]["version"] == engine.version
    assert block["policy"]["label"] == engine.policy.version
    assert block["legal_tables"] == engine.tables.version
    assert block["chain"] == {k: report["integrity"][k] for k in ("algorithm", "records", "head")}
    assert block["verify"]["command"].startswith("auditor replay --verify")


def test_register_rows_hold_event_time_span_and_processor(
    natterbox: tuple[dict[str, Any], list[Decision]],
) -> None:
    report, checked_decisions = natterbox
    row = report["transfers"][0]
    key = (row["data_class"], row["origin_country"], row["destination_country"],
           row["processor"], row["mechanism"])
    times = []
    for d in checked_decisions:
        t = d.transfer
        if t is None or d.event is None:
            continue
        e = d.event
        if (e["data_class"], t.from_country, t.to_country, e.get("processor", "natterbox"),
                t.mechanism) == key and t.instrument == row["instrument"]:
            times.append(e["event_time"])
    assert row["events"] == len(times)
    ordered = sorted(times, key=lambda s: parse_time(s) or 0)
    assert parse_time(row["first_seen"]) == pytest.approx(parse_time(ordered[0]), abs=1e-3)
    assert parse_time(row["last_seen"]) == pytest.approx(parse_time(ordered[-1]), abs=1e-3)


def test_report_validates_against_its_schema(
    natterbox: tuple[dict[str, Any], list[Decision]],
) -> None:
    report, _ = natterbox
    schemas.validator(SCHEMA).validate(report)
    schemas.validator(SCHEMA).validate(orjson.loads(orjson.dumps(report)))


def test_chain_is_sha256_over_canonical_decisions_in_order(
    natterbox: tuple[dict[str, Any], list[Decision]],
) -> None:
    report, checked_decisions = natterbox
    head = bytes(32)
    for d in checked_decisions:
        # What `auditor check` prints, re-serialised with sorted keys and no spaces.
        record = orjson.loads(d.to_json())
        data = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
        head = hashlib.sha256(head + data).digest()
    assert report["integrity"]["head"] == head.hex()
    assert report["integrity"]["records"] == len(checked_decisions)
    assert report["integrity"]["genesis"] == "0" * 64


def test_chain_definition() -> None:
    chain = HashChain()
    assert chain.head == "0" * 64
    chain.add({"b": 1, "a": [1.5, "é", None]})
    assert canonical({"b": 1, "a": [1.5, "é", None]}) == '{"a":[1.5,"é",null],"b":1}'.encode()
    first = hashlib.sha256(bytes(32) + b'{"a":[1.5,"\xc3\xa9",null],"b":1}').digest()
    assert chain.head == first.hex()
    chain.add({})
    assert chain.head == hashlib.sha256(first + b"{}").hexdigest()
    assert chain.records == 2


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), JSON, max_size=5))
def test_canonical_json_is_the_standard_library_form(record: dict[str, Any]) -> None:
    # The definition in docs/replay.md, which a verifier recomputes without this code.
    spec = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(record) == spec.encode("utf-8")
    assert canonical(record, floats=True) == spec.encode("utf-8")


def test_any_changed_decision_changes_the_chain() -> None:
    engine = Engine(load_policy(EXAMPLE_POLICY))
    heads = set()
    for processor in ("dpf-processor", "plain-processor"):
        builder = ReportBuilder({"id": "x"})
        builder.add(decide(engine, event(event_id="a")))
        builder.add(decide(engine, event(event_id="b", processor=processor)))
        heads.add(builder.chain.head)
    assert len(heads) == 2


def _exception_pack(tmp_path: Path) -> Path:
    text = EXAMPLE_POLICY.read_text()
    text += (
        "\nexceptions:\n"
        "  - id: EXC-7\n"
        "    rule: gdpr.chapter-v\n"
        "    when: {tenants: [acme]}\n"
        "    justification: contract being signed\n"
        "    approver: dpo@example.com\n"
        '    expires: "2027-01-01T00:00:00Z"\n'
    )
    path = tmp_path / "with-exception.yaml"
    path.write_text(text)
    return path


def test_exceptions_and_derogations_are_registered(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = [
        event(event_id="waived-1", processor="plain-processor",
              event_time="2026-03-02T09:00:00Z"),
        event(event_id="waived-2", processor="plain-processor",
              event_time="2026-03-01T09:00:00Z"),
        event(event_id="other-tenant", processor="plain-processor", tenant={"id": "zeta"}),
        event(event_id="consent", processor="plain-processor", derogation="explicit_consent",
              tenant={"id": "zeta"}),
    ]
    events.write_bytes(b"\n".join(orjson.dumps(e) for e in lines) + b"\n")
    report, _ = build(_exception_pack(tmp_path), events)
    assert report["exceptions"] == [
        {"id": "EXC-7", "rule": "gdpr.chapter-v", "events": 2, "violations": 0,
         "first_seen": "2026-03-01T09:00:00.000Z", "last_seen": "2026-03-02T09:00:00.000Z",
         "examples": ["waived-1", "waived-2"]}
    ]
    [derogation] = report["derogations"]
    assert derogation["derogation"] == "explicit_consent"
    assert derogation["instrument"].startswith("Art. 49(1)(a)")
    assert (derogation["origin_country"], derogation["destination_country"]) == ("DE", "US")
    assert derogation["examples"] == ["consent"]
    assert report["verdicts"]["violation"] == 1  # other-tenant: no basis, no waiver
    schemas.validator(SCHEMA).validate(report)


def test_diff_pairs_by_event_id_and_names_rule_changes() -> None:
    engine = Engine(load_policy(EXAMPLE_POLICY))
    diff = Diff({"kind": "live-decisions", "topic": "t"})
    ok = decide(engine, event(event_id="same"))
    bad = decide(engine, event(event_id="flip", processor="plain-processor"))
    for d in (ok, bad, decide(engine, event(event_id="new"))):
        diff.add_replayed(d)
    live_flip = orjson.loads(decide(engine, event(event_id="flip")).to_json())
    for record in (orjson.loads(ok.to_json()), live_flip, live_flip, [1], {"event_id": 3},
                   orjson.loads(decide(engine, event(event_id="elsewhere")).to_json())):
        diff.add_baseline_record(record)
    result = diff.result()
    assert result["events_compared"] == 2
    assert result["not_in_baseline"] == 1
    assert result["not_in_baseline_examples"] == ["new"]
    assert result["changed"] == result["verdict_changed"] == 1
    assert result["verdict_changes"] == [{"from": "allow", "to": "violation", "events": 1}]
    assert result["events"] == [
        {"event_id": "flip", "baseline_verdict": "allow", "replay_verdict": "violation",
         "added_rules": ["gdpr.chapter-v"], "removed_rules": []}
    ]
    assert result["by_rule"] == [{"rule": "gdpr.chapter-v", "added": 1, "removed": 0}]
    assert result["baseline"]["records_read"] == 6
    assert result["baseline"]["unreadable_records"] == 2
    assert result["baseline"]["policy_versions"] == [engine.version]
