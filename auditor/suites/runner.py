"""Loading and running policy test suites (``*.tests.yaml``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from auditor import schemas
from auditor.engine import Decider, Decision, Engine
from auditor.events.validate import parse_time
from auditor.intake import Intake, read_lines
from auditor.policy import PolicyError, load_policy
from auditor.policy.loader import within
from auditor.policy.source import Source, read_source

SUITE_SUFFIX = ".tests.yaml"


class SuiteError(Exception):
    """A suite file (or its policy) cannot be run; the message says where and why."""


@dataclass(frozen=True)
class CaseResult:
    suite: str
    name: str
    line: int
    expected: str
    got: str
    problems: tuple[str, ...]
    # Every decision the case's inputs led to, in output order (deadlines included).
    decisions: tuple[Decision, ...] = field(default=(), compare=False, repr=False)

    @property
    def passed(self) -> bool:
        return not self.problems


def discover(path: Path) -> list[Path]:
    """Suite files at ``path``: the file itself, or every ``*.tests.yaml`` below a folder."""
    if path.is_dir():
        return sorted(path.rglob("*" + SUITE_SUFFIX))
    return [path]


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, merging nested objects key by key."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_suite(path: Path, roots: Iterable[Path] = ()) -> tuple[Source, Engine]:
    """A suite file and the engine of its policy. Raises SuiteError naming what is wrong.

    Its policy must be in the suite's folder or one of ``roots`` (as must its includes).
    """
    src = read_source(path, str(path))
    if not isinstance(src, Source):
        raise SuiteError(str(src))
    errors = [
        f"{src.where(tuple(e.absolute_path))}: {e.message}"
        for e in schemas.validator(schemas.SUITE).iter_errors(src.data)
    ]
    if errors:
        raise SuiteError("suite is not well-formed:\n  " + "\n  ".join(errors))
    policy_path = path.parent / src.data["policy"]
    # The suite names its policy as a policy names an include: it stays in the same folders.
    if not within(policy_path, [path.parent, *roots]):
        raise SuiteError(f"{src.where(('policy',))}: policy '{src.data['policy']}' is outside "
                         "the suite's folder: move it there, or name its folder with "
                         "--policy-root")
    try:
        policy = load_policy(policy_path, roots=roots)
    except PolicyError as exc:
        raise SuiteError(str(exc)) from None
    return src, Engine(policy)


def _check(expect: Mapping[str, Any], d: Decision) -> list[str]:
    problems = []
    if d.verdict != expect["verdict"]:
        problems.append(f"verdict {d.verdict}, expected {expect['verdict']}")
    for key, effect in (("findings", "deny"), ("warnings", "warn")):
        if key in expect or (key == "findings" and expect["verdict"] == "allow"):
            got = sorted({f.kind for f in d.findings if f.effect == effect})
            want = sorted(set(expect.get(key, [])))
            if got != want:
                problems.append(f"{key} {got}, expected {want}")
    rules = {f.rule for f in d.findings}
    for rule in expect.get("rules", []):
        if rule not in rules:
            problems.append(f"rule {rule} did not fire (fired: {sorted(rules) or 'none'})")
    if "transfer" in expect:
        want_t = expect["transfer"]
        t = d.transfer
        if want_t is None and t is not None:
            problems.append(f"transfer {t.from_country}->{t.to_country}, expected none")
        elif want_t is not None:
            if t is None:
                problems.append("no transfer, expected one")
            else:
                for field, value in want_t.items():
                    got_value = getattr(t, field)
                    if field == "instrument" and got_value and value in got_value:
                        continue
                    if got_value != value:
                        problems.append(f"transfer.{field} {got_value}, expected {value}")
    if "message_contains" in expect:
        text = expect["message_contains"]
        if not any(text in f.message for f in d.findings):
            problems.append(f"no finding message contains {text!r}")
    applied = {e.id for e in d.outcome.exceptions}
    for exc_id in expect.get("exceptions", []):
        if exc_id not in applied:
            problems.append(f"exception {exc_id} did not apply")
    return problems


def _describe(d: Decision) -> str:
    kinds = sorted(
        {f"{f.kind}" + ("" if f.effect == "deny" else f"({f.effect})") for f in d.findings}
    )
    return d.verdict + (f" [{', '.join(kinds)}]" if kinds else "")


def run_suite(path: Path, roots: Iterable[Path] = (), intake: Intake | None = None
              ) -> list[CaseResult]:
    """Run every case of the suite at ``path``. Raises SuiteError if it cannot be run.

    Its policy must be in the suite's folder or one of ``roots`` (as must the policy's
    includes). Each case's inputs go through the one decide loop as bytes, exactly as
    lines of ``auditor check`` or Kafka records would, with a memory of their own.
    """
    src, engine = load_suite(path, roots)
    intake = intake or Intake()
    defaults = src.data.get("defaults", {})
    results = []
    for i, case in enumerate(src.data["cases"]):
        decider = Decider(engine, intake)  # each case remembers only its own events
        where = (str(path), case["name"], src.where(("cases", i)).line)
        if "sample" in case:
            results.append(_sample_case(decider, path, case, where))
        else:
            results.append(_event_case(decider, path, case, defaults, i, where))
    return results


def _now(path: Path, case: Mapping[str, Any]) -> float | None:
    if "now" not in case:
        return None
    now = parse_time(case["now"])
    if now is None:
        raise SuiteError(f"{path}: case {case['name']!r}: now is not an RFC 3339 time")
    return now


def _event_case(decider: Decider, path: Path, case: Mapping[str, Any],
                defaults: Mapping[str, Any], i: int, where: tuple[str, str, int]) -> CaseResult:
    expect = case["expect"]
    out: list[Decision] = []
    # Cases name their event ids only when the id matters.
    base = {"event_id": f"case-{i + 1}", **defaults}
    for j, before in enumerate(case.get("before", [])):
        step = decider.raw(
            orjson.dumps(merge({**base, "event_id": f"case-{i + 1}-before-{j + 1}"}, before))
        )
        out += step.decisions()
    if "raw" in case:
        step = decider.raw(case["raw"].encode())
    else:
        event = merge(base, case.get("event", {}))
        for name in case.get("remove", []):
            event.pop(name, None)
        step = decider.raw(orjson.dumps(event))
    out += step.decisions()
    d = step.decision
    now = _now(path, case)
    if now is not None:
        out += decider.close(now)
    problems = _check(expect, d)
    if "deadlines" in expect:
        got = sorted(f.kind for dl in out if dl.is_deadline for f in dl.findings)
        if got != sorted(expect["deadlines"]):
            problems.append(f"deadlines {got}, expected {sorted(expect['deadlines'])}")
    want = expect["verdict"] + (
        f" [{', '.join(expect.get('findings', []))}]" if expect.get("findings") else ""
    )
    return CaseResult(*where, want, _describe(d), tuple(problems), tuple(out))


def _sample_case(decider: Decider, path: Path, case: Mapping[str, Any],
                 where: tuple[str, str, int]) -> CaseResult:
    """A file of events next to the policy, decided in order; counts by verdict."""
    sample = path.parent / case["sample"]
    if not sample.is_file():
        raise SuiteError(f"{path}: case {case['name']!r}: no sample file {sample}")
    out: list[Decision] = []
    try:
        for line in read_lines(str(sample), decider.intake.max_event_bytes):
            out += decider.raw(line.raw).decisions()
    except OSError as exc:
        raise SuiteError(f"{path}: case {case['name']!r}: cannot read {sample}: {exc}") from None
    now = _now(path, case)
    if now is not None:
        out += decider.close(now)
    expect = case["expect"]
    events = [d for d in out if not d.is_deadline]
    counts = {v: sum(d.verdict == v for d in events) for v in ("allow", "violation", "invalid")}
    want = {v: expect["verdicts"].get(v, 0) for v in counts}
    problems = [f"{v} {counts[v]}, expected {want[v]}" for v in counts if counts[v] != want[v]]
    deadlines = len(out) - len(events)
    if "deadline_decisions" in expect and deadlines != expect["deadline_decisions"]:
        problems.append(f"deadline decisions {deadlines}, expected "
                        f"{expect['deadline_decisions']}")
    shown = ", ".join(f"{v} {n}" for v, n in counts.items())
    return CaseResult(*where, ", ".join(f"{v} {n}" for v, n in want.items()), shown,
                      tuple(problems), tuple(out))
