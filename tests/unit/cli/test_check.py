"""`auditor check`, `explain` and `policy validate/test` as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from auditor import schemas
from auditor.cli import main
from auditor.engine import Engine
from tests.unit.helpers import EXAMPLE_POLICY, ROOT, event

LINES = [
    orjson.dumps(event(event_id="ok", processor="dpf-processor")),
    b"",
    orjson.dumps(event(event_id="bad", processor="plain-processor")),
    b"not json at all",
    b'{"event_id": "half"',
    b"\xff\xfe\x00garbage",
    orjson.dumps(event(event_id="late", retention_days="forever")),
    orjson.dumps([1, 2, 3]),
]


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    return path


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_jsonl_one_valid_decision_per_nonblank_line_in_order(events_file: Path) -> None:
    result = run("check", "--policy", str(EXAMPLE_POLICY), str(events_file))
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    records = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 7
    validator = schemas.validator(schemas.DECISION)
    for record in records:
        validator.validate(record)
    assert [(r["event_id"], r["verdict"]) for r in records] == [
        ("ok", "allow"),
        ("bad", "violation"),
        (None, "invalid"),
        (None, "invalid"),
        (None, "invalid"),
        ("late", "invalid"),
        (None, "invalid"),
    ]
    assert records[0]["event"]["processor"] == "dpf-processor"
    assert records[5]["findings"][0]["message"].startswith("retention_days: expected an integer")


def test_stdin_and_exit_zero_when_all_allowed() -> None:
    result = run(
        "check",
        "--policy",
        str(EXAMPLE_POLICY),
        "-",
        stdin=orjson.dumps(event(processor="dpf-processor")) + b"\n",
    )
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["verdict"] == "allow"


def test_summary_and_table_formats(events_file: Path) -> None:
    runner = CliRunner()
    summary = runner.invoke(
        main, ["check", "--policy", str(EXAMPLE_POLICY), str(events_file), "--format", "summary"]
    )
    assert summary.exit_code == 1
    assert "events: 7  allow: 1  violation: 1  invalid: 5" in summary.output
    assert "gdpr.chapter-v" in summary.output
    table = runner.invoke(
        main, ["check", "--policy", str(EXAMPLE_POLICY), str(events_file), "--format", "table"]
    )
    assert table.exit_code == 1
    assert "no lawful transfer mechanism" in table.output


def test_summary_counts_deadline_decisions_apart_from_events(tmp_path: Path) -> None:
    # Spec §2: an erasure deadline that passes is a decision of its own, not an event.
    erasure = (ROOT / "policies" / "24calldesk.yaml")
    base = {"event_time": "2026-03-02T09:00:00Z", "tenant": {"id": "t"},
            "data_class": "call_recording", "origin": {"location": "aws:us-east-1"},
            "destination": {"location": "aws:us-east-1"}, "subject": {"key": "caller-1"},
            "encryption": {"in_transit": "tls1.3", "at_rest": "aes-256"}}
    lines = [
        {**base, "event_id": "stored", "operation": "store", "retention_days": 90},
        {**base, "event_id": "forget", "operation": "erasure_request",
         "event_time": "2026-03-03T09:00:00Z"},
    ]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    result = CliRunner().invoke(main, ["check", "--policy", str(erasure), str(path),
                                       "--format", "summary", "--now", "2026-06-01T00:00:00Z"])
    assert "events: 2  allow: 2  violation: 0  invalid: 0" in result.output
    assert "deadline decisions: 1  violation: 1" in result.output  # the erasure deadline
    assert "24calldesk.erasure-30-days" in result.output
    assert result.exit_code == 1  # a deadline violation is still a violation


def test_bad_policy_exits_2_naming_file_and_line(tmp_path: Path, events_file: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("apiVersion: auditor/v1\nid: p\ncompany: {country: DE}\nrules: 3\n")
    result = run("check", "--policy", str(policy), str(events_file))
    assert result.returncode == 2
    assert result.stdout == b""
    assert f"{policy}:4".encode() in result.stderr
    assert b"Traceback" not in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("check", str(tmp_path)).returncode == 2  # no --policy
    missing = run("check", "--policy", str(EXAMPLE_POLICY), str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2
    assert b"no such events file" in missing.stderr
    assert b"Traceback" not in missing.stderr


def test_gzip_input(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(gzip.compress(orjson.dumps(event(processor="dpf-processor")) + b"\n"))
    result = CliRunner().invoke(main, ["check", "--policy", str(EXAMPLE_POLICY), str(path)])
    assert result.exit_code == 0
    assert '"verdict":"allow"' in result.output


def test_explain_shows_rules_for_selected_event(events_file: Path) -> None:
    result = CliRunner().invoke(
        main, ["explain", "--policy", str(EXAMPLE_POLICY), str(events_file), "--event-id", "bad"]
    )
    assert result.exit_code == 0
    assert "transfer: eu_gdpr DE->US: none" in result.output
    assert "DENY  gdpr.chapter-v [transfer]" in result.output
    assert "event ok" not in result.output


def test_policy_validate(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["policy", "validate", str(EXAMPLE_POLICY)])
    assert ok.exit_code == 0
    assert "policy gdpr-transfers, 1 rules" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [\n")
    failed = runner.invoke(main, ["policy", "validate", str(EXAMPLE_POLICY), str(bad)])
    assert failed.exit_code == 1
    assert "not valid YAML" in failed.output


def test_the_readmes_validate_command_passes_with_suites_and_included_files() -> None:
    # `auditor policy validate policies/*.yaml`: the glob takes suites and the files the
    # packs include (`*.declared.yaml`) as well as the packs.
    files = sorted(str(p) for p in (ROOT / "policies").glob("*.yaml"))
    assert any(f.endswith(".declared.yaml") for f in files)
    result = CliRunner().invoke(main, ["policy", "validate", *files])
    assert result.exit_code == 0, result.output
    declared = str(ROOT / "policies" / "natterbox.declared.yaml")
    assert (f"ok   {declared}: included by {ROOT / 'policies' / 'natterbox.yaml'} "
            "(checked as part of it)") in result.output


def test_an_included_file_given_alone_is_still_checked_as_a_pack() -> None:
    declared = str(ROOT / "policies" / "natterbox.declared.yaml")
    result = CliRunner().invoke(main, ["policy", "validate", declared])
    assert result.exit_code == 1
    assert "the policy needs an id" in result.output


def test_policy_test_reports_failures(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_bytes(EXAMPLE_POLICY.read_bytes())
    (tmp_path / "p.tests.yaml").write_text("""policy: p.yaml
