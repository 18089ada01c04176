"""The engine on hand-written policies: each rule kind, selectors, exceptions, caching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.engine import Engine
from auditor.policy import load_policy
from tests.unit.helpers import decide, event, explain

POLICY = """
apiVersion: auditor/v1
id: unit
company: {id: self, country: GB}
sites: {dc-london: {country: GB}}
zones:
  uk-dc: {description: UK data centres, locations: ["site:dc-london", "aws:eu-west-2"]}
home_regions:
  EUR1: {locations: ["aws:eu-central-1"]}
data_classes:
  recording: {}
  staff: {hr: true}
  report: {personal: false}
processors:
  vendor: {country: US, safeguards: {dpf: {uk_extension: true}}}
  eu-owned: {country: DE}
  us-owned-eu: {country: IE, parent_country: US}
purposes: {service_delivery: {}, advertising: {}, support: {}}
tenant_settings:
  opt_out: {type: bool, default: false}
  keep_days: {type: int}
  integrations: {type: list}
rules:
  - id: r.residency
    kind: residency
    description: store in the UK data centres or the home region
    severity: high
    effect: deny
    citation: "stored in the UK or your home region"
    when: {operations: [store]}
    params: {allowed: ["zone:uk-dc", home_region]}
  - id: r.no-ads
    kind: purpose
    description: never advertising
    severity: critical
    effect: deny
    citation: "we never share with advertisers"
    params: {denied: [advertising]}
  - id: r.support-permission
    kind: purpose
    description: support only with permission
    severity: medium
    effect: warn
    citation: "support only with permission"
    when: {purposes: [support]}
    unless: {tenant_settings: {opt_out: false}}
    params: {allowed: []}
  - id: r.tls
    kind: encryption
    description: TLS 1.3
    severity: medium
    effect: deny
    citation: "TLS 1.3 in transit"
    when: {operations: [transfer]}
    params: {in_transit_min: tls1.3}
  - id: r.retention
    kind: retention
    description: 30 days unless the tenant says otherwise
    severity: low
    effect: dryrun
    citation: "kept 30 days"
    when: {data_classes: [recording]}
    params: {max_days: 30, tenant_setting: keep_days}
  - id: r.eu-owned
    kind: sovereignty
    description: EU-owned processors only
    severity: high
    effect: deny
    citation: "only EU-owned"
    when: {processors: [eu-owned, us-owned-eu]}
    params: {allowed_parent_countries: [EEA]}
  - id: r.special
    kind: special_category
    description: anonymise Art. 9 data
    severity: critical
    effect: deny
    citation: "anonymised immediately"
    params: {}
exceptions:
  - id: X-1
    rule: r.residency
    when: {tenants: [migrating]}
    justification: migration
    approver: dpo
    expires: "2026-06-01"
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path = tmp_path_factory.mktemp("p") / "unit.yaml"
    path.write_text(POLICY)
    return Engine(load_policy(path))


def ev(**changes: Any) -> dict[str, Any]:
    base = event(
        data_class="recording",
        operation="store",
        processor="self",
        origin={"location": "aws:eu-west-2"},
        destination={"location": "site:dc-london"},
        tenant={"id": "acme", "home_region": "EUR1"},
        retention_days=10,
    )
    base.update(changes)
    return base


def kinds(engine: Engine, **changes: Any) -> list[tuple[str, str]]:
    return [(f.rule, f.effect) for f in decide(engine, ev(**changes)).findings]


def test_lawful_store_is_allowed(engine: Engine) -> None:
    d = decide(engine, ev())
    assert (d.verdict, d.findings, d.transfer) == ("allow", (), None)


def test_residency_allows_zone_and_home_region_only(engine: Engine) -> None:
    assert kinds(engine, destination={"location": "aws:eu-central-1"}) == []
    d = decide(engine, ev(destination={"location": "aws:ap-southeast-1"}, processor="vendor"))
    assert d.verdict == "violation"
    assert d.findings[0].rule == "r.residency"
    assert d.findings[0].message == (
        "recording stored in aws:ap-southeast-1 (SG); allowed: UK data centres, home region EUR1"
    )


def test_purpose_denied_and_allowed_lists(engine: Engine) -> None:
    assert kinds(engine, purpose="advertising") == [("r.no-ads", "deny")]
    assert kinds(engine, purpose="support") == []
    opted = {"id": "acme", "home_region": "EUR1", "settings": {"opt_out": True}}
    assert kinds(engine, purpose="support", tenant=opted) == [("r.support-permission", "warn")]
    assert decide(engine, ev(purpose="support", tenant=opted)).verdict == "allow"


def test_encryption_minimum_and_unstated(engine: Engine) -> None:
    t = {"operation": "transfer", "destination": {"location": "site:dc-london"}}
    assert kinds(engine, encryption={"in_transit": "tls1.3"}, **t) == []
    assert kinds(engine, encryption={"in_transit": "ipsec"}, **t) == []
    assert kinds(engine, encryption={"in_transit": "tls1.2"}, **t) == [("r.tls", "deny")]
    assert kinds(engine, encryption={}, **t) == [("r.tls", "deny")]


def test_retention_with_tenant_override_and_dryrun(engine: Engine) -> None:
    assert kinds(engine, retention_days=31) == [("r.retention", "dryrun")]
    assert decide(engine, ev(retention_days=31)).verdict == "allow"  # dry-run never violates
    tenant = {"id": "acme", "home_region": "EUR1", "settings": {"keep_days": 90}}
    assert kinds(engine, retention_days=90, tenant=tenant) == []
    assert kinds(engine, retention_days=None) == [("r.retention", "dryrun")]
    unstated = ev()
    del unstated["retention_days"]
    assert [f.rule for f in decide(engine, unstated).findings] == ["r.retention"]


