"""Shadow mode: the candidate's differences from the live decisions, as replay's what-if finds
them; its own memory; bounded labels; it never fails the batch loop."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry

from auditor import schemas
from auditor.engine import Decider, Engine
from auditor.memory import DictStores
from auditor.ops.shadow_metrics import ShadowMetrics
from auditor.policy import load_policy
from auditor.report.diff import Diff
from auditor.stream.batches import Batcher
from auditor.stream.memory import PartitionMemory
from auditor.stream.pipeline import Pipeline
from auditor.stream.shadow import Shadow
from auditor.stream.sink import MemorySink
from auditor.stream.source import Record
from tests.unit.helpers import ROOT

NATTERBOX = ROOT / "policies" / "natterbox.yaml"
SEED = ROOT / "examples" / "natterbox.jsonl"
LOGS_RULE = "  - id: natterbox.operational-logs-30-days\n"


class Out:
    def __init__(self) -> None:
        self.records: list[tuple[bytes | None, bytes]] = []
        self.closed = False

    def send(self, records: list[tuple[bytes | None, bytes]]) -> None:
        self.records.extend(records)

    def poll(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


def candidate_pack(tmp_path: Path) -> Path:
    """A copy of the Natterbox pack whose 30-day log rule only warns (docs/replay.md)."""
    for name in ("natterbox.yaml", "natterbox.declared.yaml"):
        shutil.copy(ROOT / "policies" / name, tmp_path / name)
    pack = tmp_path / "natterbox.yaml"
    text = pack.read_text()
    start = text.index(LOGS_RULE)
    at = text.index("    effect: deny\n", start)
    pack.write_text(text[:at] + "    effect: warn\n" + text[at + len("    effect: deny\n"):])
    return pack


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Engine]:
    tmp = tmp_path_factory.mktemp("candidate")
    return Engine(load_policy(NATTERBOX)), Engine(load_policy(candidate_pack(tmp)))


def run(live: Engine, candidate: Engine, lines: list[bytes], *, batch: int = 100
        ) -> tuple[Shadow, Out, CollectorRegistry, Batcher]:
    registry = CollectorRegistry()
    metrics = ShadowMetrics(registry, live)
    out = Out()
    shadow = Shadow(metrics, out, live, worker_id="w-1")
    shadow.offer(candidate)
    memory = PartitionMemory() if live.memory is not None else None
    batcher = Batcher(Pipeline(live, memory=memory), MemorySink(), max_events=batch,
                      observe=shadow.observe)
    records = [Record("lineage.events", 0, i, None, None, line, [])
               for i, line in enumerate(lines)]
    for start in range(0, len(records), batch):
        batcher.pending.extend(records[start:start + batch])
        shadow.before(batcher)
        shadow.after(batcher.decide(0.0))
    return shadow, out, registry, batcher


def what_if(live: Engine, candidate: Engine, lines: list[bytes]) -> dict[str, object]:
    """Replay's what-if on the same lines: the candidate against the live policy."""
    diff = Diff({})
    base, replayed = Decider(live, stores=DictStores()), Decider(candidate, stores=DictStores())
    for line in lines:
        diff.add_replayed(replayed.raw(line).decision)
        diff.add_baseline(base.raw(line).decision)
    return diff.result()


def test_the_differences_on_the_seed_traffic_are_replays_what_if(
    engines: tuple[Engine, Engine],
) -> None:
    live, candidate = engines
    lines = SEED.read_bytes().splitlines()
    _, out, registry, _ = run(live, candidate, lines)
    expected = what_if(live, candidate, lines)
    records = [orjson.loads(value) for _, value in out.records]
    validator = schemas.validator(schemas.SHADOW)
    for record in records:
        validator.validate(record)
    assert len(records) == expected["changed"] == 18
    want = {e["event_id"]: e for e in expected["events"]}  # type: ignore[attr-defined]
    for record in records:
        entry = want[record["event_id"]]
        assert (record["live"]["verdict"], record["candidate"]["verdict"]) == (
            entry["baseline_verdict"], entry["replay_verdict"])
        assert (record["added_rules"], record["removed_rules"]) == (
            entry["added_rules"], entry["removed_rules"])
        assert record["live"]["policy"]["version"] == live.version
        assert record["candidate"]["policy"]["version"] == candidate.version
    assert records[0]["removed_rules"] == ["natterbox.operational-logs-30-days"]
    assert records[0]["added_rules"] == ["natterbox.operational-logs-30-days[warn]"]

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    # Invalid input (the seed has some) is not compared: its decision is no policy's.
    invalid = sum(1 for line in lines if Decider(live).raw(line).invalid is not None)
    assert invalid > 0
    assert sample("auditor_shadow_events_total") == len(lines) - invalid
    assert sample("auditor_shadow_differing_events_total") == 18
    assert sample("auditor_shadow_verdict_changes_total", **{"from": "violation",
                                                             "to": "allow"}) == 18
    assert sample("auditor_shadow_differences_total", rule="natterbox.operational-logs-30-days",
                  change="removed") == 18
    assert sample("auditor_shadow_differences_total",
                  rule="natterbox.operational-logs-30-days[warn]", change="added") == 18
    assert sample("auditor_shadow_policy_info", policy="natterbox", version=candidate.version,
                  legal_tables=candidate.tables.version) == 1