defaults: {event_time: "2026-03-02T09:00:00Z", data_class: personal_data, operation: transfer,
           origin: {location: aws:eu-central-1}}
cases:
  - name: right
    event: {destination: {location: aws:us-east-1}, processor: plain-processor}
    expect: {verdict: violation, findings: [transfer]}
  - name: wrong on purpose
    event: {destination: {location: aws:us-east-1}, processor: dpf-processor}
    expect: {verdict: violation, findings: [transfer]}
""")
    result = CliRunner().invoke(main, ["policy", "test", str(tmp_path)])
    assert result.exit_code == 1
    assert "1 passed, 1 failed" in result.output
    assert "wrong on purpose" in result.output
    assert "verdict allow, expected violation" in result.output


def test_check_decides_an_openlineage_run_event_as_the_worker_does(tmp_path: Path) -> None:
    run_event = (ROOT / "schemas" / "openlineage" / "example-run-event.json").read_bytes()
    path = tmp_path / "ol.jsonl"
    path.write_bytes(orjson.dumps(orjson.loads(run_event)) + b"\n")
    result = CliRunner().invoke(main, ["check", "--policy", str(EXAMPLE_POLICY), str(path)])
    record = orjson.loads(result.output)
    assert record["verdict"] == "allow", record
    assert record["event_id"].endswith(":COMPLETE")


def test_the_size_limit_setting_reaches_check(tmp_path: Path) -> None:
    big = event(event_id="big", processor="dpf-processor", labels={"blob": "x" * 1_500_000})
    path = tmp_path / "big.jsonl"
    path.write_bytes(orjson.dumps(big) + b"\n")
    args = ["check", "--policy", str(EXAMPLE_POLICY), str(path)]
    refused = orjson.loads(CliRunner().invoke(main, args).output)
    assert refused["verdict"] == "invalid"
    assert "over the 1048576-byte limit" in refused["findings"][0]["message"]
    raised = CliRunner().invoke(main, args, env={"AUDITOR_MAX_EVENT_BYTES": "4000000"})
    assert orjson.loads(raised.output)["verdict"] == "allow"


def test_explain_says_when_an_event_id_is_not_in_the_input(events_file: Path) -> None:
    result = CliRunner().invoke(
        main, ["explain", "--policy", str(EXAMPLE_POLICY), str(events_file), "--event-id", "nope"]
    )
    assert result.exit_code == 1
    assert "no event with id 'nope'" in result.output


def test_summary_counts_events_apart_from_deadlines_and_never_cuts_rule_names() -> None:
    import io

    from rich.console import Console

    from auditor.cli.check_cmd import print_summary
    from auditor.engine import Decider, decide_all
    from auditor.events.validate import parse_time
    from auditor.policy import load_policy
    from auditor.tally import Tally
    from tests.lines import raw_lines

    engine = Engine(load_policy(ROOT / "policies" / "natterbox.yaml"))
    tally = Tally()
    lines = raw_lines(ROOT / "examples" / "natterbox.jsonl")
    for d in decide_all(Decider(engine), lines, parse_time("2027-01-01T00:00:00Z")):
        tally.add(d)
    out = io.StringIO()
    print_summary(tally, Console(file=out, width=80), "natterbox")
    text = out.getvalue()
    v = tally.verdicts
    assert v["allow"] + v["violation"] + v["invalid"] == len(lines) == tally.events
    assert (f"events: {len(lines)}  allow: {v['allow']}  violation: {v['violation']}  "
            f"invalid: {v['invalid']}") in text
    assert f"deadline decisions: {tally.deadlines.decisions}" in text
    assert tally.deadlines.decisions > 0
    for rule, *_ in (*tally.by_rule, *tally.deadlines.by_rule):
        assert f"  {rule}  " in text, rule  # whole, on its own line, at 80 columns
    assert "…" not in text
    for examples in (*tally.examples.values(), *tally.deadlines.examples.values()):
        assert len(examples) == len(set(examples))


def test_a_shipped_pack_is_named_from_any_directory(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_bytes((ROOT / "examples" / "natterbox.jsonl").read_bytes())
    result = subprocess.run(
        [sys.executable, "-m", "auditor", "check", "--policy", "natterbox", str(events),
         "--format", "summary"],
        cwd=tmp_path, capture_output=True, timeout=60, check=False,
    )
    expected = orjson.loads((ROOT / "examples" / "natterbox.expected.json").read_bytes())
    v = expected["verdicts"]
    assert (f"events: 2000  allow: {v['allow']}  violation: {v['violation']}  "
            f"invalid: {v['invalid']}").encode() in result.stdout, result.stderr
    unknown = run("check", "--policy", "natterbx", str(events))
    assert unknown.returncode == 2
    assert b"no shipped pack of that name (shipped: 24calldesk, clevercall" in unknown.stderr
    help_text = subprocess.run([sys.executable, "-m", "auditor", "worker", "--help"],
                               capture_output=True, timeout=60, check=False).stdout
    assert b"default: natterbox" in help_text
