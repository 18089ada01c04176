"""The worker's readiness: policy loaded, partitions assigned by the group, memory restored,
each partition's first fetch returned, Kafka reachable."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any


class Health:
    """What the worker's probes report (``/livez``, ``/readyz``), set as the worker starts.

    Ready means the policy is loaded, the consumer group has assigned this worker its
    partitions (possibly none: a group with more workers than partitions), the memory of
    each assigned partition is restored, the first fetch of each assigned input partition
    has returned (a record or its end: the worker reads it now, so what a tool produces
    once it saw ready is decided at once) and Kafka answers (outputs are delivered, the
    consumer reaches a broker). A restore can take long, a broker can restart: the worker
    is alive but not ready meanwhile, so an orchestrator waits rather than restarts it.
    Thread-safe: the consumer thread and the batch loop set it, the HTTP thread reads it.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._policy: str | None = None
        self._joined = False
        self._assigned: set[int] = set()
        self._restoring: set[int] = set()
        # Input (topic, partition)s assigned whose first fetch has not returned yet.
        self._unfetched: set[tuple[str, int]] = set()
        self._stopping = False
        # What fails to reach Kafka ("outputs", "consumer") -> (since: monotonic, wall, why).
        self._kafka: dict[str, tuple[float, float, str]] = {}
        self.delivery_failures = 0

    def policy_loaded(self, policy: str) -> None:
        with self._lock:
            self._policy = policy

    def assigning(self, partitions: Iterable[int]) -> None:
        """The group assigned ``partitions``; their memory is being restored."""
        with self._lock:
            self._restoring.update(partitions)

    def assigned(self, partitions: Iterable[int]) -> None:
        """``partitions`` are this worker's and ready (memory restored, if any)."""
        with self._lock:
            chosen = set(partitions)
            self._joined = True
            self._assigned |= chosen
            self._restoring -= chosen

    def fetching(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Input ``(topic, partition)``s assigned: not ready until each ``fetched``."""
        with self._lock:
            self._unfetched.update(partitions)

    def fetched(self, partition: tuple[str, int]) -> None:
        """The first fetch of an input ``(topic, partition)`` returned (a record or its end)."""
        with self._lock:
            self._unfetched.discard(partition)

    def revoked(self, partitions: Iterable[int]) -> None:
        with self._lock:
            gone = set(partitions)
            self._assigned -= gone
            self._restoring -= gone
            self._unfetched = {tp for tp in self._unfetched if tp[1] not in gone}

    def stopping(self) -> None:
        with self._lock:
            self._stopping = True

    def kafka_failing(self, what: str, why: str) -> None:
        """``what`` ("outputs", "consumer") cannot reach Kafka; the first call says since when."""
        with self._lock:
            if what == "outputs":
                self.delivery_failures += 1
            if what not in self._kafka:
                self._kafka[what] = (self._clock(), time.time(), why)
            else:
                since, wall, _ = self._kafka[what]
                self._kafka[what] = (since, wall, why)

    def kafka_working(self, what: str | None = None) -> None:
        """``what`` (None: everything) reaches Kafka again."""
        with self._lock:
            if what is None:
                self._kafka.clear()
            else:
                self._kafka.pop(what, None)

    def kafka_failing_for(self) -> float:
        """Seconds since something first failed to reach Kafka without success since; 0."""
        with self._lock:
            if not self._kafka:
                return 0.0
            return self._clock() - min(since for since, _, _ in self._kafka.values())

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, a report saying why not) — the report is what ``/readyz`` shows."""
        with self._lock:
            waiting = []
            if self._policy is None:
                waiting.append("policy not loaded")
            if not self._joined:
                waiting.append("no partitions assigned by the consumer group yet")
            if self._restoring:
                waiting.append("memory of partitions being restored")
            if self._unfetched:
                waiting.append("first fetch of assigned partitions not returned yet")
            for what, (_, wall, why) in sorted(self._kafka.items()):
                when = datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")
                waiting.append(f"Kafka: {what} failing since {when.replace('+00:00', 'Z')} "
                               f"({why})")
            if self._stopping:
                waiting.append("stopping")
            return not waiting, {
                "ready": not waiting,
                "waiting_for": waiting,
                "policy": self._policy,
                "partitions": sorted(self._assigned),
                "restoring": sorted(self._restoring),
                "fetching": [f"{topic}[{partition}]"
                             for topic, partition in sorted(self._unfetched)],
            }
