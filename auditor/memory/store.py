"""Where the memory of rules that remember lives: a key-value store, one per stream."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any, Protocol


class Store(Protocol):
    """What the memory needs of its storage: JSON-able values by string key."""

    def get(self, key: str) -> Any: ...
    def put(self, key: str, value: Any) -> None: ...
    def delete(self, key: str) -> None: ...


class Stores(Protocol):
    """The stores of a run, one per input stream (a Kafka partition; 0 for files)."""

    def store(self, stream: int) -> Store: ...
    def streams(self) -> Iterable[int]: ...


class DictStore:
    """A Store in a plain dict (``auditor check``, replay, suites, tests)."""

    def __init__(self, data: MutableMapping[str, Any] | None = None) -> None:
        self.data: MutableMapping[str, Any] = {} if data is None else data

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def keys(self) -> Iterable[str]:
        return self.data.keys()


class DictStores:
    """A DictStore per stream, made on first use."""

    def __init__(self) -> None:
        self.by_stream: dict[int, DictStore] = {}

    def store(self, stream: int) -> DictStore:
        store = self.by_stream.get(stream)
        if store is None:
            store = self.by_stream[stream] = DictStore()
        return store

    def streams(self) -> Iterable[int]:
        return sorted(self.by_stream)
