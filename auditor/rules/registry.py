"""The rule kinds, found as the modules of ``auditor.rules.kinds`` (one module, one kind)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import auditor.rules.kinds as _kinds_package
from auditor.rules.base import MemoryHook, RuleKind

# Finding kinds the engine itself reports; no rule has them.
ENGINE_FINDING_KINDS: tuple[str, ...] = ("unknown_reference", "schema")


@cache
def rule_kinds() -> dict[str, RuleKind]:
    """Every rule kind by name, in ``rank`` order."""
    found: list[RuleKind] = []
    for info in pkgutil.iter_modules(_kinds_package.__path__):
        module = importlib.import_module(f"{_kinds_package.__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if not isinstance(kind, RuleKind):
            raise TypeError(f"auditor.rules.kinds.{info.name} declares no KIND = RuleKind(...)")
        if kind.name != info.name:
            raise TypeError(f"auditor.rules.kinds.{info.name} declares kind {kind.name!r}; "
                            "a kind's module is named after it")
        found.append(kind)
    return {k.name: k for k in sorted(found, key=lambda k: (k.rank, k.name))}


def kind_names() -> tuple[str, ...]:
    """The rule kinds a policy may use."""
    return tuple(rule_kinds())


def finding_kinds() -> tuple[str, ...]:
    """Every ``kind`` a decision's finding can have (spec §2)."""
    return (*rule_kinds(), *ENGINE_FINDING_KINDS)


def deadline_hooks() -> dict[str, MemoryHook]:
    """Memory key tag -> the hook that fires its deadlines."""
    out: dict[str, MemoryHook] = {}
    for kind in rule_kinds().values():
        if kind.memory is not None:
            for tag in kind.memory.deadline_tags:
                out[tag] = kind.memory
    return out
