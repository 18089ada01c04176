"""The memory of stateful rules in the worker: one store per input partition, a changelog.

Each input partition has its own store (its own event-time watermark and deadlines). A
store remembers which keys changed since the last batch; the worker sends each changed key
once per batch, with its last value, to the changelog topic under the same partition
number, before it commits the batch's input offsets. Whoever is assigned the partition
next rebuilds the store from that partition of the changelog (auditor.stream.changelog).

Record format (kept from the Faust table this replaces, so an existing changelog still
restores): key = JSON string ``"<partition>|<store key>"``, value = JSON value, and a
tombstone (no value) for a deleted key. The topic is compacted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from auditor.stream.pipeline import Output

CHANGELOG = "changelog"


def changelog_topic(group_id: str) -> str:
    """The changelog topic of a consumer group's memory."""
    return f"{group_id}-auditor-memory-changelog"


class PartitionStore:
    """A memory ``Store`` of one input partition that records which keys changed."""

    __slots__ = ("data", "dirty", "partition")

    def __init__(self, partition: int, data: dict[str, Any] | None = None) -> None:
        self.partition = partition
        self.data: dict[str, Any] = {} if data is None else data
        # Key -> last value since the last flush (None: deleted).
        self.dirty: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.dirty[key] = value

    def delete(self, key: str) -> None:
        if self.data.pop(key, None) is not None:
            self.dirty[key] = None

    def keys(self) -> Iterable[str]:
        return self.data.keys()


class PartitionMemory:
    """The stores of the partitions this worker holds, and their pending changes (the
    ``Stores`` of the worker's decide loop: stream N is input partition N)."""

    def __init__(self) -> None:
        self.stores: dict[int, PartitionStore] = {}

    def store(self, partition: int) -> PartitionStore:
        """The partition's store (empty if it was never restored: a new partition)."""
        store = self.stores.get(partition)
        if store is None:
            store = self.stores[partition] = PartitionStore(partition)
        return store

    def streams(self) -> Iterable[int]:
        return sorted(self.stores)

    def restore(self, partition: int, records: Iterable[tuple[bytes | None, bytes | None]]) -> int:
        """Rebuild ``partition``'s store from its changelog records, oldest first.

        Returns how many keys it holds. Records of other partitions (by their key prefix)
        and unreadable records are skipped: the memory is advisory state, not input.
        """
        data: dict[str, Any] = {}
        prefix = f"{partition}|"
        for key, value in records:
            try:
                full = orjson.loads(key) if key is not None else None
            except orjson.JSONDecodeError:
                continue
            if not isinstance(full, str) or not full.startswith(prefix):
                continue
            name = full[len(prefix):]
            if value is None:
                data.pop(name, None)
                continue
            try:
                data[name] = orjson.loads(value)
            except orjson.JSONDecodeError:
                continue
        self.stores[partition] = PartitionStore(partition, data)
        return len(data)

    def drop(self, partitions: Iterable[int]) -> None:
        """Forget partitions this worker no longer holds (their changes were flushed)."""
        for partition in partitions:
            self.stores.pop(partition, None)

    def changes(self) -> list[Output]:
        """Changelog records of every key changed since the last call, then forget them."""
        out: list[Output] = []
        for partition, store in self.stores.items():
            if not store.dirty:
                continue
            prefix = f"{partition}|"
            for key, value in store.dirty.items():
                out.append(Output(
                    CHANGELOG,
                    orjson.dumps(prefix + key),
                    None if value is None else orjson.dumps(value),
                    [],
                    partition,
                ))
            store.dirty.clear()
        return out
