"""A Source over a list, for stream tests."""

from __future__ import annotations

import time
from collections import deque

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

    def lag(self) -> dict[tuple[str, int], int]:
        return {("lineage.events", 0): len(self.records)}

    def close(self) -> None:
        self.closed = True
