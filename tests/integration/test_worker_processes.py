"""`auditor worker --processes 2` on a real broker: two deciders in one group, one parent."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import orjson
import pytest

from tests.integration.conftest import Cluster
from tests.integration.test_worker import event, ids

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def test_two_processes_share_the_group_and_stop_together(cluster: Cluster) -> None:
    topics = cluster.topics(partitions=4)
    worker = cluster.start_worker(topics, name="multi", extra_env={"AUDITOR_PROCESSES": "2"})
    time.sleep(12)  # both joined and the group rebalanced before any event is produced
    assert worker.proc.poll() is None, worker.output()
    children = _children(worker.proc.pid)
    assert len(children) == 2
    total = 2000
    cluster.produce(topics.input, (event(i) for i in range(total)))
    records = cluster.read(topics.decisions, until=lambda r: len(r) >= total, timeout=90)
    assert sorted(ids(records)) == sorted(f"ev-{i:06d}" for i in range(total))  # each once
    workers = {dict(m.headers() or []).get("auditor.worker") for m in records}
    assert workers == {b"multi-0", b"multi-1"}
    assert all(orjson.loads(m.value() or b"{}")["event_id"] for m in records)

    os.kill(worker.proc.pid, signal.SIGTERM)  # the parent alone, as an orchestrator does
    assert worker.proc.wait(timeout=60) == 0, worker.output()
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_child_crash_stops_the_worker_with_a_failure(cluster: Cluster) -> None:
    topics = cluster.topics(partitions=2)
    worker = cluster.start_worker(topics, name="multi", extra_env={"AUDITOR_PROCESSES": "2"})
    deadline = time.monotonic() + 30
    children: list[int] = []
    while len(children) < 2:
        assert time.monotonic() < deadline, worker.output()
        children = _children(worker.proc.pid)
        time.sleep(0.2)
    os.kill(children[1], signal.SIGKILL)
    status = worker.proc.wait(timeout=60)
    assert status == 1, worker.output()
    assert "decision process 1" in worker.output()
    with pytest.raises(ProcessLookupError):
        os.kill(children[0], 0)
