"""Loading policies: located errors (file, line, rule, fix), all at once; includes."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from auditor.cli import main
from auditor.policy import PolicyError, load_policy
from auditor.policy.limits import PolicyLimits
from auditor.stream.settings import Settings
from auditor.suites import SuiteError, run_suite

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
    root = Path(__file__).resolve().parents[3]
    policy = load_policy(root / "policies" / "examples" / "gdpr-transfers.yaml")
    assert policy.id == "gdpr-transfers"
    assert "dpf-processor" in policy.processors


# -- a policy is untrusted input: limits, confinement, nothing of a foreign file echoed --

BOMB = (
    'apiVersion: auditor/v1\nid: bomb\nsources:\n  - &a0 "lol"\n'
    + "".join(f"  - &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
)
# Every command that loads a policy, and its exit status for a policy error.
POLICY_COMMANDS = [
    (["policy", "validate"], 1),
    (["check", "--policy"], 2),
    (["worker", "--policy"], 2),
]


def run_bounded(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``auditor ARGV`` in a child held to 1 GiB of address space and 60 s: a loader that
    regresses fails this test instead of eating the machine's memory."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run(
        [sys.executable, "-m", "auditor", *argv], cwd=cwd, capture_output=True, text=True,
        timeout=60, preexec_fn=limit, check=False, stdin=subprocess.DEVNULL,
        env={**os.environ, "AUDITOR_METRICS_PORT": "0"},
    )


@pytest.mark.parametrize(("command", "status"), POLICY_COMMANDS)
def test_alias_bomb_is_refused_at_once_by_every_command(
    tmp_path: Path, command: list[str], status: int
) -> None:
    write(tmp_path, "bomb.yaml", BOMB)
    result = run_bounded([*command, "bomb.yaml"], tmp_path)
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert "bomb.yaml:10: the pack holds more than 200,000 values once its aliases are " \
        "expanded (limit max_values)" in result.stderr


def test_deep_nesting_is_a_located_error_not_a_recursion_error(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.yaml", "apiVersion: auditor/v1\nid: t\nsources: "
                 + "[" * 20_000 + "]" * 20_000 + "\n")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:3: nested more than 32 levels deep (limit max_depth)")
    block = "apiVersion: auditor/v1\nid: t\nsources:\n" + "".join(
        "  " * (i + 1) + f"k{i}:\n" for i in range(40))
    (error,) = errors_of(write(tmp_path, "block.yaml", block))
    assert "block.yaml:34: nested more than 32 levels deep" in error


def test_alias_limits_count_uses_and_recursion(tmp_path: Path) -> None:
    few = PolicyLimits(max_aliases=3)
    text = GOOD_HEAD + "sources:\n  - &s x\n" + "  - *s\n" * 4
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, "p.yaml", text), limits=few)
    (error,) = map(str, info.value.issues)
    assert ":13: more than 3 aliases (*name) in the pack (limit max_aliases)" in error
    (error,) = errors_of(write(tmp_path, "r.yaml", GOOD_HEAD + "sources: &r [a, *r]\n"))
    assert ":8: an alias inside the node it names (a recursive alias)" in error
    # Aliases within the limits are expanded as before.
    policy = load_policy(write(tmp_path, "ok.yaml", GOOD_HEAD.replace(
        'zones:\n  eu: {locations: ["country:EEA"]}',
        'zones:\n  eu: {locations: &eea ["country:EEA"]}\n  eea: {locations: *eea}')))
    assert policy.zones["eea"].locations == policy.zones["eu"].locations


def test_file_and_pack_size_and_file_count_are_bounded(tmp_path: Path) -> None:
    big = write(tmp_path, "big.yaml", GOOD_HEAD + "description: " + "x" * 500 + "\n")
    with pytest.raises(PolicyError) as info:
        load_policy(big, limits=PolicyLimits(max_bytes=400))
    assert [str(i) for i in info.value.issues] == [
        f"{big}: not read: more than the 400 bytes left: a pack's files together may hold "
        "400 bytes (limit max_bytes)"]
    write(tmp_path, "a.yaml", "apiVersion: auditor/v1\n")
    top = write(tmp_path, "top.yaml", GOOD_HEAD + "include: [a.yaml, a.yaml, a.yaml]\n")
    with pytest.raises(PolicyError) as info:
        load_policy(top, limits=PolicyLimits(max_files=3))
    assert [str(i) for i in info.value.issues] == [
        f"{top}:8: include '{tmp_path / 'a.yaml'}': more than 3 files in the pack "
        "(limit max_files): include fewer files"]


@pytest.mark.timeout(30)  # a FIFO opened the ordinary way would block until this fires
def test_includes_must_be_regular_files_inside_the_policy_folders(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    outside = write(tmp_path, "shared.yaml", "apiVersion: auditor/v1\npurposes: {x: {}}\n")
    os.mkfifo(pack / "fifo.yaml")
    (pack / "dir.yaml").mkdir()
    (pack / "zero.yaml").symlink_to("/dev/zero")
    (pack / "link.yaml").symlink_to(outside)
    top = write(pack, "top.yaml", GOOD_HEAD + "include: [/dev/zero, ../shared.yaml, "
                "link.yaml, zero.yaml, fifo.yaml, dir.yaml]\n")
    assert sorted(errors_of(top)) == sorted([
        f"{top}:8: include '{pack / 'dir.yaml'}': not read: a directory, not a regular file; "
        "a policy is a regular file",
        f"{top}:8: include '{pack / 'fifo.yaml'}': not read: a FIFO, not a regular file; "
        "a policy is a regular file",
        *(f"{top}:8: include '{name}' is outside the policy folders ({pack}): move it there, "
          "or name its folder with --policy-root"
          for name in ("../shared.yaml", "/dev/zero", "link.yaml", "zero.yaml")),
    ])
    # A folder the operator names is a root too (symbolic links resolved).
    ok = write(pack, "ok.yaml", GOOD_HEAD + "include: [../shared.yaml, link.yaml]\n")
    assert "x" in load_policy(ok, roots=[tmp_path]).purposes


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc")
def test_a_file_that_claims_size_zero_is_still_bounded(tmp_path: Path) -> None:
    top = write(tmp_path, "top.yaml", GOOD_HEAD + "include: [/proc/self/status]\n")
    with pytest.raises(PolicyError) as info:
        load_policy(top, roots=[Path("/proc")], limits=PolicyLimits(max_bytes=len(GOOD_HEAD)
                                                                    + 100))
    (error,) = map(str, info.value.issues)
    assert "not read: more than the" in error


SECRET = "hunter2-Zq9"


@pytest.mark.parametrize(
    "content",
    [
        f"root:$6${SECRET}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",  # /etc/shadow
        f"db:\n  password: {SECRET}\nid: [{SECRET}]\n",
        f"a: *{SECRET}\n",  # an undefined alias: the YAML error names it
        f"a: !<{SECRET}> 1\nb: [\n",
        f'a: "{SECRET}\\q"\n',  # an unknown escape
        f"{SECRET}: 1\n{SECRET}: 2\n",  # a duplicate key
        f"- {SECRET}\n",
        "\0" + SECRET,
        b"\xff\xfe".decode("latin-1") + SECRET,
    ],
)
def test_a_file_that_is_not_a_policy_is_never_quoted(tmp_path: Path, content: str) -> None:
    other = tmp_path / "other"
    other.write_bytes(content.encode("latin-1"))
    top = write(tmp_path, "top.yaml", GOOD_HEAD + "include: [other]\n")
    # Included or loaded itself: an error names the file and line, never its text.
    for path in (top, other):
        errors = errors_of(path)
        assert [e for e in errors if e.startswith((f"{top}:8: include '{other}':", f"{other}"))]
        assert not [e for e in errors if SECRET in e]


def test_a_declared_policy_still_gets_every_detail(tmp_path: Path) -> None:
    (error,) = errors_of(write(tmp_path, "p.yaml", GOOD_HEAD + "description: *undefinedzone\n"))
    assert error.endswith(":8: not valid YAML: found undefined alias 'undefinedzone'")
    (error,) = errors_of(write(tmp_path, "o.yaml", "description: *undefinedzone\n"))
    assert error.endswith(":1: not valid YAML: found undefined alias (not quoted: the file "
                          "does not declare apiVersion: auditor/v1)")
    # Without apiVersion, a file whose keys are all policy keys is still a policy.
    text = GOOD_HEAD.replace("apiVersion: auditor/v1\n", "") + "rules: [{id: x, kind: purpose}]\n"
    assert "rule 'x'" in "\n".join(errors_of(write(tmp_path, "q.yaml", text)))


def test_unreadable_values_are_located_not_tracebacks(tmp_path: Path) -> None:
    (error,) = errors_of(write(tmp_path, "n.yaml", GOOD_HEAD + "version: " + "9" * 5000 + "\n"))
    assert error == (f"{tmp_path / 'n.yaml'}: not valid YAML: a number of more than 4,300 "
                     "digits (quote it to make it a string)")
    (tmp_path / "latin.yaml").write_bytes(GOOD_HEAD.encode() + b"description: caf\xe9\n")
    (error,) = errors_of(tmp_path / "latin.yaml")
    assert error == f"{tmp_path / 'latin.yaml'}:8: not UTF-8 text: a policy is a UTF-8 YAML file"


def test_a_suite_names_a_policy_in_its_own_folders(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    write(tmp_path, "p.yaml", GOOD_HEAD)
    suite = write(tmp_path / "s", "x.tests.yaml",
                  "policy: ../p.yaml\ncases: [{name: n, event: {}, expect: {verdict: invalid}}]\n")
    with pytest.raises(SuiteError, match=r"x.tests.yaml:1: policy '../p.yaml' is outside "):
        run_suite(suite)
    assert [r.passed for r in run_suite(suite, roots=[tmp_path])] == [True]


def test_policy_root_flag_and_setting(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    write(tmp_path, "shared.yaml", "apiVersion: auditor/v1\n")
    write(tmp_path / "pack", "p.yaml", GOOD_HEAD + "include: [../shared.yaml]\n")
    runner = CliRunner()
    refused = runner.invoke(main, ["policy", "validate", str(tmp_path / "pack" / "p.yaml")])
    assert refused.exit_code == 1
    assert "include '../shared.yaml' is outside the policy folders" in refused.output
    allowed = runner.invoke(main, ["policy", "validate", "--policy-root", str(tmp_path),
                                   str(tmp_path / "pack" / "p.yaml")])
    assert allowed.exit_code == 0, allowed.output
    assert Settings(policy_roots=(tmp_path,)).policy_roots == (tmp_path,)
    with pytest.raises(ValidationError, match="is not a folder"):
        Settings(policy_roots=(tmp_path / "none",))
