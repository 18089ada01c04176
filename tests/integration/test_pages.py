"""Pages end to end: worker → Prometheus → real Alertmanager → receivers this test runs.

Alertmanager runs the configuration alertmanager/generate.py renders from values whose
channels point here: webhooks, a Slack incoming webhook, PagerDuty's Events API v2 and an
SMTP server, all local. What arrives is what a team would be paged with.
"""

from __future__ import annotations

import json
import socketserver
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from auditor.ops.links import VIOLATIONS_PANEL_ID
from auditor.stream.settings import DEFAULT_DOCS_BASE_URL
from tests.integration.conftest import EXAMPLE_POLICY, ROOT, Cluster
from tests.integration.test_observability import (
    alertmanager,
    get_json,
    metrics_url,
    post_alerts,
    prometheus,
    query,
    wait_for,
)
from tests.integration.test_worker import event
from tests.unit.deploy.test_alertmanager_config import GENERATE

pytestmark = pytest.mark.integration
GRAFANA = "http://grafana.example:3000"
RUNBOOK = DEFAULT_DOCS_BASE_URL + "runbooks/policy-violation.md"


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receivers:
    """What the local receivers got: HTTP posts by path, e-mails as raw messages."""

    url: str
    smtp_port: int
    posts: list[Delivery] = field(default_factory=list)
    mails: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, path: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.posts if d.path == path]

    def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook notification (Alertmanager's JSON: receiver, alerts, groupLabels)."""
        with self.lock:
            return [d.body for d in self.posts if d.path.startswith("/webhook/")]


class _HTTP(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"null")
        receivers = self.server.receivers
        with receivers.lock:
            receivers.posts.append(Delivery(self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _HTTPServer(ThreadingHTTPServer):
    receivers: Receivers


class _SMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for Alertmanager to hand over one message."""

    server: _SMTPServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 localhost")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk.decode())
                receivers = self.server.receivers
                with receivers.lock:
                    receivers.mails.append("".join(data))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    receivers: Receivers


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    http = _HTTPServer(("127.0.0.1", 0), _HTTP)
    smtp = _SMTPServer(("127.0.0.1", 0), _SMTP)
    found = Receivers(f"http://127.0.0.1:{http.server_port}", smtp.server_address[1])
    http.receivers = smtp.receivers = found
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (http, smtp)]
    for thread in threads:
        thread.start()
    yield found
    for s in (http, smtp):
        s.shutdown()
        s.server_close()


def render_config(tmp: Path, receivers: Receivers) -> Path:
    """The shipped values' teams, each receiver a webhook here; privacy's page also on Slack
    and e-mail, platform's on PagerDuty, security's webhook with a bearer token (files)."""
    shipped = GENERATE.load_values(GENERATE.VALUES)
    secrets = {"slack": f"{receivers.url}/slack/privacy-page", "pagerduty": "pd-routing-key",
               "token": "s3cret-token"}
    for name, secret in secrets.items():
        (tmp / name).write_text(secret)
    teams: dict[str, Any] = {}
    for team in shipped["teams"]:
        teams[team] = {tier: [{"webhook": {"url": f"{receivers.url}/webhook/{team}-{tier}"}}]
                       for tier in ("page", "tickets")}
    teams["privacy"]["page"] += [
        {"slack": {"channel": "#privacy-alerts", "api_url_file": str(tmp / "slack")}},
        {"email": {"to": "privacy-oncall@example.com"}},
    ]
    teams["platform"]["page"].append({"pagerduty": {
        "routing_key_file": str(tmp / "pagerduty"), "url": f"{receivers.url}/pagerduty"}})
    teams["security"]["page"][0]["webhook"]["bearer_token_file"] = str(tmp / "token")
    values = {
        "teams": teams,
        "unrouted": [{"webhook": {"url": f"{receivers.url}/webhook/auditor-unrouted"}}],
        "email": {"smarthost": f"127.0.0.1:{receivers.smtp_port}",
                  "from": "auditor@example.com", "require_tls": False},
        # Fast notifications for the test; everything else as shipped.
        "timing": {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
    }
    path = tmp / "alertmanager.yml"
    path.write_text(GENERATE.dump(GENERATE.render(values)))
    return path


def alert_list_filter() -> str:
    """The (URL-encoded) matchers of the decisions dashboard's link to the alert list."""
    board = json.loads((ROOT / "grafana" / "dashboards" / "auditor-decisions.json").read_text())
    (panel,) = [p for p in board["panels"] if p["title"] == "Violations/s by rule and kind"]
    (url,) = [str(link["url"]) for link in panel["links"] if "#/alerts" in link["url"]]
    return url.split("filter=", 1)[1]


def ai_policy(tmp: Path) -> Path:
    """The example pack with its Chapter V rule owned by the `ai` team."""
    text = EXAMPLE_POLICY.read_text(encoding="utf-8")
    marker = "    severity: high\n    effect: deny\n"
    assert text.count(marker) == 1
    path = tmp / "gdpr-transfers-ai.yaml"
    path.write_text(text.replace(marker, marker + "    team: ai\n"), encoding="utf-8")
    return path


def test_a_violation_pages_the_rules_team_once_with_what_on_call_needs(
    cluster: Cluster, receivers: Receivers, tmp_path: Path
) -> None:
    with alertmanager(tmp_path, render_config(tmp_path, receivers)) as am:
        topics = cluster.topics(partitions=2)
        worker = cluster.start_worker(topics, policy=ai_policy(tmp_path), extra_env={
            "AUDITOR_ALERTMANAGER_URL": am,
            "AUDITOR_ALERT_INTERVAL_S": "1",
            "AUDITOR_GRAFANA_URL": GRAFANA,
        })
        target = urllib.parse.urlsplit(metrics_url(worker)).netloc
        with prometheus(tmp_path, target, urllib.parse.urlsplit(am).netloc) as prom:
            wait_for("a first scrape", lambda: query(
                prom, 'auditor_findings_total{rule="gdpr.chapter-v", effect="deny"}'))
            total = 200  # every 10th event goes to a processor without a safeguard
            invalid = [b"not json", b'{"event_id": "x"}', b"[]"]
            cluster.produce(topics.input, [event(i) for i in range(total)] + invalid)

            def both_alerts() -> dict[str, dict[str, Any]] | None:
                alerts = {a["labels"]["alertname"]: a
                          for n in receivers.webhooks() for a in n["alerts"]}
                wanted = {"AuditorPolicyViolation", "AuditorViolationsHigh"}
                return alerts if wanted <= set(alerts) else None

            alerts = wait_for("the pushed and the Prometheus alert at a receiver", both_alerts)
            # Invalid input was decided with the rest: had it been a "violation" of
            # auditor.schema, Prometheus would fire for it at this evaluation too.
            firing = query(prom, "ALERTS")
            assert {r["metric"]["alertname"] for r in firing} >= {"AuditorViolationsHigh"}
            assert all(r["metric"].get("rule") != "auditor.schema" for r in firing)
            # The violations panel's link to Alertmanager's alert list finds them too (the
            # UI's filter is {matchers}; the API takes each matcher as a `filter`).
            matchers = urllib.parse.unquote(alert_list_filter()).strip("{}").split(",")
            listed = get_json(f"{am}/api/v2/alerts?" + urllib.parse.urlencode(
                [("filter", m.strip()) for m in matchers]))
            assert {a["labels"]["alertname"] for a in listed} == {
                "AuditorPolicyViolation", "AuditorViolationsHigh"}

    notifications = receivers.webhooks()
    # One incident, one receiver: the rule's team's page, for both of its alerts.
    assert {n["receiver"] for n in notifications} == {"ai-page"}
    assert all(n["groupLabels"] == {"incident": "policy-violation", "policy": "gdpr-transfers",
                                    "rule": "gdpr.chapter-v"} for n in notifications)
    assert not any(a["labels"].get("rule") == "auditor.schema"
                   for n in notifications for a in n["alerts"])

    pushed = alerts["AuditorPolicyViolation"]
    assert pushed["labels"] == {
        "alertname": "AuditorPolicyViolation", "rule": "gdpr.chapter-v", "kind": "transfer",
        "severity": "high", "data_class": "personal_data", "regime": "eu_gdpr",
        "destination_country": "US", "team": "ai", "incident": "policy-violation",
        "policy": "gdpr-transfers",
    }
    notes = pushed["annotations"]
    # Where example records are (topic, partition, offset), never the events' own text.
    examples = notes["examples"].split(", ")
    assert examples
    assert all(e.startswith(f"{topics.input}[") for e in examples)
    assert examples[-1] in notes["description"]
    assert "ev-0" not in json.dumps(pushed)
    assert notes["runbook_url"] == RUNBOOK
    assert notes["replay"].startswith(f"auditor replay --policy {tmp_path}/")
    panel = urllib.parse.urlsplit(pushed["generatorURL"])
    assert f"{panel.scheme}://{panel.netloc}{panel.path}" == f"{GRAFANA}/d/auditor-decisions/"
    params = urllib.parse.parse_qs(panel.query)
    assert params["var-policy"] == ["gdpr-transfers"]
    assert params["viewPanel"] == [str(VIOLATIONS_PANEL_ID)]

    rule = alerts["AuditorViolationsHigh"]
    assert rule["labels"] == {
        "alertname": "AuditorViolationsHigh", "severity": "high", "team": "ai",
        "incident": "policy-violation", "job": "auditor", "policy": "gdpr-transfers",
        "rule": "gdpr.chapter-v", "kind": "transfer",
    }
    assert rule["annotations"]["runbook_url"] == RUNBOOK
    # Prometheus' own link: the graph of the rule's expression.
    assert rule["generatorURL"].startswith(f"{prom}/graph?g0.expr=")


def test_slack_pagerduty_email_and_webhook_receivers_deliver(
    receivers: Receivers, tmp_path: Path
) -> None:
    description = "About 7 events broke natterbox.recordings-location (residency)."
    common = {"incident": "policy-violation", "policy": "natterbox",
              "rule": "natterbox.recordings-location", "alertname": "AuditorViolationsHigh"}
    notes = {"summary": "High-severity violations of natterbox.recordings-location",
             "description": description, "runbook_url": RUNBOOK}
    with alertmanager(tmp_path, render_config(tmp_path, receivers)) as am:
        post_alerts(am, [
            {"labels": {**common, "severity": "high", "team": "privacy"}, "annotations": notes},
            {"labels": {**common, "severity": "critical", "team": "platform",
                        "rule": "r.platform"}, "annotations": notes},
            {"labels": {**common, "severity": "high", "team": "security",
                        "rule": "r.security"}, "annotations": notes},
        ])
        wait_for("Slack, PagerDuty, e-mail and the webhooks", lambda: (
            receivers.at("/slack/privacy-page") and receivers.at("/pagerduty")
            and receivers.mails and receivers.at("/webhook/security-page")
            and receivers.at("/webhook/privacy-page")))

    (slack,) = [d.body for d in receivers.at("/slack/privacy-page")]
    assert slack["channel"] == "#privacy-alerts"
    (attachment,) = slack["attachments"]
    assert attachment["title"] == "[FIRING:1] AuditorViolationsHigh natterbox.recordings-location"
    assert attachment["title_link"] == RUNBOOK
    assert description in attachment["text"]
    assert "[high, team privacy, pack natterbox]" in attachment["text"]
    assert f"Runbook: {RUNBOOK}" in attachment["text"]

    (pagerduty,) = [d.body for d in receivers.at("/pagerduty")]
    assert pagerduty["routing_key"] == "pd-routing-key"  # read from its file
    assert pagerduty["event_action"] == "trigger"
    assert pagerduty["payload"]["severity"] == "critical"
    assert description in pagerduty["payload"]["custom_details"]["alerts"]
    assert pagerduty["links"] == [{"href": RUNBOOK, "text": "Runbook"}]

    (mail,) = receivers.mails
    assert "To: privacy-oncall@example.com" in mail
    assert "Subject: [FIRING:1] AuditorViolationsHigh natterbox.recordings-location" in mail

    (security,) = receivers.at("/webhook/security-page")
    assert security.headers["Authorization"] == "Bearer s3cret-token"  # from its file
    (alert,) = security.body["alerts"]
    assert alert["labels"]["team"] == "security"
    assert alert["annotations"] == notes
