"""Reading a partition of the memory's changelog topic back, to restore its store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from auditor import kafka_config

log = logging.getLogger("auditor.worker")

# A long restore says how far it is this often.
PROGRESS_EVERY_S = 5.0


class RestoreFailed(RuntimeError):
    """A changelog partition could not be read to its end."""


class Stall:
    """How long a read has gone without a record: it gives up only when nothing arrived
    for ``stall_s``, however long the whole read takes (a million keys restore for
    minutes, yet never stall)."""

    def __init__(self, stall_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall_s = stall_s
        self.clock = clock
        self.last = clock()

    def progressed(self) -> None:
        """A record arrived."""
        self.last = self.clock()

    def stalled(self) -> bool:
        """True once nothing arrived for ``stall_s``."""
        return self.clock() - self.last >= self.stall_s

    def wait(self, seconds: float) -> None:
        """Pause before asking again (a fake clock's test advances it instead)."""
        time.sleep(seconds)


class ChangelogConsumer(Protocol):
    """What a restore needs of a confluent-kafka Consumer."""

    def get_watermark_offsets(self, partition: TopicPartition,
                              timeout: float) -> tuple[int, int]: ...
    def assign(self, partitions: list[TopicPartition]) -> None: ...
    def consume(self, num_messages: int, timeout: float) -> list[Any]: ...
    def close(self) -> None: ...


def read_partition(
    client_config: Mapping[str, Any],
    topic: str,
    partition: int,
    *,
    stall_s: float = 60.0,
    fetch_max_wait_ms: int | None = None,
) -> Iterator[tuple[bytes | None, bytes | None]]:
    """(key, value) of every record of ``topic[partition]``, oldest first, up to its end.

    The end is the high watermark when the read starts: the partition's previous owner
    flushed its changes before committing the input offsets this worker resumes from, so
    everything it needs is below that mark. A consumer of its own (no group, nothing
    committed) reads it. Raises RestoreFailed when no record arrived for ``stall_s``.
    """
    consumer = Consumer(kafka_config.restore_consumer(client_config,
                                                      fetch_max_wait_ms=fetch_max_wait_ms))
    try:
        yield from read_to_end(consumer, topic, partition, Stall(stall_s))
    finally:
        consumer.close()


def read_to_end(
    consumer: ChangelogConsumer,
    topic: str,
    partition: int,
    stall: Stall,
    progress_every_s: float = PROGRESS_EVERY_S,
) -> Iterator[tuple[bytes | None, bytes | None]]:
    """``read_partition`` on a given consumer (which it does not close); ``stall`` says
    when to give up, and a line every ``progress_every_s`` says how far it is."""
    low, high = _end_offsets(consumer, topic, partition, stall)
    if high <= low:
        return
    consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
    stall.progressed()  # the clock starts once there is something to wait for
    position, records = low, 0
    reported = stall.clock()
    while not stall.stalled():
        for msg in consumer.consume(1000, 0.5):
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    return
                if err.fatal():
                    raise RestoreFailed(f"{topic}[{partition}]: {err.str()}")
                continue
            stall.progressed()
            records += 1
            position = (msg.offset() or 0) + 1
            yield msg.key(), msg.value()
            if position >= high:
                return
        now = stall.clock()
        if now - reported >= progress_every_s:
            reported = now
            log.info("memory of partition %d: restoring, %d records read, offset %d of %d",
                     partition, records, position, high)
    raise RestoreFailed(
        f"{topic}[{partition}]: no record for {stall.stall_s:g} s (AUDITOR_RESTORE_STALL_S) "
        f"at offset {position} of {high}, {records} records read")


# Errors of a cluster still finding itself (a broker just restarted, metadata not yet
# refreshed): the end offset is asked again until the stall limit.
TRANSIENT = frozenset({
    KafkaError._UNKNOWN_PARTITION, KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._TRANSPORT,
    KafkaError._TIMED_OUT, KafkaError._ALL_BROKERS_DOWN, KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION,
})


def _end_offsets(consumer: ChangelogConsumer, topic: str, partition: int,
                 stall: Stall) -> tuple[int, int]:
    while True:
        try:
            return consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=min(stall.stall_s, 5.0))
        except KafkaException as exc:
            err = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
            if err is None or err.code() not in TRANSIENT or stall.stalled():
                raise RestoreFailed(f"{topic}[{partition}]: end offset unknown: {exc}") from exc
            log.info("memory of partition %d: end offset not known yet (%s); asking again",
                     partition, err.str())
            stall.wait(0.5)
