"""The worker's standing with Kafka as metrics: ready, how long Kafka has been away, failed
deliveries, and the delivery guarantee it runs with (docs/metrics.md)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from auditor.stream.health import Health

GUARANTEES = ("exactly_once", "at_least_once")


class KafkaStanding(Collector):
    """Read off ``health`` at each scrape (so they move while the batch loop is stuck)."""

    def __init__(self, registry: CollectorRegistry, health: Health, guarantee: str) -> None:
        self.health = health
        self.guarantee = guarantee
        registry.register(self)

    def describe(self) -> Iterator[Metric]:
        return self.collect()

    def collect(self) -> Iterator[Metric]:
        ready, _ = self.health.readiness()
        yield GaugeMetricFamily("auditor_ready", "1 when /readyz answers 200, else 0.",
                                value=1 if ready else 0)
        yield GaugeMetricFamily(
            "auditor_kafka_unavailable_seconds",
            "How long outputs have been undeliverable or no broker has answered the "
            "consumer (0: Kafka answers); the worker stops at AUDITOR_KAFKA_OUTAGE_LIMIT_S.",
            value=self.health.kafka_failing_for())
        yield CounterMetricFamily(
            "auditor_delivery_failures_total",
            "Delivery attempts of a batch's outputs that failed (each is retried, nothing "
            "committed meanwhile).", value=self.health.delivery_failures)
        guarantee = GaugeMetricFamily(
            "auditor_processing_guarantee",
            "The delivery guarantee the worker runs with: exactly_once (a transaction per "
            "batch) or at_least_once (duplicates after a crash; drop them by key).",
            labels=["guarantee"])
        for name in GUARANTEES:
            guarantee.add_metric([name], 1 if name == self.guarantee else 0)
        yield guarantee
