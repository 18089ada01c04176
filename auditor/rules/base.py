"""What a rule kind is: its parameters, its check, its memory hook, and how it reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from auditor.memory import Memo, MemoryKey, Overdue, Seen
from auditor.policy.model import Rule
from auditor.rules.facts import Facts, Places


class Check(NamedTuple):
    """The outcome of a rule on a flow (or, from memory, on an event).

    ``message`` is the finding's text when ``violated``, else why the rule is satisfied
    (``auditor explain`` shows both). ``effect`` None means the rule's own effect.
    """

    violated: bool
    message: str
    effect: str | None = None


class ParamContext(Protocol):
    """What the policy loader offers a kind to check the names its parameters use."""

    def error(self, message: str, path: str) -> None: ...
    def pattern(self, pattern: str, path: str) -> None:
        """A location pattern (zone:, site:, country:, a cloud region, home_region)."""

    def known(self, what: str, name: str, path: str) -> bool:
        """``name`` is defined in the policy section ``what`` (purpose, tenant setting, …)."""

    def country(self, code: str, path: str) -> None: ...
    def setting_type(self, name: str) -> str | None:
        """The type of a defined tenant setting, else None."""


class MemoryHook(Protocol):
    """The part of a kind judged against earlier events (docs/stateful-rules.md)."""

    # Memory key tags whose entries this hook fires when their deadline passes.
    deadline_tags: frozenset[str]

    def wants(self, rule: Rule) -> bool:
        """True if ``rule`` (given its parameters) needs memory."""

    def judge(self, rule: Rule, seen: Seen, memo: Memo) -> Iterable[Check]:
        """Update memory with one event; the violations it shows (``violated`` True)."""

    def fire(self, rule: Rule, key: MemoryKey, entry: Any) -> Overdue | None:
        """A deadline of ``key`` passed: what was not done in time, or None if met."""

    def describe(self, rule: Rule) -> str:
        """What this rule remembers, for ``auditor explain``."""


CheckFn = Callable[[Rule, Facts, Places], Check]
ParamsFn = Callable[[ParamContext, Mapping[str, Any]], None]


def _no_params(ctx: ParamContext, params: Mapping[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class RuleKind:
    """One kind of rule, declared once: everything else (the policy schema's enums and
    parameter schemas, the kinds a finding can have, the docs table) is derived from it.

    ``check`` is the stateless check of a flow (None: judged from memory only);
    ``params_schema`` the JSON Schema of its ``params``; ``check_params`` checks the names
    they use against the policy (the schema checks their shape).
    """

    name: str
    rank: int  # order in generated lists and the docs table
    summary: str  # "violated when …", for the docs table
    params_doc: str  # the parameters, for the docs table
    params_schema: Mapping[str, Any]
    params_required: bool
    check: CheckFn | None = None
    check_params: ParamsFn = _no_params
    memory: MemoryHook | None = None
    memory_doc: str = ""  # parameters that make it remember, for the docs

    def needs_memory(self, rule: Rule) -> bool:
        return self.memory is not None and self.memory.wants(rule)
