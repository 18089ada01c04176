"""`auditor worker`: run the streaming worker (a Faust app) against a Kafka cluster."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from auditor.broker import BrokerError, ensure_topics, wait_for_broker
from auditor.cli.common import load_engine_or_exit
from auditor.stream.settings import Settings


def settings_or_exit(**overrides: Any) -> Settings:
    """Settings from ``AUDITOR_*`` variables with the given flags on top; exit 2 if invalid."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            click.echo(f"error: setting {where}: {error['msg']}", err=True)
        sys.exit(2)


def prepare_topics(settings: Settings) -> None:
    """Wait for the cluster and create the worker's topics; exit 1 with a clear message."""
    config = settings.kafka_client_config()
    try:
        wait_for_broker(settings.bootstrap_servers, timeout=30, client_config=config)
        if settings.create_topics:
            names = [*settings.input_topics, settings.decisions_topic, settings.findings_topic,
                     settings.dead_letter_topic]
            ensure_topics(settings.bootstrap_servers, dict.fromkeys(names, settings.partitions),
                          replication=settings.replication, client_config=config)
    except BrokerError as exc:
        click.echo(f"error: Kafka at {settings.bootstrap_servers}: {exc}", err=True)
        sys.exit(1)


def run_worker(settings: Settings) -> None:
    """Run the worker in the foreground until SIGTERM / Ctrl-C (then flush and commit)."""
    import faust

    from auditor.stream.app import create_app

    engine = load_engine_or_exit(str(settings.policy))
    prepare_topics(settings)
    app = create_app(settings, engine)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(
        f"auditor worker {settings.worker_id}: policy {engine.policy.id} ({engine.version[:19]}), "
        f"{','.join(settings.input_topics)} -> {settings.decisions_topic} on "
        f"{settings.bootstrap_servers}",
        err=True,
    )
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True,
                          redirect_stdouts=False, override_logging=False)
    worker.execute_from_commandline()


@click.command()
@click.option("--policy", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy pack [env AUDITOR_POLICY].")
@click.option("--bootstrap-servers", help="Kafka bootstrap [env AUDITOR_BOOTSTRAP_SERVERS].")
@click.option("--topic", "topics", multiple=True, help="Input topic(s) [AUDITOR_INPUT_TOPICS].")
@click.option("--group-id", help="Consumer group [AUDITOR_GROUP_ID].")
@click.option("--worker-id", help="Name of this worker in logs and dead-letter headers.")
@click.option("--partitions", type=int, help="Partitions of topics the worker creates.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
def worker(policy: Path | None, bootstrap_servers: str | None, topics: tuple[str, ...],
           group_id: str | None, worker_id: str | None, partitions: int | None,
           log_level: str | None) -> None:
    """Decide every lineage event on Kafka: decisions, findings and dead letters.

    Every setting can also be given as an AUDITOR_* environment variable (see
    docs/worker.md), including Kafka TLS/SASL options for real clusters.
    """
    settings = settings_or_exit(policy=policy, bootstrap_servers=bootstrap_servers,
                                input_topics=topics or None, group_id=group_id,
                                worker_id=worker_id, partitions=partitions, log_level=log_level)
    run_worker(settings)
