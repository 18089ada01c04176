"""The "Auditor / Decisions" dashboard: verdicts, violations, dead letters and transfers."""

from __future__ import annotations

from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.builders.common import (
    FrameGeometrySource,
    MapLayerOptions,
    TableSortByFieldState,
)
from grafana_foundation_sdk.builders.dashboard import Dashboard, DashboardLink, Row
from grafana_foundation_sdk.builders.geomap import ControlsOptions, MapViewConfig
from grafana_foundation_sdk.builders.geomap import Panel as GeomapPanel
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig

from .flowmap import flow_map_panel
from .panels import (
    DATASOURCE,
    MECHANISM_NAMES,
    REGIME_NAMES,
    SEVERITY_COLOURS,
    VERDICT_COLOURS,
    alert_list_link,
    bar_gauge_panel,
    builtin_annotations,
    colour,
    datasource_variable,
    query,
    runbook_link,
    sel,
    stacked,
    stat_panel,
    table_panel,
    thresholds,
    timeseries_panel,
    value_names,
    worker_variables,
)

UID = "auditor-decisions"
EVENTS_PER_S = "suffix: events/s"
# Violation findings: effect deny (the decision's verdict rule), of the chosen packs;
# auditor.schema findings (kind schema) are invalid input, the dead-letter row's.
VIOLATIONS = sel('policy=~"$policy"', 'effect="deny"', 'kind!="schema"')
EVENTS = sel()
VIOLATING = sel('verdict="violation"')
INVALID = sel('verdict="invalid"')
NO_BASIS = sel('mechanism="none"')
# A ratio's denominator: no events decided means no ratio ("no events"), not NaN.
ALL_EVENTS_RATE = f"(sum(rate(auditor_events_total{EVENTS}[$__rate_interval])) > 0)"
NO_EVENTS = "no events"


def _traffic_row(board: Dashboard) -> Dashboard:
    return (
        board.with_row(Row("Decisions"))
        .with_panel(
            stat_panel("Events decided", "Events decided per second, all workers.", EVENTS_PER_S)
            .with_target(
                query(f"sum(rate(auditor_events_total{EVENTS}[$__rate_interval]))", "events/s")
            )
            .thresholds(thresholds((None, "blue")))
            .span(6)
            .height(5)
        )
        .with_panel(
            stat_panel(
                "Violation ratio",
                "Share of decided events whose verdict is violation (a finding with effect "
                "deny); none when nothing was decided.",
                "percentunit",
            )
            .with_target(
                query(
                    "sum(rate(auditor_events_total"
                    f"{VIOLATING}[$__rate_interval])) / {ALL_EVENTS_RATE}",
                    "violations",
                )
            )
            .no_value(NO_EVENTS)
            .thresholds(thresholds((None, "green"), (0.01, "orange"), (0.05, "red")))
            .span(6)
            .height(5)
        )
        .with_panel(
            stat_panel(
                "Invalid ratio",
                "Share of input records that were not valid lineage events (sent to the "
                "dead-letter topic); none when nothing was decided.",
                "percentunit",
            )
            .with_target(
                query(
                    "sum(rate(auditor_events_total"
                    f"{INVALID}[$__rate_interval])) / {ALL_EVENTS_RATE}",
                    "invalid",
                )
            )
            .no_value(NO_EVENTS)
            .links([runbook_link("dead-letters")])
            .thresholds(thresholds((None, "green"), (0.001, "orange"), (0.01, "red")))
            .span(6)
            .height(5)
        )
        .with_panel(
            stat_panel(
                "Violations in range",
                "Events whose verdict is violation over the dashboard's time range (an event "
                "that breaks several rules counts once; invalid input is not a violation).",
                "short",
            )
            .with_target(
                query(
                    "sum(increase(auditor_events_total"
                    f"{VIOLATING}[$__range]))",
                    "violations",
                    instant=True,
                )
            )
            .links(_violation_links())
            .thresholds(thresholds((None, "green"), (1, "red")))
            .span(6)
            .height(5)
        )
        .with_panel(
            _verdict_series(
                stacked(
                    timeseries_panel(
                        "Events/s by verdict",
                        "Decisions per second by verdict: allow, violation, invalid.",
                        EVENTS_PER_S,
                    )
                )
            )
            .with_target(
                query(
                    f"sum by (verdict) (rate(auditor_events_total{EVENTS}[$__rate_interval]))",
                    "{{verdict}}",
                )
            )
            .span(12)
            .height(9)
        )
        .with_panel(
            timeseries_panel(
                "Violations/s by rule and kind",
                "Findings with effect deny per second, by the policy rule that fired and its kind.",
                "suffix: findings/s",
            )
            .with_target(
                query(
                    "sum by (rule, kind) "
                    f"(rate(auditor_findings_total{VIOLATIONS}[$__rate_interval]))",
                    "{{rule}} ({{kind}})",
                )
            )
            .links(_violation_links())
            .span(12)
            .height(9)
        )
        .with_panel(
            bar_gauge_panel(
                "Violations in range by rule",
                "Events with a deny finding of each rule over the dashboard's time range, "
                "most first.",
                "short",
            )
            .with_target(
                query(
                    "sort_desc(sum by (rule, kind) "
                    f"(increase(auditor_findings_total{VIOLATIONS}[$__range])))",
                    "{{rule}} ({{kind}})",
                    instant=True,
                )
            )
            .links(_violation_links())
            .thresholds(thresholds((None, "red")))
            .span(12)
            .height(9)
        )
        .with_panel(
            _severity_series(
                stacked(
                    timeseries_panel(
                        "Violations/s by severity",
                        "Findings with effect deny per second, by the rule's severity.",
                        "suffix: findings/s",
                    )
                )
            )
            .with_target(
                query(
                    "sum by (severity) "
                    f"(rate(auditor_findings_total{VIOLATIONS}[$__rate_interval]))",
                    "{{severity}}",
                )
            )
            .span(12)
            .height(9)
        )
    )


