"""Taking a new policy version: staged off the loop, switched between batches, refused with a
page when it cannot run; what the worker's metrics say about it."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry

from auditor.engine import Engine
from auditor.ops.reloads import PolicyReloads
from auditor.ops.telemetry import Telemetry
from auditor.policy import load_policy
from auditor.stream.batches import Batcher
from auditor.stream.memory import PartitionMemory
from auditor.stream.pipeline import Pipeline, Source
from auditor.stream.rollout import Rollout, incompatible
from auditor.stream.settings import Settings
from auditor.stream.sink import MemorySink
from tests.unit.helpers import EXAMPLE_POLICY, transfer_event

PLAIN = "    name: US processor with no safeguard at all\n    country: US\n"
# The change of the tests: the processor without safeguards signs the SCCs.
SIGNED = PLAIN + '    safeguards:\n      scc: {since: "2021-09-27"}\n'
DEROGATION_LIMIT = "    params:\n      # Art. 49"


def engine_of(tmp_path: Path, text: str, name: str = "pack.yaml") -> Engine:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return Engine(load_policy(path))


def example(tmp_path: Path, *, signed: bool = False, memory: bool = True) -> Engine:
    text = EXAMPLE_POLICY.read_text()
    assert text.count(PLAIN) == 1
    assert DEROGATION_LIMIT in text
    if signed:
        text = text.replace(PLAIN, SIGNED)
    if not memory:
        text = text[: text.index(DEROGATION_LIMIT)]
    return engine_of(tmp_path, text, f"pack-{signed}-{memory}.yaml")


class Report:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def switched(self, old: Engine, new: Engine) -> None:
        self.events.append(("switched", new.version))

    def rejected(self, errors: str, running: Engine) -> None:
        self.events.append(("rejected", errors))

    def settled(self) -> None:
        self.events.append(("settled", ""))


def batcher_of(engine: Engine) -> Batcher:
    memory = PartitionMemory() if engine.memory is not None else None
    return Batcher(Pipeline(engine, memory=memory), MemorySink(), max_events=10)


def decide_one(batcher: Batcher, event_id: str, processor: str = "plain-processor") -> dict[
        str, object]:
    source = Source("lineage.events", 0, 0)
    ((_decision, _, outs),) = list(batcher.pipeline.process(
        transfer_event(event_id, processor), b"t-1", [], source))
    record: dict[str, object] = orjson.loads(outs[0].value or b"")
    return record


def test_a_staged_version_decides_from_the_next_batch_on_with_the_same_memory(
    tmp_path: Path,
) -> None:
    old, new = example(tmp_path), example(tmp_path, signed=True)
    report = Report()
    batcher = batcher_of(old)
    rollout = Rollout(old, report, memory=True)
    assert decide_one(batcher, "e-1")["verdict"] == "violation"
    stores = batcher.pipeline.decider.stores
    rollout.offer(new)  # the watch's thread: staged, not yet used
    assert report.events == []
    assert decide_one(batcher, "e-2")["verdict"] == "violation"
    rollout.before(batcher)  # between batches
    assert report.events == [("switched", new.version)]
    record = decide_one(batcher, "e-3")
    assert record["verdict"] == "allow"
    assert record["policy"] == {"id": "gdpr-transfers", "version": new.version,
                                "legal_tables": new.tables.version}
    assert batcher.pipeline.decider.stores is stores  # memory survives the switch
    assert rollout.live is new
    rollout.before(batcher)  # nothing staged: nothing happens
    assert len(report.events) == 1


def test_the_same_version_again_is_not_a_switch_and_clears_a_refusal(tmp_path: Path) -> None:
    old = example(tmp_path)
    report = Report()
    rollout = Rollout(old, report, memory=True)
    rollout.failed("pack.yaml:3: broken")
    rollout.offer(example(tmp_path))  # written back: the running version
    rollout.before(batcher_of(old))
    assert report.events == [("rejected", "pack.yaml:3: broken"), ("settled", "")]


def test_a_failed_version_after_a_staged_one_keeps_the_running_version(tmp_path: Path) -> None:
    old, new = example(tmp_path), example(tmp_path, signed=True)
    report = Report()
    rollout = Rollout(old, report, memory=True)
    rollout.offer(new)
    rollout.failed("broken")
    batcher = batcher_of(old)
    rollout.before(batcher)
    assert batcher.pipeline.engine is old
    assert report.events == [("rejected", "broken")]


def test_a_version_that_needs_memory_the_worker_does_not_keep_is_refused(tmp_path: Path) -> None:
    stateless, stateful = example(tmp_path, memory=False), example(tmp_path)
    (problem,) = incompatible(stateless, stateful, memory=False)
    assert "gdpr.chapter-v" in problem
    assert "restart the workers" in problem
    assert incompatible(stateful, stateless, memory=True) == []  # memory kept, unused
    report = Report()
    rollout = Rollout(stateless, report, memory=False)
    rollout.offer(stateful)
    batcher = batcher_of(stateless)
    rollout.before(batcher)
    assert batcher.pipeline.engine is stateless
    ((what, errors),) = report.events
    assert what == "rejected"
    assert errors.startswith(
        f"policy gdpr-transfers version {stateful.version} cannot replace the running version")


def test_a_remembering_rule_id_given_to_another_kind_is_refused(tmp_path: Path) -> None:
    old = example(tmp_path)
    text = EXAMPLE_POLICY.read_text().replace("  - id: gdpr.chapter-v\n", "  - id: gdpr.moved\n")
    text += """
  - id: gdpr.chapter-v
    kind: residency
    description: The old id, now another kind.
    severity: high
    effect: deny
    citation: {text: "Stored in Germany.", source: "a notice"}
    params:
      allowed: ["country:DE"]
