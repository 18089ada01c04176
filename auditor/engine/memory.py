"""The memory of rules that remember: the stream's clocks, the deadline index, kind hooks.

The logic is pure: it reads and writes a small key-value ``Store`` (a dict in ``auditor
check``, replay and suites, a changelog-backed store per partition in the worker) and is
driven by event time only. What a kind remembers is its hook's business (auditor.rules.
kinds); here the stream's clocks (auditor.memory.clock: a time per domain, so one tenant's
clock never closes another's deadlines) decide when what the index holds
(auditor.memory.calendar) falls due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.engine.decision import Finding
from auditor.engine.trace import Trace
from auditor.memory import DAY, MemoryKey, Overdue, Seen, Store
from auditor.memory import calendar as index
from auditor.memory.clock import CLOCK, HOUR, LEGACY, Clock, domain_of, hour_of
from auditor.policy.model import Rule
from auditor.rules import MemoryHook, RuleKind

# Entries not touched for this long are forgotten, so memory stays bounded.
DEFAULT_MEMORY_DAYS = 400
# Keys of the memory format before time domains (one watermark per store): a changelog
# written by an older worker holds them; ``upgrade`` turns them into the current ones.
LEGACY_WATERMARK = "wm"
LEGACY_NEXT = "next"
LEGACY_BUCKET = "due|"


class MemoryFormatError(RuntimeError):
    """A store holds memory in a format this version cannot read."""


@dataclass(frozen=True, slots=True)
class Due:
    """A deadline that passed unmet: its rule and what was not done."""

    rule: Rule
    overdue: Overdue


class _Memo:
    """The Memo a hook works with (auditor.memory.Memo); one, re-aimed for each call."""

    __slots__ = ("_store", "domain", "memory", "rule", "trace", "ttl")

    def __init__(self, memory: Memory, ttl: float) -> None:
        self.memory = memory
        self.ttl = ttl
        self._store: Store | None = None
        self.trace: Trace | None = None
        self.rule: Rule | None = None
        self.domain = ""

    @property
    def store(self) -> Store:
        assert self._store is not None, "a hook runs only inside Memory.judge"
        return self._store

    @property
    def tracing(self) -> bool:
        return self.trace is not None

    def schedule(self, key: str, due: float) -> None:
        self.memory.schedule(self.store, key, due, self.domain)

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
        memo.domain = domain_of(seen.tenant, seen.subject)
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
    def schedule(self, store: Store, key: str, due: float, domain: str) -> None:
        """Look at ``key`` again once time passes ``due`` for ``domain`` (auditor.memory.
        clock says when that is)."""
        clock = self._clock(store)
        self._file(store, clock, key, due, domain)
        store.put(CLOCK, clock.data)

    def _file(self, store: Store, clock: Clock, key: str, due: float,
              domain: str | None) -> None:
        hour = hour_of(due)
        floor = clock.floor(domain)
        if floor is not None and hour < floor:
            hour = floor  # already behind its clock: looked at when that clock moves next
        index.file(store, key, hour, [domain, due])
        # Due within the clocks' current hours: remember the earliest, so an event within
        # the same hour looks at the index only when something there may have passed.
        lead, consensus = clock.lead, clock.consensus
        if consensus is not None and hour <= hour_of(consensus):
            clock.next_c = due if clock.next_c is None else min(clock.next_c, due)
        if lead is not None and hour <= hour_of(lead):
            clock.next_l = due if clock.next_l is None else min(clock.next_l, due)

    def advance(self, store: Store, at: float, domain: str) -> list[Due]:
        """``domain`` reached event time ``at``: the deadlines that passed unmet.

        A deadline passes when time goes beyond it (an event exactly at the deadline still
        meets it) — the consensus of the stream's domains, or its own domain's time if that
        domain leads. Late events never move time back. The cost does not depend on how far
        time moves: only hours that hold entries are looked at.
        """
        # The hot path: one read and one write of the store when no hour is crossed.
        value = store.get(CLOCK)
        clock = self._clock(store) if value is None else Clock(value)
        top = clock.top
        lead = top[0][1] if top else None
        consensus = top[1][1] if len(top) > 1 else None
        if not clock.see(domain, at):
            return []
        passed: list[Due] = []
        new_lead = top[0][1]
        new_consensus = top[1][1] if len(top) > 1 else None
        data = clock.data
        if new_consensus is not None and (
            consensus is None or new_consensus // HOUR != consensus // HOUR
            or (data["nc"] is not None and data["nc"] < new_consensus)
        ):
            start = None if consensus is None else hour_of(consensus)
            self._walk(store, clock, start, hour_of(new_consensus), passed)
        if lead is None or (new_lead > lead and (
            new_lead // HOUR != lead // HOUR
            or (data["nl"] is not None and data["nl"] < new_lead)
        )):
            start = None if lead is None else hour_of(lead)
            self._walk(store, clock, start, hour_of(new_lead), passed)
        store.put(CLOCK, data)
        return passed

    def close(self, store: Store, now: float) -> list[Due]:
        """Everything still open that falls due before ``now``, whoever's it is (``auditor
        check --now``: the end of the input). The stream's clocks do not move."""
        clock = self._clock(store)
        before = repr(clock.data)
        closing = Clock.of(("", now), ("", now))
        passed: list[Due] = []
        for hour, shard in index.buckets(store, None, hour_of(now)):
            self._bucket(store, closing, hour, shard, passed, refile=clock)
        if repr(clock.data) != before:
            store.put(CLOCK, clock.data)
        return passed

    def _walk(self, store: Store, clock: Clock, first: int | None, last: int,
              passed: list[Due]) -> None:
        """Fire what passed in the hours ``first..last``; recompute the clocks' next times
        for the hours looked at."""
        earliest: dict[int, float] = {}
        for hour, shard in index.buckets(store, first, last):
            left = self._bucket(store, clock, hour, shard, passed)
            if left is not None and (hour not in earliest or left < earliest[hour]):
                earliest[hour] = left
        lead, consensus = clock.lead, clock.consensus
        if consensus is not None and _within(hour_of(consensus), first, last):
            clock.next_c = earliest.get(hour_of(consensus))
        if lead is not None and _within(hour_of(lead), first, last):
            clock.next_l = earliest.get(hour_of(lead))

    def _bucket(self, store: Store, clock: Clock, hour: int, shard: int, passed: list[Due],
                refile: Clock | None = None) -> float | None:
        """Fire what passed in one bucket; the earliest due of what stays in it."""
        bucket: dict[str, Any] = store.get(index.bucket_key(hour, shard)) or {}
        earliest: float | None = None
        changed = False
        for key, (domain, filed) in list(bucket.items()):
            result = self._fire(store, key, domain, filed, clock)
            if isinstance(result, float):  # not yet
                if hour_of(result) > hour:  # its time moved on since: file it under it
                    del bucket[key]
                    changed = True
                    self._file(store, refile or clock, key, result, domain)
                    continue
                if result != filed:
                    bucket[key] = [domain, result]
                    changed = True
                if earliest is None or result < earliest:
                    earliest = result
                continue
            del bucket[key]
            changed = True
            if result is not None:
                passed.append(result)
        if changed:
            index.put_bucket(store, hour, shard, bucket)
        return earliest

    def _fire(self, store: Store, text: str, domain: str | None, filed: float | None,
              clock: Clock) -> Due | float | None:
        """``text``'s deadline if it passed unmet; its due if not yet; else None (met,
        forgotten, or filed again by someone else: this reference is spent)."""
        entry = store.get(text)
        if entry is None:  # met: the entry was cleared
            return None
        key = MemoryKey.parse(text)
        hook = self.deadline_hooks.get(key.tag)
        if hook is None:  # memory that expires unless it was touched since
            until = float(entry["until"])
            if not clock.passes(until, domain):
                return until
            store.delete(text)
            return None
        rule = self.rules.get(key.parts[0]) if key.parts else None
        if rule is None:  # the rule is gone from the policy: so is its deadline
            store.delete(text)
            return None
        due = float(entry["due"])
        if filed is not None and due != filed:
            return None  # opened again since, with its own reference
        if not clock.passes(due, domain):
            return due
        store.delete(text)
        overdue = hook.fire(rule, key, entry)
        return Due(rule, overdue) if overdue is not None else None

    # -- the store's clocks, and memory from before domains -------------------------
    def _clock(self, store: Store) -> Clock:
        value = store.get(CLOCK)
        if value is not None:
            return Clock(value)
        if store.get(LEGACY_WATERMARK) is not None:
            keys = getattr(store, "keys", None)
            if keys is None:
                raise MemoryFormatError(
                    "memory written before time domains (one watermark per store) in a "
                    "store that cannot list its keys: it cannot be upgraded")
            return self.upgrade(store, list(keys()))
        return Clock()

    def upgrade(self, store: Store, keys: Iterable[str]) -> Clock:
        """Turn memory of the format before time domains into the current one.

        Its watermark becomes the time of a stand-in domain (so the consensus starts where
        that watermark was); what its index held keeps no domain, so the leader's time
        closes it as the one watermark did. Returns the store's clock.
        """
        mark = float(store.get(LEGACY_WATERMARK))
        clock = Clock.of((LEGACY, mark))
        buckets = sorted(k for k in keys if k.startswith(LEGACY_BUCKET))
        for name in buckets:
            for key in store.get(name) or []:
                entry = store.get(key)
                if isinstance(entry, dict):
                    due = entry.get("due", entry.get("until"))
                    if isinstance(due, int | float):
                        self._file(store, clock, key, float(due), None)
            store.delete(name)
        store.delete(LEGACY_WATERMARK)
        store.delete(LEGACY_NEXT)
        store.put(CLOCK, clock.data)
        return clock


def _within(hour: int, first: int | None, last: int) -> bool:
    """Is ``hour`` among those a walk from ``first`` (None: the earliest) to ``last`` saw?"""
    return (first is None or first <= hour) and hour <= last
