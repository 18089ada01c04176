"""Loading and running policy test suites (``*.tests.yaml``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor import schemas
from auditor.engine import Decision, Engine
from auditor.engine.memory import DictStore
from auditor.events.validate import parse_time
from auditor.inputs import NotJson, decode
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


def _load(path: Path, roots: Iterable[Path]) -> tuple[Source, Engine]:
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


def run_suite(path: Path, roots: Iterable[Path] = ()) -> list[CaseResult]:
    """Run every case of the suite at ``path``. Raises SuiteError if it cannot be run.

    Its policy must be in the suite's folder or one of ``roots`` (as must the policy's
    includes).
    """
    src, engine = _load(path, roots)
    defaults = src.data.get("defaults", {})
    results = []
    for i, case in enumerate(src.data["cases"]):
        expect = case["expect"]
        store = DictStore()  # each case remembers only its own events
        engine.due.clear()
        deadlines: list[Decision] = []
        # Cases name their event ids only when the id matters.
        base = {"event_id": f"case-{i + 1}", **defaults}
        for j, before in enumerate(case.get("before", [])):
            out = engine.decide(
                merge({**base, "event_id": f"case-{i + 1}-before-{j + 1}"}, before), store
            )
            deadlines += out[:-1]
        if "raw" in case:
            value = decode(case["raw"].encode())
            d = engine.invalid(str(value)) if type(value) is NotJson else engine.classify(value)
        else:
            event = merge(base, case.get("event", {}))
            for field in case.get("remove", []):
                event.pop(field, None)
            out = engine.decide(event, store)
            deadlines += out[:-1]
            d = out[-1]
        if "now" in case:
            now = parse_time(case["now"])
            if now is None:
                raise SuiteError(f"{path}: case {case['name']!r}: now is not an RFC 3339 time")
            deadlines += engine.close(now, store)
        problems = _check(expect, d)
        if "deadlines" in expect:
            got = sorted(f.kind for dl in deadlines for f in dl.findings)
            if got != sorted(expect["deadlines"]):
                problems.append(f"deadlines {got}, expected {sorted(expect['deadlines'])}")
        want = expect["verdict"] + (
            f" [{', '.join(expect.get('findings', []))}]" if expect.get("findings") else ""
        )
        results.append(
            CaseResult(
                str(path),
                case["name"],
                src.where(("cases", i)).line,
                want,
                _describe(d),
                tuple(problems),
            )
        )
    return results
