"""Re-keying in the batch loop, without Kafka: events keyed by job reach their tenant's
partition through the repartition topic, and rules that remember catch every change."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from auditor.engine import Decider, Decision, Engine, decide_all
from auditor.events.keys import partition_key
from auditor.intake import BATCH_CONTENT_TYPE
from auditor.kafka_partitioner import partition_of
from auditor.policy import load_policy
from auditor.stream.app import create_app
from auditor.stream.batches import Batcher
from auditor.stream.memory import PartitionMemory
from auditor.stream.pipeline import H_BATCH_INDEX, H_VIA, Output, Pipeline, Source
from auditor.stream.rekey import H_INDEX, H_OFFSET, H_PARTITION, H_TOPIC, Rekey, origin
from auditor.stream.settings import Settings
from auditor.stream.sink import MemorySink
from auditor.stream.source import Record
from tests.memory_pack import HOME_REGION_POLICY

pytestmark = [pytest.mark.stream]

POLICY = HOME_REGION_POLICY
STATELESS = """apiVersion: auditor/v1
id: stateless
company: {id: me, country: DK}
data_classes: {transcript: {}}
purposes: {service_delivery: {}}
rules:
  - {id: stateless.stay, kind: residency, description: d, severity: high, effect: deny,
     citation: c, params: {allowed: ["country:DK"]}}
