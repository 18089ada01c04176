"""The deadline index: what to look at again when, found without walking empty time.

Entries are filed by the hour they fall due, in a few shards per hour so that no index
entry grows large (each is rewritten, and sent to the changelog, when it changes):
``dl|<hour>|<shard>`` maps a memory key to ``[domain, due]`` (who filed it, and for when).
A sparse calendar says which hours hold anything: ``cal`` lists the days, ``cal|<day>``
maps each hour of that day to its shards. Finding the next hour to look at costs a
lookup per day that holds entries, never one per hour of the gap, so an event dated
9999 costs what the memory holds, not what the calendar spans.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Any

from auditor.memory.store import Store

SHARDS = 64
DAYS = "cal"
HOURS_PER_DAY = 24

# A reference in a bucket: [the domain that filed it (None: before domains), its due].
Ref = list[Any]


def shard_of(key: str) -> int:
    return zlib.crc32(key.encode()) % SHARDS


def bucket_key(hour: int, shard: int) -> str:
    return f"dl|{hour}|{shard}"


def _day_key(day: int) -> str:
    return f"{DAYS}|{day}"


def file(store: Store, key: str, hour: int, ref: Ref) -> None:
    """File ``key`` under ``hour`` (replacing any reference it had in that bucket)."""
    shard = shard_of(key)
    name = bucket_key(hour, shard)
    bucket = store.get(name)
    if bucket is None:
        store.put(name, {key: ref})
        _register(store, hour, shard)
    elif bucket.get(key) != ref:
        bucket[key] = ref
        store.put(name, bucket)


def buckets(store: Store, first: int | None, last: int) -> Iterator[tuple[int, int]]:
    """(hour, shard) of every non-empty bucket with ``first <= hour <= last`` (None: from
    the earliest), in order. Buckets filed during the walk at later hours are seen too."""
    hour = first
    while True:
        found = _next_hour(store, hour, last)
        if found is None:
            return
        hours = store.get(_day_key(found // HOURS_PER_DAY)) or {}
        for shard in list(hours.get(str(found), ())):
            yield found, shard
        hour = found + 1


def put_bucket(store: Store, hour: int, shard: int, bucket: dict[str, Ref]) -> None:
    """Write a bucket back after a walk; an empty one leaves the calendar."""
    name = bucket_key(hour, shard)
    if bucket:
        store.put(name, bucket)
        return
    store.delete(name)
    day = hour // HOURS_PER_DAY
    hours = store.get(_day_key(day))
    if hours is None:
        return
    shards = hours.get(str(hour), [])
    if shard in shards:
        shards.remove(shard)
    if shards:
        store.put(_day_key(day), hours)
        return
    hours.pop(str(hour), None)
    if hours:
        store.put(_day_key(day), hours)
        return
    store.delete(_day_key(day))
    days = store.get(DAYS) or []
    if day in days:
        days.remove(day)
        store.put(DAYS, days)


def _register(store: Store, hour: int, shard: int) -> None:
    day = hour // HOURS_PER_DAY
    hours = store.get(_day_key(day))
    if hours is None:
        days = store.get(DAYS) or []
        insort(days, day)
        store.put(DAYS, days)
        hours = {}
    shards = hours.setdefault(str(hour), [])
    if shard not in shards:
        insort(shards, shard)
        store.put(_day_key(day), hours)


def _next_hour(store: Store, hour: int | None, last: int) -> int | None:
    """The first hour ``>= hour`` and ``<= last`` that holds a bucket."""
    days = store.get(DAYS)
    if not days:
        return None
    start = 0 if hour is None else bisect_left(days, hour // HOURS_PER_DAY)
    for day in days[start:]:
        if day * HOURS_PER_DAY > last:
            return None
        hours = store.get(_day_key(day)) or {}
        candidates = [h for h in map(int, hours) if (hour is None or h >= hour) and h <= last]
        if candidates:
            return min(candidates)
    return None
