"""`auditor replay` from files as a user runs it: reports, determinism, what-if, errors."""

from __future__ import annotations

import gzip
import shutil
import socket
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from auditor import schemas
from auditor.cli.replay_cmd import replay
from auditor.engine import Decider, Engine, decide_all
from auditor.policy import load_policy
from auditor.report import SCHEMA, HashChain
from tests.lines import raw_lines
from tests.unit.helpers import EXAMPLE_POLICY, ROOT

NATTERBOX = ROOT / "policies" / "natterbox.yaml"
NATTERBOX_EVENTS = ROOT / "examples" / "natterbox.jsonl"
SAMPLE_EXPECTED = orjson.loads(NATTERBOX_EVENTS.with_name("natterbox.expected.json").read_bytes())
GDPR_EVENTS = ROOT / "examples" / "gdpr-transfers.jsonl"
CHANGED_RULE = "natterbox.operational-logs-30-days"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(replay, [str(a) for a in args], catch_exceptions=False)


def report_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((out / "report.json").read_bytes())
    return data


def test_file_replay_writes_the_three_formats_and_exits_0_despite_violations(
    tmp_path: Path,
) -> None:
    out = tmp_path / "report"
    result = run("--policy", NATTERBOX, NATTERBOX_EVENTS, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "basis_differs.csv",
        "deadlines.csv",
        "declared_flows.csv",
        "derogations.csv",
        "exceptions.csv",
        "findings.csv",
        "invalid.csv",
        "report.html",
        "report.json",
        "transfers.csv",
        "undeclared_flows.csv",
    ]
    report = report_of(out)
    schemas.validator(SCHEMA).validate(report)
    v = SAMPLE_EXPECTED["verdicts"]
    assert report["verdicts"] == {
        "allow": v["allow"],
        "violation": v["violation"],
        "invalid": v["invalid"],
    }
    assert report["scope"]["sources"][0]["lines"] == 2000
    assert report["integrity"]["head"] in result.stdout
    assert (
        f"events 2,000: allow {v['allow']:,}, violation {v['violation']:,}, "
        f"invalid {v['invalid']:,}"
    ) in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_same_inputs_and_policy_give_byte_identical_reports(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        result = run(
            "--policy",
            NATTERBOX,
            NATTERBOX_EVENTS,
            "--out",
            tmp_path / name,
            "--now",
            "2027-01-01T00:00:00Z",
        )
        assert result.exit_code == 0, result.output
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) == 11  # natterbox declares its flows: three more CSV tables


def test_chain_and_counts_match_auditor_check_over_concatenated_and_gzip_files(
    tmp_path: Path,
) -> None:
    lines = NATTERBOX_EVENTS.read_bytes().splitlines(keepends=True)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl.gz"
    first.write_bytes(b"".join(lines[:700]) + b"\n\nnot json\n")
    second.write_bytes(gzip.compress(b"".join(lines[700:])))
    result = run("--policy", NATTERBOX, first, second, "--out", tmp_path / "r", "--format", "json")
    assert result.exit_code == 0, result.output
    report = report_of(tmp_path / "r")
    whole = tmp_path / "whole.jsonl"
    whole.write_bytes(b"".join(lines[:700]) + b"not json\n" + b"".join(lines[700:]))
    expected = list(decide_all(Decider(Engine(load_policy(NATTERBOX))), raw_lines(whole)))
    assert report["scope"]["events"] == len(expected) == 2001
    assert report["verdicts"]["invalid"] == SAMPLE_EXPECTED["verdicts"]["invalid"] + 1
    assert [s["gzip"] for s in report["scope"]["sources"]] == [False, True]
    assert [s["lines"] for s in report["scope"]["sources"]] == [701, 1300]
    # The same decisions in the same order: the same chain as `auditor check` output.
    chain = HashChain()
    for d in expected:
        chain.add(orjson.loads(d.to_json()))
    assert report["integrity"]["head"] == chain.head


def _draft(tmp_path: Path) -> Path:
    """A what-if draft of the Natterbox pack: the 30-day log rule only warns."""
    text = NATTERBOX.read_text()
    anchor = f"  - id: {CHANGED_RULE}\n"
    head, tail = text.split(anchor)
    assert "    effect: deny\n" in tail.split("  - id:")[0]
    tail = tail.replace("    effect: deny\n", "    effect: warn\n", 1)
    draft = tmp_path / "natterbox-draft.yaml"
    draft.write_text(head + anchor + tail)
    # The pack's include, beside the draft as beside the pack.
    shutil.copy(NATTERBOX.with_name("natterbox.declared.yaml"), tmp_path)
    return draft