"""
INPUT = "lineage.events"
REPARTITION = "grp.auditor.repartition"
PARTITIONS = 4
TENANTS = [f"tenant-{i}" for i in range(4)]


def engine(folder: Path, policy: str = POLICY) -> Engine:
    path = folder / "policy.yaml"
    path.write_text(policy)
    return Engine(load_policy(path))


def event(event_id: str, tenant: str, region: str, day: int) -> bytes:
    return orjson.dumps({
        "event_id": event_id,
        "event_time": f"2026-03-{day:02d}T10:00:00Z",
        "data_class": "transcript",
        "operation": "store",
        "origin": {"location": "country:DK"},
        "destination": {"location": "country:DK", "system": "db"},
        "tenant": {"id": tenant, "home_region": region},
    })


def job_partition(job: str) -> int:
    # As a producer keying by job (the OpenLineage client) would place it.
    return partition_of(f"run:recorder/{job}".encode(), PARTITIONS)


def jobs_apart(tenant: str) -> tuple[str, str]:
    """Two jobs of ``tenant`` in different partitions, the second not its tenant's: the
    change it reports is missed unless it is re-keyed."""
    home = partition_of(tenant.encode(), PARTITIONS)
    names = (f"{tenant}-job-{n}" for n in range(1000))
    first = next(names)
    second = next(j for j in names
                  if job_partition(j) not in (job_partition(first), home))
    return first, second


class Log:
    """Topics as lists per partition; ``run`` feeds what is new to the batcher until
    nothing more is forwarded."""

    def __init__(self) -> None:
        self.parts: dict[tuple[str, int], list[Record]] = {}
        self.read: dict[tuple[str, int], int] = {}

    def append(self, topic: str, partition: int, key: bytes | None, value: bytes,
               headers: list[tuple[str, bytes]] | None = None) -> None:
        part = self.parts.setdefault((topic, partition), [])
        part.append(Record(topic, partition, len(part), 1_780_000_000_000 + len(part), key,
                           value, list(headers or [])))

    def new(self) -> Iterator[Record]:
        for where in sorted(self.parts):
            part = self.parts[where]
            start = self.read.get(where, 0)
            self.read[where] = len(part)
            yield from part[start:]

    def run(self, batcher: Batcher, sink: MemorySink) -> None:
        while True:
            batcher.pending.extend(self.new())
            if not batcher.pending:
                return
            forwarded = len(sink.records["repartition"])
            asyncio.run(batcher.deliver(batcher.decide(0.0)))
            for out in sink.records["repartition"][forwarded:]:
                assert out.partition is not None
                assert out.value is not None
                self.append(REPARTITION, out.partition, out.key, out.value, out.headers)


def produce_by_job(log: Log, phase: int) -> list[bytes]:
    """Phase 0: each tenant's first event (EU1); phase 1, later: its change to EU2, from
    another job in another partition. Returns the values in the order produced."""
    values = []
    for tenant in TENANTS:
        job = jobs_apart(tenant)[phase]
        value = event(f"{tenant}-e{phase}", tenant, ("EU1", "EU2")[phase], 1 + phase)
        log.append(INPUT, job_partition(job), f"run:recorder/{job}".encode(), value)
        values.append(value)
    return values


def decisions(sink: MemorySink) -> dict[str, dict[str, object]]:
    out = {}
    for rec in sink.records["decision"]:
        record = orjson.loads(rec.value or b"")
        out[record["event_id"]] = record
    return out


def worker(folder: Path, policy: str = POLICY, *, rekeyed: bool = True,
           observed: list[tuple[str, Source]] | None = None,
           timed: list[int] | None = None,
           ) -> tuple[Batcher, MemorySink, list[int]]:
    rekey = Rekey(REPARTITION, PARTITIONS) if rekeyed else None
    pipeline = Pipeline(engine(folder, policy), memory=PartitionMemory(), rekey=rekey)
    sink = MemorySink()
    counted: list[int] = []

    def observe(decision: Decision, reason: str | None, source: Source) -> None:
        if observed is not None:
            observed.append((decision.event_id or "", source))

    def delivered(records: int, taken_at: float, decided_at: float) -> None:
        if timed is not None:
            timed.append(records)

    return Batcher(pipeline, sink, max_events=100, on_rekeyed=counted.append,
                   observe=observe, on_delivered=delivered), sink, counted


def test_events_keyed_by_job_are_decided_in_their_tenants_partition(tmp_path: Path) -> None:
    log = Log()
    observed: list[tuple[str, Source]] = []
    timed: list[int] = []
    batcher, sink, counted = worker(tmp_path, observed=observed, timed=timed)
    produced = produce_by_job(log, 0)
    log.run(batcher, sink)
    produced += produce_by_job(log, 1)
    log.run(batcher, sink)

    decided = decisions(sink)
    changes = [tenant for tenant in TENANTS
               if decided[f"{tenant}-e1"]["verdict"] == "violation"]
    assert changes == TENANTS  # 4 of 4 home-region changes caught
    # The same verdicts as `auditor check` on the same events, in order.
    offline = {d.event_id: d.verdict for d in decide_all(Decider(engine(tmp_path)), produced)}
    assert {k: v["verdict"] for k, v in decided.items()} == offline
    # Every event is decided once; the forwarded ones in their tenant's partition.
    assert len(sink.records["decision"]) == len(produced)
    forwarded = sink.records["repartition"]
    assert forwarded
    assert sum(counted) == len(forwarded)
    for out in forwarded:
        assert out.key is not None
        assert out.partition == partition_of(out.key, PARTITIONS)
        assert out.key == partition_key(orjson.loads(out.value or b""))
    # Observers (alerts, shadow mode) see where each event was read, and whose memory
    # decided it.
    assert sorted(e for e, _ in observed) == sorted(decided)
    for event_id, source in observed:
        assert source.topic == INPUT
        tenant = event_id.rsplit("-e", 1)[0]
        assert source.memory == partition_of(tenant.encode(), PARTITIONS)
    assert any(source.stream is not None for _, source in observed)
    # Latency counts each event's record once: where it was decided.
    assert sum(timed) == len(produced)


def test_without_rekeying_changes_across_partitions_are_missed(tmp_path: Path) -> None:
    log = Log()
    batcher, sink, counted = worker(tmp_path, rekeyed=False)
    produce_by_job(log, 0)
    log.run(batcher, sink)
    produce_by_job(log, 1)
    log.run(batcher, sink)
    decided = decisions(sink)
    assert [t for t in TENANTS if decided[f"{t}-e1"]["verdict"] == "violation"] == []
    assert sink.records["repartition"] == []
    assert counted == []


def test_a_forwarded_event_keeps_its_bytes_headers_and_provenance(tmp_path: Path) -> None:
    batcher, _, _ = worker(tmp_path)
    pipeline = batcher.pipeline
    tenant = TENANTS[0]
    home = partition_of(tenant.encode(), PARTITIONS)
    wrong = (home + 1) % PARTITIONS
    value = event("e-1", tenant, "EU1", 1)
    source_headers = [("traceparent", b"00-abc-01")]
    record = Record(INPUT, wrong, 41, 1_780_000_000_000, b"run:recorder/job", value,
                    source_headers)
    (decision, reason, (out,)), = pipeline.process(
        record.value, record.key, record.headers,
        _source(record))
    assert decision is None
    assert reason is None
    assert out == Output("repartition", tenant.encode(), value, [
        *source_headers, (H_TOPIC, INPUT.encode()), (H_PARTITION, str(wrong).encode()),
        (H_OFFSET, b"41"), ("auditor.rekey.timestamp", b"1780000000000")], home)

    # Read back from the repartition topic: decided there, with where it was first read.
    back = Record(REPARTITION, home, 7, 1_780_000_000_500, out.key, out.value, out.headers)
    (decision, _, outs), = pipeline.process(back.value, back.key, back.headers, _source(back))
    assert decision is not None
    assert decision.event_id == "e-1"
    headers = dict(outs[0].headers)
    assert headers["auditor.source.topic"] == INPUT.encode()
    assert headers["auditor.source.partition"] == str(wrong).encode()
    assert headers["auditor.source.offset"] == b"41"
    assert headers["auditor.source.timestamp"] == b"1780000000000"
    assert headers[H_VIA] == f"{REPARTITION}/{home}/7".encode()
    assert outs[0].key == tenant.encode()
    # The memory of the tenant's partition holds its home region.
    assert batcher.memory is not None
    assert batcher.memory.store(home).get(f"hr|{tenant}") is not None
    assert batcher.memory.store(wrong).get(f"hr|{tenant}") is None


def test_lines_of_a_batch_record_are_forwarded_one_by_one(tmp_path: Path) -> None:
    batcher, _, _ = worker(tmp_path)
    pipeline = batcher.pipeline
    lines = [event(f"b-{i}", t, "EU1", 1) for i, t in enumerate(TENANTS)]
    value = b"\n".join(lines)
    headers = [("content-type", BATCH_CONTENT_TYPE)]
    record = Record(INPUT, 0, 3, 1_780_000_000_000, b"job", value, headers)
    results = list(pipeline.process(record.value, record.key, record.headers, _source(record)))
    assert len(results) == len(lines)
    for index, ((decision, _, outs), line, tenant) in enumerate(
            zip(results, lines, TENANTS, strict=True)):
        if partition_of(tenant.encode(), PARTITIONS) == 0:  # in place
            assert decision is not None
            assert dict(outs[0].headers)[H_BATCH_INDEX] == str(index).encode()
            continue
        assert decision is None
        (out,) = outs
        assert out.value == line
        assert dict(out.headers)[H_INDEX] == str(index).encode()
        back = Record(REPARTITION, out.partition or 0, 0, None, out.key, line, out.headers)
        ((again, _, decided),) = pipeline.process(back.value, back.key, back.headers,
                                                  _source(back))
        assert again is not None
        assert again.event_id == f"b-{index}"
        assert dict(decided[0].headers)[H_BATCH_INDEX] == str(index).encode()
        assert dict(decided[0].headers)["auditor.source.offset"] == b"3"


def test_invalid_input_is_decided_where_it_arrived(tmp_path: Path) -> None:
    batcher, sink, counted = worker(tmp_path)
    log = Log()
    for partition in range(PARTITIONS):
        log.append(INPUT, partition, b"job", b"{not json")
        log.append(INPUT, partition, b"job", orjson.dumps({"event_id": "x"}))
    log.run(batcher, sink)
    assert len(sink.records["dead_letter"]) == 2 * PARTITIONS
    assert sink.records["repartition"] == []
    assert counted == []


def test_a_record_of_the_repartition_topic_is_never_forwarded_again(tmp_path: Path) -> None:
    # Without markers (not written by a worker) or against its key: decided where it is.
    batcher, _, _ = worker(tmp_path)
    tenant = TENANTS[0]
    wrong = (partition_of(tenant.encode(), PARTITIONS) + 1) % PARTITIONS
    for headers in ([], [(H_TOPIC, b"x"), (H_PARTITION, b"not a number")]):
        record = Record(REPARTITION, wrong, 0, None, None, event("r", tenant, "EU1", 1),
                        headers)
        ((decision, _, outs),) = batcher.pipeline.process(
            record.value, record.key, record.headers, _source(record))
        assert decision is not None
        assert dict(outs[0].headers)["auditor.source.topic"] == REPARTITION.encode()
        assert origin(headers) is None


def test_a_policy_without_memory_decides_in_place(tmp_path: Path) -> None:
    batcher, sink, counted = worker(tmp_path, STATELESS, rekeyed=False)
    log = Log()
    produce_by_job(log, 0)
    log.run(batcher, sink)
    assert len(sink.records["decision"]) == len(TENANTS)
    assert sink.records["repartition"] == []
    assert counted == []


def _source(record: Record) -> Source:
    return Source(record.topic, record.partition, record.offset, record.timestamp_ms)


def test_the_app_decides_with_the_rekey_it_is_given(tmp_path: Path) -> None:
    rekey = Rekey(REPARTITION, PARTITIONS)
    counted: list[int] = []
    app = create_app(Settings(worker_id="w"), engine(tmp_path), sink=MemorySink(),
                     rekey=rekey, on_rekeyed=counted.append)
    batcher = app.decide_service.batcher
    assert batcher.pipeline.rekey is rekey
    assert batcher.on_rekeyed == counted.append
    app.datadir.cleanup()
