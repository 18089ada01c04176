"""`auditor register`: the observed register as draft declarations a pack can include."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from auditor.cli.register_cmd import register
from auditor.engine import Decider, Engine, decide_all
from auditor.policy import load_policy
from tests.lines import raw_lines
from tests.unit.helpers import EXAMPLE_POLICY, ROOT, event

GDPR_EVENTS = ROOT / "examples" / "gdpr-transfers.jsonl"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(register, [str(a) for a in args], catch_exceptions=False)


def write_events(path: Path, *events: dict[str, object]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events) + b"not json\n")
    return path


def test_the_draft_names_each_flow_with_what_was_seen(tmp_path: Path) -> None:
    events = write_events(
        tmp_path / "e.jsonl",
        event(event_id="a", event_time="2026-03-02T09:00:00Z"),  # dpf-processor, to the US
        event(event_id="b", event_time="2026-03-02T10:00:00Z", operation="store",
              destination={"location": "aws:us-west-2"}),
        event(event_id="c", processor="plain-processor"),  # no lawful basis: a violation
        event(event_id="d", processor="eu-processor",
              destination={"location": "aws:eu-west-1"}),
        event(event_id="e", processor="nobody"),  # unknown: left out
    )
    result = run("--policy", EXAMPLE_POLICY, events, "--quiet")
    assert result.exit_code == 0, result.output
    draft = result.stdout
    head, body = draft.split("apiVersion: auditor/v1\n")
    assert f"# source: {events}: 6 records read" in head
    assert ("# events drafted: 4; left out: 1 invalid, 1 naming what the pack does not know, "
            "0 not personal or anonymised") in head
    assert body == """declared_flows:
  - id: observed.personal_data.dpf-processor.service_delivery
    description: "observed: 2 events (0 violations), 2026-03-02T09:00:00.000Z to \
2026-03-02T10:00:00.000Z"
    processors: [dpf-processor]
    data_classes: [personal_data]
    purposes: [service_delivery]
    operations: [store, transfer]
    destinations: ["country:US"]
    basis: [dpf]
  - id: observed.personal_data.eu-processor.service_delivery
    description: "observed: 1 event (0 violations), 2026-03-02T09:00:00.000Z to \
2026-03-02T09:00:00.000Z"
    processors: [eu-processor]
    data_classes: [personal_data]
    purposes: [service_delivery]
    operations: [transfer]
    destinations: ["country:IE"]
    basis: [intra_eea]
  - id: observed.personal_data.plain-processor.service_delivery
    description: "observed: 1 event (1 violation), 2026-03-02T09:00:00.000Z to \
2026-03-02T09:00:00.000Z"
    processors: [plain-processor]
    data_classes: [personal_data]
    purposes: [service_delivery]
    operations: [transfer]
    destinations: ["country:US"]
    # violations among these events: 1; see the findings before you declare them
    # events that crossed a border with no lawful basis (mechanism none): 1; declaring them \
does not make them lawful
"""
    assert "drafted 3 declarations from 4 events" in result.stderr


def test_a_pack_that_includes_its_draft_has_no_undeclared_flow_left(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(EXAMPLE_POLICY.read_text().replace(
        "id: gdpr-transfers\n", "id: gdpr-transfers\ninclude: [observed.yaml]\n", 1))
    result = run("--policy", EXAMPLE_POLICY, GDPR_EVENTS, "--by", "location", "--out",
                 tmp_path / "observed.yaml", "--quiet")
    assert result.exit_code == 0, result.output
    engine = Engine(load_policy(pack))
    assert engine.policy.declared_flows
    plain = Engine(load_policy(EXAMPLE_POLICY))
    with_draft = list(decide_all(Decider(engine), raw_lines(GDPR_EVENTS)))
    without = list(decide_all(Decider(plain), raw_lines(GDPR_EVENTS)))
    assert [d.verdict for d in with_draft] == [d.verdict for d in without]
    assert not [f for d in with_draft for f in d.findings if f.kind == "undeclared_flow"]
    # --by location names the places seen, not their countries
    assert '"aws:us-east-1"' in (tmp_path / "observed.yaml").read_text()


def test_undeclared_only_drafts_what_the_declarations_miss(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(EXAMPLE_POLICY.read_text() + """
declared_flows:
  - id: us-dpf
    processors: [dpf-processor]
    destinations: ["country:US"]
""")
    events = write_events(tmp_path / "e.jsonl", event(event_id="a"),
                          event(event_id="b", processor="scc-processor",
                                destination={"location": "aws:ap-south-1"}))
    result = run("--policy", pack, events, "--undeclared-only", "--id-prefix", "new", "--quiet")
    assert result.exit_code == 0, result.output
    assert "1 already declared" in result.stdout
    assert "  - id: new.personal_data.scc-processor.service_delivery" in result.stdout
    assert "dpf-processor" not in result.stdout.split("declared_flows:")[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a source: --topic TOPIC, or one or more JSONL files"),
        (("--from", "2026-01-01T00:00:00Z", "x.jsonl"), "--from select records of a topic"),
        (("--id-prefix", "bad prefix", "x.jsonl"), "'bad prefix' is not an id"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run("--policy", EXAMPLE_POLICY, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_missing_file_exits_1(tmp_path: Path) -> None:
    result = run("--policy", EXAMPLE_POLICY, tmp_path / "none.jsonl")
    assert result.exit_code == 1
    assert "no such events file" in result.output
