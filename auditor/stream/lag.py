"""Consumer lag measured from the broker, on a thread of its own, never by the batch loop.

A worker whose loop is stuck (a batch that takes minutes, a broker that went away) must
show its lag growing, not frozen at its last value: so the lag is the group's committed
offset against each partition's high watermark, asked of the broker by a client of its
own, every ``interval_s``, from a thread that runs whatever the loop does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from auditor import kafka_config

log = logging.getLogger("auditor.worker")

Lags = dict[tuple[str, int], int]


class BrokerLag:
    """Lag of the given partitions: high watermark minus the group's committed offset (its
    low watermark when nothing is committed: the group starts from the earliest record).

    Its own consumer never subscribes, so it never joins the group: it only asks the
    group coordinator for committed offsets and the leaders for high watermarks.
    """

    def __init__(self, client_config: Mapping[str, Any], group_id: str,
                 *, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s
        self.consumer = Consumer(kafka_config.lag_consumer(client_config, group_id))

    def measure(self, partitions: Iterable[tuple[str, int]]) -> Lags:
        """The lag of each of ``partitions``; raises KafkaException if the broker does not
        answer within the timeout."""
        wanted = [TopicPartition(topic, partition) for topic, partition in sorted(partitions)]
        if not wanted:
            return {}
        lags: Lags = {}
        for tp in self.consumer.committed(wanted, timeout=self.timeout_s):
            low, high = self.consumer.get_watermark_offsets(
                TopicPartition(tp.topic, tp.partition), timeout=self.timeout_s, cached=False)
            start = tp.offset if tp.offset >= 0 else low
            lags[(tp.topic, tp.partition)] = max(high - start, 0)
        return lags

    def close(self) -> None:
        self.consumer.close()


class LagMonitor:
    """Calls ``report(measure())`` every ``interval_s`` on a daemon thread until ``stop``.

    A measurement that fails (a rebalance, the broker away) is logged at debug level and
    tried again next time; the last reported value stays until then.
    """

    def __init__(self, measure: Callable[[], Lags], report: Callable[[Lags], None],
                 interval_s: float, *, on_stop: Callable[[], None] | None = None) -> None:
        self.measure = measure
        self.report = report
        self.interval_s = interval_s
        self.on_stop = on_stop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="auditor-consumer-lag",
                                        daemon=True)

    def start(self) -> LagMonitor:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    self.report(self.measure())
                except (KafkaException, RuntimeError) as exc:
                    log.debug("consumer lag not measured: %r", exc)
                except Exception:  # metrics must never stop the worker
                    log.exception("consumer lag not measured")
        finally:
            if self.on_stop is not None:
                self.on_stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
