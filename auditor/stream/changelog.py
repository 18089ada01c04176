"""Reading a partition of the memory's changelog topic back, to restore its store."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from auditor import kafka_config


class RestoreFailed(RuntimeError):
    """A changelog partition could not be read to its end."""


def read_partition(
    client_config: Mapping[str, Any],
    topic: str,
    partition: int,
    *,
    timeout_s: float = 60.0,
    fetch_max_wait_ms: int | None = None,
) -> Iterator[tuple[bytes | None, bytes | None]]:
    """(key, value) of every record of ``topic[partition]``, oldest first, up to its end.

    The end is the high watermark when the read starts: the partition's previous owner
    flushed its changes before committing the input offsets this worker resumes from, so
    everything it needs is below that mark. A consumer of its own (no group, nothing
    committed) reads it.
    """
    consumer = Consumer(kafka_config.restore_consumer(client_config,
                                                      fetch_max_wait_ms=fetch_max_wait_ms))
    try:
        try:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout_s
            )
        except KafkaException as exc:
            raise RestoreFailed(f"{topic}[{partition}]: end offset unknown: {exc}") from exc
        if high <= low:
            return
        consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.5):
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        return
                    if err.fatal():
                        raise RestoreFailed(f"{topic}[{partition}]: {err.str()}")
                    continue
                yield msg.key(), msg.value()
                if (msg.offset() or 0) + 1 >= high:
                    return
        raise RestoreFailed(f"{topic}[{partition}]: not read to offset {high} in {timeout_s:g} s")
    finally:
        consumer.close()
