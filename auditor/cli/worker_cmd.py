"""`auditor worker`: run the streaming worker (a Faust app) against a Kafka cluster."""

from __future__ import annotations

import gc
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from auditor import kafka_config
from auditor.broker import BrokerConfigError, BrokerError, ensure_topics, wait_for_broker
from auditor.cli.common import policy_root_option, settings_or_exit
from auditor.engine import Engine
from auditor.kafka_logs import rate_limit_kafka_logs
from auditor.legal import LegalTablesError
from auditor.policy import PolicyError, load_policy
from auditor.policy.packs import pack_names, resolve_policy
from auditor.printable import PrintableFormatter
from auditor.stream.local_profile import apply_local_profile, describe
from auditor.stream.memory import changelog_topic
from auditor.stream.processes import process_count, run_processes
from auditor.stream.rekey import Rekey, repartition_topic
from auditor.stream.settings import Settings
from auditor.stream.source import partitions_of

# (young, middle, old): CPython's default is (700, 10, 10).
GC_THRESHOLDS = (50_000, 20, 100)


@dataclass(frozen=True)
class Prepared:
    """What the worker learnt while it prepared its topics."""

    cluster_id: str | None  # the cluster id the broker reports (the local profile's cue)
    rekey: Rekey | None  # where re-keyed events go (auditor.stream.rekey), else None


def prepare_topics(settings: Settings, *, memory: bool = False) -> Prepared:
    """Wait for the cluster and create the worker's topics; exit 1 with a clear message.

    With ``memory``, also the memory's compacted changelog topic, with as many partitions
    as the input topics (its partition N holds input partition N's memory), and unless
    ``AUDITOR_REKEY=off`` the repartition topic, as many again.
    """
    config = kafka_config.connection(settings)
    rekey = None
    try:
        cluster_id = wait_for_broker(settings.bootstrap_servers, timeout=30,
                                     client_config=config)
        if settings.create_topics:
            names = [*settings.input_topics, settings.decisions_topic, settings.findings_topic,
                     settings.dead_letter_topic]
            if settings.shadow_policy is not None:
                names.append(settings.shadow_topic)
            ensure_topics(settings.bootstrap_servers, dict.fromkeys(names, settings.partitions),
                          replication=settings.replication, client_config=config)
        if memory:
            count = input_partitions(settings, config)
            if settings.rekey == "auto":
                rekey = Rekey(repartition_topic(settings.group_id), count)
            if settings.create_topics:
                ensure_topics(settings.bootstrap_servers,
                              {changelog_topic(settings.group_id): count},
                              replication=settings.replication, client_config=config,
                              config={"cleanup.policy": "compact"})
                if rekey is not None:
                    ensure_topics(settings.bootstrap_servers, {rekey.topic: count},
                                  replication=settings.replication, client_config=config)
            internal = [changelog_topic(settings.group_id)]
            if rekey is not None:
                internal.append(rekey.topic)
            wrong = miscounted(topic_partitions(settings, config), internal, count)
            if wrong:
                click.echo(f"error: {'; '.join(wrong)}: partition N of these holds input "
                           f"partition N's memory and events, so each needs the input's "
                           f"{count}; delete it (it is made again) or give it {count}",
                           err=True)
                sys.exit(2)
    except BrokerConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except BrokerError as exc:
        click.echo(f"error: Kafka at {settings.bootstrap_servers}: {exc}", err=True)
        sys.exit(1)
    return Prepared(cluster_id, rekey)


def miscounted(counts: dict[str, int], topics: list[str], expected: int) -> list[str]:
    """``topic has N partitions`` for each of ``topics`` that exists with other than
    ``expected`` (one made before the input grew, or auto-created by a broker)."""
    return [f"{t} has {counts[t]} partitions" for t in topics
            if t in counts and counts[t] != expected]


