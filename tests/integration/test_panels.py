"""Every dashboard panel's queries, run by a real Prometheus scraping a worker, give the
right numbers for a known input — not just some data.

Two phases of input: the first creates every series the second touches, then the second
is the known input. Each query is evaluated at the time of a scrape after the second
phase, with ``$__range`` and ``$__rate_interval`` exactly the time since a scrape between
the phases: both ends of the window are samples, so Prometheus does not extrapolate and
``increase`` is the second phase's count exactly (``rate`` that count over the window).
"""

from __future__ import annotations

import json
import math
import platform
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import confluent_kafka
import orjson
import pytest

from auditor.engine import Engine
from auditor.ops.histogram import DAY, EVENT_LAG_BUCKETS
from auditor.ops.tables import reviewed_at
from auditor.policy import load_policy
from auditor.report.flowmap import MECHANISM_COLOURS as colours
from tests.integration.conftest import EXAMPLE_POLICY, ROOT, Cluster
from tests.integration.test_observability import (
    alertmanager,
    get_json,
    metrics_url,
    prometheus,
    wait_for,
)
from tests.unit.deploy.test_grafana_dashboards import _source

pytestmark = pytest.mark.integration
DASHBOARDS = ROOT / "grafana" / "dashboards"
Series = dict[tuple[tuple[str, str], ...], float]
# The second phase, per processor: (events, destination location).
KNOWN = {"dpf-processor": (40, "aws:us-east-1"), "plain-processor": (10, "aws:us-east-1"),
         "scc-processor": (5, "aws:ap-south-1")}
INVALID = [b"not json", b"{also not json", b'{"event_id": "no-fields"}']  # 2 not_json, 1 missing
LAG_S = 10 * DAY  # every valid event of the second phase is ten days old


def event(i: int, processor: str, location: str, when: str) -> bytes:
    return orjson.dumps({
        "event_id": f"p-{i}", "event_time": when, "data_class": "personal_data",
        "operation": "transfer", "origin": {"location": "aws:eu-central-1"},
        "destination": {"location": location}, "processor": processor,
        "tenant": {"id": f"t-{i % 5}"},
    })


def known_input(when: str) -> list[bytes]:
    """The second phase: KNOWN's events at ``when``, then the invalid records."""
    records: list[bytes] = []
    for processor, (count, location) in KNOWN.items():
        for _ in range(count):
            records.append(event(100 + len(records), processor, location, when))
    return records + INVALID


def query_at(prom: str, expr: str, at: float) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})
    data = get_json(f"{prom}/api/v1/query?{params}")
    assert data["status"] == "success", (expr, data)
    result: list[dict[str, Any]] = data["data"]["result"]
    return result


def series(rows: list[dict[str, Any]]) -> Series:
    return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in rows}


def by(values: Series, *labels: str) -> dict[Any, float]:
    """The series keyed by ``labels``' values (one label: the value itself)."""
    out = {}
    for key, value in values.items():
        found = dict(key)
        ident = tuple(found.get(label, "") for label in labels)
        out[ident[0] if len(ident) == 1 else ident] = value
    return out