"""
    new = engine_of(tmp_path, text, "moved.yaml")
    (problem,) = incompatible(old, new, memory=True)
    assert problem.startswith("rule gdpr.chapter-v was of kind transfer and is now residency")
    other_pack = engine_of(tmp_path, EXAMPLE_POLICY.read_text().replace(
        "id: gdpr-transfers", "id: other-pack"), "other.yaml")
    assert "the pack's id changed" in incompatible(old, other_pack, memory=True)[0]


class Posts:
    def __init__(self) -> None:
        self.alerts: list[dict[str, object]] = []
        self.fail = False

    def __call__(self, url: str, body: bytes, timeout_s: float) -> None:
        if self.fail:
            raise OSError("connection refused")
        self.alerts.extend(json.loads(body))


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def scrape(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


@pytest.fixture
def reloads(tmp_path: Path) -> tuple[PolicyReloads, Posts, Clock, Telemetry]:
    settings = Settings(alertmanager_url="http://am:9093", policy=str(tmp_path / "pack.yaml"),
                        worker_id="w-7")
    telemetry = Telemetry(settings, example(tmp_path), registry=CollectorRegistry(),
                          loaded_at=1.0)
    posts, clock = Posts(), Clock()
    return PolicyReloads(telemetry, clock=clock, post=posts), posts, clock, telemetry


def test_a_switch_shows_in_the_metrics(
    tmp_path: Path, reloads: tuple[PolicyReloads, Posts, Clock, Telemetry]
) -> None:
    report, posts, clock, telemetry = reloads
    registry = telemetry.registry
    old, new = telemetry.engine, example(tmp_path, signed=True)
    info = {"policy": "gdpr-transfers", "legal_tables": old.tables.version}
    assert scrape(registry, "auditor_policy_info", version=old.version, **info) == 1
    report.switched(old, new)
    assert scrape(registry, "auditor_policy_info", version=old.version, **info) is None
    assert scrape(registry, "auditor_policy_info", version=new.version, **info) == 1
    assert scrape(registry, "auditor_policy_loaded_timestamp_seconds") == clock.now
    assert scrape(registry, "auditor_policy_reloads_total", result="applied") == 1
    assert scrape(registry, "auditor_policy_reload_failing") == 0
    report.tick()
    assert posts.alerts == []  # nothing refused, nothing paged


def test_a_refusal_is_counted_paged_again_each_interval_and_resolved_by_a_switch(
    tmp_path: Path, reloads: tuple[PolicyReloads, Posts, Clock, Telemetry]
) -> None:
    report, posts, clock, telemetry = reloads
    registry = telemetry.registry
    old = telemetry.engine
    report.rejected("pack.yaml:12: rule 'r1': unknown kind 'nonsense'", old)
    assert scrape(registry, "auditor_policy_reloads_total", result="rejected") == 1
    assert scrape(registry, "auditor_policy_reload_failing") == 1
    report.tick()
    (alert,) = posts.alerts
    assert alert["labels"] == {"alertname": "AuditorPolicyLoadFailure", "severity": "high",
                               "team": "privacy", "incident": "policy-load", "worker": "w-7",
                               "policy": "pack.yaml"}
    annotations = alert["annotations"]
    assert isinstance(annotations, dict)
    assert "unknown kind 'nonsense'" in annotations["description"]
    assert f"running version {old.version} goes on deciding" in annotations["description"]
    clock.now += 10
    report.tick()
    assert len(posts.alerts) == 1  # not again within the interval (30 s)
    clock.now += 30
    report.tick()
    assert len(posts.alerts) == 2  # re-sent: it stays active while the files hold it
    report.switched(old, example(tmp_path, signed=True))
    assert scrape(registry, "auditor_policy_reload_failing") == 0
    report.tick()
    resolved = posts.alerts[-1]
    assert resolved["labels"] == alert["labels"]
    assert resolved["endsAt"] == resolved["startsAt"]
    report.tick()
    assert len(posts.alerts) == 3  # resolved once


def test_a_page_that_could_not_be_posted_is_tried_again_and_settling_resolves_it(
    reloads: tuple[PolicyReloads, Posts, Clock, Telemetry],
) -> None:
    report, posts, clock, telemetry = reloads
    posts.fail = True
    report.rejected("broken", telemetry.engine)
    report.tick()
    assert posts.alerts == []
    posts.fail = False
    clock.now += 31
    report.tick()
    assert len(posts.alerts) == 1
    report.settled()  # the files hold the running version again
    assert scrape(telemetry.registry, "auditor_policy_reload_failing") == 0
    report.tick()
    assert posts.alerts[-1]["endsAt"] == posts.alerts[-1]["startsAt"]


def test_after_a_switch_both_versions_rules_are_label_values(
    tmp_path: Path, reloads: tuple[PolicyReloads, Posts, Clock, Telemetry]
) -> None:
    report, _, _, telemetry = reloads
    renamed = engine_of(tmp_path, EXAMPLE_POLICY.read_text().replace(
        "  - id: gdpr.chapter-v\n", "  - id: gdpr.renamed\n"), "renamed.yaml")
    report.switched(telemetry.engine, renamed)
    labels = {"policy": "gdpr-transfers", "kind": "transfer", "severity": "high",
              "effect": "deny", "team": "privacy"}
    registry = telemetry.registry
    assert scrape(registry, "auditor_findings_total", rule="gdpr.renamed", **labels) == 0
    assert scrape(registry, "auditor_findings_total", rule="gdpr.chapter-v", **labels) == 0
    bounds = telemetry.metrics.bounds
    assert bounds.finding_labels("gdpr.chapter-v", "transfer", "high", "deny")[0] != "other"
    assert bounds.finding_labels("gdpr.renamed", "transfer", "high", "deny")[0] != "other"
    assert bounds.finding_labels("made.up", "transfer", "high", "deny")[0] == "other"
