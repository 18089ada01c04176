"""Home region: a tenant's home region never changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.memory import Memo, MemoryKey, Overdue, Seen, key_text
from auditor.policy.model import Rule
from auditor.rules.base import Check, RuleKind


class FirstRegion:
    """Remembers the first home region seen per tenant (shared by every such rule)."""

    deadline_tags: frozenset[str] = frozenset()

    def wants(self, rule: Rule) -> bool:
        return True

    def judge(self, rule: Rule, seen: Seen, memo: Memo) -> Iterator[Check]:
        if seen.tenant is None or seen.home_region is None:
            if memo.tracing:
                memo.note("no tenant or home region on this event")
            return
        key = key_text("hr", seen.tenant)
        first = memo.store.get(key)
        if first is None:
            memo.store.put(key, {"region": seen.home_region, "since": seen.at,
                                 "event": seen.event_id})
            if memo.tracing:
                memo.note(f"first home region of tenant {seen.tenant}: {seen.home_region}")
            return
        if first["region"] != seen.home_region:
            yield Check(
                True,
                f"tenant {seen.tenant} has home region {seen.home_region}; it "
                f"was {first['region']} (event {first['event']}), and a home region "
                "cannot be changed",
            )
        elif memo.tracing:
            memo.note(f"tenant {seen.tenant} keeps home region {first['region']} "
                      f"(first seen in event {first['event']})")

    def fire(self, rule: Rule, key: MemoryKey, entry: Any) -> Overdue | None:
        return None

    def describe(self, rule: Rule) -> str:
        return "compares the tenant's home region with the first one seen"


KIND = RuleKind(
    name="home_region",
    rank=90,
    summary="a tenant's `home_region` differs from the first one seen "
    "([rules that remember](stateful-rules.md))",
    params_doc="none",
    params_schema={"type": "object", "additionalProperties": False, "maxProperties": 0},
    params_required=False,
    memory=FirstRegion(),
)
