"""Rule kinds as a registry: each kind one module declaring its parameters, its check, its
memory hook and how it explains itself (auditor.rules.kinds)."""

from auditor.rules.base import Check, MemoryHook, ParamContext, RuleKind
from auditor.rules.registry import (
    ENGINE_FINDING_KINDS,
    deadline_hooks,
    finding_kinds,
    kind_names,
    rule_kinds,
)

__all__ = [
    "ENGINE_FINDING_KINDS",
    "Check",
    "MemoryHook",
    "ParamContext",
    "RuleKind",
    "deadline_hooks",
    "finding_kinds",
    "kind_names",
    "rule_kinds",
]
