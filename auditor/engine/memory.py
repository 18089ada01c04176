"""The memory of rules that remember: event-time watermark, deadline index, kind hooks.

The logic is pure: it reads and writes a small key-value ``Store`` (a dict in ``auditor
check``, replay and suites, a changelog-backed store per partition in the worker) and is
driven by event time only. What a kind remembers is its hook's business (auditor.rules.
kinds); here live the watermark and the index of what falls due when.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from auditor.engine.decision import Finding
from auditor.engine.trace import Trace
from auditor.memory import DAY, MemoryKey, Overdue, Seen, Store
from auditor.policy.model import Rule
from auditor.rules import MemoryHook, RuleKind

HOUR = 3_600.0
# Deadlines are indexed by the hour they fall due, spread over a few shards so that no
# single index entry grows large (each is rewritten, and sent to the changelog, on change).
SHARDS = 64
# Entries not touched for this long are forgotten, so memory stays bounded.
DEFAULT_MEMORY_DAYS = 400
WATERMARK = "wm"
NEXT = "next"


@dataclass(frozen=True, slots=True)
class Due:
    """A deadline that passed unmet: its rule and what was not done."""

    rule: Rule
    overdue: Overdue


class _Memo:
    """The Memo a hook works with (auditor.memory.Memo); one, re-aimed for each call."""

    __slots__ = ("_store", "memory", "rule", "trace", "ttl")

    def __init__(self, memory: Memory, ttl: float) -> None:
        self.memory = memory
        self.ttl = ttl
        self._store: Store | None = None
        self.trace: Trace | None = None
        self.rule: Rule | None = None

    @property
    def store(self) -> Store:
        assert self._store is not None, "a hook runs only inside Memory.judge"
        return self._store

    @property
    def tracing(self) -> bool:
        return self.trace is not None

    def schedule(self, key: str, due: float) -> None:
        self.memory.schedule(self.store, key, due)

    def note(self, text: str) -> None:
        if self.trace is not None and self.rule is not None:
            self.trace.rule("note", self.rule, text)


class Memory:
    """Judges one policy's rules that remember against a Store, and fires their deadlines."""

    def __init__(
        self,
        kinds: Mapping[str, RuleKind],
        rules: Mapping[str, Rule],
        memory_days: int = DEFAULT_MEMORY_DAYS,
    ) -> None:
        self.kinds = kinds
        self.rules = rules
        self.ttl = memory_days * DAY
        self.deadline_hooks: dict[str, MemoryHook] = {}
        for kind in kinds.values():
            if kind.memory is not None:
                for tag in kind.memory.deadline_tags:
                    self.deadline_hooks[tag] = kind.memory
        self._memo = _Memo(self, self.ttl)

    # -- per event ---------------------------------------------------------------
    def judge(
        self, rules: tuple[Rule, ...], seen: Seen, store: Store, trace: Trace | None = None
    ) -> list[Finding]:
        """Findings of the remembering ``rules`` that apply to this event; updates the store.

        Call ``advance`` with the event's time first, so deadlines that passed fire before
        the event can meet them.
        """
        memo = self._memo
        memo._store = store
        memo.trace = trace
        findings: list[Finding] = []
        for rule in rules:
            hook = self.kinds[rule.kind].memory
            assert hook is not None
            memo.rule = rule
            for hit in hook.judge(rule, seen, memo):
                effect = hit.effect or rule.effect
                findings.append(Finding(rule.id, rule.kind, rule.severity, effect, hit.message))
                if trace is not None:
                    trace.rule(effect, rule, hit.message)
        memo._store = memo.trace = memo.rule = None
        return findings

    # -- deadlines ---------------------------------------------------------------
    def schedule(self, store: Store, key: str, due: float) -> None:
        """Look at ``key`` again once the watermark passes ``due``."""
        hour = int(due // HOUR)
        mark = store.get(WATERMARK)
        if mark is not None and hour <= int(mark // HOUR):
            # Due this hour (or, for a late event, already behind the watermark): remember
            # the earliest such time, so advance() looks at the buckets only when needed.
            hour = int(mark // HOUR)
            earliest = store.get(NEXT)
            if earliest is None or due < earliest:
                store.put(NEXT, due)
        bucket = f"due|{hour}|{zlib.crc32(key.encode()) % SHARDS}"
        keys = store.get(bucket)
        if keys is None:
            store.put(bucket, [key])
        elif key not in keys:
            keys.append(key)
            store.put(bucket, keys)

    def advance(self, store: Store, at: float) -> list[Due]:
        """Move the store's event-time watermark to ``at``; the deadlines that passed unmet.

        A deadline passes when the watermark goes beyond it (an event exactly at the
        deadline still meets it). Late events never move the watermark back.
        """
        mark = store.get(WATERMARK)
        if mark is not None and at <= mark:
            return []
        store.put(WATERMARK, at)
        hour = int(at // HOUR)
        if mark is not None and int(mark // HOUR) == hour:
            earliest = store.get(NEXT)
            if earliest is None or earliest >= at:
                return []  # the common case: nothing falls due within this hour yet
        start = int(mark // HOUR) if mark is not None else hour
        passed: list[Due] = []
        earliest_left: float | None = None
        buckets = (f"due|{h}|{shard}" for h in range(start, hour + 1) for shard in range(SHARDS))
        for bucket in buckets:
            keys = store.get(bucket)
            if not keys:
                continue
            left = []
            for key in keys:
                result = self._fire(store, key, at)
                if isinstance(result, float):  # not yet
                    if int(result // HOUR) > hour:  # re-stored since: file it under its hour
                        self.schedule(store, key, result)
                        continue
                    left.append(key)
                    if earliest_left is None or result < earliest_left:
                        earliest_left = result
                elif result is not None:
                    passed.append(result)
            if left:
                store.put(bucket, left)
            else:
                store.delete(bucket)
        if earliest_left is None:
            store.delete(NEXT)
        else:
            store.put(NEXT, earliest_left)
        return passed

    def _fire(self, store: Store, text: str, at: float) -> Due | float | None:
        """``text``'s deadline if it passed unmet; when it falls due if not yet; else None."""
        entry = store.get(text)
        if entry is None:  # met: the entry was cleared
            return None
        key = MemoryKey.parse(text)
        hook = self.deadline_hooks.get(key.tag)
        if hook is None:  # memory that expires unless it was touched since
            if entry["until"] >= at:
                if int(entry["until"] // HOUR) <= int(at // HOUR):
                    return float(entry["until"])  # later this hour: stays in this bucket
                self.schedule(store, text, entry["until"])
                return None
            store.delete(text)
            return None
        rule = self.rules.get(key.parts[0]) if key.parts else None
        if rule is None:  # the rule is gone from the policy: so is its deadline
            store.delete(text)
            return None
        if entry["due"] >= at:
            return float(entry["due"])
        store.delete(text)
        overdue = hook.fire(rule, key, entry)
        return Due(rule, overdue) if overdue is not None else None
