"""Rules that need memory: home regions, erasure requests, retention deadlines, derogation use.

The logic is pure: it reads and writes a small key-value ``Store`` (a dict in ``auditor
check`` and replay, a changelog-backed Faust table in the worker) and is driven by event
time only. Deadlines fire when the store's event-time watermark passes them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from auditor.engine.decision import Finding
from auditor.engine.facts import PAST
from auditor.policy.model import Rule

DAY = 86_400.0
HOUR = 3_600.0
# Deadlines are indexed by the hour they fall due, spread over a few shards so that no
# single index entry grows large (each is rewritten, and sent to the changelog, on change).
SHARDS = 64
USE_OPERATIONS = frozenset({"store", "process", "transfer", "access"})
CLEAR_OPERATIONS = frozenset({"delete", "anonymize"})
# Entries not touched for this long are forgotten, so memory stays bounded.
DEFAULT_MEMORY_DAYS = 400


class Store(Protocol):
    """What the memory needs of its storage: JSON-able values by string key."""

    def get(self, key: str) -> Any: ...
    def put(self, key: str, value: Any) -> None: ...
    def delete(self, key: str) -> None: ...


class DictStore:
    """A Store in a plain dict (``auditor check``, replay, tests)."""

    def __init__(self, data: MutableMapping[str, Any] | None = None) -> None:
        self.data: MutableMapping[str, Any] = {} if data is None else data

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


@dataclass(frozen=True, slots=True)
class Seen:
    """The per-event facts the memory needs beyond the flow's (cached) outcome."""

    event_id: str
    at: float
    tenant: str | None
    home_region: str | None
    subject: str | None
    system: str | None
    operation: str
    data_class: str
    destination: str
    destination_country: str | None
    processor: str
    derogation: str | None
    retention_days: int | None


@dataclass(frozen=True, slots=True)
class Due:
    """A deadline that passed: the finding (None when it was met) and what it was about."""

    key: str
    rule: str
    finding: Finding | None
    due: float
    opened_by: str
    subject: str | None


def seen_of(
    obj: dict[str, Any],
    event_id: str,
    at: float,
    flow: tuple[Any, ...],
    tenant: str | None,
    processor: str,
    country: str | None,
) -> Seen:
    """Seen facts of a valid event (``obj`` passed validation, so the shapes hold)."""
    subject = obj.get("subject")
    return Seen(
        event_id=event_id,
        at=at,
        tenant=tenant,
        home_region=flow[12],
        subject=subject["key"] if subject else None,
        system=obj["destination"].get("system"),
        operation=flow[1],
        data_class=flow[0],
        destination=flow[3],
        destination_country=country,
        processor=processor,
        derogation=flow[14],
        retention_days=flow[8],
    )


def _finding(rule: Rule, message: str, effect: str | None = None) -> Finding:
    return Finding(rule.id, rule.kind, rule.severity, effect or rule.effect, message)


