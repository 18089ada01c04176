"""The shadow policy's metrics: what a candidate would change on today's traffic (opt-in)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry

from auditor.engine import Engine
from auditor.engine.decision import VERDICTS
from auditor.ops.collector import SnapshotCollector
from auditor.ops.labels import ENGINE_RULES, OTHER
from auditor.policy.model import EFFECTS

CHANGES = ("added", "removed")
RECORD_RESULTS = ("sent", "failed", "dropped")


def rule_labels(engines: Iterable[Engine]) -> frozenset[str]:
    """The rule names a difference may carry (auditor.report.diff: ``rule``, or
    ``rule[effect]`` for a finding that does not deny) for the rules of ``engines``."""
    ids = {r.id for e in engines for r in e.rules} | set(ENGINE_RULES)
    return frozenset(i if effect == "deny" else f"{i}[{effect}]"
                     for i in ids for effect in EFFECTS)


class ShadowMetrics(SnapshotCollector):
    """Counts of the shadow comparison, registered on the worker's registry when a shadow
    policy is set (docs/metrics.md). Rule labels are those of the live and candidate
    policies (every version seen), else ``other``; verdicts the three of decisions.
    Updated once per batch by the batch loop; ``collect`` may run on the HTTP thread.
    """

    def __init__(self, registry: CollectorRegistry, live: Engine) -> None:
        super().__init__()
        self.rules = rule_labels([live])
        self.candidate: tuple[str, str, str] | None = None
        self.compared = 0
        self.differing = 0
        self.verdicts: dict[tuple[str, str], int] = {}
        self.differences: dict[tuple[str, str], int] = {}
        self.records = dict.fromkeys(RECORD_RESULTS, 0)
        self.rejected = 0
        self.seconds = 0.0
        registry.register(self)

    def policies(self, live: Engine, candidate: Engine | None) -> None:
        """The versions compared from now on (their rules join the label values)."""
        with self._lock:
            self.rules |= rule_labels(e for e in (live, candidate) if e is not None)
            if candidate is not None:
                self.candidate = (candidate.policy.id, candidate.version,
                                  candidate.tables.version)

    def count_batch(self, compared: int, differing: int,
                    verdicts: Mapping[tuple[str, str], int],
                    rules: Mapping[tuple[str, str], int], seconds: float) -> None:
        """One batch compared: events, events that differ, verdict changes (from, to),
        rule changes (rule label, added/removed), and the time it took."""
        with self._lock:
            self.compared += compared
            self.differing += differing
            self.seconds += seconds
            for (old, new), n in verdicts.items():
                key = (old if old in VERDICTS else OTHER, new if new in VERDICTS else OTHER)
                self.verdicts[key] = self.verdicts.get(key, 0) + n
            for (rule, change), n in rules.items():
                rkey = (rule if rule in self.rules else OTHER, change)
                self.differences[rkey] = self.differences.get(rkey, 0) + n

    def count_records(self, result: str, n: int = 1) -> None:
        with self._lock:
            self.records[result] = self.records.get(result, 0) + n

    def count_rejected(self) -> None:
        with self._lock:
            self.rejected += 1

    def _families(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "auditor_shadow_policy_info",
            "The candidate policy of shadow mode: id, content hash, legal tables version.",
            labels=["policy", "version", "legal_tables"])
        if self.candidate is not None:
            info.add_metric(list(self.candidate), 1)
        yield info
        yield CounterMetricFamily(
            "auditor_shadow_events_total",
            "Events decided by both the live and the candidate policy, and compared.",
            value=self.compared)
        yield CounterMetricFamily(
            "auditor_shadow_differing_events_total",
            "Compared events whose verdict or rules with findings differ.",
            value=self.differing)
        verdicts = CounterMetricFamily(
            "auditor_shadow_verdict_changes_total",
            "Differing events by live verdict (from) and candidate verdict (to).",
            labels=["from", "to"])
        for (old, new), n in sorted(self.verdicts.items()):
            verdicts.add_metric([old, new], n)
        yield verdicts
        differences = CounterMetricFamily(
            "auditor_shadow_differences_total",
            "Rules with findings the candidate adds to or removes from the live decision "
            "(rule[warn]: a finding that only warns), per differing event.",
            labels=["rule", "change"])
        for (rule, change), n in sorted(self.differences.items()):
            differences.add_metric([rule, change], n)
        yield differences
        records = CounterMetricFamily(
            "auditor_shadow_records_total",
            "Difference records for the shadow topic: sent (acknowledged), failed, "
            "dropped (the producer's queue was full).",
            labels=["result"])
        for result, n in self.records.items():
            records.add_metric([result], n)
        yield records
        yield CounterMetricFamily(
            "auditor_shadow_policy_rejections_total",
            "Candidate versions that did not load (the previous candidate goes on).",
            value=self.rejected)
        yield CounterMetricFamily(
            "auditor_shadow_seconds_total",
            "Time the batch loop spent deciding and comparing with the candidate.",
            value=self.seconds)
