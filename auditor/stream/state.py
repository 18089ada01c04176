"""The memory of stateful rules in the worker: a changelog-backed Faust table per partition."""

from __future__ import annotations

from typing import Any

import faust

TABLE = "auditor-memory"


class TableStore:
    """A memory ``Store`` over one partition of a Faust table.

    Keys are prefixed with the partition, so each partition keeps its own event-time
    watermark and deadlines; every change goes to the table's changelog topic under the
    input record's partition, which is how Faust restores it to whichever worker gets
    that partition after a restart or rebalance.
    """

    def __init__(self, table: Any, partition: int) -> None:
        self.table = table
        self.partition = partition
        self.prefix = f"{partition}|"

    def get(self, key: str) -> Any:
        return self.table.data.get(self.prefix + key)

    def put(self, key: str, value: Any) -> None:
        full = self.prefix + key
        self.table.data[full] = value
        self.table.send_changelog(self.partition, full, value)

    def delete(self, key: str) -> None:
        full = self.prefix + key
        if self.table.data.pop(full, None) is not None:
            self.table.send_changelog(self.partition, full, None)


def memory_table(app: faust.App, partitions: int) -> Any:
    """The table that holds the memory (changelog topic ``<group>-auditor-memory-changelog``)."""
    schema: Any = faust.Schema(key_serializer="json", value_serializer="json")
    return app.Table(TABLE, default=None, partitions=partitions, schema=schema)
