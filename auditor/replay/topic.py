"""Reading a topic's window: offsets looked up once, records filtered by timestamp, no commits."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    OFFSET_END,
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from auditor import kafka_config
from auditor.replay.records import Record, SourceError
from auditor.replay.window import Window
from auditor.stream.pipeline import normalise_headers

GROUP_ID = "auditor-replay"
# Errors no retry will cure: the replay stops with the broker's reason.
_PERMANENT = frozenset({
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError._UNKNOWN_TOPIC,
    KafkaError._UNKNOWN_PARTITION,
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.SASL_AUTHENTICATION_FAILED,
    KafkaError._AUTHENTICATION,
    KafkaError._SSL,
})
_log = logging.getLogger("auditor.replay")
# librdkafka's connection errors would print through logging's last-resort handler; a
# failure reaches the user once, as a SourceError with the reason.
_log.addHandler(logging.NullHandler())


@dataclass
class PartitionPlan:
    """One partition's offsets, fixed when the replay starts, and what reading it found."""

    partition: int
    low: int
    high: int  # the end offset the broker reported at the start
    start: int  # first offset read
    end: int  # offset it stops before: the end seen at the start (or --end-offset)
    records_read: int = 0
    in_window: int = 0
    first_offset: int | None = None  # first and last offsets inside the window
    last_offset: int | None = None
    last_read: int | None = None

    def scope(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "start_offset": self.start,
            "end_offset": self.end,
            "reported_end_offset": self.high,
            "records_read": self.records_read,
            "records_in_window": self.in_window,
            "first_offset": self.first_offset,
            "last_offset": self.last_offset,
        }


