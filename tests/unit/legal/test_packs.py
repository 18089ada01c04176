"""Chapter V facts in policy packs: SCC versions, sectoral scopes, the US lists, onward
regimes; the engine's legal epochs across their dates; no `none` transfer is ever allowed
without a named exception."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from auditor.engine import Decider, Decision, Engine, decide_all
from auditor.legal import load_tables
from auditor.policy import PolicyError, load_policy
from auditor.policy.model import Policy
from auditor.suites.runner import discover, run_suite
from tests.lines import raw_lines
from tests.unit.helpers import EXAMPLE_POLICY, ROOT

HEAD = """apiVersion: auditor/v1
id: t
company: {id: me, country: DE}
data_classes: {personal_data: {}}
purposes: {service_delivery: {}}
"""


def load(tmp: Path, text: str) -> Policy:
    path = tmp / "p.yaml"
    path.write_text(HEAD + text)
    return load_policy(path)


def errors(tmp: Path, text: str) -> str:
    with pytest.raises(PolicyError) as info:
        load(tmp, text)
    return str(info.value)


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --- processor facts -------------------------------------------------------------------------
def test_a_bare_scc_means_the_2021_914_clauses(tmp_path: Path) -> None:
    p = load(tmp_path, "processors:\n  x: {country: IN, safeguards: {scc: true}}\n")
    scc = p.processors["x"].scc
    assert scc is not None
    assert [s.version for s in scc.sets] == ["2021/914"]
    p = load(
        tmp_path, "processors:\n  x: {country: IN, safeguards: {scc: {since: '2021-09-27'}}}\n"
    )
    scc = p.processors["x"].scc
    assert scc is not None
    assert (scc.sets[0].version, scc.sets[0].signed) == ("2021/914", ts("2021-09-27T00:00:00Z"))


def test_scc_since_2019_without_a_version_is_refused_not_read_as_2021_914(tmp_path: Path) -> None:
    text = errors(
        tmp_path, "processors:\n  x: {country: IN, safeguards: {scc: {since: '2019-01-01'}}}\n"
    )
    assert "processors.x.safeguards.scc.since" in text
    assert "the 2021/914 clauses could not be signed before 2021-06-27" in text
    assert "add version: 2010/87/EU" in text


def test_old_sccs_need_the_day_the_contract_was_concluded(tmp_path: Path) -> None:
    text = errors(
        tmp_path, "processors:\n  x: {country: IN, safeguards: {scc: {version: 2010/87/EU}}}\n"
    )
    assert "give signed: YYYY-MM-DD" in text
    text = errors(
        tmp_path,
        "processors:\n  x: {country: IN, safeguards: {scc: [{version: '2021/914'}, "
        "{version: 2010/87/EU, signed: '2009-01-01'}]}}\n",
    )
    assert "processors.x.safeguards.scc[1].signed" in text
    assert "the 2010/87/EU clauses could not be signed before 2010-05-15" in text


def test_an_unknown_scc_version_is_located(tmp_path: Path) -> None:
    text = errors(
        tmp_path,
        "processors:\n  x: {country: IN, safeguards:\n"
        "    {scc: {version: 2010/87/EC, signed: '2019-01-01'}}}\n",
    )
    assert "is not allowed; use one of: 2021/914, 2010/87/EU" in text


def test_sectoral_scopes_and_organisations_are_checked(tmp_path: Path) -> None:
    p = load(tmp_path, "processors:\n  c: {country: CA, adequacy_scopes: [ca_pipeda]}\n")
    assert p.processors["c"].adequacy_scopes == frozenset({"ca_pipeda"})
    assert "is not allowed" in errors(
        tmp_path, "processors:\n  c: {country: CA, adequacy_scopes: [pipeda]}\n"
    )
    assert "is not allowed" in errors(
        tmp_path, "processors:\n  c: {country: CH, international_organisation: WHO}\n"
    )


def test_us_lists_hold_only_us_organisations(tmp_path: Path) -> None:
    text = errors(tmp_path, "processors:\n  x: {country: IE, safeguards: {safe_harbour: true}}\n")
    assert "processors.x.safeguards.safe_harbour" in text
    assert "the Safe Harbour list only holds US organisations" in text


def test_a_processor_until_is_the_last_day_covered(tmp_path: Path) -> None:
    p = load(
        tmp_path,
        "processors:\n  x: {country: US, safeguards:\n"
        "    {dpf: {since: '2023-07-17', until: '2024-01-31'}}}\n",
    )
    dpf = p.processors["x"].dpf
    assert dpf is not None
    assert dpf.span.covers(ts("2024-01-31T23:59:59Z"))
    assert not dpf.span.covers(ts("2024-02-01T00:00:00Z"))
    assert "until (the last day covered) is before since" in errors(
        tmp_path,
        "processors:\n  x: {country: US, safeguards:\n"
        "    {bcr: {since: '2024-02-01', until: '2024-01-31'}}}\n",
    )


def test_every_dated_fact_of_a_party_has_edges() -> None:
    p = load_policy(EXAMPLE_POLICY).processors
    replay = p["us-replay-processor"].edges()
    assert ts("2005-01-01T00:00:00Z") in replay  # safe_harbour since
    assert ts("2020-07-17T00:00:00Z") in replay  # privacy_shield until 2020-07-16, inclusive
    assert ts("2023-07-17T00:00:00Z") in replay  # dpf since
    repapered = p["repapered-processor"].edges()
    assert {ts("2019-03-01T00:00:00Z"), ts("2022-07-01T00:00:00Z")} <= set(repapered)


def test_exceptions_carry_their_citation(tmp_path: Path) -> None:
    p = load(
        tmp_path,
        """rules:
  - {id: r, kind: transfer, description: d, severity: high, effect: deny, citation: c}
