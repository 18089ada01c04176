"""Every Kafka client's librdkafka configuration, built here and only here.

``connection(settings)`` is what every client of the cluster needs (bootstrap servers and
security); the other builders add one kind of client's own properties on top of it. This
is the one place where secrets leave their ``SecretStr``: the dicts built here go to
librdkafka and nowhere else (never log them; ``redact`` cleans a message that might hold
one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from confluent_kafka import KafkaError

    from auditor.stream.settings import Settings

Config = dict[str, Any]

# librdkafka properties whose values are secrets.
SECRET_KEYS = frozenset({
    "sasl.password",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.config",
    "ssl.key.password",
    "ssl.key.pem",
    "ssl.keystore.password",
})


def security(settings: Settings) -> Config:
    """The TLS and SASL properties of ``settings`` (Settings has checked they fit together)."""
    config: Config = {"security.protocol": settings.security_protocol}
    if settings.sasl_mechanism:
        config["sasl.mechanisms"] = settings.sasl_mechanism
    if settings.sasl_username is not None:
        config["sasl.username"] = settings.sasl_username
    if settings.sasl_password is not None:
        config["sasl.password"] = settings.sasl_password.get_secret_value()
    if settings.sasl_mechanism == "OAUTHBEARER":
        # librdkafka's built-in OIDC client-credentials flow: it fetches and refreshes the
        # token itself, so no Python callback has to run for a client to stay connected.
        config["sasl.oauthbearer.method"] = "oidc"
        for key, value in (
            ("sasl.oauthbearer.client.id", settings.sasl_oauthbearer_client_id),
            ("sasl.oauthbearer.token.endpoint.url", settings.sasl_oauthbearer_token_endpoint_url),
            ("sasl.oauthbearer.scope", settings.sasl_oauthbearer_scope),
        ):
            if value is not None:
                config[key] = value
        if settings.sasl_oauthbearer_client_secret is not None:
            config["sasl.oauthbearer.client.secret"] = (
                settings.sasl_oauthbearer_client_secret.get_secret_value()
            )
    for key, path in (
        ("ssl.ca.location", settings.ssl_cafile),
        ("ssl.certificate.location", settings.ssl_certfile),
        ("ssl.key.location", settings.ssl_keyfile),
    ):
        if path is not None:
            config[key] = str(path)
    if settings.ssl_key_password is not None:
        config["ssl.key.password"] = settings.ssl_key_password.get_secret_value()
    return config


def connection(settings: Settings) -> Config:
    """Bootstrap servers and security: the base of every client of the cluster."""
    return {"bootstrap.servers": ",".join(settings.bootstrap_list()), **security(settings)}


def worker_logging() -> Config:
    """librdkafka's log lines through the worker's rate-limited Kafka logger (and no line
    for each idle connection the broker closes)."""
    from auditor.kafka_logs import kafka_log

    return {"logger": kafka_log(), "log.connection.close": False}


def worker_consumer(settings: Settings, *, co_partitioned: bool = False) -> Config:
    """The worker's input consumer.

    ``co_partitioned`` (re-keying: it reads the repartition topic too): partition N of
    every topic it reads goes to one member, which only the ``range`` assignor promises
    (docs/worker.md#re-keying).

    At least once: offsets are stored only for records whose outputs are delivered, and
    librdkafka commits stored offsets every ``commit_interval_s``, on rebalance and on
    close — never lost. Exactly once: the consumer commits nothing; each batch's
    transaction does (auditor.stream.transactions).
    """
    config: Config = {
        **connection(settings),
        "group.id": settings.group_id,
        "client.id": f"auditor-{settings.worker_id}",
        "auto.offset.reset": "earliest",
        "session.timeout.ms": int(settings.session_timeout_s * 1000),
        "heartbeat.interval.ms": int(settings.heartbeat_interval_s * 1000),
        # Cooperative: a rebalance moves only the partitions that change owner; the others
        # keep being decided (and keep their memory) meanwhile.
        "partition.assignment.strategy": "range" if co_partitioned
        else settings.partition_assignment_strategy,
        # An event at a partition's end: readiness waits for each assigned partition's
        # first fetch to return, a record or this (auditor.stream.health).
        "enable.partition.eof": True,
        **worker_logging(),
    }
    if settings.processing_guarantee == "exactly_once":
        # Offsets are committed in each batch's transaction, never by the consumer.
        config["enable.auto.commit"] = False
    else:
        config.update({
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.commit.interval.ms": int(settings.commit_interval_s * 1000),
        })
    if settings.group_instance_id is not None:
        # Static membership: a restarted worker takes its partitions back at once (no
        # rebalance) if it is back within the session timeout.
        config["group.instance.id"] = settings.group_instance_id
    if settings.fetch_max_wait_ms is not None:
        config["fetch.wait.max.ms"] = settings.fetch_max_wait_ms
    return config


def output_producer(base: Mapping[str, Any], *, timeout_s: float) -> Config:
    """The worker's producer of decisions, findings and dead letters: idempotent, acks=all."""
    return {
        **base,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 2,
        "compression.type": "lz4",
        "message.timeout.ms": int(timeout_s * 1000),
        "client.id": "auditor-worker",
        **worker_logging(),
    }


def transactional_producer(base: Mapping[str, Any], *, transactional_id: str,
                           timeout_s: float) -> Config:
    """The worker's producer when it delivers exactly once: every output, the memory's
    changelog and the input offsets of a batch in one transaction. ``transactional_id``
    is stable per worker (a restarted worker fences its previous incarnation and aborts
    what it left open); a transaction left open by a worker that never comes back is
    aborted by the broker after ``timeout_s``."""
    return {
        **output_producer(base, timeout_s=timeout_s),
        "transactional.id": transactional_id,
        "transaction.timeout.ms": int(timeout_s * 1000),
    }


def shadow_producer(base: Mapping[str, Any], *, timeout_s: float) -> Config:
    """Shadow mode's producer of difference records: nobody waits for it, so it batches
    longer, and a bounded queue (full: records are dropped and counted, never waited for)."""
    return {
        **base,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 50,
        "compression.type": "lz4",
        "message.timeout.ms": int(timeout_s * 1000),
        "queue.buffering.max.messages": 100_000,
        "client.id": "auditor-shadow",
    }


def changelog_producer(producer: Mapping[str, Any], *, batch_bytes: int) -> Config:
    """The memory's changelog producer: the output producer with its own record-batch size
    (Settings.changelog_batch_bytes says why)."""
    return {**producer, "batch.size": batch_bytes, "client.id": "auditor-worker-changelog"}


def restore_consumer(base: Mapping[str, Any], *, fetch_max_wait_ms: int | None) -> Config:
    """A consumer that reads a changelog partition back: no group join, nothing committed."""
    config: Config = {
        **base,
        "group.id": "auditor-memory-restore",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "client.id": "auditor-memory-restore",
        **worker_logging(),
    }
    if fetch_max_wait_ms is not None:
        config["fetch.wait.max.ms"] = fetch_max_wait_ms
    return config


def lag_consumer(base: Mapping[str, Any], group_id: str) -> Config:
    """A client that asks the broker for the group's committed offsets and the high
    watermarks (consumer lag); it never subscribes, so it never joins the group."""
    return {
        **base,
        "group.id": group_id,
        "enable.auto.commit": False,
        "client.id": "auditor-consumer-lag",
        **worker_logging(),
    }


def replay_consumer(
    base: Mapping[str, Any], *, group_id: str, fetch_wait_ms: int | None, logger: Any
) -> Config:
    """A replay's consumer: assigned partitions, offsets never stored nor committed."""
    config: Config = {
        **base,
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        "logger": logger,
    }
    if fetch_wait_ms is not None:
        config["fetch.wait.max.ms"] = fetch_wait_ms
    return config


def admin(
    bootstrap: str,
    base: Mapping[str, Any] | None,
    *,
    logger: Any,
    error_cb: Callable[[KafkaError], None] | None = None,
) -> Config:
    """An admin client (metadata, topic creation); ``base`` may override anything."""
    config: Config = {
        "bootstrap.servers": bootstrap,
        # librdkafka backs off exponentially up to 10 s between reconnects; a readiness
        # probe that waits 10 s after a broker came up would be a slow probe.
        "reconnect.backoff.max.ms": 1000,
        "logger": logger,
    }
    if error_cb is not None:
        config["error_cb"] = error_cb
    config.update(base or {})
    return config


# The emitter's producer defaults; its caller's ``producer_config`` overrides any of them.
EMITTER_DEFAULTS: dict[str, str | int | bool] = {
    # No duplicates and no reordering on retries: the auditor's per-tenant state (home
    # region, erasure) depends on seeing a tenant's events in the order they were sent.
    "enable.idempotence": True,
    "acks": "all",
    # A few milliseconds of batching costs little latency and saves most requests.
    "linger.ms": 5,
    "compression.type": "lz4",
    # The Java client's default partitioner: a tenant's events land in the same partition
    # whichever language the emitting service is written in (librdkafka's own default,
    # consistent_random, hashes keys differently).
    "partitioner": "murmur2_random",
    "client.id": "auditor-emitter",
}


def emitter(
    bootstrap: str,
    overrides: Mapping[str, Any] | None,
    *,
    logger: logging.Logger,
    error_cb: Callable[[KafkaError], None],
) -> Config:
    """The emitter's producer; ``overrides`` (the caller's properties) win."""
    config: Config = {"bootstrap.servers": bootstrap, **EMITTER_DEFAULTS, **(overrides or {})}
    # librdkafka writes its own log lines to stderr unless given a logger; a library
    # should leave that to the application's logging set-up.
    config.setdefault("logger", logger)
    config.setdefault("error_cb", error_cb)
    return config


def reader(bootstrap: str, *, group_id: str, **extra: Any) -> Config:
    """A plain consumer of the local tools (demo view, benchmark readers)."""
    return {"bootstrap.servers": bootstrap, "group.id": group_id, **extra}


def redact(text: str, config: Mapping[str, Any]) -> str:
    """``text`` with the value of every secret property of ``config`` replaced by ``***``."""
    for key in SECRET_KEYS:
        value = config.get(key)
        if isinstance(value, str) and value:
            text = text.replace(value, "***")
    return text
