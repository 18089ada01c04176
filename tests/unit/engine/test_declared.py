"""Declared flows: loading with located errors, and the undeclared_flow finding of the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.engine import Engine
from auditor.engine.engine import IMPLICIT_UNDECLARED_RULE
from auditor.policy import PolicyError, load_policy
from tests.unit.helpers import decide, event, explain

HEAD = """apiVersion: auditor/v1
id: unit
company: {id: me, country: DE}
home_regions:
  EUR1: {locations: ["aws:eu-central-1"]}
data_classes: {personal_data: {}, stats: {personal: false}}
purposes: {service_delivery: {}, analytics: {}}
processors:
  dpf-processor: {country: US, safeguards: {dpf: true, scc: true}}
  scc-processor: {country: IN, safeguards: {scc: true}}
zones:
  eu: {description: the EEA, locations: ["country:EEA"]}
"""
DECLARED = """declared_flows:
  - id: own-systems
    processors: [me]
    destinations: ["zone:eu", home_region]
  - id: us-hosting
    description: hosting in the US under the DPF
    processors: [dpf-processor]
    data_classes: [personal_data]
    purposes: [service_delivery]
    destinations: ["country:US"]
    basis: [dpf]
  - id: india-support
    processors: [scc-processor]
    operations: [access]
    destinations: ["country:IN"]
    since: "2026-04-01"
    until: "2026-12-31"
"""


def pack(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def engine(tmp_path: Path, extra: str = "", declared: str = DECLARED) -> Engine:
    return Engine(load_policy(pack(tmp_path, HEAD + declared + extra)))


def errors(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return [str(issue) for issue in info.value.issues]


def kinds(decision: Any, effect: str) -> list[str]:
    return [f.kind for f in decision.findings if f.effect == effect]


def test_every_error_in_declarations_is_located_with_a_suggestion(tmp_path: Path) -> None:
    bad = pack(tmp_path, HEAD + """declared_flows:
  - id: one
    processors: [dpf-procesor]
    data_classes: [personal_dat]
    purposes: [analytic]
    destinations: ["zone:eu2", "aws:eu-west-10"]
  - id: one
    processors: [me]
    destinations: ["country:DE"]
  - id: two
    processors: [scc-processor]
    destinations: ["country:IN"]
    basis: [dpf]
    since: "2026-13-01"
  - id: three
    processor: [me]
    destinations: ["country:DE"]
""")
    found = errors(bad)
    expected = [
        f"{bad}:15: declared flow 'one': processors[0]: unknown processor 'dpf-procesor'; "
        "did you mean 'dpf-processor'?",
        f"{bad}:16: declared flow 'one': data_classes[0]: unknown data class 'personal_dat'; "
        "did you mean 'personal_data'?",
        f"{bad}:17: declared flow 'one': purposes[0]: unknown purpose 'analytic'; "
        "did you mean 'analytics'?",
        f"{bad}:18: declared flow 'one': destinations[0]: unknown zone 'eu2'; did you mean 'eu'?",
        f"{bad}:18: declared flow 'one': destinations[1]: unknown aws region 'eu-west-10'; "
        "did you mean 'eu-west-1'?",
        f"{bad}:19: declared flow 'one': declared flow id 'one' is already used at {bad}:14; "
        "declared flow ids must be unique",
        f"{bad}:25: declared flow 'two': basis[0]: basis dpf: no processor of this declaration "
        "(scc-processor) has dpf among its safeguards; add it to the processor, or drop it here",
        f"{bad}:26: declared flow 'two': since: '2026-13-01' is not a date YYYY-MM-DD",
        f"{bad}:27: declared flow 'three': declared_flows[3]: 'processors' is a required "
        "property; add it",
        f"{bad}:28: declared flow 'three': declared_flows[3]: unknown key 'processor'; "
        "did you mean 'processors'?",
    ]
    assert sorted(found) == sorted(expected)


def test_a_rule_of_kind_undeclared_flow_needs_declarations(tmp_path: Path) -> None:
    bad = pack(tmp_path, HEAD + """rules:
  - id: r.undeclared
    kind: undeclared_flow
    description: d
    severity: high
    effect: deny
    citation: c