def test_what_if_finds_exactly_the_events_the_changed_rule_affects(tmp_path: Path) -> None:
    draft = _draft(tmp_path)
    out = tmp_path / "whatif"
    result = run("--policy", draft, "--baseline-policy", NATTERBOX, NATTERBOX_EVENTS, "--out", out)
    assert result.exit_code == 0, result.output
    diff = report_of(out)["differences"]
    current = list(decide_all(Decider(Engine(load_policy(NATTERBOX))), raw_lines(NATTERBOX_EVENTS)))
    fired = [d for d in current if any(f.rule == CHANGED_RULE for f in d.findings)]
    only_deny = [
        d.event_id
        for d in fired
        if [f.rule for f in d.findings if f.effect == "deny"] == [CHANGED_RULE]
    ]
    n = len(fired)
    assert n > 0
    assert [e["event_id"] for e in diff["events"]] == [d.event_id for d in fired]
    assert all(e["removed_rules"] == [CHANGED_RULE] for e in diff["events"])
    assert all(e["added_rules"] == [f"{CHANGED_RULE}[warn]"] for e in diff["events"])
    assert diff["by_rule"] == [
        {"rule": CHANGED_RULE, "added": 0, "removed": n},
        {"rule": f"{CHANGED_RULE}[warn]", "added": n, "removed": 0},
    ]
    flipped = [e["event_id"] for e in diff["events"] if e["replay_verdict"] == "allow"]
    assert flipped == only_deny
    assert diff["verdict_changes"] == [
        {"from": "violation", "to": "allow", "events": len(only_deny)}
    ]
    assert diff["events_compared"] == 2000 - SAMPLE_EXPECTED["verdicts"][
        "invalid"
    ] + sum(  # invalid lines without a readable id
        1 for d in current if d.verdict == "invalid" and d.event_id is not None
    )
    assert diff["baseline"]["kind"] == "policy"
    assert f"differences from the baseline: {n} events changed" in result.stdout
    rows = (out / "differences.csv").read_text().splitlines()
    assert len(rows) == n + 1


def test_same_policy_as_baseline_changes_nothing(tmp_path: Path) -> None:
    result = run(
        "--policy",
        EXAMPLE_POLICY,
        "--baseline-policy",
        EXAMPLE_POLICY,
        GDPR_EVENTS,
        "--out",
        tmp_path,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    diff = report_of(tmp_path)["differences"]
    assert diff["changed"] == 0
    assert diff["events"] == []
    assert diff["not_in_baseline"] == 0


def test_generated_at_is_only_what_is_given(tmp_path: Path) -> None:
    run("--policy", EXAMPLE_POLICY, GDPR_EVENTS, "--out", tmp_path / "a", "--format", "json")
    assert report_of(tmp_path / "a")["generated_at"] is None
    run(
        "--policy",
        EXAMPLE_POLICY,
        GDPR_EVENTS,
        "--out",
        tmp_path / "b",
        "--format",
        "json",
        "--generated-at",
        "2026-04-01T10:00:00Z",
    )
    assert report_of(tmp_path / "b")["generated_at"] == "2026-04-01T10:00:00Z"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a source: --topic TOPIC, or one or more JSONL files"),
        (("--topic", "t", str(GDPR_EVENTS)), "give either --topic or files, not both"),
        (
            (str(GDPR_EVENTS), "--from", "2026-03-01T00:00:00Z"),
            "--from select records of a topic: add --topic",
        ),
        (("--topic", "t", "--from", "yesterday"), "--from: 'yesterday' is not an RFC 3339"),
        (
            ("--topic", "t", "--to", "2026-03-01T00:00:00Z", "--from", "2026-03-02T00:00:00Z"),
            "is after --to",
        ),
        (("--topic", "t", "--grace", "5m"), "--grace only applies with --from"),
        (
            (str(GDPR_EVENTS), "--live-decisions", "d", "--baseline-policy", str(EXAMPLE_POLICY)),
            "give one baseline",
        ),
        ((str(GDPR_EVENTS), "--now", "soon"), "'soon' is not an RFC 3339 date-time"),
        ((str(GDPR_EVENTS), "--format", "pdf"), "'pdf' is not one of"),
    ],
)
def test_usage_errors_exit_2_with_a_message(args: tuple[str, ...], message: str) -> None:
    result = run("--policy", EXAMPLE_POLICY, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_policy_that_fails_to_load_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nrules: [1]\n")
    for policy in (broken, tmp_path / "missing.yaml"):
        result = run("--policy", policy, GDPR_EVENTS, "--out", tmp_path / "r")
        assert result.exit_code == 2
        assert str(policy) in result.output
        assert not (tmp_path / "r").exists()
    result = run("--policy", EXAMPLE_POLICY, "--baseline-policy", broken, GDPR_EVENTS)
    assert result.exit_code == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("problem", ["missing", "corrupt-gzip", "no-broker"])
def test_a_source_that_cannot_be_read_exits_1_without_traceback(
    tmp_path: Path, problem: str
) -> None:
    if problem == "missing":
        args: list[str | Path] = [tmp_path / "nope.jsonl"]
        message = "no such events file"
    elif problem == "corrupt-gzip":
        bad = tmp_path / "bad.jsonl.gz"
        bad.write_bytes(gzip.compress(GDPR_EVENTS.read_bytes())[:300])
        args, message = [bad], "cannot read"
    else:
        args = [
            "--topic",
            "lineage.events",
            "--bootstrap-servers",
            f"127.0.0.1:{_free_port()}",
            "--timeout",
            "1",
        ]
        message = "did not answer"
    result = run("--policy", EXAMPLE_POLICY, *args, "--out", tmp_path / "r")
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_an_unwritable_output_exits_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("--policy", EXAMPLE_POLICY, GDPR_EVENTS, "--out", blocker / "sub")
    assert result.exit_code == 1
    assert "cannot write the report" in result.stderr
