"""The record batches a broker holds for a topic, read from the broker's own Fetch answers.

librdkafka hands over records, never the record batches they came in, so this asks the
broker directly: a Fetch request (version 4, the plain wire format every broker since
Kafka 0.11 and the embedded Tansu answer) per partition, from offset 0 to the end, and
reads only the header of each record batch the broker returns — its base offset and
its record count — without decompressing anything. What it reports is what the broker
stores and serves, whatever the producer meant to write.
"""

from __future__ import annotations

import logging
import socket
import statistics
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka.admin import AdminClient

from auditor import kafka_config

_log = logging.getLogger("bench.layout")
FETCH = 1
FETCH_VERSION = 4
# Tansu answers a Fetch with max_wait_ms 0 with no partitions at all (a quirk: Apache Kafka
# answers at once with what it has), so the reader waits a little.
FETCH_WAIT_MS = 10
# Header of a record batch up to and including its record count (magic 2).
_BATCH_HEADER = struct.Struct(">qiibIhiqqqhii")


class LayoutError(RuntimeError):
    """The broker's answer could not be read as Fetch v4 with record batches (magic 2)."""


@dataclass
class Layout:
    """How many records each record batch of a topic holds, over all its partitions."""

    records: int = 0
    batches: int = 0
    sizes: Counter[int] = field(default_factory=Counter)
    bytes: int = 0
    compressed: Counter[str] = field(default_factory=Counter)

    def add(self, count: int, length: int, codec: str) -> None:
        self.records += count
        self.batches += 1
        self.sizes[count] += 1
        self.bytes += length
        self.compressed[codec] += 1

    @classmethod
    def merge(cls, layouts: list[Layout]) -> Layout:
        out = cls()
        for one in layouts:
            out.records += one.records
            out.batches += one.batches
            out.sizes.update(one.sizes)
            out.bytes += one.bytes
            out.compressed.update(one.compressed)
        return out

    def as_json(self) -> dict[str, Any]:
        values = sorted(self.sizes.elements())
        return {
            "records": self.records,
            "batches": self.batches,
            "records_per_batch": {
                "mean": round(self.records / self.batches, 1) if self.batches else None,
                "median": statistics.median(values) if values else None,
                "min": values[0] if values else None,
                "max": values[-1] if values else None,
                # The five most common batch sizes: records -> batches.
                "most_common": [[size, n] for size, n in self.sizes.most_common(5)],
            },
            "bytes_per_batch": round(self.bytes / self.batches) if self.batches else None,
            "codecs": dict(self.compressed),
        }


_CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise LayoutError("answer cut short")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values[0] if len(values) == 1 else values

    def string(self) -> str:
        length = self.take(">h")
        raw = self.data[self.pos:self.pos + max(length, 0)]
        self.pos += max(length, 0)
        return raw.decode()

    def bytes(self) -> bytes | None:
        length = self.take(">i")
        if length < 0:
            return None
        raw = self.data[self.pos:self.pos + length]
        self.pos += length
        return raw


class _Connection:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.correlation = 0

    def fetch(self, topic: str, partition: int, offset: int, max_bytes: int) -> bytes:
        """One Fetch v4; returns the partition's records bytes (empty at the end)."""
        self.correlation += 1
        body = (
            struct.pack(">hhi", FETCH, FETCH_VERSION, self.correlation) + _string("bench-layout")
            + struct.pack(">iiiib", -1, FETCH_WAIT_MS, 1, max_bytes, 0)
            + struct.pack(">i", 1) + _string(topic)
            + struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, max_bytes)
        )
        self.sock.sendall(struct.pack(">i", len(body)) + body)
        answer = _Reader(self._receive())
        if answer.take(">i") != self.correlation:
            raise LayoutError("answer to another request")
        answer.take(">i")  # throttle time
        for _ in range(answer.take(">i")):
            answer.string()
            for _ in range(answer.take(">i")):
                got, error = answer.take(">ih")
                answer.take(">qq")  # high watermark, last stable offset
                aborted = answer.take(">i")
                for _ in range(max(aborted, 0)):
                    answer.take(">qq")
                records = answer.bytes()
                if got == partition:
                    if error:
                        raise LayoutError(f"{topic}[{partition}]: Kafka error code {error}")
                    return records or b""
        return b""

    def _receive(self) -> bytes:
        size = struct.unpack(">i", self._exactly(4))[0]
        return self._exactly(size)

    def _exactly(self, size: int) -> bytes:
        chunks = []
        while size:
            chunk = self.sock.recv(min(size, 1 << 20))
            if not chunk:
                raise LayoutError("connection closed")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()


def _leaders(bootstrap: str, topic: str) -> dict[int, tuple[str, int]]:
    admin = AdminClient(kafka_config.admin(bootstrap, None, logger=_log))
    meta = admin.list_topics(topic, timeout=10)
    brokers = {b.id: (str(b.host), int(b.port)) for b in meta.brokers.values()}
    return {p: brokers[info.leader] for p, info in meta.topics[topic].partitions.items()}


def topic_layout(bootstrap: str, topic: str, *, max_bytes: int = 4 << 20,
                 timeout: float = 30.0) -> Layout:
    """Every record batch of ``topic`` as the broker serves it, from offset 0 to the end."""
    layout = Layout()
    connections: dict[tuple[str, int], _Connection] = {}
    try:
        for partition, leader in sorted(_leaders(bootstrap, topic).items()):
            conn = connections.get(leader)
            if conn is None:
                conn = connections[leader] = _Connection(*leader, timeout)
            offset = 0
            while True:
                data = conn.fetch(topic, partition, offset, max_bytes)
                end = _batches(data, layout)
                if end is None:
                    break
                offset = end
    finally:
        for conn in connections.values():
            conn.close()
    return layout


def _batches(data: bytes, layout: Layout) -> int | None:
    """Add the whole batches in ``data`` to ``layout``; the offset after them (None: none)."""
    pos, end = 0, None
    while pos + 12 <= len(data):
        base, length = struct.unpack_from(">qi", data, pos)
        if pos + 12 + length > len(data):
            break  # a batch cut at max_bytes: fetched again from its start
        (_, _, _, magic, _, attributes, last_delta, _, _, _, _, _,
         count) = _BATCH_HEADER.unpack_from(data, pos)
        if magic != 2:
            raise LayoutError(f"record batch of magic {magic} (only 2 is read)")
        layout.add(count, 12 + length, _CODECS.get(attributes & 7, "?"))
        end = base + last_delta + 1
        pos += 12 + length
    return end