""")
    assert errors(bad) == [
        f"{bad}:14: rule 'r.undeclared' of kind undeclared_flow needs the pack to declare its "
        "flows: add declared_flows, or remove the rule"
    ]


def test_declarations_from_an_include_are_appended_and_their_ids_stay_unique(
    tmp_path: Path,
) -> None:
    pack(tmp_path, "apiVersion: auditor/v1\n" + DECLARED, "p.declared.yaml")
    top = pack(tmp_path, HEAD + "include: [p.declared.yaml]\ndeclared_flows:\n"
               "  - {id: more, processors: [me], destinations: ['country:US']}\n")
    policy = load_policy(top)
    assert [f.id for f in policy.declared_flows] == [
        "own-systems", "us-hosting", "india-support", "more"]
    clash = pack(tmp_path, HEAD + "include: [p.declared.yaml]\ndeclared_flows:\n"
                 "  - {id: us-hosting, processors: [me], destinations: ['country:US']}\n",
                 "clash.yaml")
    assert errors(clash) == [
        f"{clash}:15: declared flow 'us-hosting': declared flow id 'us-hosting' is already "
        f"used at {tmp_path / 'p.declared.yaml'}:6; declared flow ids must be unique"
    ]


def test_a_pack_without_declarations_gets_no_undeclared_rule_and_keeps_its_hash(
    tmp_path: Path,
) -> None:
    plain = engine(tmp_path, declared="")
    assert all(r.kind != "undeclared_flow" for r in plain.rules)
    assert "declared_flows" not in plain.policy.document
    assert decide(plain, event(processor="scc-processor", destination={
        "location": "aws:ap-south-1"})).findings == ()
    declaring = engine(tmp_path)
    assert declaring.rules[-1].id == IMPLICIT_UNDECLARED_RULE
    assert declaring.version != plain.version


def test_a_declared_flow_is_allowed_and_an_undeclared_one_warns(tmp_path: Path) -> None:
    e = engine(tmp_path)
    declared = decide(e, event())  # personal_data to dpf-processor in aws:us-east-1
    assert declared.verdict == "allow"
    assert declared.findings == ()
    assert declared.outcome.declared == ("us-hosting",)
    undeclared = decide(e, event(purpose="analytics"))
    assert undeclared.verdict == "allow"
    (finding,) = undeclared.findings
    assert (finding.rule, finding.kind, finding.severity, finding.effect) == (
        IMPLICIT_UNDECLARED_RULE, "undeclared_flow", "medium", "warn")
    assert "purpose analytics not in [service_delivery]" in finding.message
    assert undeclared.outcome.declared == ()


@pytest.mark.parametrize(
    ("changes", "declared"),
    [
        ({"processor": "me", "destination": {"location": "aws:eu-west-1"}}, ("own-systems",)),
        # home_region: the tenant's own home region is declared for the company
        ({"processor": "me", "destination": {"location": "aws:eu-central-1"},
          "tenant": {"id": "t", "home_region": "EUR1"}}, ("own-systems",)),
        # near miss: one country off
        ({"processor": "me", "destination": {"location": "aws:eu-west-2"}}, ()),
        # near miss: another processor at a declared place
        ({"processor": "scc-processor", "destination": {"location": "aws:us-east-1"}}, ()),
        # near miss: India support is declared for access only
        ({"processor": "scc-processor", "operation": "access", "event_time":
          "2026-05-01T00:00:00Z", "destination": {"location": "aws:ap-south-1"}},
         ("india-support",)),
        ({"processor": "scc-processor", "operation": "store", "event_time":
          "2026-05-01T00:00:00Z", "destination": {"location": "aws:ap-south-1"}}, ()),
        # dates: before since, and on the last day covered, and the day after until
        ({"processor": "scc-processor", "operation": "access", "event_time":
          "2026-03-31T23:59:59Z", "destination": {"location": "aws:ap-south-1"}}, ()),
        ({"processor": "scc-processor", "operation": "access", "event_time":
          "2026-12-31T23:59:59Z", "destination": {"location": "aws:ap-south-1"}},
         ("india-support",)),
        ({"processor": "scc-processor", "operation": "access", "event_time":
          "2027-01-01T00:00:00Z", "destination": {"location": "aws:ap-south-1"}}, ()),
    ],
)
def test_what_a_declaration_covers(
    tmp_path: Path, changes: dict[str, Any], declared: tuple[str, ...]
) -> None:
    e = engine(tmp_path)
    decision = decide(e, event(**changes))
    assert decision.outcome.declared == declared
    assert kinds(decision, "warn") == ([] if declared else ["undeclared_flow"])


def test_the_decision_cache_splits_at_a_declarations_dates(tmp_path: Path) -> None:
    e = engine(tmp_path)
    flow = {"processor": "scc-processor", "operation": "access",
            "destination": {"location": "aws:ap-south-1"}}
    before = decide(e, event(event_time="2026-03-31T12:00:00Z", **flow))
    after = decide(e, event(event_time="2026-04-01T00:00:00Z", **flow))
    assert kinds(before, "warn") == ["undeclared_flow"]
    assert kinds(after, "warn") == []


def test_non_personal_anonymised_and_unknown_flows_are_out_of_scope(tmp_path: Path) -> None:
    e = engine(tmp_path)
    far = {"processor": "scc-processor", "destination": {"location": "aws:ap-south-1"}}
    assert decide(e, event(data_class="stats", **far)).findings == ()
    assert decide(e, event(anonymized=True, **far)).findings == ()
    unknown = decide(e, event(processor="nobody"))
    assert [f.kind for f in unknown.findings] == ["unknown_reference"]
    assert unknown.outcome.declared is None


def test_the_pack_says_deny_and_scopes_it_and_an_exception_waives_it(tmp_path: Path) -> None:
    e = engine(tmp_path, extra="""rules:
  - id: r.only-declared-processors
    kind: undeclared_flow
    description: the sub-processor list is exhaustive
    severity: high
    effect: deny
    citation: only these sub-processors
    unless: {processors: [me]}
