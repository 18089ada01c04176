"""The batch loop's hooks in Faust, without Kafka: a policy switch lands between two batches,
every record is decided once, and shadow mode compares each delivered batch."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry

from auditor.engine import Engine
from auditor.ops.shadow_metrics import ShadowMetrics
from auditor.policy import load_policy
from auditor.stream.app import create_app
from auditor.stream.batches import Batch, Batcher, BatchHook
from auditor.stream.rollout import Rollout
from auditor.stream.settings import Settings
from auditor.stream.shadow import Shadow
from auditor.stream.sink import MemorySink
from auditor.stream.source import Rebalance, Record
from tests.stream.sources import ListSource
from tests.unit.helpers import EXAMPLE_POLICY, transfer_event

pytestmark = [pytest.mark.stream]
PLAIN = "    name: US processor with no safeguard at all\n    country: US\n"
SIGNED = PLAIN + '    safeguards:\n      scc: {since: "2021-09-27"}\n'


def signed_engine(tmp_path: Path) -> Engine:
    """The example pack once the processor without safeguards signed the SCCs."""
    pack = tmp_path / "signed.yaml"
    pack.write_text(EXAMPLE_POLICY.read_text().replace(PLAIN, SIGNED), encoding="utf-8")
    return Engine(load_policy(pack))


class Calls(BatchHook):
    """Records the hook calls; offers ``new`` to the rollout once the first batch is done
    (as the watch's thread would, at any moment)."""

    def __init__(self, rollout: Rollout, new: Engine) -> None:
        self.rollout = rollout
        self.new = new
        self.calls: list[str] = []

    def before(self, batcher: Batcher) -> None:
        if batcher.pending:
            self.calls.append("before")

    def after(self, batch: Batch) -> None:
        self.calls.append(f"after {[r.offset for r in batch.records]}")
        if len(self.calls) == 2:
            self.rollout.offer(self.new)

    def forget(self, partitions: Iterable[int]) -> None:
        self.calls.append(f"forget {list(partitions)}")

    def close(self) -> None:
        self.calls.append("close")


class Report:
    def __init__(self) -> None:
        self.switches: list[str] = []

    def switched(self, old: Engine, new: Engine) -> None:
        self.switches.append(new.version)

    def rejected(self, errors: str, running: Engine) -> None:
        raise AssertionError(errors)

    def settled(self) -> None:
        raise AssertionError("settled")


class Out:
    def __init__(self) -> None:
        self.records: list[tuple[bytes | None, bytes]] = []

    def send(self, records: list[tuple[bytes | None, bytes]]) -> None:
        self.records.extend(records)

    def poll(self) -> None:
        return None

    def close(self) -> None:
        return None


def test_a_switch_lands_between_batches_and_shadow_compares_each_batch(tmp_path: Path) -> None:
    old = Engine(load_policy(EXAMPLE_POLICY))
    new = signed_engine(tmp_path)
    report = Report()
    rollout = Rollout(old, report, memory=old.memory is not None)
    calls = Calls(rollout, new)
    registry = CollectorRegistry()
    out = Out()
    shadow = Shadow(ShadowMetrics(registry, old), out, old)
    shadow.offer(new)  # the candidate is what goes live later
    records = [Record("lineage.events", 0, i, 1_780_000_000_000 + i, b"t-1",
                      transfer_event(f"e-{i}", "plain-processor"), []) for i in range(6)]
    source = ListSource(records)

    def make_source(on_assign: Rebalance, on_revoke: Rebalance) -> ListSource:
        return source

    sink = MemorySink()

    async def run() -> None:
        app = create_app(Settings(batch_max=2, batch_within_s=0.01), old, sink=sink,
                         source=make_source, observe=shadow.observing(None),
                         hooks=[rollout, calls, shadow])
        await app.start()
        deadline = time.monotonic() + 10
        while len(source.done_offsets) < 6 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        app.decide_service._revoked([0])
        await app.stop()

    asyncio.run(run())
    decisions = [orjson.loads(o.value or b"") for o in sink.records["decision"]]
    assert [d["event_id"] for d in decisions] == [f"e-{i}" for i in range(6)]  # once each
    assert source.done_offsets == [0, 1, 2, 3, 4, 5]
    # Offered after batch [0, 1]: it decides from the next batch on, never inside one.
    versions = [d["policy"]["version"] for d in decisions]
    assert versions == [old.version] * 2 + [new.version] * 4
    assert [d["verdict"] for d in decisions] == ["violation"] * 2 + ["allow"] * 4
    assert report.switches == [new.version]
    assert calls.calls == ["before", "after [0, 1]", "before", "after [2, 3]", "before",
                           "after [4, 5]", "forget [0]", "close"]
    # The shadow saw the first batch differ (violation -> allow), then none.
    diffs = [orjson.loads(value) for _, value in out.records]
    assert [d["event_id"] for d in diffs] == ["e-0", "e-1"]
    assert registry.get_sample_value("auditor_shadow_events_total") == 6
    assert registry.get_sample_value("auditor_shadow_differing_events_total") == 2
