"""Broker administration helpers: wait for a Kafka broker and create the topics a job needs."""

from __future__ import annotations

import logging
import socket
import struct
import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

# confluent_kafka.admin re-exports NewTopic without listing it, which strict typing
# rejects; cimpl is where it is defined.
from confluent_kafka.cimpl import NewTopic

from auditor import kafka_config

__all__ = [
    "BrokerConfigError",
    "BrokerError",
    "BrokerSecurityError",
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


class BrokerConfigError(BrokerError):
    """The Kafka client refused its configuration (e.g. a CA file it cannot load)."""


class BrokerUnavailableError(BrokerError):
    """No metadata answer from the bootstrap servers within the time allowed."""


class BrokerSecurityError(BrokerUnavailableError):
    """The client's security settings cannot work with the listener it reached."""


class TopicCreationError(BrokerError):
    """One or more topics could not be created."""


def _admin(
    bootstrap: str, client_config: Mapping[str, Any] | None, watch: _Watch | None = None
) -> AdminClient:
    conf = kafka_config.admin(bootstrap, client_config, logger=watch or _log,
                              error_cb=watch.error_cb if watch is not None else None)
    try:
        return AdminClient(conf)
    except KafkaException as exc:  # e.g. a CA file librdkafka cannot load
        raise BrokerConfigError(kafka_config.redact(
            f"Kafka client configuration: {_describe(exc)}", conf)) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        err: KafkaError = exc.args[0]
        return f"{err.name()}: {err.str()}"
    return f"{type(exc).__name__}: {exc}"


def _check_timeout(timeout: float) -> None:
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")


class _Watch(logging.LoggerAdapter):  # type: ignore[type-arg]
    """librdkafka's log lines and errors during a wait: the telling ones are kept by kind
    (tls, auth, listener, refused, resolve), and every line goes on to ``auditor.broker``
    at DEBUG (while a broker starts, refused connections are expected noise)."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logger, {})
        self.seen: dict[str, str] = {}

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        text = str(msg) % args if args else str(msg)
        self.logger.debug("%s", text)
        if level >= logging.WARNING:
            self._keep(None, text)

    def error_cb(self, err: KafkaError) -> None:
        self._keep(err.code(), err.str())

    def _keep(self, code: int | None, text: str) -> None:
        kind = _kind_of(code, text)
        if kind is not None:
            self.seen[kind] = text


def _kind_of(code: int | None, text: str) -> str | None:
    if code == KafkaError._SSL or "SSL handshake" in text or "SSL_HANDSHAKE" in text:
        return "tls"
    if code == KafkaError._AUTHENTICATION or "SASL" in text or "OAUTHBEARER" in text:
        return "auth"
    if "security.protocol" in text or "SSL listener" in text:
        return "listener"
    if "Connection refused" in text:
        return "refused"
    if "resolve" in text or "Name or service not known" in text:
        return "resolve"
    return None


def _speaks_plaintext_kafka(bootstrap: str, timeout: float = 1.0) -> str | None:
    """The first bootstrap address that answers a plaintext Kafka ApiVersions request."""
    request = struct.pack(">hhih", 18, 0, 0x617564, 7) + b"auditor"  # key, version, id, client
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as s:
                s.sendall(struct.pack(">i", len(request)) + request)
                answer = s.recv(8)
        except (OSError, ValueError):
            continue
        # size, then the correlation id we sent: a Kafka broker answering in the clear.
        if len(answer) == 8 and struct.unpack(">ii", answer)[1] == 0x617564:
            return address.strip()
    return None


def _hint(protocol: str, seen: Mapping[str, str]) -> str:
    if "tls" in seen:
        return (f"the TLS handshake failed ({seen['tls']}): check that the address is a TLS "
                f"listener (security.protocol is {protocol}) and that ssl.ca.location "
                "(AUDITOR_SSL_CAFILE) holds the CA that signed the broker's certificate")
    if "auth" in seen and "OAUTHBEARER token" in seen["auth"]:
        return (f"no OAUTHBEARER token ({seen['auth']}): check the token endpoint URL, the "
                "client id and secret, and the scope (AUDITOR_SASL_OAUTHBEARER_*)")
    if "auth" in seen:
        return (f"authentication failed ({seen['auth']}): check sasl.mechanism and its "
                f"credentials (AUDITOR_SASL_*), and that this listener expects SASL "
                f"(security.protocol is {protocol})")
    if "listener" in seen:
        return (f"{seen['listener']}: the listener may expect TLS; set security.protocol "
                "(AUDITOR_SECURITY_PROTOCOL) to SSL or SASL_SSL")
    if "refused" in seen:
        return "connection refused: is the broker up, and are its host and port right?"
    if "resolve" in seen:
        return f"{seen['resolve']}: check the host names of the bootstrap servers"
    return ""


def wait_for_broker(
    bootstrap: str, timeout: float, client_config: Mapping[str, Any] | None = None
) -> str | None:
    """Return once a metadata request to ``bootstrap`` succeeds, with the cluster id the
    broker reports (None if it reports none).

    Raises BrokerSecurityError as soon as a TLS client (security.protocol SSL or
    SASL_SSL) finds a plaintext Kafka listener; BrokerUnavailableError after ``timeout``
    s, with the most telling error seen and a hint (TLS, SASL, listener, address);
    BrokerConfigError if the client refuses its configuration. No message holds a secret.
    """
    _check_timeout(timeout)
    deadline = time.monotonic() + timeout
    watch = _Watch(_log)
    config = dict(client_config or {})
    protocol = str(config.get("security.protocol", "PLAINTEXT")).upper()
    admin = _admin(bootstrap, config, watch)
    last = "no answer"
    probed = not protocol.endswith("SSL")
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            hint = _hint(protocol, watch.seen)
            raise BrokerUnavailableError(kafka_config.redact(
                f"Kafka broker at {bootstrap} did not answer a metadata request within "
                f"{timeout:g} s (last error: {last})" + (f"; {hint}" if hint else ""), config))
        try:
            metadata = admin.list_topics(timeout=min(2.0, max(remaining, 0.05)))
            return metadata.cluster_id or None
        except KafkaException as exc:
            last = _describe(exc)
        admin.poll(0)  # serves the error and log callbacks
        if not probed:
            # A TLS client on a plaintext listener waits out its handshake in silence
            # (30 s, socket.connection.setup.timeout.ms): ask the listener directly.
            probed = True
            plain = _speaks_plaintext_kafka(bootstrap)
            if plain is not None:
                raise BrokerSecurityError(
                    f"Kafka broker at {plain} speaks plaintext Kafka, but security.protocol "
                    f"(AUDITOR_SECURITY_PROTOCOL) is {protocol}, which starts with a TLS "
                    f"handshake: connect to the cluster's TLS listener (its own port), or "
                    f"set security.protocol to {protocol.replace('SSL', 'PLAINTEXT')} if "
                    "the cluster has no TLS")
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
