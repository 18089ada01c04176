"""Re-keying on a broker: RunEvents sent by openlineage-python's own Kafka transport, keyed
by job, reach their tenant's partition, and every home-region change is caught (issue 14)."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Message
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport.kafka import KafkaConfig, KafkaTransport

from auditor.broker import ensure_topics
from auditor.engine import Decider, Engine, decide_all
from auditor.intake.openlineage import FACET
from auditor.kafka_partitioner import partition_of
from auditor.policy import load_policy
from auditor.stream.rekey import H_TOPIC, repartition_topic
from tests.integration.conftest import Cluster, Topics, WorkerProcess
from tests.integration.test_observability import metrics_url, scrape, wait_for
from tests.integration.test_worker_memory import readiness
from tests.memory_pack import HOME_REGION_POLICY
from tests.openlineage_facet import PRODUCER, AuditorDataFlowRunFacet

pytestmark = pytest.mark.integration

POLICY = HOME_REGION_POLICY
PARTITIONS = 4
TENANTS = [f"tenant-{i}" for i in range(4)]
NAMESPACE = "recorder"


def consistent_partition(job: str) -> int:
    # Where the OpenLineage transport's producer (librdkafka's default partitioner,
    # consistent_random: CRC-32 of the key) writes a job's events.
    return zlib.crc32(f"run:{NAMESPACE}/{job}".encode()) % PARTITIONS


def jobs_apart(tenant: str) -> tuple[str, str]:
    """Two jobs whose events land in different partitions, the second not its tenant's
    (by its key): the change it reports is missed unless it is re-keyed."""
    home = partition_of(tenant.encode(), PARTITIONS)
    names = [f"{tenant}-job-{n}" for n in range(1000)]
    first = names[0]
    second = next(j for j in names[1:]
                  if consistent_partition(j) not in (consistent_partition(first), home))
    return first, second


def run_event(tenant: str, phase: int) -> RunEvent:
    facet = AuditorDataFlowRunFacet(
        data_class="transcript",
        operation="store",
        origin={"location": "country:DK"},
        destination={"location": "country:DK", "system": "db"},
        tenant={"id": tenant, "home_region": ("EU1", "EU2")[phase]},
    )
    facet._producer = PRODUCER
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=f"2026-03-0{1 + phase}T09:00:00.000Z",
        run=Run(runId=f"0191c4a8-7e44-7c1a-9d52-{TENANTS.index(tenant):06d}{phase:06d}",
                facets={FACET: facet}),
        job=Job(namespace=NAMESPACE, name=jobs_apart(tenant)[phase]),
        producer=PRODUCER,
    )


def send_phase(cluster: Cluster, topics: Topics, phase: int) -> None:
    """Phase 0: each tenant's first event (EU1); phase 1, later: its move to EU2, from
    another job. Sent as a service would: the client's Kafka transport, its own keys."""
    transport = KafkaTransport(KafkaConfig(
        config={"bootstrap.servers": cluster.bootstrap, "linger.ms": "0"},
        topic=topics.input, flush=True))
    for tenant in TENANTS:
        transport.emit(run_event(tenant, phase))
    assert transport.close(30)


def decided(cluster: Cluster, topics: Topics, count: int) -> dict[str, dict[str, Any]]:
    def enough(records: list[Message]) -> bool:
        return len({_event_id(m) for m in records}) >= count

    records = cluster.read(topics.decisions, until=enough, timeout=90)
    if not enough(records):  # a second, fresh reader (docs/kafka-brokers.md on fetches)
        records = cluster.read(topics.decisions, until=enough, timeout=60)
    out: dict[str, dict[str, Any]] = {}
    for m in records:
        record = orjson.loads(m.value() or b"")
        out[record["event_id"]] = record
    return out


def _event_id(m: Message) -> str:
    event_id: str = orjson.loads(m.value() or b"")["event_id"]
    return event_id


def ready(workers: list[WorkerProcess]) -> None:
    """Every worker ready, the group's partitions all given out (the range assignor)."""
    probes = [metrics_url(w).removesuffix("/metrics") + "/readyz" for w in workers]

    def all_given() -> bool:
        held: list[int] = []
        for probe in probes:
            status, report = readiness(probe)
            if status != 200:
                return False
            held += report["partitions"]
        return sorted(held) == list(range(PARTITIONS))

    wait_for("the workers to hold every partition", all_given, timeout=90)


