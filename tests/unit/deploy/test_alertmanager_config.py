"""alertmanager/values.yaml → alertmanager.yml: current, valid for amtool, every team routed."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.unit.ops.test_alerts_rules import alert_rules, require_binary, run

ROOT = Path(__file__).resolve().parents[3]
ALERTMANAGER = ROOT / "alertmanager"
EXAMPLES = ALERTMANAGER / "examples"
CHANNEL_TYPES = ("webhook", "email", "slack", "pagerduty")


def _generator() -> ModuleType:
    """alertmanager/generate.py (a script beside the config, not an installed module)."""
    spec = importlib.util.spec_from_file_location("alertmanager_generate",
                                                  ALERTMANAGER / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


GENERATE = _generator()


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def pack_teams() -> set[str]:
    """Every `team` a rule of a shipped policy pack names."""
    teams = set()
    for path in sorted((ROOT / "policies").rglob("*.yaml")):
        if path.name.endswith(".tests.yaml"):
            continue
        for rule in (load(path) or {}).get("rules") or []:
            if isinstance(rule, dict) and rule.get("team"):
                teams.add(rule["team"])
    return teams


def test_the_committed_config_is_the_generators_output_of_the_values() -> None:
    rendered = GENERATE.dump(GENERATE.render(GENERATE.load_values(GENERATE.VALUES)))
    assert (ALERTMANAGER / "alertmanager.yml").read_text(encoding="utf-8") == rendered, (
        "alertmanager/alertmanager.yml is stale: run .venv/bin/python alertmanager/generate.py")


def test_check_reports_a_stale_config(tmp_path: Path) -> None:
    copy = tmp_path / "alertmanager.yml"
    shutil.copy(ALERTMANAGER / "alertmanager.yml", copy)
    script = [sys.executable, str(ALERTMANAGER / "generate.py"), "--check", "--output", str(copy)]
    assert subprocess.run(script, capture_output=True, check=False).returncode == 0
    copy.write_text(copy.read_text().replace("group_wait: 30s", "group_wait: 1s"))
    stale = subprocess.run(script, capture_output=True, text=True, check=False)
    assert stale.returncode == 1
    assert "out of date" in stale.stderr


def test_every_team_a_pack_or_a_rule_names_has_its_own_route() -> None:
    teams = set(GENERATE.load_values(GENERATE.VALUES)["teams"])
    named = pack_teams()
    assert "ai" in named, named  # the packs are read (Natterbox's AI rules)
    assert named <= teams, f"add {sorted(named - teams)} to alertmanager/values.yaml"
    static = {r["labels"]["team"] for r in alert_rules() if "team" in r.get("labels", {})}
    assert static <= teams


@pytest.mark.parametrize("team", sorted(pack_teams() | {"platform"}))
def test_amtool_routes_each_team_to_its_page_and_ticket_receivers(team: str) -> None:
    amtool = require_binary("amtool")
    config = f"--config.file={ALERTMANAGER / 'alertmanager.yml'}"
    for severity, tier in (("critical", "page"), ("high", "page"), ("medium", "tickets"),
                           ("low", "tickets")):
        # One receiver per alert: the pushed and the Prometheus alert of a rule alike.
        for alertname in ("AuditorPolicyViolation", "AuditorViolationsHigh"):
            result = run(amtool, "config", "routes", "test", config,
                         f"--verify.receivers={team}-{tier}", f"team={team}",
                         f"severity={severity}", f"alertname={alertname}",
                         "incident=policy-violation", "rule=r1", "policy=p")
            assert result.returncode == 0, result.stdout + result.stderr


def test_an_alert_of_an_unknown_team_reaches_the_unrouted_receiver() -> None:
    amtool = require_binary("amtool")
    result = run(amtool, "config", "routes", "test",
                 f"--config.file={ALERTMANAGER / 'alertmanager.yml'}",
                 "--verify.receivers=auditor-unrouted", "team=finance", "severity=critical")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_with_every_channel_type_passes_amtool(tmp_path: Path) -> None:
    amtool = require_binary("amtool")
    values = GENERATE.load_values(EXAMPLES / "values-all-channels.yaml")
    config = GENERATE.render(values)
    kinds = {key.removesuffix("_configs") for receiver in config["receivers"]
             for key in receiver if key.endswith("_configs")}
    assert kinds == set(CHANNEL_TYPES)
    assert set(values["teams"]) == set(GENERATE.load_values(GENERATE.VALUES)["teams"])
    path = tmp_path / "alertmanager.yml"
    path.write_text(GENERATE.dump(config))
    result = run(amtool, "check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 receivers" in result.stdout


def test_the_example_secrets_come_from_environment_variables_through_compose() -> None:
    from tests.unit.deploy.test_compose import _schema_errors

    override = load(EXAMPLES / "compose.receivers.yml")
    assert _schema_errors(override) == []
    secrets = override["secrets"]
    assert all(set(s) == {"environment"} for s in secrets.values())
    assert set(override["services"]["alertmanager"]["secrets"]) == set(secrets)
    text = (EXAMPLES / "values-all-channels.yaml").read_text(encoding="utf-8")
    files = set(re.findall(r"/run/secrets/([\w-]+)", text))
    assert files == set(secrets), "every secret file the values name, and no other"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"teams": {"p": {"page": [{"slack": {"channel": "#x", "api_url": "https://h"}}]}}},
         r"teams.p.page\[0\].slack.api_url: secrets are not written in the values; .* "
         "api_url_file"),
        ({"teams": {"p": {"page": [{"pagerduty": {"routing_key": "k"}}]}}},
         "routing_key_file"),
        ({"teams": {"p": {"page": [{"pager": {}}]}}}, "unknown channel type 'pager'"),
        ({"teams": {"p": {"tickets": [{"email": {"to": "a@b"}}]}}}, "email.smarthost"),
        ({"teams": {"p": {"page": [{"webhook": {}}]}}}, r"webhook: url is required"),
        ({"teams": {"p": {"pages": []}}}, "only page and tickets"),
        ({"teams": {"p": {}}, "email": {"auth_password": "x"}}, "auth_password_file"),
        ({"teams": {}}, "list every team"),
        ({"teams": {"p": {}}, "reciever": []}, "unknown top-level key"),
    ],
)
def test_a_wrong_value_is_refused_with_where_and_what(values: dict[str, Any], message: str
                                                      ) -> None:
    with pytest.raises(GENERATE.ValuesError, match=message):
        GENERATE.render(values)
