"""Panel and query builders shared by the auditor dashboards (one look across all of them)."""

from __future__ import annotations

from urllib.parse import quote

from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
from grafana_foundation_sdk.builders.common import (
    ReduceDataOptions,
    StackingConfig,
    VizLegendOptions,
    VizTooltipOptions,
)
from grafana_foundation_sdk.builders.dashboard import (
    AnnotationQuery,
    ConstantVariable,
    DashboardLink,
    DatasourceVariable,
    QueryVariable,
    ThresholdsConfig,
)
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardLinkType,
    DataSourceRef,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMapping,
    ValueMappingResult,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from auditor.stream.settings import DEFAULT_DOCS_BASE_URL

# Every panel reads the data source picked in the `datasource` variable; the provisioned
# one (uid "prometheus") is its default, so the dashboards also work in another Grafana.
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
PROVISIONED_DATASOURCE_UID = "prometheus"
# Every query selects the workers of the chosen jobs and instances; the instance list only
# offers workers running the chosen policy packs, so picking a pack picks its workers.
WORKERS = 'job=~"$job", instance=~"$instance"'
# Where runbooks are (the workers' AUDITOR_DOCS_BASE_URL default, as in the alert rules),
# and the Alertmanager UI the compose stack publishes (a hidden constant: change it there).
RUNBOOKS = DEFAULT_DOCS_BASE_URL + "runbooks/"
ALERTMANAGER_UI = "http://localhost:9093"

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


def sel(*matchers: str) -> str:
    """A label selector: the dashboard's workers, and ``matchers``."""
    return "{" + ", ".join((WORKERS, *matchers)) + "}"


def _label_variable(name: str, label: str, query: str) -> QueryVariable:
    return (
        QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        # No custom "all" value: All means the values listed, so the instances of the
        # chosen packs, not every instance there is.
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )


def worker_variables() -> list[QueryVariable | ConstantVariable]:
    """job → policy → instance, each listing what the one before allows; and the
    Alertmanager UI's address for links."""
    return [
        _label_variable("job", "Job", "label_values(auditor_policy_info, job)"),
        _label_variable("policy", "Policy pack",
                        'label_values(auditor_policy_info{job=~"$job"}, policy)'),
        _label_variable("instance", "Worker",
                        'label_values(auditor_policy_info{job=~"$job", policy=~"$policy"}, '
                        "instance)"),
        ConstantVariable("alertmanager").label("Alertmanager UI").value(ALERTMANAGER_UI),
    ]


def runbook_link(page: str, title: str | None = None) -> DashboardLink:
    """A panel link to ``docs/runbooks/<page>.md`` under the docs' base URL."""
    return (DashboardLink(title or f"Runbook: {page}").type(DashboardLinkType.LINK)
            .url(f"{RUNBOOKS}{page}.md").target_blank(True))


def alert_list_link(matchers: str, title: str) -> DashboardLink:
    """A panel link to Alertmanager's alert list filtered by ``matchers`` (``{a="b"}``)."""
    return (DashboardLink(title).type(DashboardLinkType.LINK)
            .url(f"${{alertmanager}}/#/alerts?filter={quote(matchers, safe='')}")
            .target_blank(True))


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
