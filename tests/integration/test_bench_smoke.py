"""The benchmark at a tiny size: it completes and writes every field (never how fast)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
THROUGHPUT_PHASES = ("a", "b", "b2", "c", "c_batch", "d", "e", "e_batch", "e_procs")
RATIOS = ("b/a", "e/c", "e/d", "e_batch/c_batch", "e_batch/c", "e_batch/d", "e_procs/e",
          "e_procs/c")
TARGETS = (
    "b/a >= 0.5",
    "e/d >= 5",
    "e/c >= 0.25",
    "e_batch/d >= 5",
    "e_batch/c_batch >= 0.25",
    "p99 <= 100 ms at 5,000 events/s",
)


def run_bench(args: list[str], timeout: float = 280) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        # No AUDITOR_* setting of the caller's shell leaks into the workers it starts.
        env={k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")},
        check=False,
    )


def test_a_tiny_run_completes_and_writes_every_field(kafka_bootstrap: str, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    result = run_bench([
        "--events", "3000", "--packs", "natterbox,nubitalk", "--batch-events", "50",
        "--rate", "1000", "--latency-seconds", "1", "--bootstrap", kafka_bootstrap,
        "--processes", "2",
        "--results", str(tmp_path), "--out", str(out), "--phase-timeout", "120",
    ])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for row in (*THROUGHPUT_PHASES, "f", "rss"):
        assert any(line.startswith(f"{row} ") for line in result.stdout.splitlines()), row

    doc: dict[str, Any] = orjson.loads(out.read_bytes())
    assert doc["traffic"]["events"] == 3000
    assert doc["traffic"]["per_pack"] == {"natterbox": 1500, "nubitalk": 1500}
    assert set(doc["phases"]) == set(THROUGHPUT_PHASES)
    for name, phase in doc["phases"].items():
        assert phase is not None, name
        assert phase["events"] == 3000, name
        assert phase["seconds"] > 0, name
        assert phase["events_per_s"] > 0, name
    for name in ("c", "c_batch", "d", "e", "e_batch", "e_procs"):
        assert set(doc["phases"][name]["per_pack"]) == {"natterbox", "nubitalk"}, name
    assert doc["phases"]["e"]["worker_cpu_share"] is not None
    assert doc["phases"]["e_procs"]["processes"] == 2
    # The input topics' layout: written with fixed batching, read back from the broker.
    assert doc["input"]["events_per_record_batch"] == 100
    for kind, events_per_record in (("records", 1), ("batch_records", 50)):
        layout = doc["input"][kind]
        assert layout["events_per_record"] == events_per_record
        assert layout["producer"]["batch.num.messages"] == 100 // events_per_record
        held = layout["broker_holds"]
        assert held["records"] * events_per_record >= 3000
        assert held["records_per_batch"]["max"] <= 100 // events_per_record
    latency = doc["latency"]
    assert latency["events"] == 2000  # 1,000 events/s for 1 s, per pack
    assert 0 <= latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert all(value is not None for value in doc["peak_rss_mib"].values())
    assert set(doc["ratios"]) == set(RATIOS)
    assert all(value is not None for value in doc["ratios"].values())
    assert set(doc["targets"]) == set(TARGETS)
    for target in doc["targets"].values():
        assert set(target) == {"value", "target", "met"}
    # Offered load below 5,000 events/s: the latency target is not judged.
    assert doc["targets"]["p99 <= 100 ms at 5,000 events/s"]["met"] is None


def test_skipped_phases_are_null_and_bad_options_are_clear(tmp_path: Path) -> None:
    out = tmp_path / "inprocess.json"
    result = run_bench([
        "--events", "300", "--skip", "b2,c,c_batch,d,e,e_batch,f",
        "--results", str(tmp_path), "--out", str(out),
    ])
    assert result.returncode == 0, result.stdout + result.stderr
    doc = orjson.loads(out.read_bytes())
    assert doc["phases"]["a"]["events"] == 300
    assert doc["phases"]["e"] is None
    assert doc["latency"] is None
    assert doc["ratios"]["b/a"] is not None
    assert doc["ratios"]["e/d"] is None
    assert doc["targets"]["e/d >= 5"]["met"] is None

    bad = run_bench(["--skip", "x", "--results", str(tmp_path)])
    assert bad.returncode == 2
    assert "unknown phase(s) x" in bad.stderr
    assert "Traceback" not in bad.stderr
