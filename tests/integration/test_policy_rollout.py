"""Policy roll-out on a real broker: a new version switched to mid-stream (counted), a broken
one that changes nothing and pages, and shadow mode on the Natterbox seed traffic."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Message

from auditor import schemas
from auditor.engine import Decider, Engine
from auditor.kafka_partitioner import partition_of
from auditor.policy import load_policy
from tests.integration.conftest import EXAMPLE_POLICY, ROOT, Cluster, WorkerProcess
from tests.integration.test_observability import (
    alertmanager,
    am_alerts,
    metrics_url,
    scrape,
    wait_for,
)
from tests.integration.test_worker import event, value

pytestmark = pytest.mark.integration
PLAIN = "    name: US processor with no safeguard at all\n    country: US\n"
# The new version: the processor without safeguards signed the SCCs (violations -> allow).
SIGNED = PLAIN + '    safeguards:\n      scc: {since: "2021-09-27"}\n'
WATCH = {"AUDITOR_POLICY_WATCH_INTERVAL_S": "0.2"}


def write(path: Path, text: str) -> None:
    """Replace the file at once, as a ConfigMap update or an editor's atomic save does."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def record(m: Message) -> dict[str, object]:
    out: dict[str, object] = orjson.loads(value(m))
    return out


def header(m: Message, name: str) -> bytes:
    found = dict(m.headers() or [])[name]
    return found.encode() if isinstance(found, str) else found or b""


def tenant_partition(i: int) -> int:
    """The partition of ``event(i)``'s tenant in a topic of 2 partitions."""
    return partition_of(f"tenant-{i % 7}".encode(), 2)


def version(r: dict[str, object]) -> str:
    policy = r["policy"]
    assert isinstance(policy, dict)
    return str(policy["version"])


def decisions(cluster: Cluster, topic: str, total: int, timeout: float = 90) -> list[Message]:
    return cluster.read(topic, until=lambda r: len(r) >= total, timeout=timeout)


def sample(worker: WorkerProcess, name: str, **labels: str) -> float | None:
    return scrape(metrics_url(worker)).get((name, tuple(sorted(labels.items()))))


def test_a_new_version_is_taken_mid_stream_every_event_decided_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    pack = tmp_path / "pack.yaml"
    old_text = EXAMPLE_POLICY.read_text()
    write(pack, old_text)
    old = Engine(load_policy(pack))
    topics = cluster.topics(partitions=2)
    worker = cluster.start_worker(topics, policy=pack, extra_env=WATCH)
    cluster.produce(topics.input, [event(0)], partition=0)
    decisions(cluster, topics.decisions, 1)  # the worker is up and deciding

    total = 4000
    switched_at: list[int] = []

    def produce() -> None:
        # Each event in its tenant's partition, as the emitter keys it: the policy has rules
        # that remember, so one elsewhere would be re-keyed and decided later, from the
        # repartition topic, out of its input partition's offset order.
        for start in range(1, total, 50):
            for partition in (0, 1):
                cluster.produce(topics.input, (event(i) for i in range(start, start + 50)
                                               if tenant_partition(i) == partition
                                               and i < total),
                                partition=partition)
            if start >= total // 3 and not switched_at:
                write(pack, old_text.replace(PLAIN, SIGNED))  # mid-stream
                switched_at.append(start)
            time.sleep(0.03)

    producer = threading.Thread(target=produce)
    producer.start()
    producer.join(timeout=120)
    new = Engine(load_policy(pack))
    assert new.version != old.version
    records = decisions(cluster, topics.decisions, total)
    by_id = Counter(str(record(m)["event_id"]) for m in records)
    assert sorted(by_id) == sorted(f"ev-{i:06d}" for i in range(total))
    assert set(by_id.values()) == {1}  # no event decided twice, none skipped

    # Per partition, in offset order: the old version, then the new, never back.
    engines = {old.version: Decider(old), new.version: Decider(new)}
    counts: Counter[str] = Counter()
    for partition in (b"0", b"1"):
        mine = sorted((m for m in records if header(m, "auditor.source.partition") == partition),
                      key=lambda m: int(header(m, "auditor.source.offset")))
        seq = [version(record(m)) for m in mine]
        cut = seq.index(new.version)
        assert seq[:cut] == [old.version] * cut
        assert seq[cut:] == [new.version] * (len(seq) - cut)
        for m in mine:  # each decision is what its version decides of that event
            r = record(m)
            want = engines[version(r)].value(r["event"]).decision.plain()
            assert (r["verdict"], r["findings"]) == (want["verdict"], want["findings"])
        counts.update(seq)
    assert counts[old.version] > 0
    assert counts[new.version] > 0
    verdicts = Counter((version(record(m)), record(m)["verdict"]) for m in records)
    print(f"\nswitch mid-stream: {total} events, {len(records)} decisions; "
          f"old {old.version[:15]}: {counts[old.version]} "
          f"({verdicts[(old.version, 'violation')]} violations); "
          f"new {new.version[:15]}: {counts[new.version]} "
          f"({verdicts[(new.version, 'violation')]} violations); file written after event "
          f"{switched_at[0]}")
    assert verdicts[(new.version, "violation")] == 0  # SCCs signed: no violation any more
    info = {"policy": "gdpr-transfers", "legal_tables": new.tables.version}
    assert sample(worker, "auditor_policy_info", version=new.version, **info) == 1
    assert sample(worker, "auditor_policy_info", version=old.version, **info) is None
    assert sample(worker, "auditor_policy_reloads_total", result="applied") == 1
    assert sample(worker, "auditor_policy_reloads_total", result="rejected") == 0
    assert f"version {new.version} decides from this batch on" in worker.output()


