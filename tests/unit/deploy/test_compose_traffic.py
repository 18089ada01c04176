"""The compose stack's demo-traffic command, run as written against a real Kafka-protocol broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer
from ruamel.yaml import YAML

from auditor.broker import EmbeddedBroker

ROOT = Path(__file__).resolve().parents[3]
EVENTS_PER_ROUND = 2000


def _traffic_service() -> dict[str, Any]:
    compose = YAML(typ="safe", pure=True).load((ROOT / "docker-compose.yml").read_text())
    service: dict[str, Any] = compose["services"]["traffic"]
    return service


def _count(bootstrap: str, topic: str, expected: int, timeout_s: float = 60.0) -> int:
    """Records on ``topic`` (read from the start) once ``expected`` arrived or time ran out."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"count-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000})
    consumer.subscribe([topic])
    count = 0
    deadline = time.monotonic() + timeout_s
    try:
        while count < expected and time.monotonic() < deadline:
            batch = consumer.consume(num_messages=1000, timeout=0.5)
            count += sum(1 for msg in batch if msg.error() is None)
    finally:
        consumer.close()
    return count


@pytest.mark.integration
def test_the_traffic_service_sends_a_round_of_natterbox_events(tmp_path: Path) -> None:
    service = _traffic_service()
    assert service["entrypoint"] == ["/bin/sh", "-c"]
    (command,) = service["command"]
    script = command.replace("$$", "$")  # Compose's escape for a literal `$`
    # The command writes to the fixed lineage.events topic: a private broker keeps the
    # session's shared one clean.
    with EmbeddedBroker(log_path=tmp_path / "broker.log") as broker:
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "AUDITOR_BOOTSTRAP_SERVERS": broker.bootstrap,
            "DEMO_ROUNDS": "1",
        }
        result = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True,
                                text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        assert f"sent {EVENTS_PER_ROUND} event(s) to lineage.events" in result.stdout
        assert _count(broker.bootstrap, "lineage.events", EVENTS_PER_ROUND) == EVENTS_PER_ROUND
