"""Kafka side of the benchmark: loading input topics, row (c), and reading decision topics."""

from __future__ import annotations

import logging
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition
from confluent_kafka.admin import AdminClient

from auditor import kafka_config
from auditor.emit import BATCH_CONTENT_TYPE, Emitter
from auditor.events.keys import partition_key

_log = logging.getLogger("bench.kafka")
DEADLINE_PREFIX = b'{"event_id":"deadline:'
SOURCE_TIMESTAMP = "auditor.source.timestamp"
# The embedded broker holds a fetch for the full wait (docs/kafka-brokers.md).
FETCH_WAIT_MS = 50


class PhaseError(RuntimeError):
    """A phase could not finish: a process died or the expected records never came."""


# Compression of the input topics (the emitter's default).
INPUT_COMPRESSION = "lz4"
# librdkafka's batch.size (bytes before compression): large enough that only the record
# count cuts a record batch, and within message.max.bytes (1,000,000) as it must be.
INPUT_BATCH_BYTES = 1_000_000


def input_producer(records_per_batch: int) -> dict[str, str | int | bool]:
    """The producer settings every input topic is written with, whatever the machine's speed.

    A record batch is cut only when it holds ``records_per_batch`` records (or at the final
    flush: one shorter batch per partition). The linger is longer than any preload, so a
    slow writer never sends a batch early: the layout the broker holds does not depend on
    how fast the topic was written (it did before: bench/README.md, "the ceiling").
    """
    return {
        "linger.ms": 300_000,
        "message.timeout.ms": 600_000,  # librdkafka wants it longer than the linger
        "batch.num.messages": records_per_batch,
        "batch.size": INPUT_BATCH_BYTES,
        "compression.type": INPUT_COMPRESSION,
    }


def preload(bootstrap: str, topic: str, lines: list[bytes], batch_events: int = 1,
            records_per_batch: int = 100) -> float:
    """Produce ``lines`` to ``topic`` with the emitter (keyed by tenant); seconds it took.

    With ``batch_events`` > 1 the emitter packs that many events of a key into one batch
    record, cut by count only (never by its linger). Record batches hold
    ``records_per_batch`` records (``input_producer``).
    """
    start = time.perf_counter()
    with Emitter(bootstrap, topic, validate=False, batch_events=batch_events,
                 batch_linger_s=3600.0, producer_config=input_producer(records_per_batch),
                 ) as emitter:
        for raw in lines:
            event = orjson.loads(raw)
            emitter.emit_raw(raw, key=partition_key(event), event_id=event.get("event_id"))
    return time.perf_counter() - start


def _assigned_consumer(bootstrap: str, topic: str) -> Consumer:
    """A consumer assigned every partition of ``topic`` from the start (no group join)."""
    meta = AdminClient(kafka_config.admin(bootstrap, None, logger=_log)).list_topics(
        topic, timeout=10)
    partitions = sorted(meta.topics[topic].partitions)
    consumer = Consumer(kafka_config.reader(
        bootstrap, group_id=f"bench-reader-{uuid.uuid4().hex[:8]}",
        **{"enable.auto.commit": False, "fetch.wait.max.ms": FETCH_WAIT_MS},
    ))
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    return consumer


def consume_decode(bootstrap: str, topic: str, events: int, timeout: float,
                   records: int | None = None) -> tuple[int, float]:
    """(c) read ``topic`` and decode every event (every line of a batch record).

    Returns (events decoded, seconds from the first record to the last). With ``records``
    (how many the topic holds) no call asks for more records than are left: librdkafka's
    ``consume(n, timeout)`` returns only when it has ``n`` records or the timeout passed,
    so asking for more than are left adds the whole timeout to the last read (before this,
    0.5 s per topic whenever its size was not a multiple of 10,000 records:
    bench/README.md, "The ceiling").
    """
    consumer = _assigned_consumer(bootstrap, topic)
    loads = orjson.loads
    seen = 0
    taken = 0
    first = last = 0.0
    deadline = time.monotonic() + timeout
    try:
        while seen < events:
            if time.monotonic() > deadline:
                raise PhaseError(f"raw consumer read {seen} of {events} events from {topic}")
            want = 10_000 if records is None else max(1, min(10_000, records - taken))
            for msg in consumer.consume(want, 0.5):
                if msg.error() is not None:
                    continue
                if not seen:
                    first = time.perf_counter()
                taken += 1
                value = msg.value() or b""
                headers = msg.headers()
                if headers and ("content-type", BATCH_CONTENT_TYPE) in headers:
                    for line in value.split(b"\n"):
                        loads(line)
                        seen += 1
                else:
                    loads(value)
                    seen += 1
            last = time.perf_counter()
    finally:
        consumer.close()
    return seen, last - first


@dataclass
class Drained:
    """What a decision topic held: decisions, deadline decisions, and their timing."""

    decisions: int = 0
    deadlines: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        if self.first_ms is None or self.last_ms is None:
            return 0.0
        # Record timestamps have millisecond resolution: never divide by zero.
        return max(self.last_ms - self.first_ms, 1) / 1000.0


class DecisionReader:
    """Reads a decision topic from its start; counts event decisions apart from deadlines.

    A record's own timestamp is when the worker produced it; with ``latency`` the header
    ``auditor.source.timestamp`` (the input record's timestamp) gives produce→decision.
    """

    def __init__(self, bootstrap: str, topic: str, *, latency: bool = False) -> None:
        self.consumer = _assigned_consumer(bootstrap, topic)
        self.latency = latency
        self.result = Drained()

    def poll(self, timeout: float) -> None:
        out = self.result
        for msg in self.consumer.consume(10_000, timeout):
            if msg.error() is not None:
                continue
            value = msg.value() or b""
            headers = msg.headers()
            if headers and ("content-type", BATCH_CONTENT_TYPE) in headers:
                # Decisions as batch records (bench.tuned_worker's BENCH_BATCH_OUT).
                lines = value.split(b"\n")
                late = sum(1 for line in lines if line.startswith(DEADLINE_PREFIX))
                out.deadlines += late
                out.decisions += len(lines) - late
            elif value.startswith(DEADLINE_PREFIX):
                out.deadlines += 1
                continue
            else:
                out.decisions += 1
            stamp = msg.timestamp()[1]
            if out.first_ms is None or stamp < out.first_ms:
                out.first_ms = stamp
            if out.last_ms is None or stamp > out.last_ms:
                out.last_ms = stamp
            if self.latency:
                self._latency(msg, stamp)

    def _latency(self, msg: Message, stamp: int) -> None:
        headers = msg.headers() or []
        pairs = headers.items() if isinstance(headers, dict) else headers
        for name, value in pairs:
            if name == SOURCE_TIMESTAMP and value:
                self.result.latencies_ms.append(float(stamp - int(value)))
                return

    def until(
        self,
        decisions: int,
        timeout: float,
        proc: subprocess.Popen[bytes] | None = None,
        describe: Callable[[], str] = str,
    ) -> Drained:
        """Read until ``decisions`` event decisions came; PhaseError if the process dies."""
        deadline = time.monotonic() + timeout
        while self.result.decisions < decisions:
            if proc is not None and proc.poll() is not None:
                raise PhaseError(
                    f"process exited with status {proc.returncode} after "
                    f"{self.result.decisions} of {decisions} decisions; {describe()}"
                )
            if time.monotonic() > deadline:
                raise PhaseError(
                    f"{self.result.decisions} of {decisions} decisions within {timeout:g} s; "
                    f"{describe()}"
                )
            self.poll(0.5)
        return self.result

    def close(self) -> None:
        self.consumer.close()
