"""The worker's metrics, read off a fresh registry: names, counts per batch, label bounds."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from auditor.engine import Engine
from auditor.engine.decision import KINDS, VERDICTS
from auditor.legal.chapter_v import MECHANISMS
from auditor.legal.countries import iso_countries
from auditor.legal.tables import REGIMES
from auditor.ops.incidents import Incidents
from auditor.ops.labels import OTHER, LabelBounds
from auditor.ops.links import Links
from auditor.ops.metrics import WorkerMetrics
from auditor.ops.tables import reviewed_at
from auditor.policy import load_policy
from auditor.policy.model import EFFECTS, SEVERITIES
from auditor.stream.pipeline import REASONS, Pipeline, Source
from tests.unit.helpers import transfer_event
from tests.unit.ops.test_alerts_rules import require_binary

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "policies" / "examples" / "gdpr-transfers.yaml"
NATTERBOX = ROOT / "policies" / "natterbox.yaml"
SOURCE = Source("lineage.events", 0, 0)
# The names every worker exports (docs/metrics.md); dashboards and alert rules use them.
EXPORTED = {
    "auditor_events_total": ("counter", ("verdict",)),
    "auditor_findings_total": (
        "counter", ("policy", "rule", "kind", "severity", "effect", "team")),
    "auditor_transfers_total": ("counter", ("regime", "mechanism", "destination_country")),
    "auditor_invalid_events_total": ("counter", ("reason",)),
    "auditor_rekeyed_events_total": ("counter", ()),
    "auditor_processing_latency_seconds": ("histogram", ()),
    "auditor_event_time_lag_seconds": ("histogram", ()),
    "auditor_consumer_lag": ("gauge", ("topic", "partition")),
    "auditor_last_decision_timestamp_seconds": ("gauge", ()),
    "auditor_policy_info": ("gauge", ("policy", "version", "legal_tables")),
    "auditor_policy_loaded_timestamp_seconds": ("gauge", ()),
    "auditor_policy_reloads_total": ("counter", ("result",)),
    "auditor_policy_reload_failing": ("gauge", ()),
    "auditor_legal_tables_info": ("gauge", ("version",)),
    "auditor_legal_tables_reviewed_timestamp_seconds": ("gauge", ()),
    "auditor_alerts_pushed_total": ("counter", ("result",)),
    "auditor_build_info": ("gauge", ("version", "librdkafka")),
}
# prometheus-client's process, platform and GC collectors, on the same registry.
RUNTIME = {
    "process_virtual_memory_bytes": "gauge", "process_resident_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge", "process_cpu_seconds_total": "counter",
    "process_open_fds": "gauge", "process_max_fds": "gauge", "python_info": "gauge",
    "python_gc_objects_collected_total": "counter",
    "python_gc_objects_uncollectable_total": "counter",
    "python_gc_collections_total": "counter",
}
HISTOGRAM_LABELS = {"le"}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def event(i: int, processor: str = "dpf-processor", **extra: Any) -> bytes:
    return transfer_event(f"m-{i}", processor, **extra)


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every exposed sample: (name, sorted labels) -> value, parsed from the text format."""
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return samples(registry).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_policy(EXAMPLE))


def run_batch(metrics: WorkerMetrics, pipeline: Pipeline, raws: list[bytes]) -> None:
    for offset, raw in enumerate(raws):
        source = replace(SOURCE, offset=offset)
        for decision, reason, _ in pipeline.process(raw, None, [], source):
            assert decision is not None  # nothing is re-keyed without rules that remember
            metrics.observe(decision, reason, source)


def test_the_exporter_registers_exactly_the_documented_metrics(engine: Engine) -> None:
    registry = CollectorRegistry()
    WorkerMetrics(registry, engine)
    text = generate_latest(registry).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    # The parser drops the `_total` of counters from family names.
    exposed = {
        (name + "_total" if f.type == "counter" else name): f.type for name, f in families.items()
    }
    assert exposed == {name: kind for name, (kind, _) in EXPORTED.items()} | RUNTIME
    for name, (_, labels) in EXPORTED.items():
        family = families[name.removesuffix("_total")]
        for sample in family.samples:
            assert set(sample.labels) - HISTOGRAM_LABELS <= set(labels), (name, sample)
    # No process-wide state: a second worker's metrics live in a registry of their own.
    WorkerMetrics(CollectorRegistry(), engine)
    # Without the runtime collectors, only the auditor's own metrics.
    bare = CollectorRegistry()
    WorkerMetrics(bare, engine, runtime=False)
    names = {f.name for f in text_string_to_metric_families(generate_latest(bare).decode())}
    assert all(name.startswith("auditor_") for name in names)