def topic_partitions(settings: Settings, config: dict[str, Any]) -> dict[str, int]:
    """Every topic's partition count, as the cluster reports it."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(kafka_config.admin(settings.bootstrap_servers, config,
                                           logger=logging.getLogger("auditor.broker")))
    return {name: len(t.partitions) for name, t in admin.list_topics(timeout=30).topics.items()}


def input_partitions(settings: Settings, config: dict[str, Any]) -> int:
    """The largest partition count among the input topics (they may exist already)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(kafka_config.admin(settings.bootstrap_servers, config,
                                           logger=logging.getLogger("auditor.broker")))
    metadata = admin.list_topics(timeout=30).topics
    return partitions_of(metadata, settings.input_topics) if metadata else settings.partitions


def load_engine_or_alert(settings: Settings) -> Engine:
    """The engine for the configured policy; on failure print every error, push an
    ``AuditorPolicyLoadFailure`` alert (if AUDITOR_ALERTMANAGER_URL is set) and exit 2.

    The worker never serves /metrics without a policy, so the alert is how a policy that
    fails to load is seen as itself rather than as a worker that is down.
    """
    try:
        return Engine(load_policy(resolve_policy(settings.policy), roots=settings.policy_roots))
    except PolicyError as exc:
        errors = str(exc)
    except LegalTablesError as exc:
        errors = f"legal tables failed to load: {exc}"
    click.echo(errors, err=True)
    if settings.alertmanager_url is not None:
        from auditor.ops.alerts import API, post_json, post_with_retries
        from auditor.ops.links import Links
        from auditor.ops.policy_alert import policy_failure_alert

        alert = policy_failure_alert(settings.worker_id, str(settings.policy), errors,
                                     settings.alert_ttl_s, time.time(), Links.of(settings))
        failed = post_with_retries(post_json, settings.alertmanager_url + API, [alert],
                                   timeout_s=settings.alert_timeout_s, attempts=2)
        click.echo(f"alert not pushed to {settings.alertmanager_url}: {failed}" if failed
                   else f"alert {alert['labels']['alertname']} pushed to "
                   f"{settings.alertmanager_url}", err=True)
    sys.exit(2)


def run_worker(settings: Settings) -> None:
    """Run the worker in the foreground until SIGTERM / Ctrl-C (then flush and commit)."""
    import faust

    from auditor.cli.worker_rollout import rollout_parts
    from auditor.ops.server import MetricsServerError
    from auditor.ops.telemetry import Telemetry
    from auditor.stream.app import create_app

    # One record, one line, and text from events escaped (auditor.printable); librdkafka's
    # lines rate-limited (a broker restart is not 200 lines of "connection refused").
    handler = logging.StreamHandler()
    handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler])
    rate_limit_kafka_logs()
    engine = load_engine_or_alert(settings)
    telemetry = Telemetry(settings, engine, loaded_at=time.time())
    try:
        # Before the broker is reached: a worker waiting for Kafka is up, and says so.
        server = telemetry.serve()
        click.echo(f"auditor worker {settings.worker_id}: metrics on {server.url}, probes "
                   f"{server.base}/livez and /readyz", err=True)
    except MetricsServerError as exc:
        # Auditing matters more than its metrics: go on; Prometheus sees this target down.
        click.echo(f"warning: auditor worker {settings.worker_id}: no /metrics: {exc}",
                   err=True)
    prepared = prepare_topics(settings, memory=engine.memory is not None)
    cluster_id, rekey = prepared.cluster_id, prepared.rekey
    settings, changes = apply_local_profile(settings, cluster_id)
    if changes:
        click.echo(f"auditor worker {settings.worker_id}: embedded broker (cluster id "
                   f"{cluster_id}): local profile for what was not set: {describe(changes)} "
                   "(an AUDITOR_* variable or flag overrides each)", err=True)
        telemetry.use_settings(settings)
    metrics = telemetry.metrics
    rollout = rollout_parts(settings, engine, telemetry)
    app = create_app(settings, engine, observe=rollout.observing(metrics.observe),
                     on_delivered=metrics.delivered, report_lag=metrics.set_consumer_lag,
                     health=telemetry.health, hooks=rollout.hooks, rekey=rekey,
                     on_rekeyed=metrics.count_rekeyed)
    if rekey is not None:
        click.echo(f"auditor worker {settings.worker_id}: events in a partition other than "
                   f"their key's are re-keyed through {rekey.topic} ({rekey.partitions} "
                   "partitions; partitions assigned with range)", err=True)
    if telemetry.start_alerts() is not None:
        click.echo(f"auditor worker {settings.worker_id}: violation alerts to "
                   f"{settings.alertmanager_url}", err=True)

    @app.on_before_shutdown.connect
    def _stop_telemetry(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        rollout.stop()
        telemetry.close()

    click.echo(
        f"auditor worker {settings.worker_id}: policy {engine.policy.id} ({engine.version[:19]}), "
        f"{','.join(settings.input_topics)} -> {settings.decisions_topic} on "
        f"{settings.bootstrap_servers}",
        err=True,
    )
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True,
                          redirect_stdouts=False, override_logging=False)
    if not worker.stdout.isatty():
        # Faust's start-up spinner writes terminal control codes even into a log file.
        worker.spinner = None
    # Full collections rescan every live object: with the policy, the libraries, the
    # decision cache and the memory that is 50-120 ms, the pauses behind the p99 latency
    # (bench/README.md). What is loaded so far lives as long as the process: freeze it;
    # and collect the old generations far less often (the worker's data is acyclic).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    rollout.start()
    worker.execute_from_commandline()


