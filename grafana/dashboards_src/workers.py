"""The "Auditor / Workers" dashboard: liveness, latency, lag, policy and legal tables, alerts."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig

from .panels import (
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
    worker_variables,
)

UID = "auditor-workers"
DAY = 86_400.0
# auditor_alerts_pushed_total's results: `sent` reached Alertmanager; these did not
# (auditor.ops.metrics.ALERT_FAILURES, checked by a test).
PUSH_SENT = "sent"
PUSH_FAILURES = ("failed", "dropped")
W = sel()


def _quantiles(metric: str, by: str = "") -> list[tuple[str, str, str]]:
    """(expr, legend, ref) for p50 and p99 of a histogram, all workers together (or per
    ``by`` label)."""
    group = f"{by}, le" if by else "le"
    legend = f"{{{{{by}}}}} " if by else ""
    return [
        (
            f"histogram_quantile({q}, sum by ({group}) "
            f"(rate({metric}_bucket{W}[$__rate_interval])))",
            legend + name,
            ref,
        )
        for q, name, ref in (("0.5", "p50", "A"), ("0.99", "p99", "B"))
    ]


def _health_row(board: Dashboard) -> Dashboard:
    return (
        board.with_row(Row("Health"))
        .with_panel(
            stat_panel("Workers reporting", "Workers whose /metrics Prometheus scrapes.", "short")
            .with_target(
                query(f"count(auditor_last_decision_timestamp_seconds{W})", "workers")
            )
            .thresholds(thresholds((None, "red"), (1, "green")))
            .links([runbook_link("worker-down")])
            .span(4)
            .height(5)
        )
        .with_panel(
            stat_panel(
                "Since the last decision",
                "Time since the most recent decision of any worker: grows when the stream "
                "stalls (or when no traffic arrives).",
                "s",
            )
            .with_target(
                query(f"time() - max(auditor_last_decision_timestamp_seconds{W})", "age")
            )
            .thresholds(thresholds((None, "green"), (300, "orange"), (900, "red")))
            .links([runbook_link("worker-stalled")])
            .span(5)
            .height(5)
        )
        .with_panel(
            stat_panel(
                "Policy versions running",
                "Distinct policy content hashes across workers: more than one means a "
                "rollout is in progress or a worker runs an old pack.",
                "short",
            )
            .with_target(
                query(f"count(count by (version) (auditor_policy_info{W}))", "versions")
            )
            .thresholds(thresholds((None, "green"), (2, "orange")))
            .links([runbook_link("policy-version-skew")])
            .span(5)
            .height(5)
        )
        .with_panel(
            stat_panel(
                "Legal tables age",
                "Time since the legal tables (adequacy, DPF, SCC, IDTA ...) of the oldest "
                "worker were reviewed against their sources.",
                "s",
            )
            .with_target(
                query(f"time() - min(auditor_legal_tables_reviewed_timestamp_seconds{W})", "age")
            )
            .thresholds(thresholds((None, "green"), (90 * DAY, "orange"), (180 * DAY, "red")))
            .links([runbook_link("legal-tables-stale")])
            .span(5)
            .height(5)
        )
        .with_panel(
            stat_panel(
                "Alert pushes failed",
                "Violation alerts that did not reach Alertmanager over the dashboard's time "
                "range: posts that failed, and violations dropped before a post (decisions "
                "are never lost; the incident may be missing in Alertmanager).",
                "short",
            )
            .with_target(
                query(
                    "sum(increase(auditor_alerts_pushed_total"
                    f"{sel(_result_matcher())}[$__range])) or vector(0)",
                    "failed",
                    instant=True,
                )
            )
            .thresholds(thresholds((None, "green"), (1, "red")))
            .links([runbook_link("alert-push-failing")])
            .span(5)
            .height(5)
        )
    )


def _result_matcher() -> str:
    return f'result=~"{"|".join(PUSH_FAILURES)}"'


def _latency_row(board: Dashboard) -> Dashboard:
    latency = timeseries_panel(
        "Processing latency p50 / p99",
        "Consumed → decision produced, from the auditor_processing_latency_seconds histogram.",
        "s",
    ).links([runbook_link("processing-latency")])
    for expr, legend, ref in _quantiles("auditor_processing_latency_seconds"):
        latency = latency.with_target(query(expr, legend, ref))
    event_lag = timeseries_panel(
        "Event-time lag p50 / p99",
        "Decision time minus the event's own event_time: how far behind reality the audit "
        "is. Buckets reach 3 years; a value of exactly 3 years means at least that.",
        "s",
    )
    for expr, legend, ref in _quantiles("auditor_event_time_lag_seconds"):
        event_lag = event_lag.with_target(query(expr, legend, ref))
    return (
        board.with_row(Row("Latency and lag"))
        .with_panel(latency.override_by_name("p99", colour("red")).span(12).height(8))
        .with_panel(event_lag.override_by_name("p99", colour("red")).span(12).height(8))
        .with_panel(
            stacked(
                timeseries_panel(
                    "Consumer lag by partition",
                    "Records not yet consumed, by input topic and partition.",
                    "short",
                )
            )
            .with_target(
                query(
                    f"sum by (topic, partition) (auditor_consumer_lag{W})",
                    "{{topic}}/{{partition}}",
                )
            )
            .links([runbook_link("consumer-lag")])
            .span(16)
            .height(8)
        )
        .with_panel(
            bar_gauge_panel("Consumer lag now", "Records not yet consumed, by topic.", "short")
            .with_target(
                query(f"sum by (topic) (auditor_consumer_lag{W})", "{{topic}}", instant=True)
            )
            .thresholds(thresholds((None, "green"), (1_000, "orange"), (100_000, "red")))
            .span(8)
            .height(8)
        )
    )


def _policy_row(board: Dashboard) -> Dashboard:
    return (
        board.with_row(Row("Policy and legal tables"))
        .with_panel(
            table_panel(
                "Policy per worker",
                "The policy pack each worker runs: id, content hash (equal hashes = same "
                "rules and law) and legal tables version.",
            )
            .with_target(
                query(
                    "max by (instance, policy, version, legal_tables) "
                    f"(auditor_policy_info{W})",
                    instant=True,
                    as_table=True,
                )
            )
            .with_transformation(
                DataTransformerConfig(
                    id_val="organize",
                    options={
                        "excludeByName": {"Time": True, "Value": True},
                        "indexByName": {"instance": 0, "policy": 1, "version": 2,
                                        "legal_tables": 3},
                        "renameByName": {"instance": "worker", "version": "policy version",
                                         "legal_tables": "legal tables"},
                    },
                )
            )
            .span(12)
            .height(7)
        )
        .with_panel(
            stat_panel(
                "Policy loaded",
                "When each worker loaded its policy pack.",
                "dateTimeFromNow",
            )
            .with_target(
                query(
                    f"max by (instance) (auditor_policy_loaded_timestamp_seconds{W}) * 1000",
                    "{{instance}}",
                    instant=True,
                )
            )
            .graph_mode(common.BigValueGraphMode.NONE)
            .thresholds(thresholds((None, "blue")))
            .span(6)
            .height(7)
        )
        .with_panel(
            stat_panel("Legal tables version", "Legal tables version the workers run.", "short")
            .with_target(
                query(f"count by (version) (auditor_legal_tables_info{W})", "{{version}}",
                      instant=True)
            )
            .text_mode(common.BigValueTextMode.NAME)
            .graph_mode(common.BigValueGraphMode.NONE)
            .thresholds(thresholds((None, "blue")))
            .span(6)
            .height(7)
        )
        .with_panel(
            timeseries_panel(
                "Legal tables age by worker",
                "Age of each worker's legal tables; the stale-tables alert fires on it.",
                "s",
            )
            .with_target(
                query(
                    "time() - max by (instance) "
                    f"(auditor_legal_tables_reviewed_timestamp_seconds{W})",
                    "{{instance}}",
                )
            )
            .span(12)
            .height(8)
        )
        .with_panel(
            timeseries_panel(
                "Policy versions taken and refused",
                "New versions of the policy pack's files, by worker: applied (decides from "
                "the next batch on) or rejected (the running version goes on). "
                "docs/policy-rollout.md",
                "short",
            )
            .with_target(
                query(
                    "sum by (instance, result) "
                    f"(increase(auditor_policy_reloads_total{W}[$__rate_interval]))",
                    "{{instance}} {{result}}",
                )
            )
            .span(12)
            .height(7)
        )
        .with_panel(
            stat_panel(
                "Refused policy version in the files",
                "1: the worker's policy files hold a version it refused; it still decides "
                "with the version in the table above (AuditorPolicyReloadFailing).",
                "short",
            )
            .with_target(
                query(f"max by (instance) (auditor_policy_reload_failing{W})", "{{instance}}",
                      instant=True)
            )
            .graph_mode(common.BigValueGraphMode.NONE)
            .thresholds(thresholds((None, "green"), (1, "red")))
            .links([runbook_link("policy-load-failure")])
            .span(12)
            .height(7)
        )
        .with_panel(
            stacked(
                timeseries_panel(
                    "Alert pushes/s by result",
                    "Violation incidents pushed straight to Alertmanager's API v2, by result.",
                    "suffix: pushes/s",
                )
            )
            .with_target(
                query(
                    f"sum by (result) (rate(auditor_alerts_pushed_total{W}[$__rate_interval]))",
                    "{{result}}",
                )
            )
            .override_by_name(PUSH_SENT, colour("green"))
            .override_by_name(PUSH_FAILURES[0], colour("red"))
            .override_by_name(PUSH_FAILURES[1], colour("orange"))
            .span(12)
            .height(8)
        )
    )


def _per_worker_row(board: Dashboard) -> Dashboard:
    latency = timeseries_panel(
        "Processing latency p99 by worker",
        "Consumed → acknowledged, p99 of each worker: one slow worker shows here, not in "
        "the overall quantiles.",
        "s",
    ).links([runbook_link("processing-latency")])
    for expr, legend, ref in _quantiles("auditor_processing_latency_seconds", "instance")[1:]:
        latency = latency.with_target(query(expr, legend, ref))
    return (
        board.with_row(Row("Per worker"))
        .with_panel(
            timeseries_panel(
                "Events/s by worker",
                "Decisions per second of each worker: the partitions the group gave it.",
                "suffix: events/s",
            )
            .with_target(
                query(
                    f"sum by (instance) (rate(auditor_events_total{W}[$__rate_interval]))",
                    "{{instance}}",
                )
            )
            .span(12)
            .height(8)
        )
        .with_panel(latency.span(12).height(8))
        .with_panel(
            timeseries_panel(
                "Consumer lag by worker",
                "Records not yet consumed on each worker's partitions.",
                "short",
            )
            .with_target(
                query(f"sum by (instance) (auditor_consumer_lag{W})", "{{instance}}")
            )
            .links([runbook_link("consumer-lag")])
            .span(12)
            .height(8)
        )
        .with_panel(
            bar_gauge_panel(
                "Since the last decision by worker",
                "Time since each worker last delivered a decision (a worker without "
                "partitions, or without traffic, grows too).",
                "s",
            )
            .with_target(
                query(
                    f"time() - max by (instance) (auditor_last_decision_timestamp_seconds{W})",
                    "{{instance}}",
                    instant=True,
                )
            )
            .thresholds(thresholds((None, "green"), (300, "orange"), (900, "red")))
            .links([runbook_link("worker-stalled")])
            .span(12)
            .height(8)
        )
        .with_panel(
            timeseries_panel(
                "Re-keyed events/s by worker",
                "Events read in a partition other than their key's, forwarded to it through "
                "the repartition topic (policies with rules that remember): a producer that "
                "keys otherwise than auditor emit, such as the OpenLineage client (by job).",
                "suffix: events/s",
            )
            .with_target(
                query(
                    "sum by (instance) "
                    f"(rate(auditor_rekeyed_events_total{W}[$__rate_interval]))",
                    "{{instance}}",
                )
            )
            .span(24)
            .height(8)
        )
    )


def _process_row(board: Dashboard) -> Dashboard:
    return (
        board.with_row(Row("Process"))
        .with_panel(
            timeseries_panel(
                "CPU by worker",
                "CPU seconds per second each worker process uses (1 = one core busy).",
                "percentunit",
            )
            .with_target(
                query(
                    f"sum by (instance) (rate(process_cpu_seconds_total{W}[$__rate_interval]))",
                    "{{instance}}",
                )
            )
            .span(8)
            .height(8)
        )
        .with_panel(
            timeseries_panel(
                "Memory by worker",
                "Resident memory of each worker process (virtual memory dashed).",
                "bytes",
            )
            .with_target(
                query(f"sum by (instance) (process_resident_memory_bytes{W})", "{{instance}} rss")
            )
            .with_target(
                query(
                    f"sum by (instance) (process_virtual_memory_bytes{W})", "{{instance}} virtual",
                    "B",
                )
            )
            .span(8)
            .height(8)
        )
        .with_panel(
            timeseries_panel(
                "Open file descriptors",
                "Share of each worker's file descriptor limit in use (sockets to the brokers, "
                "files).",
                "percentunit",
            )
            .with_target(
                query(
                    f"max by (instance) (process_open_fds{W} / process_max_fds{W})",
                    "{{instance}}",
                )
            )
            .span(8)
            .height(8)
        )
        .with_panel(
            timeseries_panel(
                "Garbage collections/s",
                "Python garbage collections per second by generation, and objects collected "
                "and uncollectable (the worker freezes its start-up objects and collects the "
                "old generations rarely).",
                "short",
            )
            .with_target(
                query(
                    "sum by (generation) "
                    f"(rate(python_gc_collections_total{W}[$__rate_interval]))",
                    "generation {{generation}}",
                )
            )
            .with_target(
                query(
                    f"sum(rate(python_gc_objects_collected_total{W}[$__rate_interval]))",
                    "objects collected/s",
                    "B",
                )
            )
            .with_target(
                query(
                    f"sum(rate(python_gc_objects_uncollectable_total{W}[$__rate_interval]))",
                    "uncollectable/s",
                    "C",
                )
            )
            .span(8)
            .height(8)
        )
        .with_panel(
            stat_panel(
                "Uptime",
                "Time since each worker process started (a restart loop shows short uptimes).",
                "s",
            )
            .with_target(
                query(f"time() - max by (instance) (process_start_time_seconds{W})",
                      "{{instance}}", instant=True)
            )
            .graph_mode(common.BigValueGraphMode.NONE)
            .thresholds(thresholds((None, "orange"), (600, "green")))
            .span(6)
            .height(8)
        )
        .with_panel(
            table_panel(
                "Build per worker",
                "The auditor version, librdkafka and Python each worker runs.",
            )
            .with_target(
                query(
                    f"max by (instance, version, librdkafka) (auditor_build_info{W})"
                    " * on (instance) group_left (implementation, python) "
                    "max by (instance, implementation, python) "
                    f'(label_replace(python_info{W}, "python", "$1", "version", "(.*)"))',
                    instant=True,
                    as_table=True,
                )
            )
            .with_transformation(
                DataTransformerConfig(
                    id_val="organize",
                    options={
                        "excludeByName": {"Time": True, "Value": True},
                        "indexByName": {"instance": 0, "version": 1, "librdkafka": 2,
                                        "implementation": 3, "python": 4},
                        "renameByName": {"instance": "worker", "version": "auditor"},
                    },
                )
            )
            .span(10)
            .height(8)
        )
    )


def build() -> Dashboard:
    """The dashboard builder (call ``.build()`` for the model)."""
    board = (
        Dashboard("Auditor / Workers")
        .uid(UID)
        .description(
            "How the auditor workers are doing: liveness, latency, lag, policy version, "
            "legal tables and alert pushes. Generated by grafana/generate.py: edit the "
            "code, not this."
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
    rows = (_health_row, _latency_row, _per_worker_row, _policy_row, _process_row)
    for row in rows:
        board = row(board)
    return board
