"""Loading a policy pack: includes, schema check, merge, and a located error for every problem."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError

from auditor import schemas
from auditor.policy.build import build_policy
from auditor.policy.errors import PolicyError, PolicyIssue, Where
from auditor.policy.limits import LIMITS, Budget, PolicyLimits
from auditor.policy.model import Policy
from auditor.policy.source import PathKey, Source, read_source
from auditor.policy.values import suggest

MAP_SECTIONS = (
    "sites",
    "zones",
    "home_regions",
    "data_classes",
    "processors",
    "purposes",
    "tenant_settings",
)


# Sections whose entries are appended across includes, each with its own id.
LIST_SECTIONS = ("rules", "exceptions", "declared_flows")

API_VERSION = "auditor/v1"
MAX_MESSAGE = 300  # characters of one schema error
_POLICY_KEYS = frozenset(schemas.schema(schemas.POLICY)["properties"])
NOT_A_POLICY = (
    "not a policy file: it does not declare 'apiVersion: auditor/v1' and has keys a policy "
    "does not (its content is not shown); add the apiVersion line if it is a policy"
)


@dataclass(frozen=True)
class Reading:
    """What one pack may read: the folders its includes must stay in, and its budget."""

    roots: tuple[Path, ...]
    budget: Budget

    def allows(self, path: Path) -> bool:
        return within(path, self.roots)

    def describe(self) -> str:
        return "the policy folders (" + ", ".join(str(r) for r in self.roots) + ")"


def within(path: Path, roots: Iterable[Path]) -> bool:
    """Whether ``path``, symbolic links resolved, is inside one of ``roots``."""
    real = path.resolve()
    return any(real.is_relative_to(root.resolve()) for root in roots)


@dataclass
class Merged:
    """The union of a file and its includes, each entry remembering where it was written."""

    top: Source
    scalars: dict[str, tuple[Any, Where]] = field(default_factory=dict)
    maps: dict[str, dict[str, tuple[Any, Where]]] = field(default_factory=dict)
    # (raw, where, file, path, broken by a schema error)
    rules: list[tuple[Any, Where, Source, PathKey, bool]] = field(default_factory=list)
    exceptions: list[tuple[Any, Where, Source, PathKey, bool]] = field(default_factory=list)
    declared: list[tuple[Any, Where, Source, PathKey, bool]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    bad: set[tuple[str, PathKey]] = field(default_factory=set)


def _schema_issues(src: Source) -> tuple[list[PolicyIssue], set[PathKey]]:
    issues: list[PolicyIssue] = []
    bad: set[PathKey] = set()
    validator = schemas.validator(schemas.POLICY)
    for error in validator.iter_errors(src.data):
        path: PathKey = tuple(error.absolute_path)
        rule = _rule_id_at(src.data, path)
        where = src.where(path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            extra = sorted(set(error.instance) - set(known))
            if extra:
                where = src.where((*path, extra[0]))
        label = "declared flow" if path[:1] == ("declared_flows",) else "rule"
        issues.append(
            PolicyIssue(where, _clip(_schema_message(error)), rule, _path_text(path), label)
        )
        # Remember the broken element (a rule, an exception, an entry) to skip it later.
        bad.add(path[:2])
    return issues, bad


def _rule_id_at(data: Any, path: PathKey) -> str | None:
    if len(path) >= 2 and path[0] in LIST_SECTIONS and isinstance(path[1], int):
        try:
            value = data[path[0]][path[1]].get("id")
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
        return value if isinstance(value, str) else None
    return None


def _path_text(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _clip(message: str) -> str:
    # The schema's messages quote the value at fault, which may be a whole list or mapping.
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def _schema_message(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = (
            sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        )
        hints = [f"unknown key '{key}'{suggest(key, allowed)}" for key in extra]
        if hints:
            return "; ".join(hints)
    if error.validator == "required":
        return f"{error.message}; add it"
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = min(error.context, key=lambda e: len(e.path))
        return best.message
    if error.validator == "enum":
        return f"{error.instance!r} is not allowed; use one of: " + ", ".join(
            map(str, schema.get("enum", []))
        )
    if error.validator == "pattern":
        return f"{error.instance!r} is not well-formed (expected pattern {error.validator_value})"
    return error.message


def _collect(
    path: Path,
    shown: str,
    merged: Merged | None,
    stack: list[Path],
    issues: list[PolicyIssue],
    at: Where | None,
    reading: Reading,
) -> Merged | None:
    real = path.resolve()
    if real in stack:
        issues.append(PolicyIssue(at or Where(shown), f"include cycle: {shown} includes itself"))
        return merged
    src = read_source(path, shown, reading.budget)
    if isinstance(src, PolicyIssue):
        if at is not None:
            src = PolicyIssue(at, f"include '{shown}': {src.message}")
        issues.append(src)
        return merged
    if not isinstance(src.data, dict):
        issues.append(PolicyIssue(Where(shown, 1), "a policy file must be a YAML mapping"))
        return merged
    if not _is_policy(src.data):
        # Its keys and values may be anything (a password file): none of it is repeated.
        issues.append(PolicyIssue(Where(shown, 1), NOT_A_POLICY))
        return merged
    schema_issues, bad = _schema_issues(src)
    issues.extend(schema_issues)
    if merged is None:
        merged = Merged(top=src)
    includes = src.data.get("include") if isinstance(src.data.get("include"), list) else []
    for i, inc in enumerate(includes or []):
        if not isinstance(inc, str):
            continue
        child = path.parent / inc
        child_shown = str(Path(shown).parent / inc)
        where = src.where(("include", i))
        if not reading.allows(child):
            issues.append(PolicyIssue(where, f"include '{inc}' is outside {reading.describe()}: "
                                      "move it there, or name its folder with --policy-root"))
            continue
        _collect(child, child_shown, merged, [*stack, real], issues, where, reading)
    _merge(merged, src, bad)
    return merged


def _is_policy(data: dict[str, Any]) -> bool:
    """A file of ours: it says so, or every top-level key is a policy key."""
    if data.get("apiVersion") == API_VERSION:
        return True
    return "apiVersion" not in data and set(data) <= set(_POLICY_KEYS)


def _merge(merged: Merged, src: Source, bad: set[PathKey]) -> None:
    merged.files.append(src.file)
    data = src.data
    for key in (
        "id",
        "title",
        "version",
        "description",
        "company",
        "limits",
        "sources",
        "transfers",
    ):
        if key in data and (key,) not in bad:
            merged.scalars[key] = (data[key], src.where((key,)))
    for section in MAP_SECTIONS:
        entries = data.get(section)
        if not isinstance(entries, dict):
            continue
        target = merged.maps.setdefault(section, {})
        for name, value in entries.items():
            if (section, name) in bad:
                merged.bad.add((section, (name,)))
            # A later file (the includer) redefines an included entry on purpose.
            target[name] = (value, src.where((section, name)))
    for section, out in (("rules", merged.rules), ("exceptions", merged.exceptions),
                         ("declared_flows", merged.declared)):
        items = data.get(section)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, dict):
                out.append((item, src.where((section, i)), src, (section, i), (section, i) in bad))


def load_policy(
    path: str | Path, *, roots: Iterable[Path] = (), limits: PolicyLimits = LIMITS
) -> Policy:
    """Load and check the policy at ``path`` with its includes.

    Includes must resolve (symbolic links followed) inside the folder of ``path`` or one
    of ``roots``. The pack as a whole is held to ``limits``.

    Raises PolicyError listing every problem found (file, line, rule, what to change);
    a policy is either wholly loaded or not at all.
    """
    path = Path(path)
    issues: list[PolicyIssue] = []
    reading = Reading(
        roots=tuple(dict.fromkeys([path.resolve().parent, *(r.resolve() for r in roots)])),
        budget=Budget(limits),
    )
    merged = _collect(path, str(path), None, [], issues, None, reading)
    if merged is None:
        raise PolicyError(issues)
    policy = build_policy(merged, issues)
    if issues or policy is None:
        raise PolicyError(issues or [PolicyIssue(Where(str(path)), "policy could not be built")])
    return policy
