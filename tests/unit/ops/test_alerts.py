"""Direct alert pushes: incidents, rate limits, retries, a full queue, an Alertmanager down."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from click.testing import CliRunner
from prometheus_client import CollectorRegistry

from auditor.cli import main
from auditor.engine import Decider, Engine
from auditor.ops.alerts import API, AlertPostError, AlertPusher, post_json, post_with_retries
from auditor.ops.incidents import LABEL_NAMES, Incidents, ViolationGroup, group_violations
from auditor.ops.labels import LabelBounds
from auditor.ops.links import VIOLATIONS_PANEL_ID, Links, replay_command
from auditor.ops.metrics import WorkerMetrics
from auditor.ops.policy_alert import policy_failure_alert
from auditor.policy import load_policy
from auditor.stream.pipeline import Source

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "policies" / "examples" / "gdpr-transfers.yaml"
NATTERBOX = ROOT / "policies" / "natterbox.yaml"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A stand-in for Alertmanager's POST /api/v2/alerts, failing while ``down``."""

    def __init__(self) -> None:
        self.posts: list[list[dict[str, Any]]] = []
        self.down = False
        self.calls = 0

    def __call__(self, url: str, body: bytes, timeout_s: float) -> None:
        self.calls += 1
        assert url.endswith(API)
        if self.down:
            raise AlertPostError("connection refused")
        self.posts.append(orjson.loads(body))


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_policy(EXAMPLE))


def violations(engine: Engine, n: int, processor: str = "plain-processor",
               data_class: str = "personal_data", start: int = 0) -> list[ViolationGroup]:
    decider = Decider(engine)
    decisions = [
        decider.raw(orjson.dumps({
            "event_id": f"v-{i}", "event_time": "2026-03-02T09:00:00Z",
            "data_class": data_class, "operation": "transfer",
            "origin": {"location": "aws:eu-central-1"},
            "destination": {"location": "aws:us-east-1"}, "processor": processor,
        })).decision
        for i in range(start, start + n)
    ]
    return group_violations((d, Source("lineage.events", 2, 100 + i))
                            for i, d in enumerate(decisions) if d.verdict == "violation")


DOCS = "https://docs.example.org/auditor/docs/"
LINKS = Links(DOCS)


def incidents_for(engine: Engine, **kwargs: Any) -> Incidents:
    return Incidents(LabelBounds.from_engine(engine), policy=engine.policy.id,
                     interval_s=kwargs.get("interval_s", 30.0), ttl_s=kwargs.get("ttl_s", 300.0),
                     links=kwargs.get("links", LINKS), replay=kwargs.get("replay"),
                     max_open=kwargs.get("max_open", 100),
                     descriptions=Incidents.rule_descriptions(engine))


def test_an_incident_alert_has_deterministic_labels_and_event_detail_in_annotations(
    engine: Engine,
) -> None:
    incidents = incidents_for(engine)
    incidents.add(violations(engine, 12), now=1_800_000_000.0)
    (incident,) = incidents.due(1_800_000_000.0)
    alert = incidents.alert(incident)
    assert alert["labels"] == {
        "alertname": "AuditorPolicyViolation", "rule": "gdpr.chapter-v", "kind": "transfer",
        "severity": "high", "data_class": "personal_data", "regime": "eu_gdpr",
        "destination_country": "US", "team": "privacy", "incident": "policy-violation",
        "policy": "gdpr-transfers",
    }
    assert list(alert["labels"]) == list(LABEL_NAMES)
    notes = alert["annotations"]
    examples = ", ".join(f"lineage.events[2]@{100 + i}" for i in range(2, 12))
    assert notes["examples"] == examples
    assert "event_ids" not in notes  # ids are the sender's text
    assert notes["events"] == "12"
    assert notes["summary"] == "high transfer violation of gdpr.chapter-v (gdpr-transfers)"
    # What a page shows first: what the rule says (the policy's words), how many since
    # when, the route, and where example records are.
    assert notes["description"] == (
        "A transfer of personal data out of the EEA (EU GDPR) or the UK (UK GDPR) needs a "
        "lawful basis in force at the event's time, in the order intra-EEA, adequacy, DPF, "
        "BCR, SCC / IDTA, derogation. (12 events since 2027-01-15T08:00:00.000Z; data class "
        f"personal_data, eu_gdpr transfer to US; e.g. records {examples})")
    # Absolute, under the docs' base URL (a setting); no Grafana URL: the runbook again.
    assert notes["runbook_url"] == DOCS + "runbooks/policy-violation.md"
    assert (ROOT / "docs" / "runbooks" / "policy-violation.md").is_file()
    assert notes["last_event_time"] == "2026-03-02T09:00:00.000Z"
    assert "replay" not in notes  # no replay command given
    assert alert["startsAt"] == "2027-01-15T08:00:00.000Z"
    assert alert["endsAt"] == "2027-01-15T08:05:00.000Z"  # resolves 5 minutes after the last
    assert alert["generatorURL"] == notes["runbook_url"]
    # The same flow again: the same labels (one alert, updated), never a new one per event.
    again = incidents_for(engine)
    again.add(violations(engine, 1, start=500), now=0.0)
    assert again.alert(again.due(0.0)[0])["labels"] == alert["labels"]