def test_a_broken_version_changes_nothing_and_pages_until_a_good_one_is_taken(
    cluster: Cluster, tmp_path: Path
) -> None:
    pack = tmp_path / "pack.yaml"
    old_text = EXAMPLE_POLICY.read_text()
    write(pack, old_text)
    old = Engine(load_policy(pack))
    topics = cluster.topics(partitions=1)
    with alertmanager(tmp_path) as am:
        worker = cluster.start_worker(
            topics, policy=pack, extra_env={**WATCH, "AUDITOR_ALERTMANAGER_URL": am})
        cluster.produce(topics.input, (event(i) for i in range(100)))
        decisions(cluster, topics.decisions, 100)

        write(pack, old_text.replace("kind: transfer", "kind: nonsense", 1))
        (alert,) = wait_for("AuditorPolicyLoadFailure",
                            lambda: am_alerts(am, "AuditorPolicyLoadFailure"))
        assert alert["labels"]["severity"] == "high"
        assert alert["labels"]["policy"] == "pack.yaml"
        assert "nonsense" in alert["annotations"]["description"]
        assert old.version in alert["annotations"]["description"]
        assert sample(worker, "auditor_policy_reload_failing") == 1
        assert sample(worker, "auditor_policy_reloads_total", result="rejected") == 1

        cluster.produce(topics.input, (event(i) for i in range(100, 200)))
        records = decisions(cluster, topics.decisions, 200)
        assert {version(record(m)) for m in records} == {old.version}  # nothing changed
        assert worker.proc.poll() is None

        write(pack, old_text.replace(PLAIN, SIGNED))
        new = Engine(load_policy(pack))
        wait_for("the page to resolve", lambda: am_alerts(am, "AuditorPolicyLoadFailure") == [])
        wait_for("the switch", lambda: sample(worker, "auditor_policy_info",
                                              policy="gdpr-transfers", version=new.version,
                                              legal_tables=new.tables.version))
        assert sample(worker, "auditor_policy_reload_failing") == 0
        cluster.produce(topics.input, (event(i) for i in range(200, 300)))
        records = decisions(cluster, topics.decisions, 300)
    ids = Counter(str(record(m)["event_id"]) for m in records)
    assert len(ids) == 300
    assert set(ids.values()) == {1}
    versions = Counter(version(record(m)) for m in records)
    assert versions == {old.version: 200, new.version: 100}


def test_shadow_mode_counts_and_writes_the_candidates_differences(
    cluster: Cluster, tmp_path: Path
) -> None:
    for name in ("natterbox.yaml", "natterbox.declared.yaml"):
        shutil.copy(ROOT / "policies" / name, tmp_path / name)
    candidate = tmp_path / "natterbox.yaml"
    text = candidate.read_text()
    at = text.index("    effect: deny\n", text.index("  - id: natterbox.operational-logs-30-days"))
    candidate.write_text(text[:at] + "    effect: warn\n" + text[at + 17:])
    live, shadow = Engine(load_policy(ROOT / "policies" / "natterbox.yaml")), Engine(
        load_policy(candidate))
    topics = cluster.topics(partitions=1)
    shadow_topic = f"{topics.decisions}-shadow"
    worker = cluster.start_worker(topics, policy=ROOT / "policies" / "natterbox.yaml", extra_env={
        "AUDITOR_SHADOW_POLICY": str(candidate), "AUDITOR_SHADOW_TOPIC": shadow_topic})
    lines = (ROOT / "examples" / "natterbox.jsonl").read_bytes().splitlines()
    cluster.produce(topics.input, lines, partition=0)
    events = [r for r in decisions(cluster, topics.decisions, len(lines))
              if not str(record(r)["event_id"]).startswith("deadline:")]
    # Nothing of the candidate reaches the decisions: all of them are the live version's.
    assert {version(record(m)) for m in events} == {live.version}
    found = [record(m) for m in cluster.read(shadow_topic, until=lambda r: len(r) >= 18)]
    validator = schemas.validator(schemas.SHADOW)
    for r in found:
        validator.validate(r)
    assert len(found) == 18
    assert {(r["live"]["verdict"], r["candidate"]["verdict"]) for r in found} == {  # type: ignore[index]
        ("violation", "allow")}
    assert {r["candidate"]["policy"]["version"] for r in found} == {shadow.version}  # type: ignore[index]
    # Invalid input is not compared (the seed has some): its decision is no policy's.
    compared = len(lines) - sum(1 for line in lines if Decider(live).raw(line).invalid)
    wait_for("the shadow's counts",
             lambda: sample(worker, "auditor_shadow_events_total") == compared and sample(
                 worker, "auditor_shadow_records_total", result="sent") == 18)
    assert sample(worker, "auditor_shadow_differing_events_total") == 18
    assert sample(worker, "auditor_shadow_differences_total",
                  rule="natterbox.operational-logs-30-days", change="removed") == 18
    seconds = sample(worker, "auditor_shadow_seconds_total")
    print(f"\nshadow: {compared} events compared, 18 differ "
          f"(natterbox.operational-logs-30-days deny -> warn: violation -> allow); "
          f"shadow work {seconds:.3f} s on the batch loop")