def quantile(q: float, buckets: dict[str, float]) -> float:
    """Prometheus' histogram_quantile over cumulative bucket counts by ``le``."""
    ordered = sorted(((math.inf if le == "+Inf" else float(le)), n) for le, n in buckets.items())
    total = ordered[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in ordered:
        if count >= rank:
            if upper == math.inf:
                return lower
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    raise AssertionError("unreachable")


def test_every_panel_shows_the_right_value_for_a_known_input(
    cluster: Cluster, tmp_path: Path
) -> None:
    engine = Engine(load_policy(EXAMPLE_POLICY))
    started = time.time()
    with alertmanager(tmp_path) as am:
        topics = cluster.topics(partitions=2)
        # Every record decided where it lands (the example policy remembers, and records
        # here are placed by hand): no re-keying, whose panel then shows nothing
        # (test_rekey.py counts it).
        worker = cluster.start_worker(topics, extra_env={
            "AUDITOR_ALERTMANAGER_URL": am, "AUDITOR_ALERT_INTERVAL_S": "1",
            "AUDITOR_CONSUMER_LAG_INTERVAL_S": "1", "AUDITOR_REKEY": "off"})
        instance = urllib.parse.urlsplit(metrics_url(worker)).netloc
        with prometheus(tmp_path, instance, urllib.parse.urlsplit(am).netloc) as prom:

            def settled(total: int) -> float | None:
                """The time of a scrape that holds ``total`` decisions and zero lag."""
                now = time.time()
                counted = sum(series(query_at(prom, "auditor_events_total", now)).values())
                lag = series(query_at(prom, "auditor_consumer_lag", now))
                if counted != total or len(lag) != 2 or any(lag.values()):
                    return None
                (stamp,) = query_at(prom, "timestamp(auditor_last_decision_timestamp_seconds)",
                                    now)
                return float(stamp["value"][1])

            def scrape_after(at: float) -> float | None:
                rows = query_at(prom, "timestamp(auditor_last_decision_timestamp_seconds)",
                                time.time())
                stamp = float(rows[0]["value"][1]) if rows else None
                return stamp if stamp is not None and stamp > at else None

            # Idle: two scrapes before any input. A ratio of no events is no value, not NaN.
            t0 = wait_for("a first scrape", lambda: scrape_after(0))
            quiet = wait_for("a second scrape", lambda: scrape_after(t0))
            idle = {"$__rate_interval": f"{round((quiet - t0) * 1000)}ms", "$job": "auditor",
                    "$instance": instance, "$policy": "gdpr-transfers"}
            promql = _source("promql")
            ratios = {}
            for panel in json.loads((DASHBOARDS / "auditor-decisions.json").read_text())[
                    "panels"]:
                if panel["title"] in ("Violation ratio", "Invalid ratio"):
                    (target,) = panel["targets"]
                    ratios[panel["title"]] = query_at(
                        prom, promql.substitute_variables(target["expr"], idle), quiet)
                    assert panel["fieldConfig"]["defaults"]["noValue"] == "no events"
            assert ratios == {"Violation ratio": [], "Invalid ratio": []}

            # Phase 1: one event of each route and an invalid record (creates the series).
            first = [event(i, p, loc, "2026-03-02T09:00:00Z")
                     for i, (p, (_, loc)) in enumerate(KNOWN.items())] + [b"nope"]
            # Both partitions get records (keyless records stick to one partition for a
            # while), so both report their consumer lag.
            cluster.produce(topics.input, first[::2], partition=0)
            cluster.produce(topics.input, first[1::2], partition=1)
            t1 = wait_for("phase 1 in Prometheus", lambda: settled(len(first)))
            # Phase 2: the known input, events ten days old.
            when = (datetime.now(UTC) - timedelta(seconds=LAG_S)).isoformat()
            sent_at = time.time()
            second = known_input(when)
            cluster.produce(topics.input, second)
            total = len(first) + len(second)

            def pushes(at: float) -> float:
                return sum(series(query_at(prom, 'auditor_alerts_pushed_total{result="sent"}',
                                           at)).values())

            # The phase's violations are pushed (sent, not failed) before the window ends.
            before = pushes(t1)
            wait_for("an alert push after phase 2", lambda: pushes(time.time()) > before)
            t2 = wait_for("phase 2 in Prometheus", lambda: settled(total), timeout=90)

            window = f"{round((t2 - t1) * 1000)}ms"
            d = round((t2 - t1) * 1000) / 1000
            values = {"$__rate_interval": window, "$__range": window, "$job": "auditor",
                      "$instance": instance, "$policy": "gdpr-transfers"}
            results: dict[str, dict[str, Series]] = {}
            for path in sorted(DASHBOARDS.glob("*.json")):
                for panel in json.loads(path.read_text())["panels"]:
                    for target in panel.get("targets", []):
                        expr = promql.substitute_variables(target["expr"], values)
                        results.setdefault(panel["title"], {})[target["refId"]] = series(
                            query_at(prom, expr, t2))

            def raw(expr: str, at: float) -> Series:
                return series(query_at(prom, expr, at))

            def delta(expr: str) -> dict[Any, float]:
                """Raw increase of ``expr``'s series from t1 to t2, keyed by its labels."""
                after, before = raw(expr, t2), raw(expr, t1)
                return {k: v - before.get(k, 0.0) for k, v in after.items()}

            latency_buckets = {dict(k)["le"]: v for k, v in
                               delta("auditor_processing_latency_seconds_bucket").items()}
            sent = sum(v for k, v in delta("auditor_alerts_pushed_total").items()
                       if dict(k)["result"] == "sent")
            cpu = sum(delta("process_cpu_seconds_total").values())
            gc = {dict(k)["generation"]: v for k, v in
                  delta("python_gc_collections_total").items()}
            gc_collected = sum(delta("python_gc_objects_collected_total").values())
            gc_uncollectable = sum(delta("python_gc_objects_uncollectable_total").values())
            rss = sum(raw("process_resident_memory_bytes", t2).values())
            virtual = sum(raw("process_virtual_memory_bytes", t2).values())
            fds = sum(raw("process_open_fds", t2).values()) / sum(
                raw("process_max_fds", t2).values())
            last = sum(raw("auditor_last_decision_timestamp_seconds", t2).values())
            start = sum(raw("process_start_time_seconds", t2).values())

    n = {p: count for p, (count, _) in KNOWN.items()}
    allow, violation, invalid = n["dpf-processor"] + n["scc-processor"], n["plain-processor"], 3
    events = allow + violation + invalid
    reviewed = reviewed_at(engine.tables)
    assert reviewed is not None
    lag_bucket = next(i for i, b in enumerate(EVENT_LAG_BUCKETS) if b >= LAG_S)
    low, high = EVENT_LAG_BUCKETS[lag_bucket - 1], EVENT_LAG_BUCKETS[lag_bucket]
    p99 = quantile(0.99, latency_buckets)

    def one(expected: float, rel: float = 1e-9) -> Callable[[dict[str, Series]], None]:
        def check(refs: dict[str, Series]) -> None:
            (got,) = refs["A"].values()
            assert got == pytest.approx(expected, rel=rel)
        return check

    def keyed(expected: dict[Any, float], *labels: str, ref: str = "A"
              ) -> Callable[[dict[str, Series]], None]:
        def check(refs: dict[str, Series]) -> None:
            got = {k: v for k, v in by(refs[ref], *labels).items() if v or k in expected}
            assert got == pytest.approx(expected)
        return check

    def rows(expected: dict[str, str]) -> Callable[[dict[str, Series]], None]:
        def check(refs: dict[str, Series]) -> None:
            ((labels, _),) = refs["A"].items()
            assert dict(labels) == expected
        return check

    def checks(*fns: Callable[[dict[str, Series]], None]) -> Callable[[dict[str, Series]], None]:
        def check(refs: dict[str, Series]) -> None:
            for fn in fns:
                fn(refs)
        return check

    def since_last(refs: dict[str, Series]) -> None:
        (got,) = refs["A"].values()
        assert got == pytest.approx(t2 - last)
        assert 0 <= got <= t2 - sent_at

    def latency(refs: dict[str, Series]) -> None:
        assert by(refs["A"]) == {(): pytest.approx(quantile(0.5, latency_buckets))}
        assert by(refs["B"]) == {(): pytest.approx(p99)}
        assert 0 < p99 <= 60

    def policy_loaded(refs: dict[str, Series]) -> None:
        ((worker_instance, loaded_ms),) = by(refs["A"], "instance").items()
        assert worker_instance == instance
        assert started * 1000 <= loaded_ms <= t1 * 1000  # milliseconds, for Grafana

    def at_least_one(value: float, what: str) -> Callable[[dict[str, Series]], None]:
        def check(refs: dict[str, Series]) -> None:
            assert value > 0, what
        return check

    def memory(refs: dict[str, Series]) -> None:
        assert list(refs["A"].values()) == [rss]
        assert list(refs["B"].values()) == [virtual]
        assert 10e6 < rss <= virtual

    expected: dict[str, Callable[[dict[str, Series]], None]] = {
        # Auditor / Decisions
        "Events decided": one(events / d),
        "Violation ratio": one(violation / events),
        "Invalid ratio": one(invalid / events),
        "Violations in range": one(violation),
        "Events/s by verdict": keyed({"allow": allow / d, "violation": violation / d,
                                      "invalid": invalid / d}, "verdict"),
        "Violations/s by rule and kind": keyed(
            {("gdpr.chapter-v", "transfer"): violation / d}, "rule", "kind"),
        "Violations in range by rule": keyed({("gdpr.chapter-v", "transfer"): violation},
                                             "rule", "kind"),
        "Violations/s by severity": keyed({"high": violation / d}, "severity"),
        "Dead letters/s by reason": keyed({"not_json": 2 / d, "missing_field": 1 / d},
                                          "reason"),
        "Dead letters in range by reason": keyed({"not_json": 2, "missing_field": 1}, "reason"),
        "Transfer destinations": keyed({"US": n["dpf-processor"] + n["plain-processor"],
                                        "IN": n["scc-processor"]}, "destination_country"),
        "Transfers: origin regime → destination, by mechanism": keyed(
            {("eu_gdpr", "US", "dpf"): n["dpf-processor"],
             ("eu_gdpr", "US", "none"): n["plain-processor"],
             ("eu_gdpr", "IN", "scc"): n["scc-processor"]},
            "regime", "destination_country", "mechanism"),
        "Transfers in range by mechanism": keyed(
            {"dpf": n["dpf-processor"], "none": n["plain-processor"],
             "scc": n["scc-processor"]}, "mechanism"),
        "Transfers/s without a lawful basis": keyed(
            {("eu_gdpr", "US"): n["plain-processor"] / d}, "regime", "destination_country"),
        "Flow map: origin → destination by mechanism": keyed(
            {("EU/EEA", "US · dpf", colours["dpf"], "eu_gdpr/US/dpf"): n["dpf-processor"],
             ("EU/EEA", "US · none", colours["none"], "eu_gdpr/US/none"): n["plain-processor"],
             ("EU/EEA", "IN · scc", colours["scc"], "eu_gdpr/IN/scc"): n["scc-processor"]},
            "source", "target", "color", "id"),
        # Auditor / Workers
        "Workers reporting": one(1),
        "Since the last decision": since_last,
        "Policy versions running": one(1),
        "Legal tables age": one(t2 - reviewed),
        # Successful pushes happened (sent > 0) and none failed: the panel shows 0.
        "Alert pushes failed": one(0),
        "Processing latency p50 / p99": latency,
        "Event-time lag p50 / p99": checks(
            keyed({(): low + (high - low) * 0.5}),
            keyed({(): low + (high - low) * 0.99}, ref="B")),
        "Consumer lag by partition": keyed({(topics.input, "0"): 0, (topics.input, "1"): 0},
                                           "topic", "partition"),
        "Consumer lag now": keyed({topics.input: 0}, "topic"),
        "Events/s by worker": keyed({instance: events / d}, "instance"),
        "Processing latency p99 by worker": keyed({instance: p99}, "instance", ref="B"),
        "Consumer lag by worker": keyed({instance: 0}, "instance"),
        "Re-keyed events/s by worker": keyed({}, "instance"),
        "Since the last decision by worker": since_last,
        "Policy per worker": rows({"instance": instance, "policy": "gdpr-transfers",
                                   "version": engine.version,
                                   "legal_tables": engine.tables.version}),
        "Policy loaded": policy_loaded,
        "Legal tables version": keyed({engine.tables.version: 1}, "version"),
        "Legal tables age by worker": keyed({instance: t2 - reviewed}, "instance"),
        # The pack's file did not change: no version taken or refused, none refused now.
        "Policy versions taken and refused": keyed({}, "instance", "result"),
        "Refused policy version in the files": keyed({instance: 0}, "instance"),
        "Alert pushes/s by result": checks(
            keyed({"sent": sent / d, "failed": 0, "dropped": 0}, "result"),
            at_least_one(sent, "an alert was pushed")),
        "CPU by worker": checks(keyed({instance: cpu / d}, "instance"),
                                at_least_one(cpu, "CPU was used")),
        "Memory by worker": memory,
        "Open file descriptors": keyed({instance: fds}, "instance"),
        "Garbage collections/s": checks(
            keyed({g: v / d for g, v in gc.items()}, "generation"),
            keyed({(): gc_collected / d}, ref="B"), keyed({(): gc_uncollectable / d}, ref="C")),
        "Uptime": keyed({instance: t2 - start}, "instance"),
        "Build per worker": rows({"instance": instance, "version": version("auditor"),
                                  "librdkafka": confluent_kafka.libversion()[0],
                                  "implementation": platform.python_implementation(),
                                  "python": platform.python_version()}),
    }
    assert set(results) == set(expected), "every panel has its expected value here"
    for title, check in expected.items():
        try:
            check(results[title])
        except AssertionError as exc:
            raise AssertionError(f"panel {title!r}: {exc}\n{results[title]}") from None
    assert 0 < start < t1
