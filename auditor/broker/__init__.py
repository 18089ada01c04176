"""Kafka broker helpers: the embedded Tansu broker for local runs and tests, and topic admin."""

from auditor.broker.admin import (
    BrokerConfigError,
    BrokerError,
    BrokerSecurityError,
    BrokerUnavailableError,
    TopicCreationError,
    ensure_topics,
    wait_for_broker,
)
from auditor.broker.embedded import EmbeddedBroker, find_broker_binary

__all__ = [
    "BrokerConfigError",
    "BrokerError",
    "BrokerSecurityError",
    "BrokerUnavailableError",
    "EmbeddedBroker",
    "TopicCreationError",
    "ensure_topics",
    "find_broker_binary",
    "wait_for_broker",
]