def _violation_links() -> list[DashboardLink]:
    """The runbook, and the violation alerts Alertmanager holds now."""
    return [
        runbook_link("policy-violation"),
        alert_list_link('{incident="policy-violation"}', "Violation alerts in Alertmanager"),
    ]


def _verdict_series(panel: timeseries.Panel) -> timeseries.Panel:
    for verdict, name in VERDICT_COLOURS.items():
        panel = panel.override_by_name(verdict, colour(name))
    return panel


def _severity_series(panel: timeseries.Panel) -> timeseries.Panel:
    for severity, name in SEVERITY_COLOURS.items():
        panel = panel.override_by_name(severity, colour(name))
    return panel


def _dead_letter_row(board: Dashboard) -> Dashboard:
    return (
        board.with_row(Row("Dead letters"))
        .with_panel(
            stacked(
                timeseries_panel(
                    "Dead letters/s by reason",
                    "Invalid input records per second by reason class (not_json, not_utf8, "
                    "too_large, missing_field, wrong_value, ...). Each one has an invalid "
                    "decision and its original bytes on the dead-letter topic.",
                    "suffix: records/s",
                )
            )
            .with_target(
                query(
                    "sum by (reason) "
                    f"(rate(auditor_invalid_events_total{sel()}[$__rate_interval]))",
                    "{{reason}}",
                )
            )
            .links([runbook_link("dead-letters")])
            .span(16)
            .height(8)
        )
        .with_panel(
            bar_gauge_panel(
                "Dead letters in range by reason",
                "Invalid input records over the dashboard's time range.",
                "short",
            )
            .with_target(
                query(
                    "sort_desc(sum by (reason) "
                    f"(increase(auditor_invalid_events_total{sel()}[$__range])))",
                    "{{reason}}",
                    instant=True,
                )
            )
            .thresholds(thresholds((None, "orange")))
            .span(8)
            .height(8)
        )
    )


