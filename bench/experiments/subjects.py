"""Peak memory with N tracked subjects (issue 15: 1,000,000), in process and in the worker.

Traffic: clevercall ``store`` events (its erasure rule remembers where each subject is
stored, its retention rule opens a deletion deadline per stored copy), each with a subject
never seen before, event times 20 ms apart. So after N events the memory tracks N subjects.
The events are made as they are decided, never held in a list (a million lines would
themselves take ~700 MB).

    # in process: the worker's per-partition stores (PartitionMemory), or rocksdict
    .venv/bin/python -m bench.experiments.subjects inprocess -n 1000000 --store dict
    .venv/bin/python -m bench.experiments.subjects inprocess -n 1000000 --store rocksdict
    # the worker: an embedded broker, the events pre-loaded, `auditor worker` until the last
    # decision (its VmHWM); with --restore a second worker in the group restores the memory
    .venv/bin/python -m bench.experiments.subjects worker -n 1000000 [--restore]

rocksdict is not a dependency of the auditor: ``pip install rocksdict`` for that variant.
"""

from __future__ import annotations

import gc
import importlib
import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import orjson

from auditor.cli.worker_cmd import GC_THRESHOLDS
from auditor.engine import Decider, Engine
from auditor.policy import load_policy
from auditor.stream.memory import PartitionMemory
from auditor.traffic import generate, load_pack

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policies" / "clevercall.yaml"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PARTITIONS = 4


def status_kib(field: str, pid: int | None = None) -> int:
    for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def store_templates(count: int = 5000) -> list[dict[str, Any]]:
    """Clevercall store events as generated (tenants, classes, places, retention)."""
    out = []
    for event in generate(load_pack("clevercall"), count * 4, seed=11):
        if event["operation"] == "store":
            out.append(event)
            if len(out) == count:
                break
    return out


