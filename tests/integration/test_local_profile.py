"""A worker left at its defaults takes the local profile on the embedded broker only, and
an explicit setting wins over it."""

from __future__ import annotations

import re
import time
import urllib.request

import pytest
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from auditor.broker.embedded import EMBEDDED_CLUSTER_ID
from tests.integration.conftest import Cluster, WorkerProcess

pytestmark = pytest.mark.integration


def _started(worker: WorkerProcess, decisions: str) -> str:
    """The worker's log once it has said what it decides (after any profile line)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = worker.output()
        if f"-> {decisions} on" in text:
            return text
        if worker.proc.poll() is not None:
            pytest.fail(f"worker exited {worker.proc.returncode}: {text[-2000:]}")
        time.sleep(0.1)
    pytest.fail(f"the worker did not start: {worker.output()[-2000:]}")


def _guarantee(log: str) -> str:
    """The guarantee the worker's metrics say it runs with."""
    found = re.search(r"metrics on (http://\S+/metrics)", log)
    assert found is not None, log
    with urllib.request.urlopen(found.group(1), timeout=5) as answer:
        text = answer.read().decode()
    running = [s.labels["guarantee"] for family in text_string_to_metric_families(text)
               for s in family.samples
               if s.name == "auditor_processing_guarantee" and s.value == 1]
    assert len(running) == 1, running
    return running[0]


def test_defaults_take_the_local_profile_on_the_embedded_broker_and_explicit_wins(
        cluster: Cluster) -> None:
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    embedded = admin.list_topics(timeout=10).cluster_id == EMBEDDED_CLUSTER_ID
    topics = cluster.topics()
    defaults = cluster.start_worker(topics, name="defaults", tuned=False)
    other = cluster.topics()
    explicit = cluster.start_worker(
        other, name="explicit", tuned=False,
        extra_env={"AUDITOR_PROCESSING_GUARANTEE": "exactly_once",
                   "AUDITOR_SESSION_TIMEOUT_S": "10"})
    log = _started(defaults, topics.decisions)
    profile = [line for line in log.splitlines() if "local profile" in line]
    if not embedded:  # Apache Kafka (or another external broker): the settings as given
        assert profile == []
        assert _guarantee(log) == "exactly_once"
        return
    assert len(profile) == 1, log
    for change in ("session_timeout_s 45 -> 6", "heartbeat_interval_s 3 -> 1",
                   "fetch_max_wait_ms unset -> 50", "changelog_batch_bytes 16384 -> 1",
                   "processing_guarantee exactly_once -> at_least_once"):
        assert change in profile[0]
    assert _guarantee(log) == "at_least_once"

    log = _started(explicit, other.decisions)
    [line] = [line for line in log.splitlines() if "local profile" in line]
    assert "session_timeout_s" not in line
    assert "processing_guarantee" not in line
    assert "heartbeat_interval_s 3 -> 1" in line
    assert _guarantee(log) == "exactly_once"
