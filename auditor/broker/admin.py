"""Broker administration helpers: wait for a Kafka broker and create the topics a job needs."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

# confluent_kafka.admin re-exports NewTopic without listing it, which strict typing
# rejects; cimpl is where it is defined.
from confluent_kafka.cimpl import NewTopic

__all__ = [
    "BrokerError",
    "BrokerUnavailableError",
    "TopicCreationError",
    "ensure_topics",
    "wait_for_broker",
]

# librdkafka logs every refused connection to stderr by default; while we poll a broker
# that is still starting those lines are expected noise, so they go to Python logging.
_log = logging.getLogger("auditor.broker")


class BrokerError(RuntimeError):
    """A Kafka broker could not be started, reached or administered."""


class BrokerUnavailableError(BrokerError):
    """No metadata answer from the bootstrap servers within the time allowed."""


class TopicCreationError(BrokerError):
    """One or more topics could not be created."""


def _admin(bootstrap: str, client_config: Mapping[str, str] | None) -> AdminClient:
    conf: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        # librdkafka backs off exponentially up to 10 s between reconnects; a readiness
        # probe that waits 10 s after a broker came up would be a slow probe.
        "reconnect.backoff.max.ms": 1000,
        "logger": _log,
    }
    conf.update(client_config or {})
    return AdminClient(conf)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        err: KafkaError = exc.args[0]
        return f"{err.name()}: {err.str()}"
    return f"{type(exc).__name__}: {exc}"


def _check_timeout(timeout: float) -> None:
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")


def wait_for_broker(
    bootstrap: str, timeout: float, client_config: Mapping[str, str] | None = None
) -> None:
    """Return once a metadata request to ``bootstrap`` succeeds.

    Raises BrokerUnavailableError, with the client's last error, after ``timeout`` s.
    """
    _check_timeout(timeout)
    deadline = time.monotonic() + timeout
    admin = _admin(bootstrap, client_config)
    last = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BrokerUnavailableError(
                f"Kafka broker at {bootstrap} did not answer a metadata request within "
                f"{timeout:g} s (last error: {last})"
            )
        try:
            admin.list_topics(timeout=min(2.0, max(remaining, 0.05)))
            return
        except KafkaException as exc:
            last = _describe(exc)
        time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))


def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    *,
    replication: int = 1,
    config: Mapping[str, str] | None = None,
    client_config: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> None:
    """Create the topics of ``topics`` (name -> partition count) that do not exist yet.

    Existing topics are left as they are (their partition count is not changed). Returns
    once every topic is visible in the broker's metadata, so a producer started next does
    not race the controller's propagation of the new topic.
    """
    _check_timeout(timeout)
    for name, partitions in topics.items():
        if not name:
            raise ValueError("topic name must not be empty")
        if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
            raise ValueError(
                f"topic {name}: partition count must be an integer >= 1, got {partitions!r}"
            )
    if replication < 1:
        raise ValueError(f"replication must be >= 1, got {replication!r}")
    if not topics:
        return
    deadline = time.monotonic() + timeout
    admin = _admin(bootstrap, client_config)
    try:
        existing = set(admin.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        raise BrokerUnavailableError(
            f"Kafka broker at {bootstrap} did not answer a metadata request within "
            f"{timeout:g} s ({_describe(exc)})"
        ) from exc
    missing = [name for name in topics if name not in existing]
    if missing:
        new = [
            NewTopic(
                name,
                num_partitions=topics[name],
                replication_factor=replication,
                config=dict(config or {}),
            )
            for name in missing
        ]
        remaining = max(deadline - time.monotonic(), 0.1)
        futures = admin.create_topics(new, request_timeout=remaining)
        failures: list[str] = []
        for name, future in futures.items():
            try:
                future.result(timeout=max(deadline - time.monotonic(), 0.1))
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                # Another process may have created it since we listed the topics.
                if isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue
                failures.append(f"{name}: {_describe(exc)}")
            except Exception as exc:  # a timed-out future raises concurrent.futures.TimeoutError
                failures.append(f"{name}: {_describe(exc)}")
        if failures:
            raise TopicCreationError(
                f"could not create topic(s) on {bootstrap}: " + "; ".join(sorted(failures))
            )
    _await_metadata(admin, bootstrap, topics, deadline, timeout)


def _await_metadata(
    admin: AdminClient,
    bootstrap: str,
    topics: Mapping[str, int],
    deadline: float,
    timeout: float,
) -> None:
    """Wait until every topic is in the metadata with a leader for each partition."""
    pending = sorted(topics)
    while True:
        remaining = deadline - time.monotonic()
        try:
            meta = admin.list_topics(timeout=max(min(remaining, 2.0), 0.1))
            pending = []
            for name in sorted(topics):
                info = meta.topics.get(name)
                ready = (
                    info is not None
                    and info.error is None
                    and bool(info.partitions)
                    and all(p.leader >= 0 for p in info.partitions.values())
                )
                if not ready:
                    pending.append(name)
        except KafkaException:
            pass
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise TopicCreationError(
                f"topic(s) {', '.join(pending)} not visible with leaders on {bootstrap} "
                f"within {timeout:g} s of creation"
            )
        time.sleep(0.1)