def test_build_info_names_the_package_and_librdkafka(engine: Engine) -> None:
    from importlib.metadata import version

    import confluent_kafka

    registry = CollectorRegistry()
    WorkerMetrics(registry, engine)
    assert value(registry, "auditor_build_info", version=version("auditor"),
                 librdkafka=confluent_kafka.libversion()[0]) == 1


def test_a_batch_is_published_only_once_its_outputs_are_delivered(engine: Engine) -> None:
    registry = CollectorRegistry()
    wall, mono = Clock(1_800_000_000.0), Clock(100.0)
    metrics = WorkerMetrics(registry, engine, clock=wall, monotonic=mono, loaded_at=1.0)
    pipeline = Pipeline(engine)
    run_batch(metrics, pipeline, [
        event(1), event(2), event(3, "plain-processor"), b"{broken", b'{"event_id": "x"}',
    ])
    assert value(registry, "auditor_events_total", verdict="allow") == 0
    assert value(registry, "auditor_last_decision_timestamp_seconds") == 0

    mono.now = 100.25  # the batch was consumed at 100.0 and acknowledged now
    metrics.delivered(5, consumed_at=100.0, decided_at=wall.now)

    assert value(registry, "auditor_events_total", verdict="allow") == 2
    assert value(registry, "auditor_events_total", verdict="violation") == 1
    assert value(registry, "auditor_events_total", verdict="invalid") == 2
    assert value(registry, "auditor_findings_total", policy="gdpr-transfers",
                 rule="gdpr.chapter-v", kind="transfer", severity="high", effect="deny",
                 team="privacy") == 1
    # Invalid input is the platform team's (data quality), not a privacy violation.
    assert value(registry, "auditor_findings_total", policy="gdpr-transfers",
                 rule="auditor.schema", kind="schema", severity="medium", effect="deny",
                 team="platform") == 2
    assert value(registry, "auditor_transfers_total", regime="eu_gdpr", mechanism="dpf",
                 destination_country="US") == 2
    assert value(registry, "auditor_transfers_total", regime="eu_gdpr", mechanism="none",
                 destination_country="US") == 1
    assert value(registry, "auditor_invalid_events_total", reason="not_json") == 1
    assert value(registry, "auditor_invalid_events_total", reason="missing_field") == 1
    # Five records in 0.25 s: each lands in the 0.25 bucket.
    assert value(registry, "auditor_processing_latency_seconds_count") == 5
    assert value(registry, "auditor_processing_latency_seconds_bucket", le="0.1") == 0
    assert value(registry, "auditor_processing_latency_seconds_bucket", le="0.25") == 5
    assert value(registry, "auditor_processing_latency_seconds_sum") == pytest.approx(1.25)
    # Only valid events have an event time: decided at wall.now, event at 2026-03-02 09:00.
    lag = wall.now - 1_772_442_000.0
    assert value(registry, "auditor_event_time_lag_seconds_count") == 3
    assert value(registry, "auditor_event_time_lag_seconds_sum") == pytest.approx(3 * lag)
    assert value(registry, "auditor_last_decision_timestamp_seconds") == wall.now


def test_counts_add_up_over_batches_and_an_empty_batch_changes_nothing(engine: Engine) -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, engine)
    pipeline = Pipeline(engine)
    for batch in range(3):
        run_batch(metrics, pipeline, [event(batch * 10 + i) for i in range(10)])
        metrics.delivered(10, consumed_at=0.0, decided_at=float(batch))
    metrics.delivered(0, consumed_at=0.0, decided_at=99.0)
    assert value(registry, "auditor_events_total", verdict="allow") == 30
    assert value(registry, "auditor_processing_latency_seconds_count") == 30
    assert value(registry, "auditor_last_decision_timestamp_seconds") == 2.0


def test_every_rule_series_starts_at_zero_so_a_first_violation_is_an_increase() -> None:
    engine = Engine(load_policy(NATTERBOX))
    registry = CollectorRegistry()
    WorkerMetrics(registry, engine)
    findings = {
        labels for (name, labels), v in samples(registry).items()
        if name == "auditor_findings_total" and v == 0
    }
    rules = {dict(labels)["rule"] for labels in findings}
    assert {r.id for r in engine.policy.rules} <= rules
    assert "auditor.unknown-reference" in rules
    for verdict in VERDICTS:
        assert ("auditor_events_total", (("verdict", verdict),)) in samples(registry)