def run(cluster: Cluster, tmp_path: Path, workers: int, env: dict[str, str] | None = None
        ) -> tuple[Topics, Path, list[WorkerProcess], dict[str, dict[str, Any]]]:
    """Both phases sent to ``workers`` workers; their decisions by event id."""
    policy = tmp_path / "memory.yaml"
    policy.write_text(POLICY)
    topics = cluster.topics(partitions=PARTITIONS)
    started = [cluster.start_worker(topics, policy=policy, name=f"worker-{n}", extra_env=env)
               for n in range(workers)]
    ready(started)
    send_phase(cluster, topics, 0)
    decided(cluster, topics, len(TENANTS))
    send_phase(cluster, topics, 1)
    return topics, policy, started, decided(cluster, topics, 2 * len(TENANTS))


def scenario(cluster: Cluster, tmp_path: Path, workers: int) -> None:
    topics, policy, started, decisions = run(cluster, tmp_path, workers)

    # The premise: the transport keyed by job, so each tenant's two events are in
    # different input partitions (else there would be nothing to re-key).
    inputs = cluster.read(topics.input, until=lambda r: len(r) >= 2 * len(TENANTS))
    by_tenant: dict[str, set[int]] = {}
    for m in inputs:
        assert (m.key() or b"").startswith(f"run:{NAMESPACE}/".encode())
        facet = orjson.loads(m.value() or b"")["run"]["facets"][FACET]
        by_tenant.setdefault(facet["tenant"]["id"], set()).add(m.partition() or 0)
    assert all(len(partitions) == 2 for partitions in by_tenant.values()), by_tenant

    moved = [e for e, d in decisions.items() if d["verdict"] == "violation"]
    assert len(moved) == len(TENANTS)  # 4 of 4 home-region changes caught
    for event_id in moved:
        (finding,) = decisions[event_id]["findings"]
        assert finding["kind"] == "home_region"
    # The same verdicts as `auditor check` on the same events in the order sent.
    engine = Engine(load_policy(policy))
    sent = [m.value() or b"" for m in sorted(inputs, key=lambda m: m.timestamp()[1])]
    offline = {d.event_id: d.verdict for d in decide_all(Decider(engine), sent)}
    assert {e: d["verdict"] for e, d in decisions.items()} == offline

    # Some went through the repartition topic, marked with where they were read, and
    # counted (a forward is delivered before the event is decided from it).
    counted = sum(scrape(metrics_url(w)).get(("auditor_rekeyed_events_total", ()), 0)
                  for w in started)
    assert counted >= 1
    forwarded = cluster.read(repartition_topic(topics.group),
                             until=lambda r: len(r) >= counted)
    assert len(forwarded) == counted
    assert all(dict(m.headers() or [])[H_TOPIC] == topics.input.encode() for m in forwarded)


def test_openlineage_events_keyed_by_job_are_re_keyed(cluster: Cluster, tmp_path: Path) -> None:
    scenario(cluster, tmp_path, workers=1)


def test_two_workers_re_key_between_them(cluster: Cluster, tmp_path: Path) -> None:
    scenario(cluster, tmp_path, workers=2)


def test_without_re_keying_every_change_across_partitions_is_missed(
    cluster: Cluster, tmp_path: Path
) -> None:
    # The issue as it was: each change is decided where no memory of the tenant is.
    _, _, _, decisions = run(cluster, tmp_path, 1, {"AUDITOR_REKEY": "off"})
    assert [e for e, d in decisions.items() if d["verdict"] == "violation"] == []


def test_a_repartition_topic_with_another_partition_count_is_refused(
    cluster: Cluster, tmp_path: Path
) -> None:
    # Made by hand, or auto-created by a broker: its partition N would not be input N's.
    policy = tmp_path / "memory.yaml"
    policy.write_text(POLICY)
    topics = cluster.topics(partitions=2)
    ensure_topics(cluster.bootstrap, {repartition_topic(topics.group): 3})
    worker = cluster.start_worker(topics, policy=policy)
    assert worker.proc.wait(timeout=60) == 2
    assert (f"error: {repartition_topic(topics.group)} has 3 partitions: partition N of "
            "these holds input partition N's memory and events, so each needs the "
            "input's 2") in worker.output()
