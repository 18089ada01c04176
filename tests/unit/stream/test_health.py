"""The worker's probes: liveness, and readiness = policy loaded, partitions assigned,
restored and fetched."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter

from auditor.ops.server import MetricsServer, MetricsServerError, serve_metrics
from auditor.stream.health import Health


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status, body = int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode()


def test_ready_only_with_the_policy_loaded_partitions_assigned_and_memory_restored() -> None:
    health = Health()
    assert health.readiness()[1]["waiting_for"] == [
        "policy not loaded", "no partitions assigned by the consumer group yet"]
    health.policy_loaded("natterbox")
    assert not health.readiness()[0]
    health.assigning([0, 1])  # the group assigned them; their memory is being restored
    ready, report = health.readiness()
    assert not ready
    assert report["restoring"] == [0, 1]
    health.assigned([0, 1])
    assert health.readiness() == (True, {"ready": True, "waiting_for": [],
                                         "policy": "natterbox", "partitions": [0, 1],
                                         "restoring": [], "fetching": []})
    # A rebalance: 1 goes, 2 comes and restores; ready again once it is restored.
    health.revoked([0, 1])
    health.assigning([0, 2])
    assert not health.readiness()[0]
    health.assigned([0, 2])
    assert health.readiness()[1]["partitions"] == [0, 2]
    health.stopping()
    assert health.readiness()[1]["waiting_for"] == ["stopping"]


def test_not_ready_until_the_first_fetch_of_each_assigned_partition_returned() -> None:
    health = Health()
    health.policy_loaded("natterbox")
    health.fetching([("in", 0), ("in", 1)])
    health.assigning([0, 1])
    health.assigned([0, 1])
    ready, report = health.readiness()
    assert not ready
    assert report["waiting_for"] == ["first fetch of assigned partitions not returned yet"]
    assert report["fetching"] == ["in[0]", "in[1]"]
    health.fetched(("in", 0))
    assert health.readiness()[1]["fetching"] == ["in[1]"]
    health.fetched(("other", 1))  # another topic's partition 1 is not this one
    assert not health.readiness()[0]
    health.fetched(("in", 1))
    assert health.readiness()[0]
    # A partition taken away before its first fetch returned is not waited for.
    health.fetching([("in", 2)])
    health.assigned([2])
    assert not health.readiness()[0]
    health.revoked([2])
    assert health.readiness()[0]


def test_a_worker_the_group_gives_no_partition_is_ready() -> None:
    health = Health()
    health.policy_loaded("p")
    health.assigning([])
    health.assigned([])  # more workers than partitions: idle, but in the group
    assert health.readiness()[0]


@pytest.fixture
def served() -> Iterator[tuple[MetricsServer, Health]]:
    registry = CollectorRegistry()
    Counter("auditor_probe_test_total", "a metric", registry=registry).inc()
    health = Health()
    server = serve_metrics(registry, "127.0.0.1", 0, health)
    yield server, health
    server.close()


def test_the_endpoint_serves_the_probes_and_the_metrics(
    served: tuple[MetricsServer, Health],
) -> None:
    server, health = served
    assert get(f"{server.base}/livez") == (200, {"alive": True})
    status, report = get(f"{server.base}/readyz")
    assert status == 503
    assert "policy not loaded" in report["waiting_for"]
    health.policy_loaded("p")
    health.assigning([3])
    assert get(f"{server.base}/readyz")[0] == 503
    assert get(f"{server.base}/livez")[0] == 200  # a long restore is no reason to restart
    health.assigned([3])
    status, report = get(f"{server.base}/readyz")
    assert (status, report["partitions"]) == (200, [3])
    status, text = get(server.url)
    assert status == 200
    assert "auditor_probe_test_total 1.0" in text


def test_a_port_in_use_is_reported(served: tuple[MetricsServer, Health]) -> None:
    server, _ = served
    with pytest.raises(MetricsServerError, match="already in use"):
        serve_metrics(CollectorRegistry(), "127.0.0.1", server.port)
    with pytest.raises(MetricsServerError, match="not an address"):
        serve_metrics(CollectorRegistry(), "no-such-host.invalid", 0)
