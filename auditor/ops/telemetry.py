"""The worker's operations side: its metrics, their endpoint and its alert pusher, together."""

from __future__ import annotations

import logging
import threading
import time
from functools import partial

from prometheus_client.registry import CollectorRegistry

from auditor.engine import Engine
from auditor.ops.alerts import AlertPusher, post_json, post_with_retries
from auditor.ops.incidents import Incidents
from auditor.ops.kafka_metrics import KafkaStanding
from auditor.ops.labels import LabelBounds
from auditor.ops.links import Links, replay_command
from auditor.ops.metrics import WorkerMetrics
from auditor.ops.policy_alert import policy_failure_alert
from auditor.ops.server import MetricsServer, serve_metrics
from auditor.stream.health import Health
from auditor.stream.settings import Settings

log = logging.getLogger("auditor.telemetry")


class Telemetry:
    """Metrics on a registry of their own, ``/metrics`` with the probes of ``health``
    (``/livez``, ``/readyz``) and (if configured) alert pushes.

    ``serve`` opens the endpoint (raises MetricsServerError), ``start_alerts`` starts the
    pusher; ``close`` posts what is due and stops both.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        registry: CollectorRegistry | None = None,
        loaded_at: float | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.registry = registry or CollectorRegistry()
        self.metrics = WorkerMetrics(self.registry, engine, loaded_at=loaded_at)
        self.health = Health()
        self.health.policy_loaded(engine.policy.id)
        self.standing = KafkaStanding(self.registry, self.health, settings.processing_guarantee)
        self.server: MetricsServer | None = None
        self.pusher: AlertPusher | None = None

    def serve(self) -> MetricsServer:
        """Open ``/metrics`` and the probes on the configured host and port."""
        self.server = serve_metrics(
            self.registry, self.settings.metrics_host, self.settings.metrics_port, self.health
        )
        return self.server

    def start_alerts(self) -> AlertPusher | None:
        """Start pushing violation incidents, if AUDITOR_ALERTMANAGER_URL is set."""
        url = self.settings.alertmanager_url
        if url is None:
            return None
        s = self.settings
        links = Links.of(s)
        # One input topic: a replay command on the page (replay reads one topic).
        replay = (partial(replay_command, str(s.policy), s.input_topics[0], s.bootstrap_servers)
                  if len(s.input_topics) == 1 else None)
        incidents = Incidents(
            LabelBounds.from_engine(self.engine),
            policy=self.engine.policy.id,
            interval_s=s.alert_interval_s,
            ttl_s=s.alert_ttl_s,
            links=links,
            replay=replay,
            descriptions=Incidents.rule_descriptions(self.engine),
        )
        self.pusher = AlertPusher(
            url,
            incidents,
            self.metrics.count_alerts,
            queue_size=s.alert_queue_size,
            timeout_s=s.alert_timeout_s,
            attempts=s.alert_attempts,
        ).start()
        self.metrics.on_violations = self.pusher.submit
        # A policy that failed to load on an earlier start pushed an alert: resolve it.
        resolved = policy_failure_alert(
            s.worker_id, str(s.policy), "", s.alert_ttl_s, time.time(), links, resolved=True
        )
        threading.Thread(
            target=post_with_retries,
            args=(post_json, self.pusher.url, [resolved]),
            kwargs={"timeout_s": s.alert_timeout_s, "attempts": 1},
            name="auditor-alerts-resolve",
            daemon=True,
        ).start()
        return self.pusher

    def use_settings(self, settings: Settings) -> None:
        """The settings the worker runs with after all (the local profile of the embedded
        broker, known once the broker answered: auditor.stream.local_profile)."""
        self.settings = settings
        self.standing.guarantee = settings.processing_guarantee

    def use_policy(self, engine: Engine, loaded_at: float) -> None:
        """A new policy version decides from now on: metrics, readiness and alert labels
        follow it (called between batches, auditor.stream.rollout)."""
        self.engine = engine
        self.metrics.use(engine, loaded_at)
        self.health.policy_loaded(engine.policy.id)
        if self.pusher is not None:
            # One reference swap: the pusher's thread reads it whole, old or new.
            incidents = self.pusher.incidents
            incidents.bounds = incidents.bounds.merged(LabelBounds.from_engine(engine))

    def close(self) -> None:
        self.health.stopping()
        if self.pusher is not None:
            self.pusher.close()
        if self.server is not None:
            self.server.close()
