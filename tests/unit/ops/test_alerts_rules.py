"""Alert rules and Alertmanager routing, checked with the real promtool and amtool."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from auditor.policy.model import SEVERITIES
from auditor.stream.settings import DEFAULT_DOCS_BASE_URL

ROOT = Path(__file__).resolve().parents[3]
PROMETHEUS = ROOT / "prometheus"
RULES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
ALERTMANAGER = ROOT / "alertmanager" / "alertmanager.yml"
TEAMS = {"privacy", "platform", "security"}
# Alerts the workers push themselves (auditor/ops): they obey the same conventions.
PUSHED = {"AuditorPolicyViolation", "AuditorPolicyLoadFailure"}


def require_binary(name: str) -> str:
    """The path of ``name``; skip the test if it is missing, but fail in CI (CI=true)."""
    path = shutil.which(name)
    if path is not None:
        return path
    why = (f"{name} is not installed (Debian: apt-get install prometheus "
           "prometheus-alertmanager; .ci/run installs them)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {why}")
    pytest.skip(why)


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    return [rule for path in RULES for group in load(path)["groups"] for rule in group["rules"]
            if "alert" in rule]


def test_rule_files_pass_promtool_check_rules() -> None:
    promtool = require_binary("promtool")
    assert RULES, "prometheus/rules/*.yml"
    result = run(promtool, "check", "rules", *map(str, RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_pass_their_promtool_unit_tests() -> None:
    promtool = require_binary("promtool")
    assert RULE_TESTS, "prometheus/tests/*.yml"
    result = subprocess.run([promtool, "test", "rules", *[p.name for p in RULE_TESTS]],
                            cwd=PROMETHEUS / "tests", capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_rule_is_unit_tested() -> None:
    tested = {
        case["alertname"]
        for path in RULE_TESTS
        for test in load(path)["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in alert_rules()} <= tested


def test_prometheus_config_is_valid() -> None:
    promtool = require_binary("promtool")
    result = run(promtool, "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_severity_team_incident_and_its_runbook() -> None:
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "alert names are unique"
    for rule in rules:
        labels, notes = rule.get("labels", {}), rule.get("annotations", {})
        assert labels.get("severity") in SEVERITIES, rule["alert"]
        # A fixed team, or the rule's own from the series (violations: the pack's team).
        assert labels.get("team") in TEAMS or team_from_series(rule), rule["alert"]
        assert labels.get("incident"), rule["alert"]
        assert {"summary", "description", "runbook_url"} <= set(notes), rule["alert"]
        assert runbook_file(notes["runbook_url"]).is_file(), notes["runbook_url"]
    covered = " ".join(names)
    for topic in ("Violations", "DeadLetters", "WorkerDown", "WorkerStalled", "ConsumerLag",
                  "LegalTablesStale", "NoPolicyLoaded"):
        assert topic in covered


def team_from_series(rule: dict[str, Any]) -> bool:
    """True if the rule keeps the `team` label of auditor_findings_total (no fixed team)."""
    return ("team" not in rule.get("labels", {})
            and "auditor_findings_total" in rule["expr"]
            and re.search(r"\bby \([^)]*\bteam\b", rule["expr"]) is not None)


def test_rules_only_use_metrics_the_worker_exports() -> None:
    from tests.unit.ops.test_metrics import EXPORTED

    known = set(EXPORTED) | {f"{n}_{s}" for n, (kind, _) in EXPORTED.items()
                             if kind == "histogram" for s in ("bucket", "sum", "count")}
    for rule in alert_rules():
        for name in re.findall(r"\b(auditor_[a-z_]+)", rule["expr"]):
            assert name in known, (rule["alert"], name)


def runbook_file(url: str) -> Path:
    """The file under docs/ an absolute runbook URL of the rules names.

    The rules carry the default of the workers' AUDITOR_DOCS_BASE_URL, so that pushed and
    Prometheus alerts link to the same pages.
    """
    assert url.startswith(DEFAULT_DOCS_BASE_URL), url
    return ROOT / "docs" / url.removeprefix(DEFAULT_DOCS_BASE_URL)


def test_pushed_alert_runbooks_exist() -> None:
    from auditor.ops.incidents import RUNBOOK as VIOLATION
    from auditor.ops.links import Links
    from auditor.ops.policy_alert import RUNBOOK as POLICY

    links = Links(DEFAULT_DOCS_BASE_URL)
    assert runbook_file(links.runbook(VIOLATION)).is_file()
    assert runbook_file(links.runbook(POLICY)).is_file()


def test_alertmanager_config_passes_amtool() -> None:
    amtool = require_binary("amtool")
    result = run(amtool, "check-config", str(ALERTMANAGER))
    assert result.returncode == 0, result.stdout + result.stderr


ROUTES = [
    # (alert labels, receiver): by team, then pages for critical and high.
    ({"team": "privacy", "severity": "critical", "alertname": "AuditorPolicyViolation"},
     "privacy-page"),
    ({"team": "privacy", "severity": "high", "alertname": "AuditorViolationsHigh"},
     "privacy-page"),
    ({"team": "privacy", "severity": "medium", "alertname": "AuditorLegalTablesStale"},
     "privacy-tickets"),
    ({"team": "privacy", "severity": "low", "alertname": "AuditorViolationsLow"},
     "privacy-tickets"),
    ({"team": "security", "severity": "high", "alertname": "AuditorPolicyViolation"},
     "security-page"),
    ({"team": "ai", "severity": "critical", "alertname": "AuditorViolationsCritical"},
     "ai-page"),
    ({"team": "security", "severity": "medium", "alertname": "AuditorPolicyViolation"},
     "security-tickets"),
    ({"team": "platform", "severity": "critical", "alertname": "AuditorWorkerDown"},
     "platform-page"),
    ({"team": "platform", "severity": "medium", "alertname": "AuditorConsumerLagHigh"},
     "platform-tickets"),
    ({"team": "unknown", "severity": "critical"}, "auditor-unrouted"),
    ({"severity": "high"}, "auditor-unrouted"),
]


@pytest.mark.parametrize(("labels", "receiver"), ROUTES,
                         ids=[f"{lb.get('team')}-{lb.get('severity')}" for lb, _ in ROUTES])
def test_alertmanager_routes_by_team_and_severity(labels: dict[str, str], receiver: str) -> None:
    amtool = require_binary("amtool")
    result = run(amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER}",
                 f"--verify.receivers={receiver}", *[f"{k}={v}" for k, v in labels.items()])
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_groups_by_incident_and_inhibits_lower_severities() -> None:
    config = load(ALERTMANAGER)
    assert config["route"]["group_by"] == ["incident", "policy", "rule"]
    inhibits = {
        (tuple(r["source_matchers"]), tuple(r["target_matchers"])): r["equal"]
        for r in config["inhibit_rules"]
    }
    assert inhibits == {
        (('severity="critical"',), ('severity=~"high|medium|low"',)): ["incident", "rule",
                                                                        "instance"],
        (('severity="high"',), ('severity=~"medium|low"',)): ["incident", "rule", "instance"],
        (('severity="medium"',), ('severity="low"',)): ["incident", "rule", "instance"],
    }
    # Every alert a rule or a worker raises reaches a team's receiver (the packs' teams:
    # tests/unit/deploy/test_alertmanager_config.py).
    teams = {rule["labels"]["team"] for rule in alert_rules() if "team" in rule["labels"]}
    teams |= {"privacy"}
    routed = {m.split('"')[1] for route in config["route"]["routes"]
              for m in route["matchers"]}
    assert teams <= routed
    assert PUSHED  # pushed alerts: labels checked in tests/unit/ops/test_alerts.py