def test_policy_and_legal_tables_info(engine: Engine) -> None:
    registry = CollectorRegistry()
    reviewed = reviewed_at(engine.tables)  # the shipped tables' `reviewed` date
    assert reviewed is not None
    WorkerMetrics(registry, engine, clock=Clock(reviewed + 3600), loaded_at=42.0)
    assert value(registry, "auditor_policy_info", policy=engine.policy.id,
                 version=engine.version, legal_tables=engine.tables.version) == 1
    assert value(registry, "auditor_policy_loaded_timestamp_seconds") == 42.0
    assert value(registry, "auditor_legal_tables_info", version=engine.tables.version) == 1
    # A timestamp, not an age: Prometheus computes `time() - it` (and it never changes).
    assert value(registry, "auditor_legal_tables_reviewed_timestamp_seconds") == reviewed


def test_a_transfer_under_no_regime_is_counted_as_none_as_decisions_say(engine: Engine) -> None:
    import json

    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, engine, runtime=False)
    pipeline = Pipeline(engine)
    # From the US to Japan: neither the EU GDPR nor the UK GDPR governs the transfer.
    raw = event(1, origin={"location": "aws:us-east-1"},
                destination={"location": "aws:ap-northeast-1"})
    (decision, _, _), = pipeline.process(raw, None, [], SOURCE)
    assert decision is not None
    assert decision.transfer is not None
    assert decision.transfer.regime == "none"
    run_batch(metrics, pipeline, [raw])
    metrics.delivered(1, 0.0, 0.0)
    assert value(registry, "auditor_transfers_total", regime="none",
                 mechanism=decision.transfer.mechanism, destination_country="JP") == 1
    # The regimes metrics may show are exactly the decision schema's.
    schema = json.loads((ROOT / "schemas" / "decision-v1.schema.json").read_text())
    assert set(schema["$defs"]["transfer"]["properties"]["regime"]["enum"]) == set(
        LabelBounds.of().regimes)


def test_consumer_lag_follows_the_assignment(engine: Engine) -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, engine)
    metrics.set_consumer_lag({("lineage.events", 0): 5, ("lineage.events", 1): 0})
    assert value(registry, "auditor_consumer_lag", topic="lineage.events", partition="0") == 5
    metrics.set_consumer_lag({("lineage.events", 1): 7})  # partition 0 was revoked
    lags = {k: v for k, v in samples(registry).items() if k[0] == "auditor_consumer_lag"}
    assert lags == {
        ("auditor_consumer_lag", (("partition", "1"), ("topic", "lineage.events"))): 7
    }


def test_alert_results_are_counted(engine: Engine) -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, engine)
    metrics.count_alerts("sent", 3)
    metrics.count_alerts("failed", 2)
    metrics.count_alerts("dropped", 40)
    assert [value(registry, "auditor_alerts_pushed_total", result=r)
            for r in ("sent", "failed", "dropped")] == [3, 2, 40]


def test_re_keyed_events_are_counted(engine: Engine) -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, engine)
    assert samples(registry)[("auditor_rekeyed_events_total", ())] == 0  # a series from 0
    metrics.count_rekeyed(3)
    metrics.count_rekeyed(4)
    assert value(registry, "auditor_rekeyed_events_total") == 7


def test_violations_go_to_the_alert_hook_grouped_by_flow_after_delivery(engine: Engine) -> None:
    received: list[list[Any]] = []
    metrics = WorkerMetrics(CollectorRegistry(), engine, on_violations=received.append)
    pipeline = Pipeline(engine)
    run_batch(metrics, pipeline, [event(i, "plain-processor") for i in range(25)] + [event(99)])
    assert received == []
    metrics.delivered(26, consumed_at=0.0, decided_at=0.0)
    ((group,),) = received
    assert group.count == 25
    # Where the latest ten were read, never their (sender-chosen) ids.
    assert list(group.examples) == [f"{SOURCE.topic}[{SOURCE.partition}]@{i}"
                                    for i in range(15, 25)]


# -- label bounds under hostile input --------------------------------------------------
N_HOSTILE = 10_000
LOCATION_FIELDS = ("origin.location", "destination.location")
# Every field of a lineage event the sender controls (spec lineage-event-v1).
EVENT_FIELDS = (
    "event_id", "event_time", "spec_version", "data_class", "operation", "origin.location",
    "destination.location", "destination.system", "tenant.id", "tenant.home_region",
    "tenant.settings", "service", "processor", "purpose", "encryption.in_transit",
    "encryption.at_rest", "retention_days", "special_categories", "anonymized",
    "subject.key", "derogation", "upstream", "labels",
)