exceptions:
  - id: EXC-1
    rule: r.only-declared-processors
    when: {purposes: [analytics]}
    justification: pilot
    approver: dpo@example.com
    expires: "2026-06-30"
""")
    assert all(r.id != IMPLICIT_UNDECLARED_RULE for r in e.rules)
    denied = decide(e, event(processor="scc-processor", destination={
        "location": "aws:ap-south-1"}))
    assert denied.verdict == "violation"
    assert kinds(denied, "deny") == ["undeclared_flow"]
    waived = decide(e, event(purpose="analytics"))
    assert waived.verdict == "allow"
    assert [a.id for a in waived.outcome.exceptions] == ["EXC-1"]
    # the rule does not apply to the company's own flows: undeclared, but no finding
    own = decide(e, event(processor="me", destination={"location": "aws:eu-west-2"}))
    assert own.findings == ()
    assert own.outcome.declared == ()


def test_explain_shows_which_declaration_matched_or_how_near_each_came(tmp_path: Path) -> None:
    e = engine(tmp_path)
    matched = explain(e, event())
    assert (f"  pass  {IMPLICIT_UNDECLARED_RULE} [undeclared_flow]: declared by us-hosting"
            in matched)
    missed = "\n".join(explain(e, event(processor="me",
                                        destination={"location": "aws:eu-west-2"})))
    assert (f"  WARN  {IMPLICIT_UNDECLARED_RULE} [undeclared_flow]: undeclared flow: "
            "personal_data transferred, processor me, destination aws:eu-west-2 (GB), purpose "
            "service_delivery; no declared flow covers it (nearest: own-systems (destination "
            "aws:eu-west-2 (GB) not in [zone:eu, home_region (none)]); us-hosting (processor me "
            "not in [dpf-processor], destination aws:eu-west-2 (GB) not in [country:US]))"
            ) in missed
    assert "cites: GDPR Art. 30(1)(d)-(e)" in missed
