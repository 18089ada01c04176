"""A Prometheus collector whose families are read from counters its owner updates."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector


class SnapshotCollector(Collector):
    """Families built from plain counters under one lock: the batch loop updates them,
    ``collect`` runs on the HTTP thread and sees one consistent snapshot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def describe(self) -> Iterator[Metric]:
        # Names only: lets the registry check for clashes without a consistent snapshot.
        return self._families()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            families = list(self._families())
        return iter(families)

    def _families(self) -> Iterator[Metric]:
        raise NotImplementedError
