"""Where output records go: Kafka through confluent-kafka, or memory in tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from auditor.stream.pipeline import Output


class DeliveryFailed(RuntimeError):
    """Outputs were not acknowledged by the broker: the inputs must not be committed."""


class Sink(Protocol):
    async def deliver(self, outputs: Sequence[Output]) -> None:
        """Send ``outputs`` and return only once every one is acknowledged."""

    def close(self) -> None: ...


class KafkaSink:
    """Produces outputs with an idempotent confluent-kafka producer.

    ``deliver`` waits for the broker's acknowledgement of the whole batch, so the agent
    acks (and Faust commits) input offsets only after their outputs are safe: at least
    once, never lost. A delivery error fails the batch, which is then not acked.
    """

    def __init__(
        self,
        client_config: Mapping[str, Any],
        topics: Mapping[str, str],
        *,
        timeout_s: float = 30.0,
    ) -> None:
        self.topics = dict(topics)
        self.timeout_s = timeout_s
        self.producer = Producer(
            {
                **client_config,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 2,
                "compression.type": "lz4",
                "message.timeout.ms": int(timeout_s * 1000),
                "client.id": "auditor-worker",
            }
        )
        self._errors: list[str] = []

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self._errors.append(f"{msg.topic()}: {err.str()}")

    async def deliver(self, outputs: Sequence[Output]) -> None:
        produce = self.producer.produce
        for out in outputs:
            while True:
                try:
                    produce(
                        self.topics[out.kind],
                        out.value,
                        out.key,
                        headers=cast(list[tuple[str, str | bytes | None]], out.headers),
                        on_delivery=self._on_delivery,
                    )
                    break
                except BufferError:  # local queue full: let deliveries drain, then retry
                    self.producer.poll(0.05)
                except KafkaException as exc:  # refused at once (e.g. too large)
                    self._errors.append(f"{self.topics[out.kind]}: {exc.args[0].str()}")
                    break
        loop = asyncio.get_running_loop()
        remaining = await loop.run_in_executor(None, self.producer.flush, self.timeout_s)
        if remaining or self._errors:
            errors, self._errors = self._errors, []
            raise DeliveryFailed(
                f"{remaining} outputs undelivered, {len(errors)} delivery errors"
                + (f": {errors[0]}" if errors else "")
            )

    def close(self) -> None:
        self.producer.flush(self.timeout_s)


class MemorySink:
    """Keeps outputs in lists by kind (for stream tests)."""

    def __init__(self) -> None:
        self.records: dict[str, list[Output]] = {"decision": [], "finding": [], "dead_letter": []}
        self.fail_next = False

    async def deliver(self, outputs: Sequence[Output]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise DeliveryFailed("simulated delivery failure")
        for out in outputs:
            self.records[out.kind].append(out)

    def close(self) -> None:
        return None
