"""Build every dashboard, check its queries against the metric list, and encode it as JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard as DashboardBuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard, Panel, RowPanel

from . import decisions, workers
from .metrics import load_metrics, series_names
from .promql import metric_names, substitute_variables

# File name under grafana/dashboards/ → builder.
DASHBOARDS: dict[str, Callable[[], DashboardBuilder]] = {
    "auditor-decisions.json": decisions.build,
    "auditor-workers.json": workers.build,
}


class UnknownMetric(ValueError):
    """A panel queries a metric the worker does not export."""


def panels(board: Dashboard) -> Iterator[Panel | RowPanel]:
    """Every panel of ``board``, rows and the panels inside collapsed rows included."""
    for panel in board.panels or []:
        yield panel
        if isinstance(panel, RowPanel):
            yield from panel.panels


def expressions(board: Dashboard) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL expression) for every query of ``board``."""
    for panel in panels(board):
        if isinstance(panel, Panel):
            for target in panel.targets or []:
                expr: Any = getattr(target, "expr", None)
                if isinstance(expr, str):
                    yield panel.title or "", expr


def check_metrics(board: Dashboard, allowed: frozenset[str]) -> None:
    """Raise UnknownMetric if a query of ``board`` names a metric outside ``allowed``."""
    for title, expr in expressions(board):
        unknown = metric_names(substitute_variables(expr)) - allowed
        if unknown:
            raise UnknownMetric(
                f"dashboard {board.title!r}, panel {title!r}: {', '.join(sorted(unknown))} "
                "not in grafana/metric_names.txt"
            )


def build_all() -> dict[str, Dashboard]:
    """Every dashboard model by file name, panel ids numbered, queries checked."""
    allowed = series_names(load_metrics())
    boards: dict[str, Dashboard] = {}
    for filename, build in DASHBOARDS.items():
        board = build().build()
        # Stable ids in layout order: Grafana needs them unique within a dashboard.
        for number, panel in enumerate(panels(board), start=1):
            panel.id_val = number
        check_metrics(board, allowed)
        boards[filename] = board
    return boards


def encode(board: Dashboard) -> str:
    """The dashboard as committed: sorted keys, two-space indent, final newline."""
    return JSONEncoder(sort_keys=True, indent=2, ensure_ascii=False).encode(board) + "\n"


def render_all() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {filename: encode(board) for filename, board in build_all().items()}