def test_with_grafana_the_alert_opens_the_violations_panel_and_names_the_replay(
    engine: Engine,
) -> None:
    replay = partial(replay_command, "policies/gdpr-transfers.yaml", "lineage.events",
                     "kafka:9092")
    incidents = incidents_for(engine, links=Links(DOCS, "http://grafana:3000"), replay=replay)
    incidents.add(violations(engine, 2), now=1_800_000_000.0)
    incidents.add(violations(engine, 1, start=9), now=1_800_000_120.0)
    (incident,) = incidents.due(1_800_000_120.0)
    alert = incidents.alert(incident)
    # The panel, for this pack, from an hour before the first violation.
    url = urlsplit(alert["generatorURL"])
    assert (url.scheme, url.netloc, url.path) == ("http", "grafana:3000", "/d/auditor-decisions/")
    assert parse_qs(url.query) == {
        "var-policy": ["gdpr-transfers"], "viewPanel": [str(VIOLATIONS_PANEL_ID)],
        "from": [str((1_800_000_000 - 3600) * 1000)], "to": ["now"],
    }
    # The command that decides the incident's window again, ready to paste.
    assert alert["annotations"]["replay"] == (
        "auditor replay --policy policies/gdpr-transfers.yaml --topic lineage.events "
        "--bootstrap-servers kafka:9092 --from 2027-01-15T08:00:00Z --to 2027-01-15T08:02:00Z "
        "--grace 5m --out audit-report")
    replay_cmd = main.commands["replay"]
    options = {o for param in replay_cmd.params for o in param.opts}
    for token in alert["annotations"]["replay"].split():
        assert not token.startswith("--") or token in options, token


def test_an_unknown_data_class_is_other_in_the_labels(engine: Engine) -> None:
    incidents = incidents_for(engine)
    incidents.add(violations(engine, 3, data_class="attacker-chosen-" + "x" * 300), now=0.0)
    labels = [incidents.alert(i)["labels"] for i in incidents.due(0.0)]
    assert labels
    assert all(lb["data_class"] == "other" for lb in labels)
    assert {lb["rule"] for lb in labels} == {"auditor.unknown-reference"}


def test_each_incident_is_posted_at_most_once_per_interval(engine: Engine) -> None:
    incidents = incidents_for(engine, interval_s=30.0, ttl_s=300.0)
    incidents.add(violations(engine, 5), now=0.0)
    first = incidents.due(0.0)
    incidents.attempted(first, 0.0, sent=True)
    for t in (1.0, 10.0, 29.0):  # violations keep coming: nothing due before the interval
        incidents.add(violations(engine, 100, start=int(t) * 1000), now=t)
        assert incidents.due(t) == []
    (update,) = incidents.due(30.0)
    assert update.events == 305
    incidents.attempted([update], 30.0, sent=True)
    assert incidents.due(100.0) == []  # quiet: nothing new to say
    assert incidents.due(400.0) == []
    assert incidents.open == {}