def _setting(name: str, text: str) -> str:
    """Help text with the setting's environment variable and default (from Settings)."""
    field = Settings.model_fields[name]
    default = field.default if field.default_factory is None else field.description
    if isinstance(default, tuple):
        default = ",".join(default)
    shown = "unset" if default is None else default
    return f"{text} [env AUDITOR_{name.upper()}; default: {shown}]"


@click.command()
@click.option("--policy", metavar="FILE|PACK",
              help=_setting("policy", "Policy pack: a file, or a shipped pack ("
                            + ", ".join(pack_names()) + ")."))
@policy_root_option
@click.option("--bootstrap-servers", help=_setting("bootstrap_servers", "Kafka bootstrap."))
@click.option("--topic", "topics", multiple=True, help=_setting("input_topics", "Input topic(s)."))
@click.option("--group-id", help=_setting("group_id", "Consumer group."))
@click.option("--worker-id",
              help=_setting("worker_id", "Name of this worker in logs and dead-letter headers."))
@click.option("--partitions", type=int,
              help=_setting("partitions", "Partitions of topics the worker creates."))
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              help=_setting("log_level", "Log level."))
@click.option("--metrics-port", type=int,
              help=_setting("metrics_port", "Port of /metrics, /livez, /readyz; 0 = a free one."))
@click.option("--alertmanager-url",
              help=_setting("alertmanager_url", "Push violation alerts to this Alertmanager."))
@click.option("--processes", type=click.IntRange(min=0, max=256),
              help=_setting("processes", "Decision processes in the consumer group, one per "
                            "core (0 = one per CPU); each serves metrics on its own port "
                            "(metrics port + n)."))
@click.option("--shadow-policy", metavar="FILE|PACK",
              help=_setting("shadow_policy", "Candidate pack decided beside the live one; its "
                            "differences are counted and written to AUDITOR_SHADOW_TOPIC."))
def worker(policy: str | None, policy_roots: tuple[Path, ...], bootstrap_servers: str | None,
           topics: tuple[str, ...], group_id: str | None, worker_id: str | None,
           partitions: int | None, log_level: str | None, metrics_port: int | None,
           alertmanager_url: str | None, processes: int | None,
           shadow_policy: str | None) -> None:
    """Decide every lineage event on Kafka: decisions, findings and dead letters.

    Every setting can also be given as an AUDITOR_* environment variable (see
    docs/worker.md), including Kafka TLS/SASL options for real clusters. Metrics and
    alerts: docs/metrics.md, docs/alerts.md.
    """
    settings = settings_or_exit(policy=policy, policy_roots=policy_roots or None,
                                bootstrap_servers=bootstrap_servers,
                                input_topics=topics or None, group_id=group_id,
                                worker_id=worker_id, partitions=partitions, log_level=log_level,
                                metrics_port=metrics_port, alertmanager_url=alertmanager_url,
                                processes=processes, shadow_policy=shadow_policy)
    if process_count(settings) > 1:
        # A supervisor of that many workers (auditor.stream.processes).
        sys.exit(run_processes(settings))
    run_worker(settings)
