"""Restoring a changelog partition: it gives up only when it stalls, and says how far it is."""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from auditor.stream.changelog import RestoreFailed, Stall, read_to_end


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Record:
    def __init__(self, offset: int, error: KafkaError | None = None) -> None:
        self._offset, self._error = offset, error

    def error(self) -> KafkaError | None:
        return self._error

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return f"k{self._offset}".encode()

    def value(self) -> bytes:
        return b"1"


class SlowConsumer:
    """A changelog partition of ``high`` records; each consume() takes ``step_s`` on the
    clock and hands out ``per_call`` records (0: a broker that stopped answering)."""

    def __init__(self, clock: Clock, high: int, per_call: int, step_s: float) -> None:
        self.clock, self.high, self.per_call, self.step_s = clock, high, per_call, step_s
        self.next = 0
        self.assigned: list[TopicPartition] = []
        self.script: deque[list[Record]] = deque()

    def get_watermark_offsets(self, partition: TopicPartition,
                              timeout: float) -> tuple[int, int]:
        return 0, self.high

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned = partitions

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        self.clock.now += self.step_s
        if self.script:
            return self.script.popleft()
        out = [Record(o) for o in range(self.next, min(self.next + self.per_call, self.high))]
        self.next += len(out)
        return out

    def close(self) -> None:
        pass


def test_stall_counts_from_the_last_record() -> None:
    clock = Clock()
    stall = Stall(60, clock)
    clock.now += 59
    assert not stall.stalled()
    stall.progressed()
    clock.now += 59
    assert not stall.stalled()  # 118 s since the start, 59 since the last record
    clock.now += 1
    assert stall.stalled()


def test_a_restore_longer_than_the_stall_limit_completes_while_records_arrive(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    # 10,000 records, 100 every 10 s: 1,000 s in all, never 60 s without a record.
    consumer = SlowConsumer(clock, high=10_000, per_call=100, step_s=10)
    with caplog.at_level(logging.INFO, logger="auditor.worker"):
        records = list(read_to_end(consumer, "cl", 3, Stall(60, clock), progress_every_s=300))
    assert len(records) == 10_000
    assert records[0] == (b"k0", b"1")
    assert consumer.assigned[0].partition == 3
    progress = [r.getMessage() for r in caplog.records if "restoring" in r.getMessage()]
    assert 2 <= len(progress) <= 4  # every 300 s of 1,000
    assert progress[0].startswith("memory of partition 3: restoring, ")
    assert progress[0].endswith(" of 10000")


def test_a_restore_that_stalls_gives_up_naming_the_setting_and_how_far_it_got() -> None:
    clock = Clock()
    consumer = SlowConsumer(clock, high=500, per_call=100, step_s=1)
    consumer.script.extend([[Record(o) for o in range(100)]] + [[] for _ in range(200)])
    got: list[tuple[bytes | None, bytes | None]] = []

    def restore() -> None:
        got.extend(read_to_end(consumer, "cl", 0, Stall(60, clock)))

    with pytest.raises(RestoreFailed, match=r"cl\[0\]: no record for 60 s "
                       r"\(AUDITOR_RESTORE_STALL_S\) at offset 100 of 500, 100 records read"):
        restore()
    assert len(got) == 100
    assert clock.now - 1000 < 100  # gave up once stalled, not after 200 empty calls


def test_the_end_of_the_partition_ends_the_restore() -> None:
    clock = Clock()
    consumer = SlowConsumer(clock, high=500, per_call=0, step_s=1)
    eof = KafkaError(KafkaError._PARTITION_EOF)
    consumer.script.append([Record(0), Record(1, error=eof)])
    assert list(read_to_end(consumer, "cl", 0, Stall(60, clock))) == [(b"k0", b"1")]


def test_an_empty_partition_is_not_read() -> None:
    clock = Clock()
    consumer = SlowConsumer(clock, high=0, per_call=100, step_s=1)
    assert list(read_to_end(consumer, "cl", 0, Stall(60, clock))) == []
    assert consumer.assigned == []


class WaitingStall(Stall):
    """A stall whose pauses move the fake clock instead of sleeping."""

    def __init__(self, stall_s: float, clock: Clock) -> None:
        super().__init__(stall_s, clock)
        self.fake = clock

    def wait(self, seconds: float) -> None:
        self.fake.now += seconds


class UnsettledConsumer(SlowConsumer):
    """A cluster that does not know the partition for its first ``unknown`` asks."""

    def __init__(self, clock: Clock, unknown: int, code: int) -> None:
        super().__init__(clock, high=3, per_call=3, step_s=1)
        self.unknown, self.code = unknown, code

    def get_watermark_offsets(self, partition: TopicPartition,
                              timeout: float) -> tuple[int, int]:
        if self.unknown > 0:
            self.unknown -= 1
            raise KafkaException(KafkaError(self.code))
        return 0, self.high


def test_a_partition_the_cluster_does_not_know_yet_is_asked_again() -> None:
    clock = Clock()
    consumer = UnsettledConsumer(clock, unknown=4, code=KafkaError._UNKNOWN_PARTITION)
    records = list(read_to_end(consumer, "cl", 0, WaitingStall(60, clock)))
    assert [k for k, _ in records] == [b"k0", b"k1", b"k2"]
    assert consumer.unknown == 0


def test_a_partition_still_unknown_at_the_stall_limit_fails_the_restore() -> None:
    clock = Clock()
    consumer = UnsettledConsumer(clock, unknown=10_000, code=KafkaError._UNKNOWN_PARTITION)
    with pytest.raises(RestoreFailed, match=r"cl\[0\]: end offset unknown"):
        list(read_to_end(consumer, "cl", 0, WaitingStall(60, clock)))
    assert 60 <= clock.now - 1000 < 61


def test_an_error_that_waiting_cannot_cure_fails_at_once() -> None:
    clock = Clock()
    consumer = UnsettledConsumer(clock, unknown=1, code=KafkaError.TOPIC_AUTHORIZATION_FAILED)
    with pytest.raises(RestoreFailed, match="end offset unknown"):
        list(read_to_end(consumer, "cl", 0, WaitingStall(60, clock)))
    assert clock.now == 1000
