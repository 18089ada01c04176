"""Input records from Kafka: a confluent-kafka consumer in a consumer group, in batches.

Why not Faust's stream: on this project's benchmark (bench/README.md) Faust's per-record
path (aiokafka fetcher, conductor, stream iteration, one asyncio hand-off per message)
cost ~14 times the decision itself; librdkafka fetches and queues in its own threads and
hands over a whole batch in one call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from auditor import kafka_config
from auditor.kafka_logs import kafka_log
from auditor.stream.health import Health
from auditor.stream.lag import BrokerLag
from auditor.stream.pipeline import Headers, normalise_headers
from auditor.stream.settings import Settings
from auditor.stream.sink import Commit

log = logging.getLogger("auditor.worker")

# Called from inside ``take`` when partitions (numbers) are assigned or taken away.
Rebalance = Callable[[list[int]], None]
# Errors that mean no broker answers (a restart, a network cut): readiness shows them.
UNREACHABLE = frozenset({KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT,
                         KafkaError._RESOLVE})


class SourceError(RuntimeError):
    """The consumer hit an error it cannot recover from (e.g. authentication)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One input record."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    key: bytes | None
    value: bytes | None
    headers: Headers


def to_record(msg: Message) -> Record:
    kind, stamp = msg.timestamp()
    return Record(
        msg.topic() or "",
        msg.partition() or 0,
        msg.offset() or 0,
        stamp if kind else None,
        msg.key(),
        msg.value(),
        normalise_headers(msg.headers()),
    )


class KafkaSource:
    """The worker's input: ``take`` a batch, ``done`` once its outputs are delivered.

    Every call must come from one thread at a time (the worker runs them in a dedicated
    one); the rebalance callbacks run inside ``take``, between two batches, so a batch is
    never split by a rebalance.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        on_assign: Rebalance | None = None,
        on_revoke: Rebalance | None = None,
        health: Health | None = None,
        repartition_topic: str | None = None,
    ) -> None:
        # With re-keying, the repartition topic is read too (auditor.stream.rekey).
        self.topics = [*settings.input_topics, *([repartition_topic] if repartition_topic else [])]
        self.settings = settings
        self.health = health or Health()
        self._fatal: KafkaError | None = None
        # librdkafka reports "no broker answers" through error_cb only (from inside take).
        self.consumer = Consumer({
            **kafka_config.worker_consumer(settings, co_partitioned=repartition_topic is not None),
            "error_cb": self._error})
        self._on_assign = on_assign
        self._on_revoke = on_revoke
        # What the group gave this worker, for the lag thread (never the consumer's own
        # state, which only the consumer thread touches).
        self._lock = threading.Lock()
        self._assignment: set[tuple[str, int]] = set()
        # Assigned partitions whose first fetch has not returned (readiness waits for it).
        self._unfetched: set[tuple[str, int]] = set()
        self._lag: BrokerLag | None = None
        self.consumer.subscribe(self.topics, on_assign=self._assigned,
                                on_revoke=self._revoked, on_lost=self._revoked)

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("assigned %s", _names(partitions))
        with self._lock:
            self._assignment.update((tp.topic, tp.partition) for tp in partitions)
        # Before on_assign marks them assigned: readiness never shows them unfetched as ready.
        self._unfetched.update((tp.topic, tp.partition) for tp in partitions)
        self.health.fetching((tp.topic, tp.partition) for tp in partitions)
        if self._on_assign is not None:
            self._on_assign(sorted({tp.partition for tp in partitions}))

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("revoked %s", _names(partitions))
        with self._lock:
            self._assignment.difference_update((tp.topic, tp.partition) for tp in partitions)
        self._unfetched.difference_update((tp.topic, tp.partition) for tp in partitions)
        if self._on_revoke is not None:
            self._on_revoke(sorted({tp.partition for tp in partitions}))

    def take(self, max_records: int, within_s: float) -> list[Record]:
        """Up to ``max_records`` records, or what arrived within ``within_s`` (blocking)."""
        records = []
        if self._fatal is not None:
            raise SourceError(f"Kafka consumer: {self._fatal.str()}")
        messages = self.consumer.consume(max_records, within_s)
        if self._unfetched:
            self._first_fetches(messages)
        for msg in messages:
            err = msg.error()
            if err is None:
                records.append(to_record(msg))
            elif err.fatal():
                raise SourceError(f"Kafka consumer: {err.str()}")
            elif err.code() != KafkaError._PARTITION_EOF:
                self._error(err)
        if records:
            self.health.kafka_working("consumer")
        return records

    def _first_fetches(self, messages: list[Message]) -> None:
        # A record or a partition's end (enable.partition.eof) both say a fetch returned.
        for msg in messages:
            tp = (msg.topic() or "", msg.partition() or 0)
            if tp in self._unfetched:
                self._unfetched.discard(tp)
                self.health.fetched(tp)

    def _error(self, err: KafkaError) -> None:
        if err.fatal():
            self._fatal = err
        if err.code() in UNREACHABLE:
            self.health.kafka_failing("consumer", err.str())
        kafka_log().warning("Kafka consumer: %s", err.str())  # rate-limited

    def commit_point(self, records: Iterable[Record]) -> Commit:
        """What a transaction commits for ``records``: each partition's next offset, with
        the group's current metadata."""
        return Commit(self._next_offsets(records), self.consumer.consumer_group_metadata())

    @staticmethod
    def _next_offsets(records: Iterable[Record]) -> list[TopicPartition]:
        last: dict[tuple[str, int], int] = {}
        for rec in records:
            last[(rec.topic, rec.partition)] = rec.offset
        return [TopicPartition(topic, partition, offset + 1)
                for (topic, partition), offset in last.items()]

    def done(self, records: Iterable[Record]) -> None:
        """Mark ``records`` processed: their offsets are committed with the next commit
        (at least once; exactly once commits them in the batch's transaction instead)."""
        offsets = self._next_offsets(records)
        if not offsets or self.settings.processing_guarantee == "exactly_once":
            return
        try:
            self.consumer.store_offsets(offsets=offsets)
        except KafkaException as exc:  # a partition revoked meanwhile: its next owner redoes it
            log.warning("offsets not stored: %s", exc)

    def lag(self) -> dict[tuple[str, int], int]:
        """The lag of each assigned input partition, asked of the broker (the group's
        committed offset against the high watermark) with a client of its own: called
        from the lag thread, it never waits for the batch loop, nor the loop for it."""
        with self._lock:
            assigned = set(self._assignment)
        if self._lag is None:
            self._lag = BrokerLag(kafka_config.connection(self.settings), self.settings.group_id)
        lags = self._lag.measure(assigned)
        if assigned:
            self.health.kafka_working("consumer")  # a broker answered
        return lags

    def close(self) -> None:
        """Commit what was stored and leave the group (its partitions move at once)."""
        self.consumer.close()
        if self._lag is not None:
            self._lag.close()


def _names(partitions: Iterable[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"


def partitions_of(metadata: Mapping[str, Any], topics: Iterable[str]) -> int:
    """The largest partition count among ``topics`` in a ``list_topics().topics`` map."""
    counts = [len(metadata[t].partitions) for t in topics if t in metadata]
    return max(counts, default=1)
