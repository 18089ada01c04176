"""Several decision processes per worker: the children's settings, signals, a child's crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from auditor.stream.processes import child_environment, process_count
from auditor.stream.settings import Settings

ROOT = Path(__file__).resolve().parents[3]

# A stand-in for `auditor worker`: says it started (pid and worker id), then waits; on
# SIGTERM it writes "stopped" and exits 0 — unless told to ignore it, or to crash.
CHILD = r"""
import os, signal, sys, time
out = sys.argv[1]
wid = os.environ["AUDITOR_WORKER_ID"]
def stop(signum, frame):
    open(os.path.join(out, wid + ".stopped"), "w").close()
    sys.exit(0)
if os.environ.get("FAKE_IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.signal(signal.SIGTERM, stop)
with open(os.path.join(out, wid + ".started"), "w") as f:
    f.write(str(os.getpid()))
if wid == os.environ.get("FAKE_CRASH"):
    time.sleep(0.5)
    sys.exit(3)
while True:
    time.sleep(0.1)
"""

PARENT = r"""
import sys
from auditor.stream.processes import Supervisor
from auditor.stream.settings import Settings
child = [sys.executable, "-c", sys.argv[1], sys.argv[2]]
sys.exit(Supervisor(Settings(worker_id="w"), 2, command=child, stop_timeout_s=2).run())
"""


def test_children_get_every_setting_and_their_own_id_and_port(tmp_path: Path) -> None:
    settings = Settings(
        policy="clevercall", bootstrap_servers="k1:9092,k2:9092", group_id="g",
        input_topics=("a", "b"), policy_roots=(tmp_path,), worker_id="w", metrics_port=9500,
        fetch_max_wait_ms=50, create_topics=False, security_protocol="SASL_SSL",
        sasl_mechanism="PLAIN", sasl_username="u", sasl_password=SecretStr("p w"),
        processes=3,
    )
    base = {"PATH": "/bin", "AUDITOR_GROUP_ID": "stale", "AUDITOR_NO_SUCH": "x"}
    env = child_environment(settings, 2, base)
    assert env["PATH"] == "/bin"
    assert "AUDITOR_NO_SUCH" not in env  # only the settings, as the parent read them
    child = _settings_from(env)
    assert child.processes == 1
    assert child.worker_id == "w-2"
    assert child.metrics_port == 9502
    assert child.sasl_password is not None
    assert child.sasl_password.get_secret_value() == "p w"
    same = {"processes", "worker_id", "metrics_port", "sasl_password"}
    for name in Settings.model_fields:
        if name not in same:
            assert getattr(child, name) == getattr(settings, name), name


def test_settings_left_at_their_default_are_not_passed_down() -> None:
    # A child sees a default as unset, so its local profile (embedded broker) may apply.
    env = child_environment(Settings(worker_id="w", fetch_max_wait_ms=80), 0, {})
    assert env["AUDITOR_FETCH_MAX_WAIT_MS"] == "80"
    assert "AUDITOR_SESSION_TIMEOUT_S" not in env
    assert "AUDITOR_PROCESSING_GUARANTEE" not in env


def test_a_free_metrics_port_stays_free_for_each_child() -> None:
    env = child_environment(Settings(metrics_port=0), 1, {})
    assert env["AUDITOR_METRICS_PORT"] == "0"


def test_zero_processes_is_one_per_cpu() -> None:
    assert process_count(Settings(processes=0)) == len(os.sched_getaffinity(0))
    assert process_count(Settings(processes=3)) == 3
    assert process_count(Settings()) == 1


def _settings_from(env: dict[str, str]) -> Settings:
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _start(tmp_path: Path, **env: str) -> subprocess.Popen[bytes]:
    with (tmp_path / "parent.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", PARENT, CHILD, str(tmp_path)], cwd=ROOT,
            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        )


def _wait_for(path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_sigterm_is_forwarded_and_every_child_stops(tmp_path: Path) -> None:
    parent = _start(tmp_path)
    for n in (0, 1):
        _wait_for(tmp_path / f"w-{n}.started")
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=20) == 0
    assert (tmp_path / "w-0.stopped").exists()
    assert (tmp_path / "w-1.stopped").exists()


def test_a_child_that_crashes_stops_the_others_and_the_parent_fails(tmp_path: Path) -> None:
    parent = _start(tmp_path, FAKE_CRASH="w-1")
    assert parent.wait(timeout=20) == 3  # the child's own status
    assert (tmp_path / "w-0.stopped").exists()
    output = (tmp_path / "parent.log").read_text()
    assert "decision process 1" in output
    assert "exited with status 3" in output


def test_a_child_that_will_not_stop_is_killed(tmp_path: Path) -> None:
    parent = _start(tmp_path, FAKE_IGNORE_TERM="1")
    for n in (0, 1):
        _wait_for(tmp_path / f"w-{n}.started")
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=20) == 1
    for n in (0, 1):
        pid = int((tmp_path / f"w-{n}.started").read_text())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_children_die_with_a_killed_parent(tmp_path: Path) -> None:
    parent = _start(tmp_path)
    for n in (0, 1):
        _wait_for(tmp_path / f"w-{n}.started")
    parent.kill()
    parent.wait(timeout=10)
    # The kernel sends each child SIGTERM (PR_SET_PDEATHSIG): they stop as asked.
    _wait_for(tmp_path / "w-0.stopped")
    _wait_for(tmp_path / "w-1.stopped")
