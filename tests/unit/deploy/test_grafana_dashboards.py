"""The generated Grafana dashboards: current, valid SDK models, parseable PromQL, known metrics."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "grafana"
DASHBOARDS = GRAFANA / "dashboards"


def _source(module: str) -> ModuleType:
    """A module of grafana/dashboards_src (a script folder, not an installed package)."""
    if str(GRAFANA) not in sys.path:
        sys.path.insert(0, str(GRAFANA))
    import importlib

    return importlib.import_module(f"dashboards_src.{module}")


def require_tool(name: str) -> str:
    """Path of a command-line tool; skip without it, but fail in CI (CI=true) where it must be."""
    path = shutil.which(name)
    if path is None:
        message = (
            f"{name} is not installed (Debian package prometheus: "
            "apt-get install prometheus)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must install it")
        pytest.skip(message)
    return path


def _committed() -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(DASHBOARDS.glob("*.json"))
    }


def _expressions() -> list[tuple[str, str, str]]:
    """(file, panel title, expr) of every query in the committed dashboards."""
    found = []
    for name, board in _committed().items():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                found.append((name, panel["title"], target["expr"]))
    return found


def test_committed_dashboards_equal_the_generators_output() -> None:
    rendered: dict[str, str] = _source("render").render_all()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in DASHBOARDS.glob("*.json")}
    assert set(on_disk) == set(rendered), "grafana/dashboards/ holds exactly the generated files"
    for name, text in rendered.items():
        assert on_disk[name] == text, (
            f"grafana/dashboards/{name} is stale: run .venv/bin/python grafana/generate.py"
        )


def test_generate_check_reports_a_stale_dashboard(tmp_path: Path) -> None:
    for path in DASHBOARDS.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    script = [sys.executable, str(GRAFANA / "generate.py"), "--check", "--output", str(tmp_path)]
    current = subprocess.run(script, capture_output=True, text=True, check=False)
    assert current.returncode == 0, current.stderr

    edited = tmp_path / "auditor-workers.json"
    edited.write_text(edited.read_text(encoding="utf-8").replace("p99", "p98"), encoding="utf-8")
    stale = subprocess.run(script, capture_output=True, text=True, check=False)
    assert stale.returncode == 1
    assert "auditor-workers.json out of date" in stale.stderr
    assert "Traceback" not in stale.stderr


@pytest.mark.parametrize("name", sorted(_committed()))
def test_dashboard_round_trips_through_the_sdk(name: str) -> None:
    register_default_plugins()  # so panels and Prometheus queries decode to their types
    text = (DASHBOARDS / name).read_text(encoding="utf-8")
    model = DashboardModel.from_json(json.loads(text))
    again = JSONEncoder(sort_keys=True, indent=2, ensure_ascii=False).encode(model) + "\n"
    assert again == text


@pytest.mark.parametrize("name", sorted(_committed()))
def test_dashboard_is_a_sound_grafana_model(name: str) -> None:
    board = _committed()[name]
    assert board["uid"] == name.removesuffix(".json")
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["title"], panel
        assert panel.get("description"), panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        refs = [t["refId"] for t in panel["targets"]]
        assert refs, panel["title"]
        assert all(refs), panel["title"]
        assert len(refs) == len(set(refs)), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_queries_name_only_metrics_the_worker_exports() -> None:
    metrics = _source("metrics")
    allowed = metrics.series_names(metrics.load_metrics())
    promql = _source("promql")
    for name, title, expr in _expressions():
        used = promql.metric_names(promql.substitute_variables(expr))
        assert used, f"{name} / {title}: no metric found in {expr!r}"
        assert used <= allowed, f"{name} / {title}: {sorted(used - allowed)} not exported"


def test_every_exported_metric_has_a_panel() -> None:
    metrics = _source("metrics")
    promql = _source("promql")
    used = set()
    for _, _, expr in _expressions():
        used |= promql.metric_names(promql.substitute_variables(expr))
    for metric in metrics.load_metrics().values():
        assert used & set(metric.series()), f"no panel shows {metric.name}"


# The issue's panels: (title, what its queries must contain).
REQUIRED_PANELS = {
    "Events/s by verdict": ["auditor_events_total", "by (verdict)", "rate("],
    "Violations/s by rule and kind": ["auditor_findings_total", "by (rule, kind)", 'effect="deny"',
                                      'kind!="schema"', 'policy=~"$policy"'],
    "Transfer destinations": ["auditor_transfers_total", "by (destination_country)"],
    "Transfers: origin regime → destination, by mechanism": [
        "auditor_transfers_total", "by (regime, destination_country, mechanism)"],
    "Dead letters/s by reason": ["auditor_invalid_events_total", "by (reason)"],
    "Processing latency p50 / p99": [
        "histogram_quantile(0.5,", "histogram_quantile(0.99,",
        "auditor_processing_latency_seconds_bucket", "by (le)"],
    "Event-time lag p50 / p99": [
        "histogram_quantile(0.5,", "histogram_quantile(0.99,", "auditor_event_time_lag_seconds"],
    "Consumer lag by partition": ["auditor_consumer_lag", "by (topic, partition)"],
    "Policy per worker": ["auditor_policy_info", "policy, version, legal_tables"],
    "Legal tables age": ["auditor_legal_tables_reviewed_timestamp_seconds"],
    # The exporter's failures (failed, dropped), not "anything but ok": sent is a success.
    "Alert pushes failed": ["auditor_alerts_pushed_total", 'result=~"failed|dropped"'],
    # Violating events, not findings (an event may break several rules); schema excluded.
    "Violations in range": ['auditor_events_total{job=~"$job", instance=~"$instance", '
                            'verdict="violation"}', "[$__range]"],
    "Violations in range by rule": ['kind!="schema"'],
    "Violations/s by severity": ['kind!="schema"'],
    # A ratio of nothing is no ratio ("no events"), not NaN.
    "Violation ratio": ["> 0)"],
    "Invalid ratio": ["> 0)"],
    "Events/s by worker": ["by (instance)"],
    "Processing latency p99 by worker": ["by (instance, le)"],
    "Consumer lag by worker": ["by (instance)"],
}


@pytest.mark.parametrize("title", sorted(REQUIRED_PANELS))
def test_the_issues_panels_are_there(title: str) -> None:
    exprs = " ".join(expr for _, t, expr in _expressions() if t == title)
    assert exprs, f"no panel titled {title!r}"
    for needle in REQUIRED_PANELS[title]:
        assert needle in exprs, f"{title}: {needle!r} not in {exprs!r}"


def test_the_transfer_map_is_keyed_on_destination_country() -> None:
    board = _committed()["auditor-decisions.json"]
    (geomap,) = [p for p in board["panels"] if p["type"] == "geomap"]
    (layer,) = geomap["options"]["layers"]
    assert layer["location"] == {
        "mode": "lookup",
        "lookup": "destination_country",
        "gazetteer": "public/gazetteer/countries.json",
    }
    assert geomap["targets"][0]["format"] == "table"


def test_every_query_parses_with_promtool(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    promql = _source("promql")
    rules = [
        {"record": f"dashboard:query_{i}", "expr": promql.substitute_variables(expr)}
        for i, (_, _, expr) in enumerate(_expressions())
    ]
    path = tmp_path / "dashboard-queries.rules.json"  # JSON is YAML: no YAML writer needed
    path.write_text(json.dumps({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout + result.stderr


def test_promtool_check_rejects_a_broken_query(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    path = tmp_path / "broken.rules.json"
    broken = "sum by (verdict (rate(auditor_events_total[5m]))"
    rule = {"record": "dashboard:broken", "expr": broken}
    path.write_text(json.dumps({"groups": [{"name": "dashboards", "rules": [rule]}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (verdict) (rate(auditor_events_total{verdict="x"}[5m]))',
         {"auditor_events_total"}),
        ("histogram_quantile(0.99, sum by (le) (rate(lat_seconds_bucket[5m])))",
         {"lat_seconds_bucket"}),
        ("time() - max(last_seconds)", {"last_seconds"}),
        ("a * on(instance) group_left(version) b offset 5m", {"a", "b"}),
        ("sum(x) by (a) / ignoring(b) count(y) > bool 1e3", {"x", "y"}),
        ('{__name__="foo", job="x"}', {"foo"}),
        ('label_replace(up, "a", "$1", "b", "(.*)")', {"up"}),
        ("topk(10, sum without (instance) (increase(c_total[1h:5m]))) or vector(0)",
         {"c_total"}),
    ],
)
def test_metric_names_of_an_expression(expr: str, names: set[str]) -> None:
    assert _source("promql").metric_names(expr) == names


def test_a_dashboard_variable_without_a_stand_in_is_refused() -> None:
    promql = _source("promql")
    assert promql.substitute_variables("rate(x[$__rate_interval])") == "rate(x[5m])"
    assert promql.substitute_variables('x{job=~"$job"}') == 'x{job=~".*"}'
    with pytest.raises(promql.UnknownVariable, match=r"\$team"):
        promql.substitute_variables('x{team="$team"}')


def test_the_generator_refuses_an_unknown_metric() -> None:
    render = _source("render")
    board = _source("decisions").build().build()
    with pytest.raises(render.UnknownMetric, match="auditor_events_total"):
        render.check_metrics(board, frozenset({"auditor_findings_total"}))


def test_a_malformed_metric_list_names_the_line() -> None:
    metrics = _source("metrics")
    with pytest.raises(metrics.MetricListError, match=r"list.txt:2: expected 'NAME TYPE LABELS'"):
        metrics.parse_metrics("# comment\nauditor_x_total countr a\n", source="list.txt")
    with pytest.raises(metrics.MetricListError, match="listed twice"):
        metrics.parse_metrics("a counter -\na gauge -\n")


def test_the_panel_pushed_alerts_link_to_is_the_violations_panel() -> None:
    from auditor.ops.links import (
        DECISIONS_DASHBOARD_UID,
        VIOLATIONS_PANEL_ID,
        VIOLATIONS_PANEL_TITLE,
    )

    board = _committed()[f"{DECISIONS_DASHBOARD_UID}.json"]
    (panel,) = [p for p in board["panels"] if p["id"] == VIOLATIONS_PANEL_ID]
    assert panel["title"] == VIOLATIONS_PANEL_TITLE


def test_alert_push_failures_are_the_exporters() -> None:
    from auditor.ops.metrics import ALERT_FAILURES, ALERT_RESULTS

    workers = _source("workers")
    assert workers.PUSH_FAILURES == ALERT_FAILURES
    assert workers.PUSH_SENT in ALERT_RESULTS
    assert workers.PUSH_SENT not in ALERT_FAILURES


_SELECTED = re.compile(r"\b((?:auditor|process|python)_[a-z_]+)(\{[^}]*\})?")


def test_every_query_selects_the_chosen_workers_and_findings_the_chosen_packs() -> None:
    for name, title, expr in _expressions():
        found = _SELECTED.findall(expr)
        assert found, (name, title)
        for metric, matchers in found:
            where = f"{name} / {title}: {metric}"
            assert 'job=~"$job"' in matchers, where
            assert 'instance=~"$instance"' in matchers, where
            if metric == "auditor_findings_total":
                assert 'policy=~"$policy"' in matchers, where


@pytest.mark.parametrize("name", sorted(_committed()))
def test_job_policy_and_instance_variables_narrow_each_other(name: str) -> None:
    variables = {v["name"]: v for v in _committed()[name]["templating"]["list"]}
    queries = {n: variables[n]["query"] for n in ("job", "policy", "instance")}
    assert queries["job"] == "label_values(auditor_policy_info, job)"
    assert 'job=~"$job"' in queries["policy"]
    assert 'job=~"$job", policy=~"$policy"' in queries["instance"]
    for n in queries:
        assert variables[n]["type"] == "query"
        assert variables[n]["includeAll"] is True
        assert variables[n]["multi"] is True
        # "All" = the values listed (a custom all value would ignore the chosen packs).
        assert "allValue" not in variables[n]


def _links() -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, panel["title"], link) for name, board in _committed().items()
            for panel in board["panels"] for link in panel.get("links", [])]


def test_panel_links_lead_to_runbooks_that_exist_and_to_the_alert_list() -> None:
    from auditor.stream.settings import DEFAULT_DOCS_BASE_URL

    runbooks = set()
    for name, title, link in _links():
        url = link["url"]
        if url.startswith(DEFAULT_DOCS_BASE_URL):
            path = ROOT / "docs" / url.removeprefix(DEFAULT_DOCS_BASE_URL)
            assert path.is_file(), f"{name} / {title}: {url}"
            runbooks.add(path.name)
        else:
            assert url.startswith("${alertmanager}/#/alerts?filter="), (name, title, url)
    assert {"policy-violation.md", "dead-letters.md", "worker-down.md", "worker-stalled.md",
            "consumer-lag.md", "processing-latency.md", "legal-tables-stale.md",
            "alert-push-failing.md", "policy-version-skew.md"} <= runbooks
    alert_lists = {title for _, title, link in _links() if "#/alerts" in link["url"]}
    assert "Violations/s by rule and kind" in alert_lists
    variables = {v["name"]: v for v in _committed()["auditor-decisions.json"]["templating"][
        "list"]}
    assert variables["alertmanager"]["type"] == "constant"