class TopicSource:
    """The records of one topic inside a Window, partition by partition in offset order.

    Start offsets come from ``offsets_for_times(window start - grace)`` (and
    ``--start-offset``); end offsets are fixed by ``plan()``, so a live topic still gives a
    finite run and a re-run with the same plan reads the same records. ``plan()`` does not
    trust the end offset the broker reports: it reads on from there to the end the
    consumer sees (the partition-EOF event), which costs one empty fetch on Apache Kafka;
    a broker that under-reports (the embedded one does for multi-record batches) is
    caught, and the report shows both figures. Record timestamps are filtered client-side
    (CreateTime is not monotonic), so reading goes on to the end offset rather than
    stopping at the first late timestamp.
    The consumer never joins its group and commits nothing.
    """

    kind = "topic"
    unit = "records"

    def __init__(
        self,
        topic: str,
        window: Window,
        client_config: Mapping[str, Any],
        *,
        filter_time: bool = True,
        group_id: str = GROUP_ID,
        timeout_s: float = 30.0,
        fetch_wait_ms: int | None = None,
        offsets: Mapping[int, tuple[int, int]] | None = None,
    ) -> None:
        """``offsets``: partition -> (start, end) as a report recorded them, read instead of
        looking offsets up, so that verifying a report reads exactly what it read."""
        self.topic = topic
        self.offsets = dict(offsets) if offsets is not None else None
        self.window = window
        self.filter_time = filter_time
        self.timeout_s = timeout_s
        self.bootstrap = str(client_config.get("bootstrap.servers", ""))
        self._config = kafka_config.replay_consumer(client_config, group_id=group_id,
                                                    fetch_wait_ms=fetch_wait_ms, logger=_log)
        self._consumer: Consumer | None = None
        self.partitions: list[PartitionPlan] = []
        self.outside_window = 0

    # -- planning -------------------------------------------------------------
    def plan(self) -> list[PartitionPlan]:
        """Look up the offsets of every selected partition; raises SourceError."""
        consumer = self._open()
        try:
            meta = consumer.list_topics(timeout=self.timeout_s)
        except KafkaException as exc:
            raise SourceError(f"Kafka at {self.bootstrap} did not answer: {_why(exc)}") from exc
        info = meta.topics.get(self.topic)
        if info is None or info.error is not None:
            raise SourceError(f"topic {self.topic!r} does not exist on {self.bootstrap}")
        available = sorted(info.partitions)
        wanted = list(self.window.partitions or available)
        if self.offsets is not None:
            wanted = sorted(self.offsets)
        missing = [p for p in wanted if p not in info.partitions]
        if missing:
            raise SourceError(
                f"topic {self.topic!r} has partitions {_span(available)}; "
                f"no partition {', '.join(map(str, missing))}"
            )
        starts = {} if self.offsets is not None else self._time_offsets(consumer, wanted)
        self.partitions = []
        for p in wanted:
            try:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p), timeout=self.timeout_s
                )
            except KafkaException as exc:
                raise SourceError(
                    f"{self.topic}[{p}]: cannot read the end offset: {_why(exc)}"
                ) from exc
            if self.offsets is not None:
                self.partitions.append(self._recorded(p, low, high))
                continue
            start = max(low, self.window.start_offset or 0)
            looked_up = starts.get(p)
            if looked_up is not None:
                # OFFSET_END: no record at or after the seek time, so nothing in the window.
                start = max(start, high if looked_up == OFFSET_END else looked_up)
            seen = self._end_seen(consumer, p, high)
            end = seen if self.window.end_offset is None else min(seen, self.window.end_offset)
            self.partitions.append(PartitionPlan(p, low, high, min(start, end), end))
        return self.partitions

    def _end_seen(self, consumer: Consumer, partition: int, reported: int) -> int:
        """Where ``partition`` ends as a consumer sees it, reading on from ``reported``."""
        consumer.assign([TopicPartition(self.topic, partition, reported)])
        end = reported
        deadline = time.monotonic() + self.timeout_s
        try:
            while time.monotonic() < deadline:
                for msg in consumer.consume(num_messages=500, timeout=0.5):
                    err = msg.error()
                    if err is None:
                        end = max(end, (msg.offset() or 0) + 1)
                    elif err.code() == KafkaError._PARTITION_EOF:
                        return max(end, msg.offset() or 0)
                    elif err.fatal() or err.code() in _PERMANENT:
                        raise SourceError(f"{self.topic}[{partition}]: {err.str()}")
            raise SourceError(f"{self.topic}[{partition}]: its end was not reached in "
                              f"{self.timeout_s:g} s from offset {reported}; is the broker up?")
        finally:
            consumer.unassign()

    def _recorded(self, partition: int, low: int, high: int) -> PartitionPlan:
        assert self.offsets is not None
        start, end = self.offsets[partition]
        if start < end and (start < low or end > high):
            raise SourceError(
                f"{self.topic}[{partition}]: offsets {start}-{end} are no longer all on the "
                f"broker (it now holds {low}-{high}, retention or a recreated topic)"
            )
        return PartitionPlan(partition, low, high, start, end)

    def _time_offsets(self, consumer: Consumer, partitions: list[int]) -> dict[int, int]:
        seek = self.window.seek_ms
        if seek is None:
            return {}
        query = [TopicPartition(self.topic, p, seek) for p in partitions]
        try:
            found = consumer.offsets_for_times(query, timeout=self.timeout_s)
        except KafkaException as exc:
            raise SourceError(
                f"{self.topic}: offsets_for_times failed: {_why(exc)}"
            ) from exc
        out = {}
        for tp in found:
            if tp.error is not None:
                raise SourceError(f"{self.topic}[{tp.partition}]: offsets_for_times: {tp.error}")
            out[tp.partition] = tp.offset
        return out

    @property
    def total(self) -> int:
        return sum(p.end - p.start for p in self.partitions)

    # -- reading --------------------------------------------------------------
    def records(self) -> Iterator[Record]:
        """Records inside the window, partition by partition, each in offset order."""
        if not self.partitions:
            self.plan()
        consumer = self._open()
        for plan in self.partitions:
            if plan.start >= plan.end:
                continue
            yield from self._partition(consumer, plan)

    def _partition(self, consumer: Consumer, plan: PartitionPlan) -> Iterator[Record]:
        consumer.assign([TopicPartition(self.topic, plan.partition, plan.start)])
        last_progress = time.monotonic()
        try:
            while True:
                batch = consumer.consume(num_messages=500, timeout=0.5)
                for msg in batch:
                    err = msg.error()
                    if err is not None:
                        if err.fatal() or err.code() in _PERMANENT:
                            raise SourceError(f"{self.topic}[{plan.partition}]: {err.str()}")
                        if err.code() == KafkaError._PARTITION_EOF and (
                            msg.partition() == plan.partition
                        ):
                            return  # the end: offsets may have gaps (compaction, markers)
                        continue  # transient (a broker reconnecting): bounded by the timeout
                    offset = msg.offset()
                    if msg.partition() != plan.partition or offset is None:
                        continue
                    if offset >= plan.end:
                        return
                    last_progress = time.monotonic()
                    record = self._keep(msg, plan, offset)
                    if record is not None:
                        yield record
                    if offset >= plan.end - 1:
                        return
                if time.monotonic() - last_progress > self.timeout_s:
                    at = plan.start if plan.last_read is None else plan.last_read + 1
                    raise SourceError(
                        f"{self.topic}[{plan.partition}]: no record for {self.timeout_s:g} s "
                        f"at offset {at}, reading up to {plan.end}; is the broker up?"
                    )
        finally:
            consumer.unassign()

    def _keep(self, msg: Message, plan: PartitionPlan, offset: int) -> Record | None:
        """Count a record; the Record if it is inside the window."""
        plan.records_read += 1
        plan.last_read = offset
        kind, stamp = msg.timestamp()
        timestamp = None if kind == TIMESTAMP_NOT_AVAILABLE else stamp
        if self.filter_time and not self.window.contains(timestamp):
            self.outside_window += 1
            return None
        plan.in_window += 1
        if plan.first_offset is None:
            plan.first_offset = offset
        plan.last_offset = offset
        headers = tuple(normalise_headers(msg.headers()))
        return Record(msg.value() or b"", plan.partition, offset, headers, 1, timestamp)

    def sources(self) -> list[dict[str, Any]]:
        """The report's description of what was read."""
        return [
            {
                "kind": "topic",
                "topic": self.topic,
                "partitions": [p.scope() for p in self.partitions],
            }
        ]

    @property
    def records_read(self) -> int:
        return sum(p.records_read for p in self.partitions)

    def _open(self) -> Consumer:
        if self._consumer is None:
            try:
                self._consumer = Consumer(self._config)
            except KafkaException as exc:
                raise SourceError(f"Kafka client configuration: {_why(exc)}") from exc
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def __enter__(self) -> TopicSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _why(exc: KafkaException) -> str:
    err = exc.args[0] if exc.args else None
    if isinstance(err, KafkaError):
        return f"{err.name()}: {err.str()}"
    return str(exc)


def _span(partitions: list[int]) -> str:
    if partitions == list(range(len(partitions))) and partitions:
        return f"0-{partitions[-1]}"
    return ", ".join(map(str, partitions))
