"""The worker's readiness: policy loaded, partitions assigned by the group, memory restored."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any


class Health:
    """What the worker's probes report (``/livez``, ``/readyz``), set as the worker starts.

    Ready means the policy is loaded, the consumer group has assigned this worker its
    partitions (possibly none: a group with more workers than partitions) and the memory of
    each assigned partition is restored. A restore can take long: the worker is alive but
    not ready meanwhile, so an orchestrator waits rather than restarts it. Thread-safe: the
    consumer thread sets it, the HTTP thread reads it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._policy: str | None = None
        self._joined = False
        self._assigned: set[int] = set()
        self._restoring: set[int] = set()
        self._stopping = False

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

    def revoked(self, partitions: Iterable[int]) -> None:
        with self._lock:
            gone = set(partitions)
            self._assigned -= gone
            self._restoring -= gone

    def stopping(self) -> None:
        with self._lock:
            self._stopping = True

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
            if self._stopping:
                waiting.append("stopping")
            return not waiting, {
                "ready": not waiting,
                "waiting_for": waiting,
                "policy": self._policy,
                "partitions": sorted(self._assigned),
                "restoring": sorted(self._restoring),
            }
