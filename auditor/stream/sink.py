"""Where output records go: Kafka through confluent-kafka, or memory in tests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from confluent_kafka import KafkaError, KafkaException, Message, Producer, TopicPartition

from auditor import kafka_config
from auditor.stream.pipeline import Output

log = logging.getLogger("auditor.worker")


class DeliveryFailed(RuntimeError):
    """Outputs were not acknowledged by the broker: the inputs must not be committed.

    ``reason``: the first error, short (what readiness shows)."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


@dataclass(frozen=True, slots=True)
class Commit:
    """The input offsets a batch's outputs are committed with (exactly once): the next
    offset of each partition, and the consumer group's metadata (its generation fences a
    worker the group has moved on from)."""

    offsets: list[TopicPartition]
    group: Any


class Sink(Protocol):
    async def deliver(self, outputs: Sequence[Output], commit: Commit | None = None) -> None:
        """Send ``outputs`` and return only once every one is acknowledged; with
        ``commit``, the input offsets are committed with them, atomically."""

    def close(self) -> None: ...


class KafkaSink:
    """Produces outputs with an idempotent confluent-kafka producer.

    ``deliver`` waits for the broker's acknowledgement of the whole batch, so the agent
    marks input offsets done (to be committed) only after their outputs are safe: at least
    once, never lost. A delivery error fails the batch, which is then not acked.
    """

    def __init__(
        self,
        client_config: Mapping[str, Any],
        topics: Mapping[str, str],
        *,
        timeout_s: float = 30.0,
        changelog_batch_bytes: int | None = None,
    ) -> None:
        self.topics = dict(topics)
        self.timeout_s = timeout_s
        self.config = kafka_config.output_producer(client_config, timeout_s=timeout_s)
        self.changelog_batch_bytes = changelog_batch_bytes
        self._errors: list[str] = []
        self._open()

    def _open(self) -> None:
        self.producer = Producer(self.config)
        self._producers = {kind: self.producer for kind in self.topics}
        self._all = [self.producer]
        if self.changelog_batch_bytes is not None and "changelog" in self.topics:
            # The memory's changelog gets a producer of its own, for its record-batch size
            # (Settings.changelog_batch_bytes says why).
            self._producers["changelog"] = Producer(kafka_config.changelog_producer(
                self.config, batch_bytes=self.changelog_batch_bytes))
            self._all.append(self._producers["changelog"])

    def _renew(self) -> None:
        """New producers after a failed delivery. An idempotent producer whose messages
        timed out may be left with a producer id the broker no longer knows (a broker that
        lost its state answers UNKNOWN_PRODUCER_ID to every retry, for ever); a new one
        asks for a new id. What the old ones still hold is dropped: the retry sends it."""
        for producer in self._all:
            producer.purge()
            producer.flush(0)
        self._open()

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self._errors.append(f"{msg.topic()}: {err.str()}")

    async def deliver(self, outputs: Sequence[Output], commit: Commit | None = None) -> None:
        assert commit is None, "KafkaSink delivers at least once; offsets are the source's"
        producers = self._producers
        topics = self.topics
        on_delivery = self._on_delivery
        for out in outputs:
            producer = producers[out.kind]
            extra: dict[str, Any] = {} if out.partition is None else {"partition": out.partition}
            while True:
                try:
                    producer.produce(
                        topics[out.kind],
                        out.value,
                        out.key,
                        headers=cast(list[tuple[str, str | bytes | None]], out.headers),
                        on_delivery=on_delivery,
                        **extra,
                    )
                    break
                except BufferError:  # local queue full: let deliveries drain, then retry
                    producer.poll(0.05)
                except KafkaException as exc:  # refused at once (e.g. too large)
                    self._errors.append(f"{topics[out.kind]}: {exc.args[0].str()}")
                    break
        loop = asyncio.get_running_loop()
        remaining = await loop.run_in_executor(None, self._flush)
        if remaining or self._errors:
            errors, self._errors = self._errors, []
            await loop.run_in_executor(None, self._renew)
            raise DeliveryFailed(
                f"{remaining} outputs undelivered, {len(errors)} delivery errors"
                + (f": {errors[0]}" if errors else ""),
                errors[0] if errors else f"{remaining} outputs undelivered",
            )

    def _flush(self) -> int:
        # Both producers send in their own threads; waiting for one after the other costs
        # about the slower of the two.
        return sum(p.flush(self.timeout_s) for p in self._all)

    def close(self) -> None:
        self._flush()


class MemorySink:
    """Keeps outputs in lists by kind (for stream tests)."""

    def __init__(self) -> None:
        self.records: dict[str, list[Output]] = {
            "decision": [], "finding": [], "dead_letter": [], "changelog": [], "repartition": []
        }
        self.fail_next = False
        self.commits: list[Commit] = []

    async def deliver(self, outputs: Sequence[Output], commit: Commit | None = None) -> None:
        if self.fail_next:
            self.fail_next = False
            raise DeliveryFailed("simulated delivery failure")
        for out in outputs:
            self.records[out.kind].append(out)
        if commit is not None:
            self.commits.append(commit)

    def close(self) -> None:
        return None
