"""How long a fresh ``auditor worker`` takes to start on the embedded broker, untuned.

    .venv/bin/python -m bench.experiments.join_time [--runs 3] [--worker-env KEY=VALUE ...]

Starts ``auditor broker`` once, then for each run a new ``auditor worker`` with no
``AUDITOR_*`` setting but where to connect and fresh names (topics, group), as a user of
README's "Using it" would; one event is on its input topic before it starts. Prints, per
run, the seconds from the worker's start to ``/readyz`` answering 200 and to its first
decision on the decisions topic, and the milliseconds from a probe event produced as soon
as ``/readyz`` said 200 to the probe's decision (readiness that means ready: small).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from auditor.broker import ensure_topics, wait_for_broker
from auditor.traffic import generate, load_pack

PARTITIONS = 4
_URL = re.compile(r"metrics on (http://\S+)/metrics")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def one_run(bootstrap: str, events: list[bytes], extra: dict[str, str], tmp: Path,
            timeout_s: float = 120.0) -> tuple[float, float, float]:
    """(s to /readyz 200, s to the first decision, ms from a probe sent at ready to its
    decision) of one fresh worker."""
    tag = uuid.uuid4().hex[:8]
    topics = {"input": f"join-in-{tag}", "dec": f"join-dec-{tag}",
              "find": f"join-find-{tag}", "dlq": f"join-dlq-{tag}"}
    ensure_topics(bootstrap, dict.fromkeys(topics.values(), PARTITIONS))
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    producer.produce(topics["input"], events[0], b"tenant-a")
    assert producer.flush(10) == 0
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"join-reader-{tag}",
                       "enable.auto.commit": False, "fetch.wait.max.ms": 10})
    reader.assign([TopicPartition(topics["dec"], p, OFFSET_BEGINNING)
                   for p in range(PARTITIONS)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")}
    env.update({
        "AUDITOR_BOOTSTRAP_SERVERS": bootstrap,
        "AUDITOR_METRICS_PORT": "0",
        "AUDITOR_INPUT_TOPICS": f'["{topics["input"]}"]',
        "AUDITOR_DECISIONS_TOPIC": topics["dec"],
        "AUDITOR_FINDINGS_TOPIC": topics["find"],
        "AUDITOR_DEAD_LETTER_TOPIC": topics["dlq"],
        "AUDITOR_GROUP_ID": f"join-{tag}",
        **extra,
    })
    log = tmp / f"worker-{tag}.log"
    with log.open("wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "auditor", "worker"], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    ready_at = first_at = probe_sent = probe_at = None
    probe_id = b'"' + _event_id(events[1]) + b'"'
    base = None
    try:
        deadline = started + timeout_s
        while probe_at is None:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"worker not done in time (exit {proc.poll()}); see {log}")
            if base is None:
                found = _URL.search(log.read_text(errors="replace"))
                base = found.group(1) if found else None
            if ready_at is None and base is not None and _ready(base + "/readyz"):
                ready_at = time.monotonic()
                probe_sent = time.monotonic()
                producer.produce(topics["input"], events[1], b"tenant-b")
                producer.flush(10)
            msg = reader.poll(0.02)
            while msg is not None:
                if msg.error() is None:
                    now = time.monotonic()
                    if first_at is None:
                        first_at = now
                    if probe_sent is not None and probe_id in (msg.value() or b""):
                        probe_at = now
                msg = reader.poll(0)
    finally:
        _stop(proc)
        reader.close()
    assert ready_at is not None
    assert first_at is not None
    assert probe_sent is not None
    return ready_at - started, first_at - started, (probe_at - probe_sent) * 1000


def _event_id(event: bytes) -> bytes:
    found = re.search(rb'"event_id":\s*"([^"]+)"', event)
    assert found is not None
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker-env", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.worker_env)
    events = [orjson.dumps(event) for event in generate(load_pack("natterbox"), 2)]
    port = _free_port()
    bootstrap = f"127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="join-time-") as tmp:
        broker = subprocess.Popen([sys.executable, "-m", "auditor", "broker", "--port",
                                   str(port)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for_broker(bootstrap, timeout=30)
            rows = []
            for i in range(args.runs):
                ready, first, probe = one_run(bootstrap, events, extra, Path(tmp))
                rows.append((ready, first, probe))
                print(f"run {i + 1}: /readyz 200 after {ready:.1f} s, first decision after "
                      f"{first:.1f} s, probe sent at ready decided in {probe:.0f} ms",
                      flush=True)
            print(f"median: /readyz {statistics.median(r[0] for r in rows):.1f} s, first "
                  f"decision {statistics.median(r[1] for r in rows):.1f} s, probe "
                  f"{statistics.median(r[2] for r in rows):.0f} ms")
        finally:
            _stop(broker)


if __name__ == "__main__":
    main()
