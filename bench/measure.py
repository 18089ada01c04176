"""What a phase measured: events over seconds, summed over packs; latency percentiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Rate:
    """``events`` handled in ``seconds`` (per pack as well, when measured pack by pack)."""

    events: int = 0
    seconds: float = 0.0
    per_pack: dict[str, dict[str, float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, pack: str, events: int, seconds: float, **more: float) -> None:
        self.events += events
        self.seconds += seconds
        self.per_pack[pack] = {
            "events": events,
            "seconds": round(seconds, 4),
            "events_per_s": round(events / seconds, 1) if seconds > 0 else 0.0,
            **{k: round(v, 4) for k, v in more.items()},
        }

    @property
    def per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "seconds": round(self.seconds, 4),
            "events_per_s": round(self.per_s, 1),
            "per_pack": self.per_pack,
            **self.extra,
        }


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by the nearest-rank method (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return ordered[rank - 1]
