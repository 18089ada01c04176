"""The flow map panel: a node graph of origin regime → destination country and mechanism."""

from __future__ import annotations

from grafana_foundation_sdk.builders.nodegraph import EdgeOptions, NodeOptions
from grafana_foundation_sdk.builders.nodegraph import Panel as NodeGraphPanel
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig

from auditor.report.flowmap import MECHANISM_COLOURS

from .panels import DATASOURCE, query, sel

TITLE = "Flow map: origin → destination by mechanism"
# The metric has no origin country (one label fewer per series); the regime says which law
# the origin was under, so it names the origin side.
ORIGINS = {"eu_gdpr": "EU/EEA", "uk_gdpr": "UK", "none": "outside EEA/UK"}


def flow_map_query() -> str:
    """One row per (regime, destination, mechanism) with transfers in the time range, shaped
    as the node graph's edges: ``id``, ``source``, ``target`` and ``color`` labels."""
    expr = ("(sum by (regime, destination_country, mechanism) "
            f"(increase(auditor_transfers_total{sel()}[$__range])) > 0)")
    for regime, name in ORIGINS.items():
        expr = f'label_replace({expr}, "source", "{name}", "regime", "{regime}")'
    # The report's palette: the same colour means the same basis in both pictures.
    for mechanism, colour in MECHANISM_COLOURS.items():
        expr = f'label_replace({expr}, "color", "{colour}", "mechanism", "{mechanism}")'
    expr = f'label_join({expr}, "target", " · ", "destination_country", "mechanism")'
    return f'label_join({expr}, "id", "/", "regime", "destination_country", "mechanism")'


def flow_map_panel() -> NodeGraphPanel:
    """Grafana's node graph (built in since 7.4) fed by an edges-only frame: it draws the
    nodes from the edges' source and target."""
    return (
        NodeGraphPanel()
        .title(TITLE)
        .description(
            "Where personal data went in the time range: the law it left under (EU/EEA, UK, "
            "outside both) → destination country and Chapter V mechanism; an edge's number is "
            "its transfers. Edge colours are the audit report's flow-map palette: blue dpf, "
            "purple scc, indigo idta, teal adequacy, green intra_eea, orange derogation, grey "
            "unrestricted, red none (no lawful basis: always a violation). The report's flow "
            "map (auditor replay) adds origin countries, data classes and processors."
        )
        .datasource(DATASOURCE)
        .with_target(query(flow_map_query(), instant=True, as_table=True))
        .with_transformation(
            DataTransformerConfig(
                id_val="organize",
                options={
                    "excludeByName": {"Time": True},
                    "renameByName": {
                        "Value": "mainstat",
                        "regime": "detail__regime",
                        "destination_country": "detail__destination",
                        "mechanism": "detail__mechanism",
                    },
                },
            )
        )
        .nodes(NodeOptions().main_stat_unit("short"))
        .edges(EdgeOptions().main_stat_unit("short"))
        .span(24)
        .height(14)
    )