def test_a_failed_post_is_tried_again_after_the_interval(engine: Engine) -> None:
    incidents = incidents_for(engine, interval_s=30.0)
    incidents.add(violations(engine, 1), now=0.0)
    incidents.attempted(incidents.due(0.0), 0.0, sent=False)
    assert incidents.due(10.0) == []
    assert len(incidents.due(30.0)) == 1


def test_open_incidents_are_capped(engine: Engine) -> None:
    incidents = incidents_for(engine, max_open=1)
    incidents.add(violations(engine, 2), now=0.0)
    incidents.add(violations(engine, 3, data_class="other-class"), now=0.0)
    assert len(incidents.open) == 1
    assert incidents.refused == 3


def test_post_with_retries_backs_off_and_gives_up(engine: Engine) -> None:
    post = Recorder()
    post.down = True
    waits: list[float] = []
    error = post_with_retries(post, "http://am" + API, [{"labels": {}}], timeout_s=1,
                              attempts=3, sleep=waits.append)
    assert error == "connection refused"
    assert post.calls == 3
    assert waits == [0.5, 1.0]


def test_the_pusher_never_blocks_and_counts_sent_failed_and_dropped(engine: Engine) -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, engine)
    post = Recorder()
    clock = Clock()
    pusher = AlertPusher("http://am:9093", incidents_for(engine), metrics.count_alerts,
                         queue_size=2, post=post, clock=clock, sleep=lambda s: None)
    # Not started: the queue fills up and further batches are dropped, not waited for.
    for _ in range(4):
        pusher.submit(violations(engine, 10))
    assert metrics.alerts["dropped"] == 20
    pusher.flush()
    assert metrics.alerts["sent"] == 1
    assert len(post.posts) == 1

    post.down = True  # Alertmanager goes away: the alert is counted failed, retried later
    clock.now += 60
    pusher.submit(violations(engine, 1, start=77))
    pusher.flush()
    assert metrics.alerts["failed"] == 1
    assert post.calls == 1 + 3  # bounded retries
    post.down = False
    clock.now += 60
    pusher.flush()
    assert metrics.alerts["sent"] == 2
    assert post.posts[-1][0]["annotations"]["events"] == "21"


def test_the_pusher_thread_posts_what_the_agent_hands_over(engine: Engine) -> None:
    post = Recorder()
    results: list[tuple[str, int]] = []
    pusher = AlertPusher("http://am:9093", incidents_for(engine),
                         lambda r, n: results.append((r, n)), post=post, tick_s=0.05).start()
    pusher.submit(violations(engine, 3))
    pusher.close()  # posts what is due before stopping
    assert [a["labels"]["rule"] for p in post.posts for a in p] == ["gdpr.chapter-v"]
    assert ("sent", 1) in results


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, json.loads(body)))
        self.send_response(self.server.status)
        self.end_headers()
        self.wfile.write(b"{}" if self.server.status == 200 else b"bad alert")

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    received: list[tuple[str, Any]]
    status: int


