"""Faust's aiokafka consumer with a configurable fetch wait (Faust fixes it at 1.5 s)."""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka


def consumer_with_fetch_wait(fetch_max_wait_ms: int) -> type[Any]:
    """A Faust consumer class whose aiokafka consumer waits at most ``fetch_max_wait_ms``.

    On Apache Kafka a fetch returns as soon as data arrives, whatever the wait; a broker
    that holds every fetch for the full wait (docs/kafka-brokers.md) needs a short one.
    """

    class Thread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            # aiokafka reads this when its fetcher starts, after Faust built the consumer.
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

    class Consumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> Any:
            return Thread(self, loop=self.loop, beacon=self.beacon)

    return Consumer
