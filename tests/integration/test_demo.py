"""`auditor demo` run non-interactively to completion, leaving no process behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.engine import Decider, Engine, decide_all
from auditor.policy import load_policy
from auditor.tally import Tally
from tests.integration.conftest import ROOT

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose; /proc tells the state.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_demo_runs_to_completion_and_cleans_up() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "auditor", "demo", "--no-live", "--events", "400", "--rate", "0",
         "--pack", "natterbox"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    # The first 400 events of the shipped sample, decided by the worker through Kafka,
    # counted as `auditor check` counts them.
    engine = Engine(load_policy(ROOT / "policies" / "natterbox.yaml"))
    lines = (ROOT / "examples" / "natterbox.jsonl").read_bytes().splitlines()[:400]
    tally = Tally()
    for decision in decide_all(Decider(engine), lines):
        tally.add(decision)
    v = tally.verdicts
    expected = f"events: 400  allow: {v['allow']}  violation: {v['violation']}  " \
        f"invalid: {v['invalid']}"
    assert expected in out, out
    assert "produce->decision latency" in out
    # The worker's log is in a directory of this run (two demos never share one).
    (log,) = re.findall(r"log (\S+/worker\.log)\)", out)
    assert Path(log).parent.name.startswith("auditor-demo-"), log
    assert "auditor worker demo-worker" in Path(log).read_text()
    pids = [int(p) for p in re.findall(r"\(pid (\d+)", out)]
    assert len(pids) == 2  # the broker and the worker
    assert not any(_alive(pid) for pid in pids)


def test_each_demo_run_gets_its_own_directory() -> None:
    from auditor.demo import run_directory

    first, second = run_directory(), run_directory()
    try:
        assert first != second
        assert first.is_dir()
        assert second.is_dir()
    finally:
        first.rmdir()
        second.rmdir()
