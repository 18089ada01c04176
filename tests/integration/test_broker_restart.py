"""A broker that goes away and comes back: the worker rides it out, says so, and stops only
at the outage limit. Each test runs a broker of its own (it is stopped and started)."""

from __future__ import annotations

import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from auditor.broker import EmbeddedBroker, ensure_topics
from auditor.stream.memory import changelog_topic
from auditor.stream.rekey import repartition_topic
from tests.integration.conftest import Cluster
from tests.integration.test_observability import metrics_url, wait_for
from tests.integration.test_worker import event, ids
from tests.integration.test_worker_memory import readiness

pytestmark = pytest.mark.integration


@pytest.fixture
def brokers() -> Iterator[list[EmbeddedBroker]]:
    """Embedded brokers of one test, on one port (started again = the same broker);
    all stopped at the end."""
    started: list[EmbeddedBroker] = []
    try:
        yield started
    finally:
        for b in started:
            b.stop()


def start(brokers: list[EmbeddedBroker], port: int | None = None) -> EmbeddedBroker:
    broker = EmbeddedBroker(port=port)
    brokers.append(broker)
    return broker.start()


def metric(url: str, name: str) -> float:
    with urllib.request.urlopen(url, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def test_a_broker_restart_is_ridden_out(brokers: list[EmbeddedBroker], tmp_path: Path) -> None:
    broker = start(brokers)
    cluster = Cluster(broker.bootstrap, tmp_path, transactions=False)
    topics = cluster.topics(partitions=2)
    worker = cluster.start_worker(topics, extra_env={
        "AUDITOR_DELIVERY_TIMEOUT_S": "3", "AUDITOR_KAFKA_OUTAGE_LIMIT_S": "120",
        "AUDITOR_CONSUMER_LAG_INTERVAL_S": "0.5"})
    try:
        metrics = metrics_url(worker)
        probe = metrics.removesuffix("/metrics") + "/readyz"
        cluster.produce(topics.input, (event(i) for i in range(20_000)))
        assert len(cluster.read(topics.decisions, until=lambda r: len(r) >= 100)) >= 100
        # Mid-stream: the worker holds records it fetched and has not decided yet.
        worker.proc.send_signal(signal.SIGSTOP)
        port = broker.port
        broker.stop()
        worker.proc.send_signal(signal.SIGCONT)
        wait_for("readiness to say Kafka is away", lambda: any(
            w.startswith("Kafka: ") for w in readiness(probe)[1]["waiting_for"]))
        assert metric(metrics, "auditor_ready") == 0
        assert metric(metrics, "auditor_kafka_unavailable_seconds") > 0
        # The embedded broker comes back empty: its topics are made again, the memory's
        # changelog and the repartition topic too (Apache Kafka keeps them; Tansu would
        # auto-create the latter with its default partition count). The group's session
        # expired meanwhile, so the worker rejoins and restores its memory.
        again = start(brokers, port)
        ensure_topics(again.bootstrap, {t: 2 for t in (
            topics.input, topics.decisions, topics.findings, topics.dead_letter,
            changelog_topic(topics.group), repartition_topic(topics.group))})
        after = [event(100_000 + i) for i in range(50)]
        cluster.produce(topics.input, after)
        wanted = {orjson.loads(e)["event_id"] for e in after}
        records = cluster.read(topics.decisions, until=lambda r: wanted <= set(ids(r)),
                               timeout=120)
        assert wanted <= set(ids(records))
        assert worker.proc.poll() is None  # alive: no restart needed
        wait_for("readiness again", lambda: readiness(probe)[0] == 200)
        assert metric(metrics, "auditor_delivery_failures_total") >= 1
        assert metric(metrics, "auditor_kafka_unavailable_seconds") == 0
        log = worker.output()
        assert "outputs delivered again after" in log
        # librdkafka's reconnects: a few lines, not hundreds.
        assert log.count("Connection refused") < 40, log.count("Connection refused")
    finally:
        worker.kill(signal.SIGKILL)


def test_the_worker_stops_once_kafka_is_away_longer_than_the_limit(
    brokers: list[EmbeddedBroker], tmp_path: Path
) -> None:
    broker = start(brokers)
    cluster = Cluster(broker.bootstrap, tmp_path, transactions=False)
    topics = cluster.topics(partitions=2)
    worker = cluster.start_worker(topics, extra_env={"AUDITOR_KAFKA_OUTAGE_LIMIT_S": "4"})
    try:
        cluster.produce(topics.input, [event(1)])
        cluster.read(topics.decisions, until=lambda r: len(r) >= 1)
        broker.stop()
        status = worker.proc.wait(timeout=60)
        assert status != 0
        log = worker.output()
        assert "no Kafka broker answered for" in log
        assert "(AUDITOR_KAFKA_OUTAGE_LIMIT_S is 4)" in log
    finally:
        worker.kill(signal.SIGKILL)