def test_sovereignty_uses_parent_country(engine: Engine) -> None:
    assert kinds(engine, processor="eu-owned", destination={"location": "aws:eu-west-2"}) == []
    found = kinds(engine, processor="us-owned-eu", destination={"location": "aws:eu-west-2"})
    assert found == [("r.eu-owned", "deny")]


def test_special_categories_must_be_anonymised(engine: Engine) -> None:
    assert kinds(engine, special_categories=["health"]) == [("r.special", "deny")]
    assert kinds(engine, special_categories=["health"], anonymized=True) == []


def test_exception_waives_until_it_expires_by_event_time(engine: Engine) -> None:
    moved = {
        "destination": {"location": "aws:us-east-1"},
        "processor": "vendor",
        "tenant": {"id": "migrating"},
    }
    before = decide(engine, ev(event_time="2026-05-31T23:59:59Z", **moved))
    after = decide(engine, ev(event_time="2026-06-01T00:00:00Z", **moved))
    assert before.verdict == "allow"
    assert [e.id for e in before.outcome.exceptions] == ["X-1"]
    assert after.verdict == "violation"
    assert [f.rule for f in after.findings] == ["r.residency"]


def test_unknown_references_fail_closed(engine: Engine) -> None:
    d = decide(engine,
        ev(
            data_class="nope",
            processor="ghost",
            purpose="fun",
            destination={"location": "aws:eu-west-10"},
            tenant={"id": "t", "home_region": "MARS1", "settings": {"opt_out": "yes"}},
        )
    )
    assert d.verdict == "violation"
    assert {f.kind for f in d.findings} == {"unknown_reference"}
    text = " | ".join(f.message for f in d.findings)
    for name in ("nope", "ghost", "fun", "aws:eu-west-10", "MARS1", "opt_out"):
        assert name in text


def test_policy_without_transfer_rule_still_judges_chapter_v(engine: Engine) -> None:
    d = decide(engine,
        ev(
            operation="transfer",
            processor="eu-owned",
            destination={"location": "country:IN"},
            encryption={"in_transit": "tls1.3"},
        )
    )
    assert d.transfer is not None
    assert d.transfer.mechanism == "none"
    assert [(f.rule, f.kind) for f in d.findings] == [("auditor.chapter-v", "transfer")]


def test_non_personal_data_is_not_restricted(engine: Engine) -> None:
    d = decide(engine,
        ev(
            data_class="report",
            operation="transfer",
            destination={"location": "country:IN"},
            processor="eu-owned",
            encryption={"in_transit": "tls1.3"},
        )
    )
    assert d.transfer is not None
    assert (d.transfer.regime, d.transfer.mechanism) == ("none", "unrestricted")
    assert d.verdict == "allow"


def test_equal_flows_share_one_outcome_and_cache_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY + "limits: {max_decision_cache: 4}\n")
    small = Engine(load_policy(path))
    a = decide(small, ev(event_id="a"))
    b = decide(small, ev(event_id="b"))
    assert a.outcome is b.outcome
    assert a.event_id != b.event_id
    for days in range(20):
        decide(small, ev(retention_days=days))
    assert len(small._cache) <= 4


def test_decision_carries_policy_id_and_content_hash(engine: Engine, tmp_path: Path) -> None:
    d = decide(engine, ev()).plain()
    assert d["policy"]["id"] == "unit"
    assert d["policy"]["version"] == engine.version
    changed = tmp_path / "changed.yaml"
    changed.write_text(POLICY.replace("kept 30 days", "kept thirty days"))
    assert Engine(load_policy(changed)).version != engine.version


def test_explain_names_each_rule_and_why(engine: Engine) -> None:
    lines = explain(engine,
        ev(
            destination={"location": "aws:ap-southeast-1"},
            processor="vendor",
            purpose="advertising",
        )
    )
    text = "\n".join(lines)
    assert "DENY  r.residency [residency]" in text
    assert "DENY  r.no-ads [purpose]" in text
    assert "skip  r.tls [encryption]: when: operation store not in ['transfer']" in text
    assert "pass  r.special" in text
    assert "cites: we never share with advertisers" in text


_EXTRA_EXCEPTIONS = """
  - id: X-2
    rule: r.no-ads
    justification: j
    approver: a
    expires: "2027-01-01"
  - id: X-3
    rule: r.special
    when: {data_classes: [recording]}
    justification: j
    approver: a
    starts: "2026-01-01"
    expires: "2026-12-31T12:00:00+02:00"
"""


@pytest.fixture(scope="module")
def waived(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path = tmp_path_factory.mktemp("w") / "waived.yaml"
    path.write_text(POLICY + _EXTRA_EXCEPTIONS)
    return Engine(load_policy(path))


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data_class=st.sampled_from(["recording", "staff", "report"]),
    purpose=st.sampled_from(["service_delivery", "advertising", "support"]),
    dest=st.sampled_from(["site:dc-london", "aws:us-east-1", "country:IN", "aws:eu-central-1"]),
    special=st.sampled_from([[], ["health"]]),
    when=st.sampled_from(["2025-06-01T00:00:00Z", "2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z"]),
    tenant=st.sampled_from(["acme", "migrating"]),
)
def test_adding_exceptions_never_adds_findings(
    engine: Engine,
    waived: Engine,
    data_class: str,
    purpose: str,
    dest: str,
    special: list[str],
    when: str,
    tenant: str,
) -> None:
    e = ev(
        data_class=data_class,
        purpose=purpose,
        destination={"location": dest},
        special_categories=special,
        event_time=when,
        tenant={"id": tenant},
    )
    plain = {(f.rule, f.effect) for f in decide(engine, e).findings}
    less = {(f.rule, f.effect) for f in decide(waived, e).findings}
    assert less <= plain