def subject_events(n: int) -> Iterator[bytes]:
    """``n`` store events, each of a new subject, 20 ms apart in event time."""
    templates = store_templates()
    for i in range(n):
        event = dict(templates[i % len(templates)])
        event["event_id"] = f"subjects-{i:08d}"
        event["subject"] = {"key": f"subj-{i:09d}"}
        moment = START + timedelta(milliseconds=20 * i)
        event["event_time"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        yield orjson.dumps(event)


class RdictStore:
    """A memory ``Store`` in RocksDB (rocksdict), values as JSON."""

    def __init__(self, path: str) -> None:
        # Not a dependency (nor typed): imported by name.
        rocksdict: Any = importlib.import_module("rocksdict")
        self.db = rocksdict.Rdict(path, rocksdict.Options(raw_mode=True))

    def get(self, key: str) -> Any:
        raw = self.db.get(key.encode())
        return None if raw is None else orjson.loads(raw)

    def put(self, key: str, value: Any) -> None:
        self.db[key.encode()] = orjson.dumps(value)

    def delete(self, key: str) -> None:
        del self.db[key.encode()]

    def close(self) -> None:
        self.db.close()


class RdictStores:
    def __init__(self, root: str) -> None:
        self.root = root
        self.by_stream: dict[int, RdictStore] = {}

    def store(self, stream: int) -> RdictStore:
        store = self.by_stream.get(stream)
        if store is None:
            store = self.by_stream[stream] = RdictStore(os.path.join(self.root, str(stream)))
        return store

    def streams(self) -> list[int]:
        return sorted(self.by_stream)


@click.group()
def main() -> None:
    """Memory with many tracked subjects."""


@main.command()
@click.option("-n", "count", type=int, default=1_000_000, show_default=True)
@click.option("--store", type=click.Choice(["dict", "rocksdict"]), default="dict",
              show_default=True)
def inprocess(count: int, store: str) -> None:
    """Decide ``count`` events in this process; RSS before and after, keys, time."""
    engine = Engine(load_policy(POLICY))
    tmp = tempfile.mkdtemp(prefix="bench-subjects-")
    stores: Any = PartitionMemory() if store == "dict" else RdictStores(tmp)
    decider = Decider(engine, stores=stores)
    events = subject_events(count)
    # The worker's collector settings (auditor worker freezes what start-up made and
    # collects the old generations rarely): without them full collections rescan the
    # growing memory over and over.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    before = status_kib("VmRSS")
    started = time.perf_counter()
    for i, raw in enumerate(events):
        decider.raw(raw, zlib.crc32(raw[raw.index(b'"tenant"'):][:40]) % PARTITIONS)
        if store == "dict" and i % 1000 == 999:
            stores.changes()  # as the worker does per batch: the changes leave
    seconds = time.perf_counter() - started
    gc.collect()
    after, peak = status_kib("VmRSS"), status_kib("VmHWM")
    keys: int | str
    if store == "dict":
        keys = sum(len(s.data) for s in stores.stores.values())
        tags: dict[str, int] = {}
        for s in stores.stores.values():
            for key in s.data:
                tags[key.split("|", 1)[0]] = tags.get(key.split("|", 1)[0], 0) + 1
    else:
        keys, tags = "n/a", {}
        for s in stores.by_stream.values():
            s.close()
    disk = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    shutil.rmtree(tmp, ignore_errors=True)
    click.echo(orjson.dumps({
        "store": store, "subjects": count, "seconds": round(seconds, 1),
        "us_per_event": round(seconds / count * 1e6, 2),
        "rss_before_mib": round(before / 1024, 1), "rss_after_mib": round(after / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "bytes_per_subject": round((after - before) * 1024 / count),
        "keys": keys, "keys_by_tag": tags, "disk_mib": round(disk / 2**20, 1),
    }, option=orjson.OPT_INDENT_2).decode())


@main.command()
@click.option("-n", "count", type=int, default=1_000_000, show_default=True)
@click.option("--timeout", type=float, default=1800.0, show_default=True)
@click.option("--restore/--no-restore", default=False, show_default=True,
              help="Then start a second worker that restores the memory from the changelog "
              "(written one record per record batch, as the local profile has it: exact "
              "end offsets on Tansu).")
def worker(count: int, timeout: float, restore: bool) -> None:
    """The worker over ``count`` events; with --restore a second one restores its memory."""
    from auditor.broker import EmbeddedBroker, ensure_topics
    from bench.context import BROKER_ENV
    from bench.kafka_io import DecisionReader, preload
    from bench.procs import Children, peak_rss_kib

    children = Children(ROOT / "bench" / "results" / f"subjects-{int(time.time())}")
    with EmbeddedBroker() as broker:
        bootstrap = broker.bootstrap
        tag = f"{int(time.time())}"
        topics = {k: f"subjects.{tag}.{k}" for k in ("in", "dec", "find", "dlq")}
        ensure_topics(bootstrap, dict.fromkeys(topics.values(), PARTITIONS))
        started = time.perf_counter()
        preload(bootstrap, topics["in"], list(subject_events(count)), 1, 100)
        click.echo(f"preloaded {count:,} events in {time.perf_counter() - started:.0f} s")
        gc.collect()
        env = {
            "AUDITOR_BOOTSTRAP_SERVERS": bootstrap, "AUDITOR_POLICY": str(POLICY),
            "AUDITOR_INPUT_TOPICS": orjson.dumps([topics["in"]]).decode(),
            "AUDITOR_DECISIONS_TOPIC": topics["dec"], "AUDITOR_FINDINGS_TOPIC": topics["find"],
            "AUDITOR_DEAD_LETTER_TOPIC": topics["dlq"], "AUDITOR_GROUP_ID": f"subjects-{tag}",
            "AUDITOR_PARTITIONS": str(PARTITIONS), "AUDITOR_METRICS_PORT": "0",
            "AUDITOR_LOG_LEVEL": "info", **BROKER_ENV,
        }
        results: dict[str, Any] = {"subjects": count}
        first = children.python("subjects-worker-1", "auditor", ["worker"], env)
        reader = DecisionReader(bootstrap, topics["dec"])
        started = time.perf_counter()
        try:
            reader.until(count, timeout, first.proc, first.describe)
            results["decide_s"] = round(time.perf_counter() - started, 1)
            results["worker_peak_rss_mib"] = round((peak_rss_kib(first.proc.pid) or 0) / 1024)
            results["worker_rss_mib"] = round(status_kib("VmRSS", first.proc.pid) / 1024)
        finally:
            reader.close()
            children.stop(first)
        click.echo(orjson.dumps(results).decode(), err=True)
        if not restore:
            click.echo(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
            return
        # The second worker: assigned every partition, it restores the whole memory first.
        second = children.python("subjects-worker-2", "auditor", ["worker"],
                                 {**env, "AUDITOR_WORKER_ID": "worker-2"})
        started = time.perf_counter()
        try:
            deadline = time.monotonic() + timeout
            while "restored" not in second.log_tail(200) or _restored(second.log) < PARTITIONS:
                if second.proc.poll() is not None or time.monotonic() > deadline:
                    results["restore_failed"] = second.log_tail(3)
                    break
                time.sleep(0.5)
            results["restore_s"] = round(time.perf_counter() - started, 1)
            results["restorer_status"] = second.proc.poll()
            results["restored_keys"] = _restored_keys(second.log)
            results["restorer_peak_rss_mib"] = round(
                (peak_rss_kib(second.proc.pid) or 0) / 1024)
            results["restorer_rss_mib"] = round(status_kib("VmRSS", second.proc.pid) / 1024)
            results["broker_rss_mib"] = round(status_kib("VmRSS", broker.pid) / 1024)
        finally:
            children.stop(second)
    click.echo(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())


def _restored(log: Path) -> int:
    return sum(1 for line in log.read_text(errors="replace").splitlines()
               if "memory of partition" in line and "restored" in line)


def _restored_keys(log: Path) -> int:
    total = 0
    for line in log.read_text(errors="replace").splitlines():
        if "memory of partition" in line and "restored:" in line:
            total += int(line.split("restored:")[1].split()[0])
    return total


if __name__ == "__main__":
    main()
