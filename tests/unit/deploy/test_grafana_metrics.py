"""grafana/metric_names.txt: follows the naming rules and matches what the worker registers."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "grafana"
EXPORTER = "auditor.ops.metrics"
# Labels that would let event content explode the number of series (observability guide).
UNBOUNDED_LABELS = {"event_id", "subject", "subject_key", "tenant", "message", "service"}
# Prefixes of prometheus-client's standard process, platform and GC collectors.
STANDARD_PREFIXES = ("process_", "python_")


def _metrics_module() -> ModuleType:
    if str(GRAFANA) not in sys.path:
        sys.path.insert(0, str(GRAFANA))
    return importlib.import_module("dashboards_src.metrics")


def _listed() -> dict[str, Any]:
    listed: dict[str, Any] = _metrics_module().load_metrics()
    return listed


def test_the_list_follows_the_naming_conventions() -> None:
    listed = _listed()
    assert listed, "grafana/metric_names.txt lists the exported metrics"
    for name, metric in listed.items():
        assert name.startswith(("auditor_", *STANDARD_PREFIXES)), name
        assert (metric.type == "counter") == name.endswith("_total"), name
        if metric.type == "histogram":
            assert name.endswith("_seconds"), f"{name}: histograms here are durations in seconds"
        assert not UNBOUNDED_LABELS & set(metric.labels), f"{name}: unbounded label"


def _exported_types(registry: CollectorRegistry) -> dict[str, str]:
    """Exposed metric name → type, read off the text exposition's TYPE lines.

    Counters show as ``*_total`` and prometheus_client Info metrics as ``*_info`` gauges,
    exactly as Prometheus scrapes them, even before any labelled child has a sample.
    """
    types = {}
    for line in generate_latest(registry).decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = {"info": "gauge"}.get(kind, kind)
    # An unlabelled counter or histogram also shows its `_created` timestamp as a gauge.
    return {
        name: kind
        for name, kind in types.items()
        if not (
            name.endswith("_created")
            and {name.removesuffix("_created"), name.replace("_created", "_total")} & set(types)
        )
    }


def _factory(module: ModuleType) -> Any:
    """The module's public class or function that takes an injected ``registry``."""
    for name, member in vars(module).items():
        if name.startswith("_") or getattr(member, "__module__", None) != module.__name__:
            continue
        if not callable(member):
            continue
        try:
            params = inspect.signature(member).parameters
        except (TypeError, ValueError):
            continue
        if "registry" in params:
            return member
    return None


def test_the_list_matches_the_worker_exporter() -> None:
    if importlib.util.find_spec("auditor.ops") is None or not importlib.util.find_spec(EXPORTER):
        pytest.skip(f"{EXPORTER} does not exist yet (the worker's metrics, issue 5 part 1)")
    module = importlib.import_module(EXPORTER)
    factory = _factory(module)
    assert factory is not None, (
        f"{EXPORTER} has no public class or function with a `registry` parameter to register "
        "the worker's metrics against a fresh CollectorRegistry"
    )
    registry = CollectorRegistry()
    factory(registry=registry)
    exported = _exported_types(registry)
    assert any(name.startswith(STANDARD_PREFIXES) for name in exported), (
        "the worker's registry has the process and runtime collectors"
    )
    listed = {name: metric.type for name, metric in _listed().items()}
    assert sorted(set(listed) - set(exported)) == [], "listed but not exported"
    assert sorted(set(exported) - set(listed)) == [], "exported but not in metric_names.txt"
    assert exported == listed, "types differ"