def hostile(field: str, i: int) -> Any:
    """The i-th of 10,000 distinct values for ``field``: junk, near misses, real names."""
    junk = f"x{i}\u202e<script>{'%' * (i % 7)}{chr(0x4E00 + i % 500)}"
    if field in LOCATION_FIELDS:
        letters = chr(65 + (i // 26) % 26) + chr(65 + i % 26)  # AA..ZZ, real codes included
        return (f"country:{letters}", f"aws:eu-west-{i}", f"site:{junk}",
                f"gcp:{junk}")[i % 4]
    if field == "event_time":
        return f"20{10 + i % 30:02d}-0{1 + i % 9}-1{i % 10}T0{i % 10}:00:{i % 60:02d}Z"
    if field == "retention_days":
        return i if i % 2 else junk
    if field == "tenant.settings":
        return {junk: i}
    if field in ("special_categories", "upstream"):
        return [junk]
    if field == "labels":
        return {junk: junk}
    if field == "anonymized":
        return junk if i % 2 else bool(i % 4)
    return junk


def hostile_records() -> Iterator[bytes]:
    base = orjson.loads(event(0))
    for field in EVENT_FIELDS:
        for i in range(N_HOSTILE):
            record = orjson.loads(orjson.dumps(base))
            record["event_id"] = f"h-{field}-{i}"
            head, _, tail = field.partition(".")
            if tail:
                record.setdefault(head, {})[tail] = hostile(field, i)
            else:
                record[head] = hostile(field, i)
            yield orjson.dumps(record)
    for i in range(N_HOSTILE):  # whole records that are not events at all
        yield (b"\xff" * (i % 3)) + f"garbage {i}".encode() + b"{" * (i % 5)


def test_10000_hostile_values_per_field_leave_the_series_bounded() -> None:
    engine = Engine(load_policy(NATTERBOX))
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, engine)
    bounds = LabelBounds.from_engine(engine)
    incidents = Incidents(bounds, policy=engine.policy.id, interval_s=30, ttl_s=300,
                          links=Links("https://docs.example.org/"))
    metrics.on_violations = lambda groups: incidents.add(groups, 0.0)
    pipeline = Pipeline(engine)
    sent = 0
    batch: list[bytes] = []
    for raw in hostile_records():
        batch.append(raw)
        if len(batch) == 1000:
            run_batch(metrics, pipeline, batch)
            metrics.delivered(len(batch), 0.0, 0.0)
            sent += len(batch)
            batch = []
    assert sent == N_HOSTILE * (len(EVENT_FIELDS) + 1)

    # Label -> the values it may take (besides `other`); free: info labels from config.
    allowed: dict[str, set[str]] = {
        "verdict": set(VERDICTS), "rule": set(bounds.rules), "kind": set(KINDS),
        "severity": set(SEVERITIES), "effect": set(EFFECTS),
        "regime": {*REGIMES, "none"},
        "mechanism": set(MECHANISMS), "destination_country": set(iso_countries()),
        "reason": set(REASONS), "result": {"sent", "failed", "dropped", "applied", "rejected"},
        "data_class": set(engine.policy.data_classes),
        "team": {r.team for r in engine.rules if r.team} | {"privacy", "platform"},
    }
    # Configuration and build: one value each per worker (runtime collectors' included).
    free = {"le", "policy", "version", "legal_tables", "librdkafka", "generation",
            "implementation", "major", "minor", "patchlevel"}
    series = samples(registry)
    for _, sample_labels in series:
        for label, v in sample_labels:
            assert label in free or v in allowed[label] | {OTHER}, (label, v)
    by_name: dict[str, int] = {}
    for name, _ in series:
        by_name[name] = by_name.get(name, 0) + 1
    # 240,000 distinct hostile values went in; a few hundred series came out, most of them
    # transfers to real countries (at most 249 ISO codes per regime and mechanism).
    assert len(series) < 1000, by_name
    assert by_name["auditor_findings_total"] <= 2 * len(bounds.rules) + 10, by_name
    for incident in incidents.open.values():
        alert = incidents.alert(incident)["labels"]
        for label in ("rule", "kind", "severity", "data_class", "regime", "team",
                      "destination_country"):
            assert alert[label] in allowed[label] | {OTHER, "none"}, (label, alert[label])
    assert len(incidents.open) < 1000


def test_a_scrape_passes_promtool_check_metrics(engine: Engine) -> None:
    promtool = require_binary("promtool")
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, engine)
    run_batch(metrics, Pipeline(engine), [event(1), event(2, "plain-processor"), b"nope"])
    metrics.delivered(3, 0.0, 0.0)
    metrics.set_consumer_lag({("lineage.events", 0): 3})
    result = subprocess.run([promtool, "check", "metrics"], input=generate_latest(registry),
                            capture_output=True, check=False)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
