"""The worker's Prometheus metrics: one collector on an injected registry (docs/metrics.md)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from typing import Any

import confluent_kafka
from prometheus_client import GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import CollectorRegistry

from auditor.engine import Decision, Engine
from auditor.engine.decision import VERDICTS
from auditor.engine.engine import ENGINE_RULE
from auditor.ops.collector import SnapshotCollector
from auditor.ops.histogram import EVENT_LAG_BUCKETS, LATENCY_BUCKETS, BatchHistogram
from auditor.ops.incidents import ViolationGroup, group_violations
from auditor.ops.labels import LabelBounds
from auditor.ops.tables import reviewed_at
from auditor.stream.pipeline import REASONS, Source

ALERT_RESULTS = ("sent", "failed", "dropped")
# What became of a new policy version found in the pack's files (docs/policy-rollout.md).
RELOAD_RESULTS = ("applied", "rejected")
# Results that mean an alert did not reach Alertmanager (dashboards and alert rules).
ALERT_FAILURES = ("failed", "dropped")
# The engine's fail-closed finding (auditor.engine.engine), a deny under every policy.
UNKNOWN_REFERENCE = (ENGINE_RULE, "unknown_reference", "high", "deny")
OnViolations = Callable[[list[ViolationGroup]], None]


class WorkerMetrics(SnapshotCollector):
    """Counts decisions per batch and exposes them as the metrics of docs/metrics.md.

    The agent calls ``observe`` for every decision (a dict update, nothing more) and
    ``delivered`` once per batch, after the broker acknowledged its outputs: only then
    are the batch's counts, latencies and violations published. Label values are bounded
    by ``LabelBounds`` (the policy's names, else ``other``). Nothing is process-wide: the
    collector registers on ``registry``, with (``runtime``) prometheus-client's process,
    platform and GC collectors. ``collect`` may run on the HTTP server's thread.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        engine: Engine | None = None,
        *,
        on_violations: OnViolations | None = None,
        loaded_at: float | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        runtime: bool = True,
    ) -> None:
        self.bounds = LabelBounds.from_engine(engine) if engine else LabelBounds.of()
        self.policy_id = engine.policy.id if engine else ""
        self.clock = clock
        self.monotonic = monotonic
        self.on_violations = on_violations
        super().__init__()
        self.events = dict.fromkeys(VERDICTS, 0)
        # Every rule's series exists from the start at 0, so the first violation is an
        # increase (rate() and increase() see nothing when a series appears already at 1).
        self.findings: dict[tuple[str, str, str, str], int] = {}
        if engine is not None:
            for rule in engine.rules:
                self.findings[(rule.id, rule.kind, rule.severity, rule.effect)] = 0
            self.findings[UNKNOWN_REFERENCE] = 0
        self.transfers: dict[tuple[str, str, str], int] = {}
        self.invalid = dict.fromkeys(REASONS, 0)
        self.alerts = dict.fromkeys(ALERT_RESULTS, 0)
        self.reloads = dict.fromkeys(RELOAD_RESULTS, 0)
        self.reload_failing = 0
        self.rekeyed = 0
        self.latency = BatchHistogram(LATENCY_BUCKETS)
        self.event_lag = BatchHistogram(EVENT_LAG_BUCKETS)
        self.consumer_lag: dict[tuple[str, int], int] = {}
        self.last_decision = 0.0  # 0: no decision yet (stall alerts still see the series)
        self.policy: tuple[str, str, str] | None = None
        self.tables_version: str | None = None
        self.tables_reviewed: float | None = None
        self.loaded_at: float | None = None
        if engine is not None:
            self.policy = (engine.policy.id, engine.version, engine.tables.version)
            self.tables_version = engine.tables.version
            self.tables_reviewed = reviewed_at(engine.tables)
            self.loaded_at = clock() if loaded_at is None else loaded_at
        # The current batch (the agent's task only).
        self._pending: dict[int, list[Any]] = {}
        self._event_times: list[float] = []
        self._reasons: dict[str, int] = {}
        self._violations: list[tuple[Decision, Source]] = []
        self.build = (_package_version(), confluent_kafka.libversion()[0])
        registry.register(self)
        if runtime:
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)

    # -- the hot path: the agent, once per decision --------------------------------
    def observe(self, decision: Decision, reason: str | None, source: Source) -> None:
        """Note one decision of the current batch (published by ``delivered``)."""
        outcome = decision.outcome
        entry = self._pending.get(id(outcome))
        if entry is None:
            # Keeps the outcome alive, so its id stays unique until the batch is published.
            self._pending[id(outcome)] = [outcome, 1]
        else:
            entry[1] += 1
        if reason is not None:
            self._reasons[reason] = self._reasons.get(reason, 0) + 1
        elif decision.event is not None and decision.event_time is not None:
            self._event_times.append(decision.event_time)
        if outcome.verdict == "violation" and self.on_violations is not None:
            self._violations.append((decision, source))

    def delivered(self, records: int, consumed_at: float, decided_at: float) -> None:
        """Publish the current batch: its ``records`` were consumed at ``consumed_at``
        (monotonic clock), decided at ``decided_at`` (wall clock) and their outputs are
        now acknowledged by the broker."""
        latency = self.monotonic() - consumed_at
        pending, self._pending = self._pending, {}
        times, self._event_times = self._event_times, []
        reasons, self._reasons = self._reasons, {}
        violations, self._violations = self._violations, []
        # Sum by raw label values first (a few distinct per batch), then bound each once.
        verdicts: dict[str, int] = {}
        findings: dict[tuple[str, str, str, str], int] = {}
        transfers: dict[tuple[str, str, str], int] = {}
        for outcome, n in pending.values():
            verdicts[outcome.verdict] = verdicts.get(outcome.verdict, 0) + n
            for f in outcome.findings:
                labels = (f.rule, f.kind, f.severity, f.effect)
                findings[labels] = findings.get(labels, 0) + n
            t = outcome.transfer
            if t is not None:
                route = (t.regime, t.mechanism, t.to_country)
                transfers[route] = transfers.get(route, 0) + n
        bounds = self.bounds
        with self._lock:
            for verdict, n in verdicts.items():
                vkey = bounds.verdict(verdict)
                self.events[vkey] = self.events.get(vkey, 0) + n
            for (rule, kind, severity, effect), n in findings.items():
                fkey = bounds.finding_labels(rule, kind, severity, effect)
                self.findings[fkey] = self.findings.get(fkey, 0) + n
            for (regime, mechanism, country), n in transfers.items():
                tkey = bounds.route(regime, mechanism, country)
                self.transfers[tkey] = self.transfers.get(tkey, 0) + n
            for reason, n in reasons.items():
                rkey = bounds.reason(reason)
                self.invalid[rkey] = self.invalid.get(rkey, 0) + n
            if records:
                self.latency.observe(latency, records)
            self.event_lag.observe_many([decided_at - t for t in times])
            if pending:
                self.last_decision = decided_at
        if violations and self.on_violations is not None:
            self.on_violations(group_violations(violations))

    # -- other threads and tasks ---------------------------------------------------
    def set_consumer_lag(self, lags: Mapping[tuple[str, int], int]) -> None:
        """The lag of each assigned input partition (others disappear)."""
        with self._lock:
            self.consumer_lag = dict(lags)

    def use(self, engine: Engine, loaded_at: float) -> None:
        """A new policy version decides from the next batch on (the last one's counts are
        published): its info, and a series at 0 for each of its rules. Rule labels keep
        the old version's rules too, so nothing counted under them turns into ``other``."""
        with self._lock:
            self.bounds = self.bounds.merged(LabelBounds.from_engine(engine))
            self.policy_id = engine.policy.id
            for rule in engine.rules:
                self.findings.setdefault((rule.id, rule.kind, rule.severity, rule.effect), 0)
            self.policy = (engine.policy.id, engine.version, engine.tables.version)
            self.tables_version = engine.tables.version
            self.tables_reviewed = reviewed_at(engine.tables)
            self.loaded_at = loaded_at

    def count_reload(self, result: str, *, failing: bool) -> None:
        """A new version in the pack's files was ``applied`` or ``rejected``; ``failing``:
        the files now hold a version this worker rejected."""
        with self._lock:
            self.reloads[result] = self.reloads.get(result, 0) + 1
            self.reload_failing = int(failing)

    def set_reload_failing(self, failing: bool) -> None:
        with self._lock:
            self.reload_failing = int(failing)

    def count_rekeyed(self, n: int) -> None:
        """``n`` events of a delivered batch were forwarded to their key's partition."""
        with self._lock:
            self.rekeyed += n

    def count_alerts(self, result: str, n: int) -> None:
        """Alert pushes by result: sent, failed or dropped."""
        with self._lock:
            self.alerts[result] = self.alerts.get(result, 0) + n

    # -- exposition ------------------------------------------------------------------
    def _families(self) -> Iterator[Metric]:
        events = CounterMetricFamily(
            "auditor_events_total", "Decisions by verdict.", labels=["verdict"]
        )
        for verdict, n in self.events.items():
            events.add_metric([verdict], n)
        yield events
        findings = CounterMetricFamily(
            "auditor_findings_total",
            "Findings by policy, rule, kind, severity, effect and the rule's team (a "
            "violation has a deny finding; invalid input has auditor.schema).",
            labels=["policy", "rule", "kind", "severity", "effect", "team"],
        )
        team = self.bounds.team
        for (rule, kind, severity, effect), n in sorted(self.findings.items()):
            # policy and team follow from the worker and the rule: no extra series.
            findings.add_metric([self.policy_id, rule, kind, severity, effect, team(rule)], n)
        yield findings
        transfers = CounterMetricFamily(
            "auditor_transfers_total",
            "Decided events with a cross-border transfer, by regime, mechanism and "
            "destination country.",
            labels=["regime", "mechanism", "destination_country"],
        )
        for tkey, n in sorted(self.transfers.items()):
            transfers.add_metric(list(tkey), n)
        yield transfers
        invalid = CounterMetricFamily(
            "auditor_invalid_events_total",
            "Invalid input by reason class; each one is also a dead letter.",
            labels=["reason"],
        )
        for reason, n in self.invalid.items():
            invalid.add_metric([reason], n)
        yield invalid
        yield CounterMetricFamily(
            "auditor_rekeyed_events_total",
            "Events read in a partition other than their key's and forwarded to it through "
            "the repartition topic, to be decided there (rules that remember).",
            value=self.rekeyed,
        )
        yield self._histogram(
            "auditor_processing_latency_seconds",
            "Record consumed by the worker to its outputs acknowledged by the broker.",
            self.latency,
        )
        yield self._histogram(
            "auditor_event_time_lag_seconds",
            "Wall clock at decision minus the event's event_time.",
            self.event_lag,
        )
        lag = GaugeMetricFamily(
            "auditor_consumer_lag",
            "Records of an assigned input partition not yet consumed (high watermark - "
            "position).",
            labels=["topic", "partition"],
        )
        for (topic, partition), n in sorted(self.consumer_lag.items()):
            lag.add_metric([topic, str(partition)], n)
        yield lag
        yield GaugeMetricFamily(
            "auditor_last_decision_timestamp_seconds",
            "When the last delivered batch was decided (Unix time; 0 before the first).",
            value=self.last_decision,
        )
        policy = GaugeMetricFamily(
            "auditor_policy_info",
            "The loaded policy: id, content hash (policy.version of decisions) and legal "
            "tables version.",
            labels=["policy", "version", "legal_tables"],
        )
        loaded = GaugeMetricFamily(
            "auditor_policy_loaded_timestamp_seconds", "When the policy was loaded (Unix time)."
        )
        if self.policy is not None and self.loaded_at is not None:
            policy.add_metric(list(self.policy), 1)
            loaded.add_metric([], self.loaded_at)
        yield policy
        yield loaded
        reloads = CounterMetricFamily(
            "auditor_policy_reloads_total",
            "New policy versions found in the pack's files: applied (switched to between "
            "batches) or rejected (the running version goes on).",
            labels=["result"],
        )
        for result, n in self.reloads.items():
            reloads.add_metric([result], n)
        yield reloads
        yield GaugeMetricFamily(
            "auditor_policy_reload_failing",
            "1 while the pack's files hold a version this worker rejected (it still decides "
            "with the version of auditor_policy_info), else 0.",
            value=self.reload_failing,
        )
        tables = GaugeMetricFamily(
            "auditor_legal_tables_info", "The legal tables' version.", labels=["version"]
        )
        if self.tables_version is not None:
            tables.add_metric([self.tables_version], 1)
        yield tables
        reviewed = GaugeMetricFamily(
            "auditor_legal_tables_reviewed_timestamp_seconds",
            "When the legal tables were last reviewed against their sources (Unix time).",
        )
        if self.tables_reviewed is not None:
            reviewed.add_metric([], self.tables_reviewed)
        yield reviewed
        alerts = CounterMetricFamily(
            "auditor_alerts_pushed_total",
            "Violation alerts pushed to Alertmanager by result: sent and failed count "
            "alerts in posts; dropped counts violations that never reached a post.",
            labels=["result"],
        )
        for result, n in self.alerts.items():
            alerts.add_metric([result], n)
        yield alerts
        build = GaugeMetricFamily(
            "auditor_build_info",
            "The auditor package's version and librdkafka's.",
            labels=["version", "librdkafka"],
        )
        build.add_metric(list(self.build), 1)
        yield build

    @staticmethod
    def _histogram(name: str, doc: str, hist: BatchHistogram) -> HistogramMetricFamily:
        return HistogramMetricFamily(name, doc, buckets=hist.buckets(), sum_value=hist.sum)


def _package_version() -> str:
    try:
        return metadata.version("auditor")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"
