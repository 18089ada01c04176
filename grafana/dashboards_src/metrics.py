"""The worker's exported metrics, read from grafana/metric_names.txt (the one list)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

METRIC_NAMES_FILE = Path(__file__).resolve().parent.parent / "metric_names.txt"
TYPES = ("counter", "gauge", "histogram")
# Series a histogram exposes besides its name (Prometheus text format).
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


class MetricListError(ValueError):
    """metric_names.txt is malformed; the message names the line."""


@dataclass(frozen=True, slots=True)
class Metric:
    """One exported metric: its exposed name, type and label names."""

    name: str
    type: str
    labels: tuple[str, ...]

    def series(self) -> tuple[str, ...]:
        """The series names a query may use for this metric."""
        if self.type == "histogram":
            return tuple(self.name + suffix for suffix in HISTOGRAM_SUFFIXES)
        return (self.name,)


def parse_metrics(text: str, source: str = "metric_names.txt") -> dict[str, Metric]:
    """Metrics by name from the list's text; raises MetricListError naming the bad line."""
    metrics: dict[str, Metric] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 3 or parts[1] not in TYPES:
            raise MetricListError(
                f"{source}:{number}: expected 'NAME TYPE LABELS' with TYPE one of "
                f"{', '.join(TYPES)} and LABELS comma-separated or '-', got {raw.strip()!r}"
            )
        name, kind, labels = parts
        if name in metrics:
            raise MetricListError(f"{source}:{number}: {name} is listed twice")
        metrics[name] = Metric(name, kind, () if labels == "-" else tuple(labels.split(",")))
    return metrics


def load_metrics(path: Path = METRIC_NAMES_FILE) -> dict[str, Metric]:
    """The list in ``path`` (default: grafana/metric_names.txt)."""
    return parse_metrics(path.read_text(encoding="utf-8"), source=path.name)


def series_names(metrics: dict[str, Metric]) -> frozenset[str]:
    """Every series name a dashboard query may select."""
    return frozenset(name for metric in metrics.values() for name in metric.series())
