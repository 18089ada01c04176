"""Panel and query builders shared by the auditor dashboards (one look across all of them)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
from grafana_foundation_sdk.builders.common import (
    ReduceDataOptions,
    StackingConfig,
    VizLegendOptions,
    VizTooltipOptions,
)
from grafana_foundation_sdk.builders.dashboard import (
    AnnotationQuery,
    DatasourceVariable,
    ThresholdsConfig,
)
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMapping,
    ValueMappingResult,
    VariableOption,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

# Every panel reads the data source picked in the `datasource` variable; the provisioned
# one (uid "prometheus") is its default, so the dashboards also work in another Grafana.
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
PROVISIONED_DATASOURCE_UID = "prometheus"

VERDICT_COLOURS = {"allow": "green", "violation": "red", "invalid": "orange"}
SEVERITY_COLOURS = {"critical": "dark-red", "high": "red", "medium": "orange", "low": "yellow"}
# The transfer metric has no origin country: the regime says which law the origin was under.
REGIME_NAMES = {
    "eu_gdpr": ValueMappingResult(text="EU/EEA (GDPR)", index=0),
    "uk_gdpr": ValueMappingResult(text="UK (UK GDPR)", index=1),
    "none": ValueMappingResult(text="outside EEA/UK", index=2),
}
MECHANISM_NAMES = {
    "none": ValueMappingResult(text="none: no lawful basis", color="red", index=3),
}


def builtin_annotations() -> AnnotationQuery:
    """Grafana's own "Annotations & Alerts" layer, as the UI adds it to every dashboard."""
    return (
        AnnotationQuery()
        .name("Annotations & Alerts")
        .datasource(DataSourceRef(type_val="grafana", uid="-- Grafana --"))
        .enable(True)
        .hide(True)
        .icon_color("rgba(0, 211, 255, 1)")
        .type("dashboard")
        .built_in(1)
    )


def datasource_variable() -> DatasourceVariable:
    """The ``datasource`` variable: any Prometheus, the provisioned one first."""
    return (
        DatasourceVariable("datasource")
        .label("Data source")
        .type("prometheus")
        .current(VariableOption(selected=True, text="Prometheus", value=PROVISIONED_DATASOURCE_UID))
    )


def query(
    expr: str, legend: str = "", ref: str = "A", *, instant: bool = False, as_table: bool = False
) -> Dataquery:
    """A Prometheus query on the dashboard's data source."""
    q = Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    q = q.instant() if instant else q.range()
    if as_table:
        q = q.format(PromQueryFormat.TABLE)
    return q


def thresholds(*steps: tuple[float | None, str]) -> ThresholdsConfig:
    """Absolute thresholds: ``(None, base colour)`` then ``(value, colour)`` pairs."""
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(
        [Threshold(value=value, color=colour) for value, colour in steps]
    )


def colour(name: str) -> list[DynamicConfigValue]:
    """Override properties that pin a series to a fixed colour."""
    return [DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": name})]


def timeseries_panel(title: str, description: str, unit: str) -> timeseries.Panel:
    """A time series with a table legend (last and max), one tooltip for all series."""
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .min(0)
        .fill_opacity(10)
        .line_width(1)
        .legend(
            VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
        .tooltip(
            VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI).sort(common.SortOrder.DESCENDING)
        )
    )


def stacked(panel: timeseries.Panel) -> timeseries.Panel:
    """Stack the series (parts of one total)."""
    return panel.stacking(StackingConfig().mode(common.StackingMode.NORMAL)).fill_opacity(60)


def stat_panel(title: str, description: str, unit: str) -> stat.Panel:
    """A single value with its sparkline, coloured by thresholds."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .graph_mode(common.BigValueGraphMode.AREA)
        .color_mode(common.BigValueColorMode.VALUE)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def bar_gauge_panel(title: str, description: str, unit: str) -> bargauge.Panel:
    """Horizontal bars, one per series, for totals over the dashboard's time range."""
    return (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .min(0)
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.GRADIENT)
        .show_unfilled(True)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def table_panel(title: str, description: str) -> table.Panel:
    """A table of an instant query's rows."""
    # align and inspect spelled out: the SDK's model fills them in when it reads the JSON.
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .align(common.FieldTextAlignment.AUTO)
        .inspect(False)
    )


def value_names(names: dict[str, ValueMappingResult]) -> list[ValueMapping]:
    """A value mapping that shows readable names for label values."""
    return [ValueMap(options=names)]
