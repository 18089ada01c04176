"""A histogram that takes many observations at once (one call per batch, not per event)."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence

# Bucket upper bounds in seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
DAY = 86_400.0
# Up to 3 years: events are judged by the law at their own time, and emitters that
# back-fill (or a stopped worker catching up) send events months old. A quantile in the
# +Inf bucket reads as the top bound, so the top bound must be rarely reached.
EVENT_LAG_BUCKETS = (
    0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, DAY, 7 * DAY,
    30 * DAY, 90 * DAY, 365 * DAY, 3 * 365 * DAY,
)


class BatchHistogram:
    """Cumulative bucket counts and a sum, as Prometheus exposes a histogram.

    Not thread-safe on its own: the metrics object guards it with its lock. Negative
    values (an event time in the future) count as 0 so that the sum never decreases.
    """

    __slots__ = ("bounds", "count", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        if list(bounds) != sorted(set(bounds)) or not bounds:
            raise ValueError("bucket bounds must be distinct and increasing")
        self.bounds = tuple(float(b) for b in bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float, times: int = 1) -> None:
        """Record ``value`` ``times`` times (a batch whose records share one latency)."""
        if times <= 0 or math.isnan(value):
            return
        value = max(value, 0.0)
        self.counts[bisect_left(self.bounds, value)] += times
        self.sum += value * times
        self.count += times

    def observe_many(self, values: Iterable[float]) -> None:
        """Record each of ``values`` once."""
        bounds, counts = self.bounds, self.counts
        total = 0.0
        n = 0
        for value in values:
            if value > 0.0:
                counts[bisect_left(bounds, value)] += 1
                total += value
            elif value <= 0.0:
                counts[0] += 1
            else:  # NaN compares false both ways
                continue
            n += 1
        self.sum += total
        self.count += n

    def buckets(self) -> list[tuple[str, float]]:
        """(le, cumulative count) pairs, ``+Inf`` last."""
        out = []
        running = 0
        for bound, count in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += count
            out.append(("+Inf" if bound == math.inf else repr(bound), float(running)))
        return out
