"""The worker on a real broker: decisions, findings, dead letters, crash and restart, groups."""

from __future__ import annotations

import signal
import time

import orjson
import pytest
from confluent_kafka import Message

from auditor import schemas
from auditor.engine import Decider, Engine, decide_all
from auditor.policy import load_policy
from tests.integration.conftest import EXAMPLE_POLICY, ROOT, Cluster
from tests.lines import raw_lines

pytestmark = pytest.mark.integration
SAMPLE = ROOT / "examples" / "gdpr-transfers.jsonl"


def value(m: Message) -> bytes:
    data = m.value()
    assert data is not None
    return data


def ids(records: list[Message]) -> list[str]:
    return [str(orjson.loads(value(m))["event_id"]) for m in records]


def event(i: int, **extra: object) -> bytes:
    return orjson.dumps({
        "event_id": f"ev-{i:06d}",
        "event_time": "2026-03-02T09:00:00Z",
        "data_class": "personal_data",
        "operation": "transfer",
        "origin": {"location": "aws:eu-central-1"},
        "destination": {"location": "aws:us-east-1"},
        "processor": "dpf-processor" if i % 10 else "plain-processor",
        "tenant": {"id": f"tenant-{i % 7}"},
        **extra,
    })


def test_decisions_match_auditor_check(cluster: Cluster) -> None:
    topics = cluster.topics()
    cluster.start_worker(topics)
    lines = raw_lines(SAMPLE)
    cluster.produce(topics.input, lines)
    records = cluster.read(topics.decisions, until=lambda r: len(r) >= len(lines))
    assert len(records) == len(lines)
    validator = schemas.validator(schemas.DECISION)
    streamed = {}
    for m in records:
        record = orjson.loads(value(m))
        validator.validate(record)
        streamed[record["event_id"] or value(m)] = record
        headers = dict(m.headers() or [])
        assert headers["auditor.source.topic"] == topics.input.encode()
    engine = Engine(load_policy(EXAMPLE_POLICY))
    expected = [d.plain() for d in decide_all(Decider(engine), raw_lines(SAMPLE))]
    for want in expected:
        if want["event_id"] is None:
            continue
        got = streamed[want["event_id"]]
        assert (got["verdict"], got["findings"], got["transfer"]) == (
            want["verdict"], want["findings"], want["transfer"])
    violations = sum(1 for d in expected if d["verdict"] == "violation")
    findings = cluster.read(topics.findings, until=lambda r: len(r) >= violations)
    assert len(findings) == violations
    assert all(orjson.loads(value(m))["verdict"] == "violation" for m in findings)


BAD_INPUTS: list[tuple[str, bytes, str]] = [
    ("not json", b"this is not json", "not_json"),
    ("truncated json", b'{"event_id": "x", ', "not_json"),
    ("empty value", b"", "not_json"),
    ("not utf-8", b'{"event_id": "\xff\xfe"}', "not_utf8"),
    ("json array", b"[1, 2, 3]", "not_object"),
    ("json string", b'"hello"', "not_object"),
    ("missing field", b'{"event_id": "m1", "event_time": "2026-03-02T09:00:00Z"}', "missing_field"),
    ("wrong type", event(9001, retention_days="thirty"), "wrong_value"),
    ("bad time", event(9002, event_time="yesterday"), "wrong_value"),
    ("unknown spec version", event(9003, spec_version="2"), "unsupported_version"),
    ("hostile nesting", b"[" * 100_000 + b"]" * 100_000, "too_deep"),
    ("oversized", event(9004, labels={"blob": "x" * 1_100_000}), "too_large"),
    ("openlineage without facet",
     b'{"eventType": "COMPLETE", "eventTime": "2026-03-02T09:00:00Z", "run": {"runId": "r"},'
     b' "job": {"namespace": "n", "name": "j"}, "producer": "p", "schemaURL": "s"}',
     "openlineage"),
]


def test_bad_input_goes_to_the_dead_letter_topic_with_its_reason(cluster: Cluster) -> None:
    topics = cluster.topics(partitions=1)
    cluster.start_worker(topics)
    values = [original for _, original, _ in BAD_INPUTS] + [event(1)]
    cluster.produce(topics.input, values, key=b"k1", headers=[("trace-id", b"abc")])
    dead = cluster.read(topics.dead_letter, until=lambda r: len(r) >= len(BAD_INPUTS))
    assert len(dead) == len(BAD_INPUTS)
    by_offset = {m.offset(): m for m in dead}
    for offset, (name, original, reason) in enumerate(BAD_INPUTS):
        m = by_offset[offset]
        headers = dict(m.headers() or [])
        if len(original) <= 262_144:
            assert m.value() == original, name  # the original bytes, untouched
        else:  # cut short to fit the topic, with the original size and hash
            assert original.startswith(value(m)), name
            assert headers["auditor.dlq.original.bytes"] == str(len(original)).encode()
        assert m.key() == b"k1"
        assert headers["__connect.errors.topic"] == topics.input.encode()
        assert headers["__connect.errors.partition"] == b"0"
        assert headers["__connect.errors.offset"] == str(offset).encode()
        assert headers["__connect.errors.exception.class.name"] == reason.encode(), name
        assert headers["__connect.errors.exception.message"], name
        assert headers["trace-id"] == b"abc"
    decisions = cluster.read(topics.decisions, until=lambda r: len(r) >= len(values))
    verdicts = [orjson.loads(value(m))["verdict"] for m in decisions]
    assert verdicts == ["invalid"] * len(BAD_INPUTS) + ["allow"]  # and the stream went on


