"""Fixtures for integration tests of the worker: processes on a real broker, and readers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Message, Producer

from auditor.broker import ensure_topics

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_POLICY = ROOT / "policies" / "examples" / "gdpr-transfers.yaml"


# Short group timings on any broker, and what the embedded one needs besides
# (docs/kafka-brokers.md): given explicitly, so tests on Apache Kafka are as quick.
TUNED = {
    "AUDITOR_SESSION_TIMEOUT_S": "6",
    "AUDITOR_HEARTBEAT_INTERVAL_S": "1",
    "AUDITOR_COMMIT_INTERVAL_S": "0.5",
    "AUDITOR_FETCH_MAX_WAIT_MS": "50",
    "AUDITOR_CHANGELOG_BATCH_BYTES": "1",
}


@dataclass
class Topics:
    """A fresh set of the worker's topics for one test."""

    input: str
    decisions: str
    findings: str
    dead_letter: str
    group: str

    def env(self) -> dict[str, str]:
        return {
            "AUDITOR_INPUT_TOPICS": f'["{self.input}"]',
            "AUDITOR_DECISIONS_TOPIC": self.decisions,
            "AUDITOR_FINDINGS_TOPIC": self.findings,
            "AUDITOR_DEAD_LETTER_TOPIC": self.dead_letter,
            "AUDITOR_GROUP_ID": self.group,
        }


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path
    name: str

    def kill(self, sig: int = signal.SIGKILL) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        return self.proc.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    bootstrap: str
    tmp: Path
    workers: list[WorkerProcess] = field(default_factory=list)
    # Exactly once where the broker isolates aborted transactions, else at least once.
    transactions: bool = True

    def topics(self, partitions: int = 4) -> Topics:
        tag = uuid.uuid4().hex[:8]
        t = Topics(f"in-{tag}", f"dec-{tag}", f"find-{tag}", f"dlq-{tag}", f"grp-{tag}")
        ensure_topics(self.bootstrap, {t.input: partitions, t.decisions: partitions,
                                       t.findings: partitions, t.dead_letter: partitions},
                      config={"max.message.bytes": "4000000"})
        return t

    def start_worker(self, topics: Topics, *, policy: Path = EXAMPLE_POLICY,
                     name: str = "worker-1", extra_env: dict[str, str] | None = None,
                     tuned: bool = True) -> WorkerProcess:
        """A worker on ``topics``; ``tuned``: with the tests' group timings and fetch wait
        (else what the worker chooses itself, as a user's would)."""
        log = self.tmp / f"{name}-{len(self.workers)}.log"
        env = {
            **{k: v for k, v in os.environ.items() if tuned or not k.startswith("AUDITOR_")},
            **topics.env(),
            "AUDITOR_BOOTSTRAP_SERVERS": self.bootstrap,
            "AUDITOR_POLICY": str(policy),
            "AUDITOR_WORKER_ID": name,
            # A worker killed by a test leaves its private temporary directory here, in
            # pytest's own, rather than in the machine's /tmp.
            "TMPDIR": str(self.tmp),
            "AUDITOR_METRICS_PORT": "0",  # a free port each: tests run workers side by side
            "AUDITOR_LOG_LEVEL": "info",
            **(TUNED if tuned else {}),
            **({"AUDITOR_PROCESSING_GUARANTEE": "exactly_once" if self.transactions
                else "at_least_once"} if tuned else {}),
            **(extra_env or {}),
        }
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "auditor", "worker"], env=env,
                                    stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                    start_new_session=True)
        worker = WorkerProcess(proc, log, name)
        self.workers.append(worker)
        return worker

    def produce(self, topic: str, values: Iterable[bytes], *, key: bytes | None = None,
                headers: list[tuple[str, bytes]] | None = None,
                partition: int | None = None) -> int:
        # Single-record batches: exact offsets on the embedded broker (kafka-broker guide).
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 0,
                             "batch.num.messages": 1, "message.max.bytes": 4_000_000})
        count = 0
        for value in values:
            if partition is None:
                producer.produce(topic, value, key, headers=list(headers or []))
            else:
                producer.produce(topic, value, key, partition, headers=list(headers or []))
            producer.poll(0)
            count += 1
        assert producer.flush(30) == 0
        return count

    def read(self, topic: str, *, until: Callable[[list[Message]], bool],
             timeout: float = 60.0) -> list[Message]:
        """Every record of ``topic`` from the start, until ``until(records)`` or timeout."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap,
                             "group.id": f"reader-{uuid.uuid4().hex[:8]}",
                             "auto.offset.reset": "earliest", "enable.auto.commit": False,
                             "session.timeout.ms": 6000})
        consumer.subscribe([topic])
        records: list[Message] = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and not until(records):
                msg = consumer.poll(0.2)
                if msg is not None and msg.error() is None:
                    records.append(msg)
        finally:
            consumer.close()
        return records


@pytest.fixture
def cluster(kafka_bootstrap: str, kafka_transactions: bool, tmp_path: Path
            ) -> Iterator[Cluster]:
    c = Cluster(kafka_bootstrap, tmp_path, transactions=kafka_transactions)
    yield c
    for worker in c.workers:
        worker.kill(signal.SIGKILL)