def test_the_same_policy_in_shadow_differs_nowhere_and_its_memory_is_its_own(
    engines: tuple[Engine, Engine],
) -> None:
    live, _ = engines
    lines = SEED.read_bytes().splitlines()
    # The candidate starts from a copy of the live memory (taken before a batch), and
    # then keeps its own: stateful rules judge alike, and the live store is not touched.
    shadow, out, _, batcher = run(live, Engine(load_policy(NATTERBOX)), lines[:1000])
    assert batcher.memory is not None
    live_store = batcher.memory.store(0)
    mine = shadow.stores.store(0)
    assert mine.data is not live_store.data  # a copy
    assert mine.data == live_store.data
    before = orjson.dumps(live_store.data)
    for batch in range(1000, 2000, 100):
        batcher.pending.extend(Record("lineage.events", 0, i, None, None, lines[i], [])
                               for i in range(batch, batch + 100))
        shadow.before(batcher)
        shadow.after(batcher.decide(0.0))
    assert orjson.dumps(live_store.data) != before
    assert mine.data == live_store.data
    assert out.records == []
    shadow.forget([0])
    assert 0 not in shadow.stores.by_stream
    shadow.close()
    assert out.closed


def test_a_shadow_joining_late_copies_the_live_memory_once(engines: tuple[Engine, Engine]) -> None:
    live, _ = engines
    lines = SEED.read_bytes().splitlines()
    registry = CollectorRegistry()
    shadow = Shadow(ShadowMetrics(registry, live), Out(), live)
    batcher = Batcher(Pipeline(live, memory=PartitionMemory()), MemorySink(), max_events=500,
                      observe=shadow.observe)
    batcher.pending.extend(Record("t", 0, i, None, None, lines[i], []) for i in range(500))
    shadow.before(batcher)
    shadow.after(batcher.decide(0.0))  # no candidate yet: nothing compared
    assert registry.get_sample_value("auditor_shadow_events_total") == 0
    shadow.offer(Engine(load_policy(NATTERBOX)))
    batcher.pending.extend(Record("t", 0, i, None, None, lines[i], []) for i in range(500, 1000))
    shadow.before(batcher)
    assert batcher.memory is not None
    assert shadow.stores.store(0).data == batcher.memory.store(0).data
    shadow.after(batcher.decide(0.0))
    valid = sum(1 for i in range(500, 1000) if Decider(live).raw(lines[i]).invalid is None)
    assert registry.get_sample_value("auditor_shadow_events_total") == valid
    assert registry.get_sample_value("auditor_shadow_differing_events_total") == 0


def test_labels_stay_within_both_policies_rules(engines: tuple[Engine, Engine]) -> None:
    live, candidate = engines
    registry = CollectorRegistry()
    metrics = ShadowMetrics(registry, live)
    metrics.policies(live, candidate)
    metrics.count_batch(3, 3, {("violation", "weird"): 1},
                        {("natterbox.recordings-location", "added"): 1,
                         ("natterbox.recordings-location[warn]", "added"): 1,
                         ("attacker.controlled", "removed"): 1}, 0.01)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in registry.collect() for s in family.samples}
    assert samples[("auditor_shadow_verdict_changes_total",
                    (("from", "violation"), ("to", "other")))] == 1
    assert samples[("auditor_shadow_differences_total",
                    (("change", "removed"), ("rule", "other")))] == 1
    assert samples[("auditor_shadow_differences_total",
                    (("change", "added"), ("rule", "natterbox.recordings-location[warn]")))] == 1


def test_a_failing_candidate_never_raises_into_the_batch_loop(
    engines: tuple[Engine, Engine],
) -> None:
    live, candidate = engines
    lines = SEED.read_bytes().splitlines()[:10]
    shadow, _out, _registry, batcher = run(live, candidate, [])

    class Broken(Out):
        def send(self, records: list[tuple[bytes | None, bytes]]) -> None:
            raise RuntimeError("a bug")

    shadow.out = Broken()
    batcher.pending.extend(Record("t", 0, i, None, None, line, [])
                           for i, line in enumerate(lines * 3))
    shadow.before(batcher)
    batch = batcher.decide(0.0)
    shadow.after(batch)  # logged, not raised
    assert len(batch.outputs) >= 30
