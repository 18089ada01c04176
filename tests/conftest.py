"""Shared fixtures: a Kafka-protocol broker for the whole session and unique topics per test."""

from __future__ import annotations

import importlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from auditor.broker import EmbeddedBroker, ensure_topics, wait_for_broker

BOOTSTRAP_ENV = "AUDITOR_TEST_BOOTSTRAP"
# "1"/"0": whether the broker of $AUDITOR_TEST_BOOTSTRAP isolates aborted transactions
# (default: yes, as Apache Kafka does; the embedded broker does not).
TRANSACTIONS_ENV = "AUDITOR_TEST_TRANSACTIONS"
# Override to test against another Apache Kafka release.
KAFKA_IMAGE = os.environ.get("AUDITOR_TEST_KAFKA_IMAGE", "apache/kafka:3.9.1")

TopicFactory = Callable[..., str]


def _docker_answers() -> bool:
    """True if a Docker engine answers a ping within a second (silent and fast otherwise)."""
    if not (os.environ.get("DOCKER_HOST") or os.path.exists("/var/run/docker.sock")):
        return False
    try:
        # Imported only here (and untyped): most runs never need the Docker SDK.
        docker: Any = importlib.import_module("docker")
        client = docker.from_env(timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kafka_container() -> Iterator[str]:
    """Apache Kafka (KRaft, one node) in a container; yields its bootstrap servers.

    testcontainers' KafkaContainer drives Confluent's image scripts, which the official
    ``apache/kafka`` image does not have, so the container is configured here the way
    the image documents: env variables, and an advertised listener on the host port.
    """
    from testcontainers.core.container import DockerContainer

    port = _free_port()
    container = DockerContainer(KAFKA_IMAGE).with_bind_ports(9092, port)
    try:
        host = container.get_container_host_ip()
    except Exception:
        # Some connection modes only know the host once the container runs.
        host = "localhost"
    env = {
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:9093,CONTROLLER://0.0.0.0:9094",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{host}:{port},BROKER://localhost:9093",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
            "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT"
        ),
        "KAFKA_INTER_BROKER_LISTENER_NAME": "BROKER",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9094",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
    }
    for name, value in env.items():
        container.with_env(name, value)
    with container:
        bootstrap = f"{host}:{port}"
        wait_for_broker(bootstrap, timeout=120)
        yield bootstrap


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a Kafka-protocol broker for the test session.

    In order: ``$AUDITOR_TEST_BOOTSTRAP`` (an existing broker), Apache Kafka in a
    container when a Docker engine answers, else the embedded Tansu broker.
    """
    external = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if external:
        wait_for_broker(external, timeout=30)
        _BROKER["transactions"] = os.environ.get(TRANSACTIONS_ENV, "1") != "0"
        yield external
    elif _docker_answers():
        yield from _kafka_container()
    else:
        _BROKER["transactions"] = False
        with EmbeddedBroker() as broker:
            yield broker.bootstrap


# What the session's broker is (set by kafka_bootstrap).
_BROKER = {"transactions": True}


@pytest.fixture(scope="session")
def kafka_transactions(kafka_bootstrap: str) -> bool:
    """True if the session's broker isolates aborted transactions (Apache Kafka); the
    embedded Tansu broker does not (docs/kafka-brokers.md), so workers on it deliver at
    least once."""
    return _BROKER["transactions"]


@pytest.fixture
def topic_factory(kafka_bootstrap: str, request: pytest.FixtureRequest) -> TopicFactory:
    """Creates topics with unique names: ``topic_factory(partitions=1, prefix=None) -> name``.

    Unique names keep tests independent on a shared (possibly external) broker; the
    topics are not deleted, as a broker used for tests is disposable.
    """

    def create(partitions: int = 1, prefix: str | None = None) -> str:
        base = prefix or request.node.name
        safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in base)[:180]
        name = f"test.{safe}.{uuid.uuid4().hex[:12]}"
        ensure_topics(kafka_bootstrap, {name: partitions})
        return name

    return create


@pytest.fixture
def unique_topic(topic_factory: TopicFactory) -> str:
    """One freshly created single-partition topic."""
    return topic_factory()