class Memory:
    """Evaluates the stateful rules of one policy against a Store."""

    def __init__(self, memory_days: int = DEFAULT_MEMORY_DAYS) -> None:
        self.ttl = memory_days * DAY

    # -- per event ---------------------------------------------------------------
    def judge(self, rules: tuple[Rule, ...], seen: Seen, store: Store) -> list[Finding]:
        """Findings of the stateful ``rules`` that apply to this event; updates the store.

        Call ``advance`` with the event's time first, so deadlines that passed fire before
        the event can meet them.
        """
        findings: list[Finding] = []
        for rule in rules:
            if rule.kind == "home_region":
                findings.extend(self._home_region(rule, seen, store))
            elif rule.kind == "erasure":
                findings.extend(self._erasure(rule, seen, store))
            elif rule.kind == "retention":
                self._retention(rule, seen, store)
            elif rule.kind == "transfer":
                findings.extend(self._derogations(rule, seen, store))
        return findings

    def _home_region(self, rule: Rule, seen: Seen, store: Store) -> Iterator[Finding]:
        if seen.tenant is None or seen.home_region is None:
            return
        key = f"hr|{seen.tenant}"
        first = store.get(key)
        if first is None:
            store.put(key, {"region": seen.home_region, "since": seen.at, "event": seen.event_id})
            return
        if first["region"] != seen.home_region:
            yield _finding(
                rule,
                f"tenant {seen.tenant} has home region {seen.home_region}; it "
                f"was {first['region']} (event {first['event']}), and a home region "
                "cannot be changed",
            )

    def _erasure(self, rule: Rule, seen: Seen, store: Store) -> Iterator[Finding]:
        if seen.subject is None:
            return
        places_key = f"st|-|{seen.subject}"
        request_key = f"er|{rule.id}|{seen.subject}"
        deadline_key = f"ed|{rule.id}|{seen.subject}"
        place = seen.system or seen.destination
        places = store.get(places_key)
        if seen.operation == "erasure_request":
            if store.get(request_key) is None:
                store.put(
                    request_key,
                    {"at": seen.at, "event": seen.event_id, "until": seen.at + self.ttl},
                )
                self._schedule(store, request_key, seen.at + self.ttl)
                pending = sorted(places["places"]) if places else []
                if pending:
                    due = seen.at + rule.params["deadline_days"] * DAY
                    store.put(
                        deadline_key, {"due": due, "event": seen.event_id, "pending": pending}
                    )
                    self._schedule(store, deadline_key, due)
            return
        if seen.operation in CLEAR_OPERATIONS:
            deadline = store.get(deadline_key)
            if deadline is not None and place in deadline["pending"]:
                deadline["pending"].remove(place)
                store.put(deadline_key, deadline)
            if places is not None and place in places["places"]:
                places["places"].remove(place)
                store.put(places_key, places)
            return
        if seen.operation == "store":
            # Every store of a subject the auditor has seen: what an erasure must delete.
            if places is None:
                places = {"places": [], "until": 0.0}
                self._schedule(store, places_key, seen.at + self.ttl)
            if place not in places["places"]:
                places["places"].append(place)
            places["until"] = seen.at + self.ttl
            store.put(places_key, places)
        request = store.get(request_key)
        if request is not None and seen.operation in USE_OPERATIONS:
            yield _finding(
                rule,
                f"{seen.data_class} of subject {seen.subject} "
                f"{PAST[seen.operation]} after its erasure request (event "
                f"{request['event']})",
            )

    def _retention(self, rule: Rule, seen: Seen, store: Store) -> None:
        if not rule.params.get("track_deletion"):
            return
        owner = seen.subject or seen.system
        if owner is None:
            return
        key = f"rt|{rule.id}|{owner}|{seen.destination}"
        if seen.operation in CLEAR_OPERATIONS:
            store.delete(key)
            return
        days = seen.retention_days
        # 0 days means not kept at all (runtime handling): there is no copy to delete later.
        if seen.operation == "store" and days:
            due = seen.at + days * DAY
            store.put(
                key,
                {
                    "due": due,
                    "event": seen.event_id,
                    "subject": owner,
                    "class": seen.data_class,
                    "place": seen.destination,
                },
            )
            self._schedule(store, key, due)

    def _derogations(self, rule: Rule, seen: Seen, store: Store) -> Iterator[Finding]:
        limit = rule.params.get("derogation_limit")
        if limit is None or seen.derogation is None:
            return
        key = f"dg|{rule.id}|{seen.data_class}|{seen.destination_country}|{seen.processor}"
        window = limit["window_days"] * DAY
        times = [t for t in (store.get(key) or []) if t > seen.at - window]
        times.append(seen.at)
        # Keep no more than needed to judge the next event: bounded per combination.
        store.put(key, times[-(limit["max"] + 1) :])
        if len(times) > limit["max"]:
            yield _finding(
                rule,
                f"{len(times)} derogation-based transfers of {seen.data_class} "
                f"to {seen.destination_country} via {seen.processor} within "
                f"{limit['window_days']} days; Art. 49 allows occasional use only "
                f"(limit {limit['max']})",
                effect="warn",
            )

    # -- deadlines ---------------------------------------------------------------
    def _schedule(self, store: Store, key: str, due: float) -> None:
        hour = int(due // HOUR)
        mark = store.get("wm")
        if mark is not None and hour <= int(mark // HOUR):
            # Due this hour (or, for a late event, already behind the watermark): remember
            # the earliest such time, so advance() looks at the buckets only when needed.
            hour = int(mark // HOUR)
            earliest = store.get("next")
            if earliest is None or due < earliest:
                store.put("next", due)
        bucket = f"due|{hour}|{zlib.crc32(key.encode()) % SHARDS}"
        keys = store.get(bucket)
        if keys is None:
            store.put(bucket, [key])
        elif key not in keys:
            keys.append(key)
            store.put(bucket, keys)

    def advance(self, store: Store, at: float, rules: dict[str, Rule]) -> list[Due]:
        """Move the store's event-time watermark to ``at``; the deadlines that passed.

        A deadline passes when the watermark goes beyond it (an event exactly at the
        deadline still meets it). Late events never move the watermark back.
        """
        mark = store.get("wm")
        if mark is not None and at <= mark:
            return []
        store.put("wm", at)
        hour = int(at // HOUR)
        if mark is not None and int(mark // HOUR) == hour:
            earliest = store.get("next")
            if earliest is None or earliest >= at:
                return []  # the common case: nothing falls due within this hour yet
        start = int(mark // HOUR) if mark is not None else hour
        passed: list[Due] = []
        earliest_left: float | None = None
        buckets = (f"due|{hour}|{shard}" for hour in range(start, int(at // HOUR) + 1)
                   for shard in range(SHARDS))
        for bucket in buckets:
            keys = store.get(bucket)
            if not keys:
                continue
            left = []
            for key in keys:
                due = self._fire(store, key, at, rules)
                if isinstance(due, float):  # not yet
                    if int(due // HOUR) > hour:  # re-stored since: file it under its hour
                        self._schedule(store, key, due)
                        continue
                    left.append(key)
                    if earliest_left is None or due < earliest_left:
                        earliest_left = due
                elif due.finding is not None:
                    passed.append(due)
            if left:
                store.put(bucket, left)
            else:
                store.delete(bucket)
        if earliest_left is None:
            store.delete("next")
        else:
            store.put("next", earliest_left)
        return passed

    def _fire(self, store: Store, key: str, at: float, rules: dict[str, Rule]) -> Due | float:
        """The outcome of ``key``'s deadline if it passed; if not yet, when it falls due."""
        entry = store.get(key)
        kind, rule_id, owner = key.split("|")[:3]
        if entry is None:  # met: the entry was cleared
            return Due(key, rule_id, None, 0.0, "", None)
        if kind in ("st", "er"):  # memory that expires unless it was touched since
            if entry["until"] >= at:
                if int(entry["until"] // HOUR) <= int(at // HOUR):
                    return float(entry["until"])  # later this hour: stays in this bucket
                self._schedule(store, key, entry["until"])
                return Due(key, rule_id, None, 0.0, "", None)
            store.delete(key)
            return Due(key, rule_id, None, 0.0, "", None)
        rule = rules.get(rule_id)
        if rule is None:
            store.delete(key)
            return Due(key, rule_id, None, 0.0, "", None)
        if entry["due"] >= at:
            return float(entry["due"])
        store.delete(key)
        if kind == "ed":
            if not entry["pending"]:
                return Due(key, rule_id, None, entry["due"], entry["event"], owner)
            message = (
                f"erasure request for subject {owner} (event {entry['event']}) not "
                f"completed within {rule.params['deadline_days']} days: not deleted or "
                f"anonymised in {', '.join(entry['pending'])}"
            )
        else:
            message = (
                f"{entry['class']} of {owner} stored in {entry['place']} (event "
                f"{entry['event']}) not deleted or anonymised by its retention deadline"
            )
        return Due(key, rule_id, _finding(rule, message), entry["due"], entry["event"], owner)
