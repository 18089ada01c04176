"""The transactional sink: what each kind of Kafka error means for the batch in hand."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from auditor.stream.pipeline import Output
from auditor.stream.sink import Commit, DeliveryFailed
from auditor.stream.transactions import TransactionalSink, TransactionLost

pytestmark = [pytest.mark.stream]


class Producer:
    """What TransactionalSink calls, failing ``commit_transaction`` with ``error``."""

    def __init__(self, error: KafkaError | None = None) -> None:
        self.error = error
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> None:
            self.calls.append(name)
            if name == "commit_transaction" and self.error is not None:
                raise KafkaException(self.error)
        return call


def sink_with(producer: Producer) -> TransactionalSink:
    sink = TransactionalSink.__new__(TransactionalSink)
    sink.topics = {"decision": "dec"}
    sink.timeout_s = 1.0
    sink.producer = producer  # type: ignore[assignment]
    sink._open = lambda: producer  # type: ignore[method-assign, assignment, return-value]
    return sink


def deliver(sink: TransactionalSink) -> None:
    commit = Commit([TopicPartition("in", 0, 8)], object())
    asyncio.run(sink.deliver([Output("decision", b"k", b"v", [])], commit))


def test_a_batch_is_one_transaction_with_its_offsets() -> None:
    producer = Producer()
    deliver(sink_with(producer))
    assert producer.calls == ["begin_transaction", "produce", "send_offsets_to_transaction",
                              "commit_transaction"]


def test_an_abortable_failure_aborts_and_is_retried() -> None:
    producer = Producer(KafkaError(KafkaError._MSG_TIMED_OUT, "timed out",
                                   txn_requires_abort=True))
    with pytest.raises(DeliveryFailed):
        deliver(sink_with(producer))
    assert producer.calls[-1] == "abort_transaction"


def test_a_commit_in_doubt_is_retried_never_aborted_nor_sent_again() -> None:
    producer = Producer(KafkaError(KafkaError._TIMED_OUT, "commit timed out", retriable=True))
    with pytest.raises(TransactionLost, match="its outcome is unknown"):
        deliver(sink_with(producer))
    assert producer.calls.count("commit_transaction") == 3
    assert "abort_transaction" not in producer.calls  # it may have been written


@pytest.mark.parametrize("error", [
    KafkaError(KafkaError._FENCED, "fenced", fatal=True),
    KafkaError(KafkaError.ILLEGAL_GENERATION, "the group moved on", txn_requires_abort=True),
])
def test_a_fenced_worker_or_a_moved_group_stops_the_worker(error: KafkaError) -> None:
    with pytest.raises(TransactionLost):
        deliver(sink_with(Producer(error)))


def test_a_forwarded_event_goes_in_the_batch_transaction_to_its_partition() -> None:
    # Re-keying (auditor.stream.rekey): the forward commits with the input offset, or not.
    produced: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    class Recording(Producer):
        def produce(self, *args: Any, **kwargs: Any) -> None:
            produced.append((args, kwargs))
            self.calls.append("produce")

    producer = Recording()
    sink = sink_with(producer)
    sink.topics["repartition"] = "g.auditor.repartition"
    commit = Commit([TopicPartition("in", 1, 8)], object())
    asyncio.run(sink.deliver([Output("repartition", b"acme", b"v", [("h", b"1")], 3)], commit))
    assert producer.calls == ["begin_transaction", "produce", "send_offsets_to_transaction",
                              "commit_transaction"]
    ((args, kwargs),) = produced
    assert args == ("g.auditor.repartition", b"v", b"acme")
    assert kwargs["partition"] == 3
    assert kwargs["headers"] == [("h", b"1")]
