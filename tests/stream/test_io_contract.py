"""The in-memory twins of the worker's Kafka input and output pass the shared contract."""

from __future__ import annotations

import uuid

import pytest

from auditor.stream.app import Source
from auditor.stream.pipeline import Output
from auditor.stream.sink import MemorySink, Sink
from tests.contract import Headers, SinkContract, SourceContract
from tests.stream.sources import MemoryLog, MemorySource

pytestmark = [pytest.mark.stream]


class MemoryBackend:
    def __init__(self) -> None:
        self.log = MemoryLog("lineage.events")
        self.group = f"g-{uuid.uuid4().hex[:6]}"
        self.sinks: list[MemorySink] = []

    def produce(self, values: list[bytes], *, key: bytes | None = None,
                headers: Headers | None = None) -> None:
        for value in values:
            self.log.append(0, key, value, headers or [])

    def source(self) -> Source:
        return MemorySource(self.log, self.group)

    def sink(self) -> Sink:
        sink = MemorySink()
        self.sinks.append(sink)
        return sink

    def read(self, kind: str, count: int) -> list[tuple[bytes | None, bytes | None, Headers]]:
        return [(o.key, o.value, o.headers) for s in self.sinks for o in s.records[kind]]

    def break_next_delivery(self, sink: Sink) -> list[Output]:
        assert isinstance(sink, MemorySink)
        sink.fail_next = True
        return [Output("decision", b"k", b"lost", [])]


class TestMemorySource(SourceContract):
    @pytest.fixture(autouse=True)
    def _backend(self) -> None:
        self.backend = MemoryBackend()


class TestMemorySink(SinkContract):
    @pytest.fixture(autouse=True)
    def _backend(self) -> None:
        self.backend = MemoryBackend()
