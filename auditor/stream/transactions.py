"""Exactly once: a batch's outputs, its memory changes and its input offsets in one Kafka
transaction (consume -> produce -> offsets, as Kafka Streams' exactly-once v2 does).

A worker killed in the middle of a batch leaves a transaction that is never committed:
readers with ``isolation.level=read_committed`` (librdkafka's default) never see its
outputs, the group's offsets stay where the last committed batch left them, and whoever
takes the partitions over decides the batch again: no decision is written twice. The
consumer group's metadata goes with the offsets, so a worker the group has moved on from
cannot commit (KIP-447). Where a broker does not honour transactions (measured on the
embedded Tansu broker: aborted records stay visible), use at-least-once
(docs/worker.md#delivery-guarantees).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException, Producer

from auditor import kafka_config
from auditor.stream.pipeline import Output
from auditor.stream.sink import Commit, DeliveryFailed

log = logging.getLogger("auditor.worker")

# The group moved on while a batch was in flight: its offsets cannot be committed by
# this worker any more (it must rejoin, with its memory as committed).
GROUP_MOVED = frozenset({
    KafkaError.UNKNOWN_MEMBER_ID, KafkaError.ILLEGAL_GENERATION,
    KafkaError.FENCED_INSTANCE_ID, KafkaError.REBALANCE_IN_PROGRESS,
})


class TransactionLost(RuntimeError):
    """This worker can no longer commit: fenced by a newer producer with its
    transactional id, or the consumer group moved on. Its transaction is aborted (nothing
    of it is visible) and the worker must stop: it is decided again by whoever holds the
    partitions, from what was committed."""


class TransactionalSink:
    """Delivers each batch in a transaction of its own, with the batch's input offsets.

    ``deliver`` raises DeliveryFailed when the transaction was aborted and may be tried
    again (the same outputs, a new transaction), TransactionLost when it must not.
    """

    transactional = True

    def __init__(
        self,
        client_config: Mapping[str, Any],
        topics: Mapping[str, str],
        *,
        transactional_id: str,
        timeout_s: float = 30.0,
    ) -> None:
        self.topics = dict(topics)
        self.timeout_s = timeout_s
        self.config = kafka_config.transactional_producer(
            client_config, transactional_id=transactional_id, timeout_s=timeout_s)
        self.producer = self._open()

    def _open(self) -> Producer:
        producer = Producer(self.config)
        # Fences any earlier producer with this id and aborts what it left open.
        try:
            producer.init_transactions(self.timeout_s)
        except KafkaException as exc:
            raise DeliveryFailed(f"transactions not initialised: {_text(exc)}",
                                 _text(exc)) from exc
        return producer

    async def deliver(self, outputs: Sequence[Output], commit: Commit | None = None) -> None:
        assert commit is not None, "a transaction commits its input offsets"
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._transaction, outputs, commit)

    def _transaction(self, outputs: Sequence[Output], commit: Commit) -> None:
        producer = self.producer
        topics = self.topics
        committing = False
        try:
            producer.begin_transaction()
            for out in outputs:
                extra: dict[str, Any] = {} if out.partition is None else {
                    "partition": out.partition}
                while True:
                    try:
                        producer.produce(
                            topics[out.kind], out.value, out.key,
                            headers=cast(list[tuple[str, str | bytes | None]], out.headers),
                            **extra,
                        )
                        break
                    except BufferError:  # local queue full: let deliveries drain
                        producer.poll(0.05)
            _retried(lambda: producer.send_offsets_to_transaction(
                commit.offsets, commit.group, self.timeout_s))
            # Flushes every output first; fails if any was not acknowledged. A retriable
            # failure is retried, never aborted: the commit may have been written.
            committing = True
            _retried(lambda: producer.commit_transaction(self.timeout_s))
        except KafkaException as exc:
            self._failed(exc, committing)

    def _failed(self, exc: KafkaException, committing: bool) -> None:
        err: KafkaError = exc.args[0]
        if committing and err.retriable() and not err.txn_requires_abort():
            # Written or not, nobody can tell here: sending the batch again could write it
            # twice. A restart resumes from what the group committed, whichever it was.
            raise TransactionLost(f"the commit of a transaction failed ({_text(exc)}) and "
                                  "its outcome is unknown") from exc
        if err.fatal():
            raise TransactionLost(f"Kafka transaction: {_text(exc)} (another worker with "
                                  "this transactional id took over?)") from exc
        if err.code() in GROUP_MOVED:
            self._abort()
            raise TransactionLost(f"the consumer group moved on while a batch was in "
                                  f"flight ({err.name()}): its transaction is aborted") from exc
        if not self._abort():
            # The producer's state is unknown: a new one (with the same id) fences it.
            self.producer = self._open()
        raise DeliveryFailed(f"transaction aborted: {_text(exc)}", _text(exc)) from exc

    def _abort(self) -> bool:
        try:
            self.producer.abort_transaction(self.timeout_s)
            return True
        except KafkaException as exc:
            log.warning("transaction not aborted: %s", _text(exc))
            return False

    def close(self) -> None:
        # A transaction is never left open between batches: nothing to flush.
        self.producer.flush(self.timeout_s)


def _retried(call: Callable[[], None], attempts: int = 3) -> None:
    """``call``, again while it fails with a retriable error that needs no abort."""
    for attempt in range(attempts):
        try:
            call()
            return
        except KafkaException as exc:
            err = exc.args[0]
            if attempt + 1 == attempts or not err.retriable() or err.txn_requires_abort():
                raise


def _text(exc: KafkaException) -> str:
    err = exc.args[0] if exc.args else None
    return err.str() if isinstance(err, KafkaError) else str(exc)