@pytest.fixture
def alertmanager_stub() -> Iterator[_Server]:
    """A local HTTP endpoint recording posts (the real Alertmanager: integration tests)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.received, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_post_json_sends_json_and_reports_http_errors(alertmanager_stub: _Server) -> None:
    url = f"http://127.0.0.1:{alertmanager_stub.server_port}{API}"
    post_json(url, b'[{"labels": {"alertname": "x"}}]', 5)
    assert alertmanager_stub.received == [(API, [{"labels": {"alertname": "x"}}])]
    alertmanager_stub.status = 400
    with pytest.raises(AlertPostError, match="HTTP 400 bad alert"):
        post_json(url, b"[]", 5)
    with pytest.raises(AlertPostError):
        post_json("http://127.0.0.1:9/api/v2/alerts", b"[]", 1)  # nothing listens on port 9


def test_policy_failure_alert_resolves_itself() -> None:
    alert = policy_failure_alert("w1", "/etc/auditor/natterbox.yaml", "x.yaml:3: bad", 300, 0.0,
                                 LINKS)
    assert alert["labels"] == {
        "alertname": "AuditorPolicyLoadFailure", "severity": "critical", "team": "privacy",
        "incident": "policy-load", "worker": "w1", "policy": "natterbox.yaml",
    }
    assert alert["annotations"]["description"] == "x.yaml:3: bad"
    assert alert["annotations"]["runbook_url"] == DOCS + "runbooks/policy-load-failure.md"
    assert (ROOT / "docs" / "runbooks" / "policy-load-failure.md").is_file()
    assert (alert["startsAt"], alert["endsAt"]) == ("1970-01-01T00:00:00Z",
                                                    "1970-01-01T00:05:00Z")
    ok = policy_failure_alert("w1", "natterbox.yaml", "", 300, 60.0, LINKS, resolved=True)
    assert ok["labels"] == alert["labels"]
    assert ok["endsAt"] == ok["startsAt"]


def test_a_worker_whose_policy_fails_to_load_pushes_an_alert_and_exits_2(
    alertmanager_stub: _Server, tmp_path: Path,
) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: broken\nrules: [\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["worker", "--policy", str(bad)], env={
        "AUDITOR_ALERTMANAGER_URL": f"http://127.0.0.1:{alertmanager_stub.server_port}",
        "AUDITOR_WORKER_ID": "w-bad",
        "AUDITOR_DOCS_BASE_URL": "https://wiki.example.org/auditor",
    })
    assert result.exit_code == 2
    assert "broken.yaml" in result.output
    assert "pushed" in result.output
    ((path, (alert,)),) = alertmanager_stub.received
    assert path == API
    assert alert["labels"]["alertname"] == "AuditorPolicyLoadFailure"
    assert alert["labels"]["worker"] == "w-bad"
    assert "broken.yaml" in alert["annotations"]["description"]
    # The docs' base URL setting (a trailing slash added) makes the runbook link absolute.
    assert alert["annotations"]["runbook_url"] == (
        "https://wiki.example.org/auditor/runbooks/policy-load-failure.md")


def test_bad_alert_settings_get_a_clear_message() -> None:
    result = CliRunner().invoke(main, ["worker"], env={"AUDITOR_ALERTMANAGER_URL": "am:9093"})
    assert result.exit_code == 2
    assert "alertmanager_url" in result.output
    assert "http(s) URL" in result.output
    result = CliRunner().invoke(main, ["worker"], env={"AUDITOR_ALERT_TTL_S": "10"})
    assert result.exit_code == 2
    assert "alert_ttl_s" in result.output
    result = CliRunner().invoke(main, ["worker"], env={"AUDITOR_DOCS_BASE_URL": "docs/"})
    assert result.exit_code == 2
    assert "docs_base_url" in result.output
    assert "Traceback" not in result.output


def test_an_alert_carries_no_text_an_event_brought(engine: Engine) -> None:
    # The finding names the unknown processor; the id and the data class are the sender's.
    decider = Decider(engine)
    hostile = "alice.smith@example.com"
    decision = decider.raw(orjson.dumps({
        "event_id": hostile, "event_time": "2026-03-02T09:00:00Z",
        "data_class": "personal_data", "operation": "transfer",
        "origin": {"location": "aws:eu-central-1"},
        "destination": {"location": "aws:us-east-1"}, "processor": hostile,
        "subject": {"key": hostile}, "tenant": {"id": hostile},
    })).decision
    assert hostile in decision.findings[0].message
    incidents = incidents_for(engine)
    incidents.add(group_violations([(decision, Source("lineage.events", 0, 7))]), now=0.0)
    (alert,) = [incidents.alert(i) for i in incidents.due(0.0)]
    text = orjson.dumps(alert).decode()
    assert "alice" not in text
    assert "example.com" not in text
    assert alert["labels"]["rule"] == "auditor.unknown-reference"
    assert alert["annotations"]["description"].startswith(
        "The events name a data class, processor, purpose, location, home region or tenant "
        "setting the policy does not define (decided fail-closed). (1 events since")
    assert alert["annotations"]["examples"] == "lineage.events[0]@7"