def _transfer_map() -> GeomapPanel:
    # The metric has the destination country only, so the map shows where personal data
    # went (ISO 3166 alpha-2 codes, looked up in Grafana's countries gazetteer).
    markers = (
        MapLayerOptions()
        .type("markers")
        .name("Destinations")
        .location(
            FrameGeometrySource()
            .mode(common.FrameGeometrySourceMode.LOOKUP)
            .lookup("destination_country")
            .gazetteer("public/gazetteer/countries.json")
        )
        .config(
            {
                "showLegend": True,
                "style": {
                    "color": {"field": "Value", "fixed": "dark-blue"},
                    "opacity": 0.5,
                    "size": {"field": "Value", "fixed": 5, "min": 4, "max": 30},
                    "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                    "text": {"field": "destination_country", "fixed": "", "mode": "field"},
                    "textConfig": {"fontSize": 10, "offsetY": -12, "textAlign": "center",
                                   "textBaseline": "bottom"},
                },
            }
        )
    )
    return (
        GeomapPanel()
        .title("Transfer destinations")
        .description(
            "Transfers out of the origin's country over the dashboard's time range, by "
            "destination country. The origin side is the regime (EU/EEA or UK): see the "
            "table beside."
        )
        .datasource(DATASOURCE)
        .with_target(
            query(
                "sum by (destination_country) "
                f"(increase(auditor_transfers_total{sel()}[$__range]))",
                "{{destination_country}}",
                instant=True,
                as_table=True,
            )
        )
        .basemap(MapLayerOptions().type("default").name("Basemap"))
        .layers([markers])
        .view(MapViewConfig().id("zero").lat(30).lon(10).zoom(1))
        .controls(ControlsOptions().show_zoom(True).mouse_wheel_zoom(False))
        .unit("short")
        .thresholds(thresholds((None, "blue")))
        .span(12)
        .height(12)
    )


def _transfer_row(board: Dashboard) -> Dashboard:
    return (
        board.with_row(Row("Transfers (GDPR / UK GDPR Chapter V)"))
        .with_panel(_transfer_map())
        .with_panel(
            table_panel(
                "Transfers: origin regime → destination, by mechanism",
                "Transfers over the dashboard's time range. Origin is the regime the origin "
                "country is under (EU/EEA or UK); mechanism is the Chapter V basis found "
                "(adequacy, dpf, scc, idta, bcr, derogation ...); 'none' means no lawful basis.",
            )
            .with_target(
                query(
                    "sum by (regime, destination_country, mechanism) "
                    f"(increase(auditor_transfers_total{sel()}[$__range]))",
                    instant=True,
                    as_table=True,
                )
            )
            .with_transformation(
                DataTransformerConfig(
                    id_val="organize",
                    options={
                        "excludeByName": {"Time": True},
                        "indexByName": {
                            "regime": 0,
                            "destination_country": 1,
                            "mechanism": 2,
                            "Value": 3,
                        },
                        "renameByName": {
                            "regime": "origin (regime)",
                            "destination_country": "destination",
                            "mechanism": "mechanism",
                            "Value": "transfers",
                        },
                    },
                )
            )
            .mappings(value_names({**REGIME_NAMES, **MECHANISM_NAMES}))
            .sort_by([TableSortByFieldState().display_name("transfers").desc(True)])
            .decimals(0)
            .span(12)
            .height(12)
        )
        .with_panel(
            bar_gauge_panel(
                "Transfers in range by mechanism",
                "Transfers over the dashboard's time range by Chapter V mechanism.",
                "short",
            )
            .with_target(
                query(
                    "sort_desc(sum by (mechanism) "
                    f"(increase(auditor_transfers_total{sel()}[$__range])))",
                    "{{mechanism}}",
                    instant=True,
                )
            )
            .override_by_name("none", colour("red"))
            .thresholds(thresholds((None, "blue")))
            .span(12)
            .height(8)
        )
        .with_panel(
            timeseries_panel(
                "Transfers/s without a lawful basis",
                "Transfers whose mechanism is none, by origin regime and destination country.",
                "suffix: transfers/s",
            )
            .with_target(
                query(
                    "sum by (regime, destination_country) "
                    f"(rate(auditor_transfers_total{NO_BASIS}"
                    "[$__rate_interval]))",
                    "{{regime}} → {{destination_country}}",
                )
            )
            .span(12)
            .height(8)
        )
        .with_panel(flow_map_panel())
    )


def build() -> Dashboard:
    """The dashboard builder (call ``.build()`` for the model)."""
    board = (
        Dashboard("Auditor / Decisions")
        .uid(UID)
        .description(
            "What the auditor decided: verdicts, violations by rule, dead letters and "
            "Chapter V transfers. Generated by grafana/generate.py: edit the code, not this."
        )
        .tags(["auditor", "privacy", "generated"])
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("browser")
        .editable()
        .annotation(builtin_annotations())
        .with_variable(datasource_variable())
    )
    for variable in worker_variables():
        board = board.with_variable(variable)
    return _transfer_row(_dead_letter_row(_traffic_row(board)))
