"""The engine's side of Chapter V: onward regimes, the exporter's own staff, and no
transfer without a lawful basis is ever allowed unless a named exception covers it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.engine import Decision, Engine
from auditor.policy import load_policy
from tests.unit.helpers import decide

HEAD = """apiVersion: auditor/v1
id: cv
company: {id: me, country: DE}
data_classes: {personal_data: {}}
purposes: {service_delivery: {}}
processors:
  plain: {country: US}
  partner: {country: SG}
home_regions:
  EU: {locations: ["country:DE", "country:FR"]}
  APAC: {locations: ["country:SG"]}
"""


def engine(tmp: Path, rules: str = "", extra: str = "") -> Engine:
    path = tmp / "cv.yaml"
    path.write_text(HEAD + extra + (f"rules:\n{rules}" if rules else ""))
    return Engine(load_policy(path))


def hop(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": "h-1", "event_time": "2026-03-02T09:00:00Z", "data_class": "personal_data",
        "operation": "transfer", "origin": {"location": "country:SG"},
        "destination": {"location": "country:US"}, "processor": "plain",
    }
    base.update(changes)
    return base


def mechanism(d: Decision) -> tuple[str, str] | None:
    return (d.transfer.regime, d.transfer.mechanism) if d.transfer is not None else None


def test_an_onward_hop_keeps_the_regime_its_origin_states(tmp_path: Path) -> None:
    e = engine(tmp_path)
    assert mechanism(decide(e, hop())) == ("none", "unrestricted")
    onward = decide(e, hop(origin={"location": "country:SG", "regime": "eu_gdpr"}))
    assert mechanism(onward) == ("eu_gdpr", "none")
    assert onward.verdict == "violation"
    back_home = decide(e, hop(origin={"location": "country:SG", "regime": "eu_gdpr"},
                              destination={"location": "country:FR"}))
    assert mechanism(back_home) == ("eu_gdpr", "intra_eea")


def test_a_pack_may_take_the_regime_from_the_tenants_home_region(tmp_path: Path) -> None:
    e = engine(tmp_path, extra="transfers: {onward_regime: home_region}\n")
    eu_tenant = decide(e, hop(tenant={"id": "t", "home_region": "EU"}))
    assert mechanism(eu_tenant) == ("eu_gdpr", "none")
    apac_tenant = decide(e, hop(tenant={"id": "t", "home_region": "APAC"}))
    assert mechanism(apac_tenant) == ("none", "unrestricted")
    # Without the option the home region says nothing about the regime.
    (tmp_path / "plain").mkdir()
    plain = engine(tmp_path / "plain")
    assert mechanism(decide(plain, hop(tenant={"id": "t", "home_region": "EU"}))) == (
        "none", "unrestricted")


def test_the_exporters_own_staff_abroad_are_no_importer(tmp_path: Path) -> None:
    e = engine(tmp_path)
    staff = decide(e, hop(operation="access", origin={"location": "country:DE"},
                          processor="me"))
    assert mechanism(staff) == ("none", "unrestricted")
    assert staff.transfer is not None
    assert "own staff" in (staff.transfer.instrument or "")
    assert staff.verdict == "allow"
    # A third party reading the same data from the same place is an importer.
    partner = decide(e, hop(operation="access", origin={"location": "country:DE"},
                            processor="plain"))
    assert mechanism(partner) == ("eu_gdpr", "none")
    # Staff reading from inside the EEA: reported as the intra-EEA hop it is.
    inside = decide(e, hop(operation="access", origin={"location": "country:DE"},
                           destination={"location": "country:FR"}, processor="me"))
    assert mechanism(inside) == ("eu_gdpr", "intra_eea")


@pytest.mark.parametrize("rules", [
    # The pack's only transfer rule is a warning: Chapter V still denies.
    "  - {id: r.t, kind: transfer, description: d, severity: high, effect: warn, citation: c}\n",
    # ...or a dry run.
    "  - {id: r.t, kind: transfer, description: d, severity: high, effect: dryrun, citation: c}\n",
    # ...or it selects another processor only.
    "  - {id: r.t, kind: transfer, description: d, severity: high, effect: deny, citation: c,\n"
    "     when: {processors: [partner]}}\n",
])
def test_no_lawful_basis_is_never_allowed(tmp_path: Path, rules: str) -> None:
    d = decide(engine(tmp_path, rules), hop(origin={"location": "country:DE"}))
    assert mechanism(d) == ("eu_gdpr", "none")
    assert d.verdict == "violation"
    assert ("auditor.chapter-v", "transfer", "deny") in {
        (f.rule, f.kind, f.effect) for f in d.findings}


def test_a_named_exception_of_a_transfer_rule_is_listed_when_it_allows(tmp_path: Path) -> None:
    rules = ("  - {id: r.t, kind: transfer, description: d, severity: high, effect: deny, "
             "citation: c}\n")
    exceptions = ("exceptions:\n  - {id: X-1, rule: r.t, justification: j, approver: a, "
                  "expires: '2027-01-01'}\n")
    d = decide(engine(tmp_path, rules, exceptions), hop(origin={"location": "country:DE"}))
    assert mechanism(d) == ("eu_gdpr", "none")
    assert d.verdict == "allow"
    assert [e.id for e in d.outcome.exceptions] == ["X-1"]
