"""In-memory twins of the worker's Kafka input: a topic log with committed offsets."""

from __future__ import annotations

import time
from collections import deque

from auditor.stream.sink import Commit
from auditor.stream.source import Record


class ListSource:
    """A Source over a list: what take() hands out, what done() was told."""

    def __init__(self, records: list[Record]) -> None:
        self.records = deque(records)
        self.done_offsets: list[int] = []
        self.closed = False

    def take(self, max_records: int, within_s: float) -> list[Record]:
        out = [self.records.popleft() for _ in range(min(max_records, len(self.records)))]
        if not out:
            time.sleep(min(within_s, 0.01))
        return out

    def done(self, records: list[Record]) -> None:
        self.done_offsets.extend(r.offset for r in records)

    def commit_point(self, records: list[Record]) -> Commit:
        return Commit([], None)

    def lag(self) -> dict[tuple[str, int], int]:
        return {("lineage.events", 0): len(self.records)}

    def close(self) -> None:
        self.closed = True


class MemoryLog:
    """A topic's partitions as lists, and each group's committed offsets."""

    def __init__(self, topic: str, partitions: int = 1) -> None:
        self.topic = topic
        self.partitions: list[list[Record]] = [[] for _ in range(partitions)]
        self.committed: dict[tuple[str, int], int] = {}

    def append(self, partition: int, key: bytes | None, value: bytes | None,
               headers: list[tuple[str, bytes]]) -> None:
        log = self.partitions[partition]
        log.append(Record(self.topic, partition, len(log), None, key, value, list(headers)))


class MemorySource:
    """The twin of KafkaSource on a MemoryLog: resumes after what its group committed;
    ``done`` offsets are committed when it closes (as librdkafka commits stored offsets)."""

    def __init__(self, log: MemoryLog, group: str) -> None:
        self.log = log
        self.group = group
        self.position = {p: log.committed.get((group, p), 0) for p in range(len(log.partitions))}
        self.stored: dict[int, int] = {}

    def take(self, max_records: int, within_s: float) -> list[Record]:
        out: list[Record] = []
        for partition, log in enumerate(self.log.partitions):
            while self.position[partition] < len(log) and len(out) < max_records:
                out.append(log[self.position[partition]])
                self.position[partition] += 1
        if not out:
            time.sleep(min(within_s, 0.01))
        return out

    def done(self, records: list[Record]) -> None:
        for rec in records:
            self.stored[rec.partition] = max(self.stored.get(rec.partition, 0), rec.offset + 1)

    def commit_point(self, records: list[Record]) -> Commit:
        return Commit([], self.group)

    def lag(self) -> dict[tuple[str, int], int]:
        return {(self.log.topic, p): len(log) - self.position[p]
                for p, log in enumerate(self.log.partitions)}

    def close(self) -> None:
        for partition, offset in self.stored.items():
            self.log.committed[(self.group, partition)] = offset
