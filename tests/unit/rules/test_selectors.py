"""Selectors `moves` and `tenant_settings_set`, and a retention limit that only a tenant sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.engine import Engine
from auditor.policy import PolicyError, load_policy
from tests.unit.helpers import decide, explain

PACK = """apiVersion: auditor/v1
id: t
company: {id: me, country: DE}
data_classes: {d: {}}
purposes: {service_delivery: {}}
tenant_settings:
  keep_days: {type: int}
  tier: {type: string, default: basic}
rules:
  - id: t.in-transit
    kind: encryption
    description: d
    severity: high
    effect: deny
    citation: c
    when: {moves: true}
    params: {in_transit_min: tls1.2}
  - id: t.keep
    kind: retention
    description: d
    severity: high
    effect: deny
    citation: c
    when: {operations: [store], tenant_settings_set: [keep_days]}
    params: {tenant_setting: keep_days}
  - id: t.tiered
    kind: purpose
    description: d
    severity: low
    effect: warn
    citation: c
    when: {operations: [access], tenant_settings_set: [tier]}
    params: {allowed: []}
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path = tmp_path_factory.mktemp("pack") / "p.yaml"
    path.write_text(PACK)
    return Engine(load_policy(path))


def _event(operation: str, origin: str, destination: str, **rest: Any) -> dict[str, Any]:
    return {
        "event_id": "e", "event_time": "2026-03-02T09:00:00Z", "data_class": "d",
        "operation": operation, "origin": {"location": origin},
        "destination": {"location": destination}, "encryption": {"in_transit": "none"}, **rest,
    }


@pytest.mark.parametrize(
    ("operation", "origin", "destination", "moves"),
    [
        ("transfer", "aws:eu-central-1", "aws:eu-west-1", True),
        ("transfer", "aws:eu-central-1", "aws:eu-central-1", True),  # a transfer always moves
        ("store", "aws:eu-central-1", "aws:eu-west-1", True),
        ("process", "country:DE", "aws:eu-central-1", True),  # same country, two places
        ("access", "aws:eu-central-1", "country:US", True),
        ("store", "aws:eu-central-1", "aws:eu-central-1", False),
        ("process", "aws:eu-central-1", "aws:eu-central-1", False),
        ("access", "country:DE", "country:DE", False),
        ("delete", "aws:eu-central-1", "aws:eu-west-1", False),  # names the store concerned
        ("anonymize", "aws:eu-central-1", "aws:eu-west-1", False),
    ],
)
def test_moves_is_a_transfer_or_a_change_of_place(
    engine: Engine, operation: str, origin: str, destination: str, moves: bool
) -> None:
    decision = decide(engine, _event(operation, origin, destination))
    fired = {f.rule for f in decision.findings}
    assert ("t.in-transit" in fired) is moves


def test_explain_says_why_moves_did_not_match(engine: Engine) -> None:
    lines = "\n".join(explain(engine, _event("store", "aws:eu-central-1", "aws:eu-central-1")))
    assert "when: store does not move data between two places" in lines


@pytest.mark.parametrize(
    ("settings", "retention", "verdict"),
    [
        (None, None, "allow"),  # no value for keep_days: the rule does not apply
        ({"keep_days": 30}, 31, "violation"),
        ({"keep_days": 30}, 30, "allow"),
        ({"keep_days": 30}, None, "violation"),  # indefinitely, against the tenant's 30
    ],
)
def test_tenant_settings_set_selects_only_tenants_with_a_value(
    engine: Engine, settings: dict[str, Any] | None, retention: int | None, verdict: str
) -> None:
    tenant: dict[str, Any] = {"id": "acme"}
    if settings is not None:
        tenant["settings"] = settings
    event = _event("store", "aws:eu-central-1", "aws:eu-central-1", tenant=tenant,
                   retention_days=retention)
    assert decide(engine, event).verdict == verdict


def test_a_default_counts_as_a_value(engine: Engine) -> None:
    decision = decide(engine, _event("access", "country:DE", "country:DE", tenant={"id": "a"}))
    assert [(f.rule, f.effect) for f in decision.findings] == [("t.tiered", "warn")]


def test_retention_without_max_days_has_no_limit_until_the_setting_is_set(tmp_path: Path) -> None:
    # The same rule without tenant_settings_set: the check alone passes a tenant with none.
    path = tmp_path / "p.yaml"
    path.write_text(PACK.replace("when: {operations: [store], tenant_settings_set: [keep_days]}",
                                 "when: {operations: [store]}"))
    engine = Engine(load_policy(path))
    event = _event("store", "aws:eu-central-1", "aws:eu-central-1", retention_days=None)
    lines = "\n".join(explain(engine, event))
    assert "no limit: tenant setting keep_days not set" in lines
    assert decide(engine, event).verdict == "allow"


def test_unknown_settings_and_missing_limits_are_located_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        PACK.replace("tenant_settings_set: [keep_days]", "tenant_settings_set: [keep_dayz]")
        .replace("params: {tenant_setting: keep_days}", "params: {unstated: allow}")
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    text = "\n".join(str(issue) for issue in info.value.issues)
    assert "p.yaml:" in text
    assert "keep_dayz" in text
    assert "tenant_settings_set[0]" in text
    assert "max_days" in text
