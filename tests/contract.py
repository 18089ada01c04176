"""One contract for the worker's input and output: KafkaSource and KafkaSink on a broker
(tests/integration) and their in-memory twins (tests/stream) pass the same tests."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import pytest

from auditor.stream.app import Source
from auditor.stream.pipeline import Output
from auditor.stream.sink import DeliveryFailed, Sink
from auditor.stream.source import Record

Headers = list[tuple[str, bytes]]


class Backend(Protocol):
    """A test's handle on one backend: its input topic, sources, sink and output topics."""

    def produce(self, values: list[bytes], *, key: bytes | None = None,
                headers: Headers | None = None) -> None:
        """Append records to the input topic (partition 0)."""

    def source(self) -> Source:
        """A new source in the test's consumer group."""

    def sink(self) -> Sink: ...

    def read(self, kind: str, count: int) -> list[tuple[bytes | None, bytes | None, Headers]]:
        """(key, value, headers) of the records of output ``kind``, in order (waits for
        ``count`` of them)."""

    def break_next_delivery(self, sink: Sink) -> list[Output]:
        """Outputs whose delivery through ``sink`` must fail."""


def take_all(source: Source, count: int, timeout_s: float = 30.0) -> list[Record]:
    taken: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(taken) < count and time.monotonic() < deadline:
        taken += source.take(count - len(taken), 0.2)
    return taken


class SourceContract:
    """What the batch loop relies on from any Source."""

    backend: Backend

    def test_records_come_in_order_with_key_value_and_headers(self) -> None:
        self.backend.produce([b"v0", b"v1", b"v2"], key=b"k", headers=[("h", b"1")])
        source = self.backend.source()
        try:
            taken = take_all(source, 3)
        finally:
            source.close()
        assert [r.value for r in taken] == [b"v0", b"v1", b"v2"]
        assert [r.offset for r in taken] == sorted(r.offset for r in taken)
        assert all(r.key == b"k" and ("h", b"1") in r.headers for r in taken)

    def test_take_returns_at_most_what_is_asked(self) -> None:
        self.backend.produce([b"a", b"b", b"c", b"d"])
        source = self.backend.source()
        try:
            first = take_all(source, 1)
            assert len(first) == 1
            assert len(source.take(2, 5.0)) <= 2
        finally:
            source.close()

    def test_a_new_source_resumes_after_what_was_done(self) -> None:
        self.backend.produce([b"e0", b"e1", b"e2", b"e3"])
        source = self.backend.source()
        try:
            taken = take_all(source, 4)
            source.done(taken[:2])
        finally:
            source.close()
        again = self.backend.source()
        try:
            resumed = take_all(again, 2)
        finally:
            again.close()
        assert [r.value for r in resumed] == [b"e2", b"e3"]


class SinkContract:
    """What the batch loop relies on from any Sink."""

    backend: Backend

    def test_outputs_reach_their_topics_with_key_and_headers(self) -> None:
        sink = self.backend.sink()
        try:
            asyncio.run(sink.deliver([
                Output("decision", b"t-1", b'{"d":1}', [("auditor.worker", b"w")]),
                Output("finding", b"t-1", b'{"d":1}', []),
                Output("dead_letter", None, b"{broken", [("reason", b"not_json")]),
            ]))
        finally:
            sink.close()
        ((key, value, headers),) = self.backend.read("decision", 1)
        assert (key, value) == (b"t-1", b'{"d":1}')
        assert ("auditor.worker", b"w") in headers
        assert [v for _k, v, _h in self.backend.read("finding", 1)] == [b'{"d":1}']
        assert [(k, v) for k, v, _h in self.backend.read("dead_letter", 1)] == [(None, b"{broken")]

    def test_a_failed_delivery_raises_and_the_next_one_works(self) -> None:
        sink = self.backend.sink()
        try:
            with pytest.raises(DeliveryFailed):
                asyncio.run(sink.deliver(self.backend.break_next_delivery(sink)))
            asyncio.run(sink.deliver([Output("decision", b"k", b"after", [])]))
        finally:
            sink.close()
        assert [v for _k, v, _h in self.backend.read("decision", 1)] == [b"after"]
