"""Metrics and alerts end to end: the worker on a real broker, real Prometheus and Alertmanager."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from prometheus_client.parser import text_string_to_metric_families
from ruamel.yaml import YAML

from auditor.stream.settings import DEFAULT_DOCS_BASE_URL
from tests.integration.conftest import EXAMPLE_POLICY, ROOT, Cluster, WorkerProcess
from tests.integration.test_worker import event
from tests.unit.ops.test_alerts_rules import require_binary

pytestmark = pytest.mark.integration
RULES = ROOT / "prometheus" / "rules"
ALERTMANAGER_CONFIG = ROOT / "alertmanager" / "alertmanager.yml"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return bytes(response.read())


def get_json(url: str) -> Any:
    return json.loads(get(url))


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60.0) -> T:
    """Poll ``probe`` until it returns a truthy value; fail naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
            if result:
                return result
        except (OSError, ValueError, KeyError) as exc:
            last = exc
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}" + (f" (last error: {last})" if last else ""))


@contextmanager
def server(name: str, argv: list[str], ready_url: str, log: Path) -> Iterator[None]:
    """Run a server process until the block ends (SIGTERM, then SIGKILL)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited {proc.returncode}: {log.read_text()[-2000:]}")
            return get(ready_url, timeout=1) is not None

        wait_for(f"{name} to be ready", ready, timeout=30)
        yield
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@contextmanager
def alertmanager(tmp: Path, config: Path = ALERTMANAGER_CONFIG) -> Iterator[str]:
    """The real Alertmanager with ``config`` (alertmanager/alertmanager.yml); yields its URL."""
    binary = require_binary("prometheus-alertmanager")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (tmp / "am").mkdir(exist_ok=True)
    argv = [binary, f"--config.file={config}", f"--storage.path={tmp / 'am'}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
            f"--web.external-url={url}/"]
    with server("alertmanager", argv, f"{url}/-/ready", tmp / "alertmanager.log"):
        yield url


@contextmanager
def prometheus(tmp: Path, worker_target: str, alertmanager_target: str) -> Iterator[str]:
    """The real Prometheus with prometheus/prometheus.yml and rules, scraping every second."""
    binary = require_binary("prometheus")
    config = YAML(typ="safe").load((ROOT / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(RULES / "*.yml")]
    config["alerting"]["alertmanagers"][0]["static_configs"] = [
        {"targets": [alertmanager_target]}
    ]
    (job,) = config["scrape_configs"]
    job["static_configs"] = [{"targets": [worker_target]}]
    path = tmp / "prometheus.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [binary, f"--config.file={path}", f"--storage.tsdb.path={tmp / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url={url}/"]
    with server("prometheus", argv, f"{url}/-/ready", tmp / "prometheus.log"):
        yield url


def metrics_url(worker: WorkerProcess) -> str:
    """The /metrics URL the worker printed at start (AUDITOR_METRICS_PORT=0: a free port)."""
    def printed() -> str | None:
        if worker.proc.poll() is not None:
            pytest.fail(f"worker exited {worker.proc.returncode}: {worker.output()[-2000:]}")
        found = re.search(r"metrics on (http://\S+/metrics)", worker.output())
        return found.group(1) if found else None

    return wait_for("the worker's metrics endpoint", printed, timeout=60)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = get(url).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def query(prom: str, expr: str) -> list[dict[str, Any]]:
    data = get_json(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert data["status"] == "success", data
    result: list[dict[str, Any]] = data["data"]["result"]
    return result


def am_alerts(am: str, alertname: str) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"filter": f'alertname="{alertname}"'})
    alerts: list[dict[str, Any]] = get_json(f"{am}/api/v2/alerts?{params}")
    return alerts


def post_alerts(am: str, alerts: list[dict[str, Any]]) -> None:
    request = urllib.request.Request(f"{am}/api/v2/alerts", data=json.dumps(alerts).encode(),
                                      headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5):
        pass


def test_prometheus_scrapes_the_worker_and_alerts_reach_alertmanager(
    cluster: Cluster, tmp_path: Path
) -> None:
    promtool = require_binary("promtool")
    with alertmanager(tmp_path) as am:
        topics = cluster.topics(partitions=2)
        worker = cluster.start_worker(topics, extra_env={
            "AUDITOR_METRICS_PORT": "0",
            "AUDITOR_ALERTMANAGER_URL": am,
            "AUDITOR_ALERT_INTERVAL_S": "1",
            "AUDITOR_CONSUMER_LAG_INTERVAL_S": "1",
        })
        url = metrics_url(worker)
        target = urllib.parse.urlsplit(url).netloc
        with prometheus(tmp_path, target, urllib.parse.urlsplit(am).netloc) as prom:
            # Prometheus has seen the rule's series at 0 before any violation.
            wait_for("a first scrape", lambda: query(
                prom, 'auditor_findings_total{rule="gdpr.chapter-v", effect="deny"}'))
            assert query(prom, 'up{job="auditor"}')[0]["value"][1] == "1"

            total = 200  # every 10th event goes to a processor without a safeguard
            cluster.produce(topics.input, [event(i) for i in range(total)] + [b"not json"])
            cluster.read(topics.decisions, until=lambda r: len(r) >= total + 1)

            # A Prometheus rule fires and Alertmanager lists its alert.
            fired = wait_for("AuditorViolationsHigh in Alertmanager",
                             lambda: am_alerts(am, "AuditorViolationsHigh"))
            labels = fired[0]["labels"]
            assert (labels["rule"], labels["severity"], labels["team"]) == (
                "gdpr.chapter-v", "high", "privacy")
            runbook = DEFAULT_DOCS_BASE_URL + "runbooks/policy-violation.md"
            assert fired[0]["annotations"]["runbook_url"] == runbook
            assert fired[0]["labels"]["policy"] == "gdpr-transfers"
            # The worker's own push landed too: one alert for the incident, not one per event.
            (pushed,) = wait_for("the worker's AuditorPolicyViolation",
                                 lambda: am_alerts(am, "AuditorPolicyViolation"))
            assert pushed["labels"] == {
                "alertname": "AuditorPolicyViolation", "rule": "gdpr.chapter-v",
                "kind": "transfer", "severity": "high", "data_class": "personal_data",
                "regime": "eu_gdpr", "destination_country": "US", "team": "privacy",
                "incident": "policy-violation", "policy": "gdpr-transfers",
            }
            examples = pushed["annotations"]["examples"].split(", ")
            assert examples
            assert all(e.startswith(f"{topics.input}[") for e in examples)
            assert pushed["annotations"]["runbook_url"] == runbook
            assert pushed["generatorURL"] == runbook  # no AUDITOR_GRAFANA_URL set
            assert pushed["annotations"]["replay"].startswith(
                f"auditor replay --policy {EXAMPLE_POLICY} --topic {topics.input} ")
            assert pushed["receivers"] == [{"name": "privacy-page"}]

            # The numbers Prometheus holds are the worker's.
            def decided() -> dict[str, float]:
                rows = query(prom, "sum by (verdict) (auditor_events_total)")
                counts = {r["metric"]["verdict"]: float(r["value"][1]) for r in rows}
                return counts if sum(counts.values()) >= total + 1 else {}

            assert wait_for("all decisions in Prometheus", decided) == {
                "allow": 180, "violation": 20, "invalid": 1}
            lag = wait_for("consumer lag", lambda: query(
                prom, f'auditor_consumer_lag{{topic="{topics.input}"}}'))
            assert {r["metric"]["partition"] for r in lag} <= {"0", "1"}
            assert query(prom, 'auditor_policy_info{policy="gdpr-transfers"}')

        # The live scrape passes promtool's lint, and counts what happened.
        body = get(url)
        lint = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                              check=False)
        assert lint.returncode == 0, lint.stdout.decode() + lint.stderr.decode()
        samples = scrape(url)
        assert samples[("auditor_invalid_events_total", (("reason", "not_json"),))] == 1
        assert samples[("auditor_processing_latency_seconds_count", ())] == total + 1
        assert samples[("auditor_event_time_lag_seconds_count", ())] == total
        assert samples[("auditor_alerts_pushed_total", (("result", "sent"),))] >= 1
        assert samples[("auditor_alerts_pushed_total", (("result", "failed"),))] == 0


def test_alertmanager_inhibits_lower_severities_of_the_same_incident(tmp_path: Path) -> None:
    with alertmanager(tmp_path) as am:
        worker = {"incident": "worker", "team": "platform", "instance": "w1:9464"}
        post_alerts(am, [
            {"labels": {"alertname": "AuditorWorkerDown", "severity": "critical", **worker}},
            {"labels": {"alertname": "AuditorConsumerLagHigh", "severity": "medium", **worker}},
            {"labels": {"alertname": "AuditorConsumerLagHigh", "severity": "medium",
                        **worker, "instance": "w2:9464"}},
        ])

        def states() -> dict[str, str] | None:
            alerts = get_json(f"{am}/api/v2/alerts")
            if len(alerts) < 3:
                return None
            return {f"{a['labels']['alertname']}@{a['labels']['instance']}":
                    a["status"]["state"] for a in alerts}

        assert wait_for("three alerts", states) == {
            "AuditorWorkerDown@w1:9464": "active",
            "AuditorConsumerLagHigh@w1:9464": "suppressed",  # muted by the worker being down
            "AuditorConsumerLagHigh@w2:9464": "active",  # another instance: not the same
        }


def test_with_alertmanager_down_the_worker_decides_everything_and_counts_failures(
    cluster: Cluster,
) -> None:
    topics = cluster.topics(partitions=1)
    worker = cluster.start_worker(topics, extra_env={
        "AUDITOR_METRICS_PORT": "0",
        "AUDITOR_ALERTMANAGER_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens
        "AUDITOR_ALERT_INTERVAL_S": "1",
        "AUDITOR_ALERT_TIMEOUT_S": "1",
    })
    url = metrics_url(worker)
    total = 300
    cluster.produce(topics.input, [event(i) for i in range(total)])
    records = cluster.read(topics.decisions, until=lambda r: len(r) >= total)
    assert len(records) == total

    def failed() -> float:
        return scrape(url).get(("auditor_alerts_pushed_total", (("result", "failed"),)), 0.0)

    assert wait_for("failed pushes counted", failed) >= 1
    assert worker.proc.poll() is None  # still running
    samples = scrape(url)
    assert samples[("auditor_events_total", (("verdict", "violation"),))] == total // 10
    assert samples[("auditor_alerts_pushed_total", (("result", "sent"),))] == 0


def test_a_policy_that_fails_to_load_is_an_alert_in_alertmanager(
    cluster: Cluster, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("id: broken\nrules:\n  - id: r1\n    kind: nonsense\n", encoding="utf-8")
    topics = cluster.topics(partitions=1)
    env = {"AUDITOR_ALERTMANAGER_URL": "", "AUDITOR_METRICS_PORT": "0"}
    with alertmanager(tmp_path) as am:
        env["AUDITOR_ALERTMANAGER_URL"] = am
        worker = cluster.start_worker(topics, policy=policy, extra_env=env)
        assert worker.proc.wait(60) == 2
        assert "metrics on" not in worker.output()  # never served without a policy
        (alert,) = wait_for("AuditorPolicyLoadFailure",
                            lambda: am_alerts(am, "AuditorPolicyLoadFailure"))
        assert alert["labels"]["policy"] == "policy.yaml"
        assert alert["labels"]["severity"] == "critical"
        assert "policy.yaml" in alert["annotations"]["description"]
        assert alert["status"]["state"] == "active"

        # The policy is fixed and the worker restarted: it resolves its own alert.
        policy.write_bytes(EXAMPLE_POLICY.read_bytes())
        worker = cluster.start_worker(topics, policy=policy, extra_env=env)
        metrics_url(worker)
        wait_for("the alert to resolve",
                 lambda: am_alerts(am, "AuditorPolicyLoadFailure") == [])
