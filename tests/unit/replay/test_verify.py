"""`auditor replay --verify REPORT_DIR`: the attested chain head, recomputed from the inputs."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from auditor.cli.replay_cmd import replay
from tests.unit.helpers import ROOT

NATTERBOX = ROOT / "policies" / "natterbox.yaml"
NATTERBOX_EVENTS = ROOT / "examples" / "natterbox.jsonl"
NOW = "2027-06-01T00:00:00Z"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(replay, [str(a) for a in args], catch_exceptions=False)


def report_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((out / "report.json").read_bytes())
    return data


@pytest.fixture
def replayed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A report of a copy of the Natterbox sample (first 400 lines, one file gzipped) and
    a copy of its pack, so that the test can change them."""
    lines = NATTERBOX_EVENTS.read_bytes().splitlines(keepends=True)[:400]
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(lines[:250]))
    more = tmp_path / "more.jsonl.gz"
    more.write_bytes(gzip.compress(b"".join(lines[250:])))
    policy = tmp_path / "natterbox.yaml"
    shutil.copy(NATTERBOX, policy)
    shutil.copy(NATTERBOX.with_name("natterbox.declared.yaml"), tmp_path)  # its include
    out = tmp_path / "report"
    result = run("--policy", policy, events, more, "--now", NOW, "--out", out)
    assert result.exit_code == 0, result.output
    return out, events, policy


def test_a_report_verifies_and_the_attestation_names_the_command(
    replayed: tuple[Path, Path, Path],
) -> None:
    out, _events, _policy = replayed
    report = report_of(out)
    assert report["attestation"]["verify"]["command"] == "auditor replay --verify REPORT_DIR"
    assert report["scope"]["deadline_decisions"] > 0  # --now is part of what is verified
    result = run("--verify", out)
    assert result.exit_code == 0, result.output
    assert f"gives {report['integrity']['head']} again" in result.output
    assert "verified" in result.output


def test_a_changed_input_is_not_verified(replayed: tuple[Path, Path, Path]) -> None:
    out, events, _policy = replayed
    lines = events.read_bytes().splitlines(keepends=True)
    events.write_bytes(b"".join(lines[:-1]))  # one event less
    result = run("--verify", out)
    assert result.exit_code == 1
    assert "NOT VERIFIED" in result.output
    assert f"input {events} changed" in result.output
    assert "chain head" in result.output


def test_a_changed_policy_is_not_verified(replayed: tuple[Path, Path, Path]) -> None:
    out, _events, policy = replayed
    text = policy.read_text()
    policy.write_text(text.replace("max_days: 30", "max_days: 31", 1))
    result = run("--verify", out)
    assert result.exit_code == 1
    assert f"policy {policy} is now sha256:" in result.output


def test_a_report_whose_head_was_edited_is_not_verified(
    replayed: tuple[Path, Path, Path],
) -> None:
    out, _events, _policy = replayed
    report = report_of(out)
    report["integrity"]["head"] = "0" * 64
    report["verdicts"]["violation"] -= 1
    (out / "report.json").write_bytes(orjson.dumps(report))
    result = run("--verify", out)
    assert result.exit_code == 1
    assert "the report has " + "0" * 64 in result.output
    assert "verdicts" in result.output


def test_verify_takes_nothing_else_and_needs_a_report(tmp_path: Path) -> None:
    result = run("--verify", tmp_path, "--policy", NATTERBOX)
    assert result.exit_code == 2
    assert "--verify takes what it needs from the report: drop --policy" in result.output
    result = run("--verify", tmp_path, "--out", tmp_path / "x")
    assert result.exit_code == 2
    assert "drop --out" in result.output
    result = run("--verify", tmp_path)
    assert result.exit_code == 1
    assert "cannot read" in result.stderr
    (tmp_path / "report.json").write_text('{"report": "something else"}')
    result = run("--verify", tmp_path)
    assert result.exit_code == 1
    assert "is not an audit report" in result.stderr
    assert "Traceback" not in result.output
    result = run(NATTERBOX_EVENTS)
    assert result.exit_code == 2
    assert "Missing option '--policy'" in result.output