def test_sigkill_mid_stream_loses_nothing(cluster: Cluster) -> None:
    topics = cluster.topics()
    total = 3000
    worker = cluster.start_worker(topics, extra_env={"AUDITOR_BATCH_MAX": "50"})
    cluster.produce(topics.input, (event(i) for i in range(total)))
    partial = cluster.read(topics.decisions, until=lambda r: len(r) >= 300)
    assert len(partial) >= 300
    assert worker.kill(signal.SIGKILL) == -signal.SIGKILL
    cluster.start_worker(topics, name="worker-2")
    wanted = {f"ev-{i:06d}" for i in range(total)}

    def complete(records: list[Message]) -> bool:
        return len(records) >= total and wanted <= set(ids(records))

    records = cluster.read(topics.decisions, until=complete, timeout=120)
    decided = ids(records)
    assert wanted <= set(decided), f"{len(wanted - set(decided))} events never decided"
    # Duplicates are allowed (at-least-once); consumers drop them by event_id.
    assert len(decided) >= total


def test_two_workers_in_one_group_share_the_partitions(cluster: Cluster) -> None:
    topics = cluster.topics(partitions=4)
    cluster.start_worker(topics, name="worker-a")
    cluster.start_worker(topics, name="worker-b")
    time.sleep(12)  # both joined and the group rebalanced before any event is produced
    total = 2000
    cluster.produce(topics.input, (event(i) for i in range(total)))
    records = cluster.read(topics.decisions, until=lambda r: len(r) >= total, timeout=90)
    decided = ids(records)
    assert sorted(decided) == sorted(f"ev-{i:06d}" for i in range(total))  # each exactly once
    sources = {dict(m.headers() or [])["auditor.source.partition"] for m in records}
    assert len(sources) == 4
    workers = {dict(m.headers() or []).get("auditor.worker") for m in records}
    assert workers == {b"worker-a", b"worker-b"}


def test_graceful_stop_on_sigterm(cluster: Cluster) -> None:
    topics = cluster.topics()
    worker = cluster.start_worker(topics)
    cluster.produce(topics.input, (event(i) for i in range(500)))
    cluster.read(topics.decisions, until=lambda r: len(r) >= 500)
    assert worker.kill(signal.SIGTERM) == 0
    assert "\x1b" not in worker.output()  # a log file gets no terminal control codes
    # Offsets were committed: a new worker in the same group decides nothing again.
    cluster.start_worker(topics, name="worker-2")
    cluster.produce(topics.input, [event(10_000)])
    records = cluster.read(topics.decisions, until=lambda r: "ev-010000" in ids(r))
    assert ids(records).count("ev-000001") == 1


def test_batch_records_every_line_decided_in_order_bad_line_dead_lettered(
    cluster: Cluster,
) -> None:
    topics = cluster.topics(partitions=1)
    # A batch of at most 5 events: each 12-line record still goes through whole.
    cluster.start_worker(topics, extra_env={"AUDITOR_BATCH_MAX": "5"})
    lines = [event(i) for i in range(24)]
    lines[13] = b'{"event_id": "broken", '
    records = [b"\n".join(lines[:12]), b"\n".join(lines[12:])]
    cluster.produce(topics.input, records, key=b"batch",
                    headers=[("content-type", b"application/x-ndjson")])
    decisions = cluster.read(topics.decisions, until=lambda r: len(r) >= 24)
    decided = [orjson.loads(value(m)) for m in decisions]
    assert len(decided) == 24
    expected: list[str | None] = [f"ev-{i:06d}" for i in range(24)]
    expected[13] = None
    assert [d.get("event_id") for d in decided] == expected  # one partition: in line order
    assert decided[13]["verdict"] == "invalid"
    indexes = [dict(m.headers() or [])["auditor.batch.index"] for m in decisions]
    assert indexes == [str(i % 12).encode() for i in range(24)]
    (dead,) = cluster.read(topics.dead_letter, until=lambda r: len(r) >= 1)
    dead_headers = dict(dead.headers() or [])
    assert dead.value() == lines[13]
    assert dead_headers["auditor.batch.index"] == b"1"
    assert dead_headers["__connect.errors.offset"] == b"1"
