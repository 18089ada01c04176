"""Loading policies: located errors (file, line, rule, fix), all at once; includes."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.policy import PolicyError, load_policy

GOOD_HEAD = """apiVersion: auditor/v1
id: t
company: {id: me, country: DE}
data_classes: {personal_data: {}}
purposes: {service_delivery: {}}
zones:
  eu: {locations: ["country:EEA"]}
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return [str(issue) for issue in info.value.issues]


def test_every_error_is_reported_at_once_with_file_line_and_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        GOOD_HEAD
        + """rules:
  - id: r.one
    kind: residency
    description: d
    sevrity: high
    effect: deny
    citation: c
    params: {allowed: ["zone:eu2"]}
  - id: r.two
    kind: purpose
    description: d
    severity: high
    effect: deny
    citation: c
    when: {data_classes: [personal-data]}
    params: {denied: [advertising]}
  - id: r.three
    kind: residency
    description: d
    severity: high
    effect: block
    citation: c
    params: {allowed: ["aws:eu-west-10"]}
""",
    )
    errors = errors_of(path)
    text = "\n".join(errors)
    assert (
        f"{path}:12: rule 'r.one': rules[0]: unknown key 'sevrity'; did you mean 'severity'?"
        in text
    )
    assert f"{path}:9: rule 'r.one': rules[0]: 'severity' is a required property" in text
    assert f"{path}:15: rule 'r.one': params.allowed[0]: unknown zone 'eu2'" in text
    assert (
        f"{path}:22: rule 'r.two': when.data_classes[0]: unknown data class 'personal-data'; "
        "did you mean 'personal_data'?" in text
    )
    assert "rule 'r.two': params.denied[0]: unknown purpose 'advertising'" in text
    assert (
        "rule 'r.three': rules[2].effect: 'block' is not allowed; use one of: deny, warn, "
        "dryrun" in text
    )
    assert (
        f"{path}:30: rule 'r.three': params.allowed[0]: unknown aws region 'eu-west-10'; "
        "did you mean 'eu-west-1'?" in text
    )
    assert len(errors) == 7


def test_valid_rule_after_broken_ones_is_still_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        GOOD_HEAD
        + """rules:
  - {id: a, kind: nonsense, description: d, severity: high, effect: deny, citation: c}
  - {id: b, kind: residency, description: d, severity: high, effect: deny, citation: c,
     params: {allowed: ["zone:nowhere"]}}
""",
    )
    text = "\n".join(errors_of(path))
    assert "rule 'a'" in text
    assert "'nonsense' is not allowed" in text
    assert "rule 'b': params.allowed[0]: unknown zone 'nowhere'" in text


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "id: t\nrules: [\n  {id: x\n")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:")
    assert "not valid YAML" in error


def test_missing_file(tmp_path: Path) -> None:
    assert errors_of(tmp_path / "none.yaml") == [f"{tmp_path / 'none.yaml'}: file not found"]


def test_reference_checks(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """apiVersion: auditor/v1
id: t
company: {id: me, country: XX}
data_classes: {d: {}}
purposes: {other: {}}
processors:
  v: {country: IN, safeguards: {dpf: true}}
tenant_settings:
  mode: {type: enum, values: [a, b], default: c}
rules:
  - id: r
    kind: retention
    description: d
    severity: low
    effect: warn
    citation: c
    when: {tenant_settings: {mode: z}}
    params: {max_days: 3, tenant_setting: mode}
exceptions:
  - {id: e, rule: q, justification: j, approver: a, expires: "2026-13-01"}
""",
    )
    text = "\n".join(errors_of(path))
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in text
    assert "purposes must define 'service_delivery'" in text
    assert "the DPF list only holds US organisations" in text
    assert "'c' is not a value of tenant setting 'mode'" in text
    assert "'z' is not a value of tenant setting 'mode'" in text
    assert "tenant setting 'mode' must have type int to override max_days" in text
    assert "exception 'e' names unknown rule 'q'" in text
    assert "expires '2026-13-01' is not a date or date-time" in text


def test_include_merges_a_baseline_and_errors_name_the_included_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.yaml",
        """apiVersion: auditor/v1
data_classes: {personal_data: {description: from base}, extra: {}}
purposes: {service_delivery: {}}
rules:
  - {id: base.rule, kind: purpose, description: d, severity: low, effect: warn, citation: c,
     params: {denied: [service_delivery]}}
""",
    )
    top = write(
        tmp_path,
        "top.yaml",
        """apiVersion: auditor/v1
id: top
include: [base.yaml]
company: {id: me, country: DE}
data_classes: {personal_data: {description: from top}}
rules:
  - {id: top.rule, kind: purpose, description: d, severity: low, effect: warn, citation: c,
     params: {denied: [service_delivery]}}
""",
    )
    policy = load_policy(top)
    assert [r.id for r in policy.rules] == ["base.rule", "top.rule"]
    assert policy.data_classes["personal_data"].description == "from top"
    assert "extra" in policy.data_classes
    assert policy.files == (str(tmp_path / "base.yaml"), str(top))

    write(tmp_path, "base.yaml", "apiVersion: auditor/v1\nrules: [{id: x, kind: purpose}]\n")
    text = "\n".join(errors_of(top))
    assert f"{tmp_path / 'base.yaml'}:2: rule 'x'" in text


def test_include_cycle_and_missing_include(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD_HEAD + "include: [b.yaml, missing.yaml]\n")
    write(tmp_path, "b.yaml", "apiVersion: auditor/v1\ninclude: [a.yaml]\n")
    text = "\n".join(errors_of(tmp_path / "a.yaml"))
    assert "include cycle" in text
    assert "include '" in text
    assert "missing.yaml': file not found" in text


def test_duplicate_rule_ids(tmp_path: Path) -> None:
    rule = (
        "  - {id: same, kind: purpose, description: d, severity: low, effect: warn, "
        "citation: c, params: {denied: [service_delivery]}}\n"
    )
    path = write(tmp_path, "p.yaml", GOOD_HEAD + "rules:\n" + rule + rule)
    (error,) = errors_of(path)
    assert "rule id 'same' is already used at" in error


def test_shipped_example_policy_loads() -> None:
    root = Path(__file__).resolve().parents[2]
    policy = load_policy(root / "policies" / "examples" / "gdpr-transfers.yaml")
    assert policy.id == "gdpr-transfers"
    assert "dpf-processor" in policy.processors