exceptions:
  - id: e
    rule: r
    justification: j
    approver: a
    expires: "2027-01-01"
    citation: {text: "as per Article 95 of GDPR", source: notice}
""",
    )
    assert (p.exceptions[0].citation, p.exceptions[0].citation_source) == (
        "as per Article 95 of GDPR",
        "notice",
    )


# --- the pack option for onward regimes ------------------------------------------------------
ONWARD = """transfers: {onward_regime: home_region}
home_regions:
  EUR1: {locations: [aws:eu-central-1, aws:eu-north-1]}
  USA1: {locations: [aws:us-east-2]}
"""


def test_onward_regime_from_home_regions(tmp_path: Path) -> None:
    p = load(
        tmp_path, ONWARD + "  UKI1: {locations: [aws:eu-west-2, aws:eu-west-1], regime: uk_gdpr}\n"
    )
    assert p.onward_regime == "home_region"
    assert p.home_regions["EUR1"].countries == frozenset({"DE", "SE"})
    assert (p.home_regions["UKI1"].regime, p.home_regions["EUR1"].regime) == ("uk_gdpr", None)
    assert load(tmp_path, "").onward_regime == "origin"


def test_a_home_region_in_the_uk_and_the_eea_must_state_its_regime(tmp_path: Path) -> None:
    text = errors(tmp_path, ONWARD + "  UKI1: {locations: [aws:eu-west-2, aws:eu-west-1]}\n")
    assert "home_regions.UKI1.regime" in text
    assert "state regime: uk_gdpr or eu_gdpr" in text


def test_the_schema_enums_match_the_legal_tables() -> None:
    schema = json.loads((ROOT / "schemas" / "policy-v1.schema.json").read_text())["$defs"]
    party = schema["party"]["properties"]
    tables = load_tables()
    assert set(party["adequacy_scopes"]["items"]["enum"]) == set(tables.sectoral_scopes)
    assert set(party["international_organisation"]["enum"]) == set(tables.organisations)
    versions = schema["signedClauses"]["properties"]["version"]["enum"]
    assert set(versions) == set(tables.scc_versions())


# --- legal epochs: one engine, the same flow on both sides of a date ----------------------
def flow(when: str, processor: str, dest: str = "aws:ap-south-1") -> dict[str, Any]:
    return {
        "event_id": f"{processor}-{when}",
        "event_time": when,
        "data_class": "personal_data",
        "operation": "transfer",
        "origin": {"location": "aws:eu-central-1"},
        "destination": {"location": dest},
        "processor": processor,
    }


def transfers(engine: Engine, *events: dict[str, Any]) -> list[tuple[str, str | None]]:
    decider = Decider(engine)  # one engine, one decision cache, for all the events
    out = []
    for e in events:
        t = decider.value(e).decision.transfer
        assert t is not None
        out.append((t.mechanism, t.instrument))
    return out


def test_the_cache_splits_at_the_tables_dates() -> None:
    engine = Engine(load_policy(EXAMPLE_POLICY))
    got = transfers(
        engine,
        flow("2022-12-27T23:59:59Z", "old-scc-processor"),
        flow("2022-12-28T00:00:00Z", "old-scc-processor"),
    )
    assert [m for m, _ in got] == ["scc", "none"]


def test_the_cache_splits_at_the_dates_of_signed_clauses() -> None:
    engine = Engine(load_policy(EXAMPLE_POLICY))
    got = transfers(
        engine,
        flow("2019-02-28T12:00:00Z", "old-scc-processor"),
        flow("2019-03-01T12:00:00Z", "old-scc-processor"),
        flow("2022-06-30T23:59:59Z", "repapered-processor"),
        flow("2022-07-01T00:00:00Z", "repapered-processor"),
    )
    assert [m for m, _ in got] == ["none", "scc", "scc", "scc"]
    assert "2010/87/EU" in str(got[2][1])
    assert "2021/914" in str(got[3][1])


def test_the_cache_splits_at_a_safe_harbour_self_certification() -> None:
    engine = Engine(load_policy(EXAMPLE_POLICY))
    got = transfers(
        engine,
        flow("2004-12-31T12:00:00Z", "us-replay-processor", "aws:us-east-1"),
        flow("2005-01-01T12:00:00Z", "us-replay-processor", "aws:us-east-1"),
    )
    assert [m for m, _ in got] == ["none", "adequacy"]


def test_safe_harbour_dates_are_judged_right_by_a_fresh_engine() -> None:
    # What the test above expects of one engine, each date judged by its own.
    for when, mechanism in (("2004-12-31T12:00:00Z", "none"), ("2005-01-01T12:00:00Z", "adequacy")):
        engine = Engine(load_policy(EXAMPLE_POLICY))
        got = transfers(engine, flow(when, "us-replay-processor", "aws:us-east-1"))
        assert got[0][0] == mechanism


# --- `none` is never `allow` without a named exception ---------------------------------------
def _check_none_never_allowed(policy: Policy, decision: Decision, where: str) -> None:
    t = decision.transfer
    if t is None or t.mechanism != "none" or decision.verdict != "allow":
        return
    kinds = {r.id: r.kind for r in policy.rules}
    waived = [e for e in decision.outcome.exceptions if kinds.get(e.rule) == "transfer"]
    assert waived, f"{where}: mechanism none allowed without a named transfer exception"


def _suite_decisions(suite: Path) -> list[tuple[Policy, Decision, str]]:
    doc = YAML(typ="safe").load(suite.read_text())
    policy = load_policy(suite.parent / doc["policy"])
    return [(policy, decision, f"{suite.name}: {result.name}")
            for result in run_suite(suite) for decision in result.decisions]


@pytest.mark.parametrize("suite", discover(ROOT / "policies"), ids=lambda p: p.name)
def test_no_suite_case_allows_a_transfer_with_no_basis(suite: Path) -> None:
    for policy, decision, where in _suite_decisions(suite):
        _check_none_never_allowed(policy, decision, where)


@pytest.mark.parametrize(
    "sample", sorted((ROOT / "examples").glob("*.jsonl")), ids=lambda p: p.name
)
def test_no_sample_event_allows_a_transfer_with_no_basis(sample: Path) -> None:
    name = sample.name.removesuffix(".jsonl")
    path = ROOT / "policies" / f"{name}.yaml"
    policy = load_policy(path if path.exists() else ROOT / "policies" / "examples" / f"{name}.yaml")
    for decision in decide_all(Decider(Engine(policy)), raw_lines(sample)):
        _check_none_never_allowed(policy, decision, f"{sample.name}: {decision.event_id}")


def test_the_carrier_hop_is_allowed_only_through_the_named_art_95_exception() -> None:
    policy = load_policy(ROOT / "policies" / "natterbox.yaml")
    engine = Engine(policy)
    event = {
        "event_id": "c-1",
        "event_time": "2026-03-02T09:00:00Z",
        "data_class": "routing_identity",
        "operation": "transfer",
        "origin": {"location": "site:telehouse-london"},
        "destination": {"location": "country:US"},
        "processor": "carrier",
        "purpose": "call_routing",
        "encryption": {"in_transit": "srtp"},
    }
    record = Decider(engine).value(event).decision.plain()
    assert record["verdict"] == "allow"
    assert record["transfer"]["mechanism"] == "none"
    assert record["exceptions"] == [
        {"id": "natterbox.carrier-art95", "rule": "natterbox.carrier-transit"}
    ]
    exception = next(e for e in policy.exceptions if e.id == "natterbox.carrier-art95")
    assert "Article 95" in exception.citation
    assert exception.span.since == datetime(2024, 9, 5, tzinfo=UTC).timestamp()
