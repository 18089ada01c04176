"""One decision program: the same input gets the same decisions whichever way it arrives.

One file — plain events, OpenLineage RunEvents, lines the worker receives as batch
records, bad lines and a stateful scenario — goes through `auditor check`, `auditor
replay`, the suite runner and the worker on a broker; every path must give the very same
decisions (issue 12).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from auditor.cli import main
from auditor.engine import Decision
from auditor.intake import BATCH_CONTENT_TYPE
from auditor.intake.openlineage import FACET_SCHEMA_URL
from auditor.report import HashChain
from auditor.suites.runner import run_suite
from tests.integration.conftest import Cluster
from tests.lines import raw_lines

ROOT = Path(__file__).resolve().parents[2]
NATTERBOX = ROOT / "policies" / "natterbox.yaml"
SAMPLE = ROOT / "examples" / "natterbox.jsonl"
# Lines [BATCHED] of the file reach the worker as NDJSON batch records of BATCH lines.
BATCHED = slice(40, 100)
BATCH = 12


def _run_event(event: dict[str, Any], n: int) -> bytes:
    """An OpenLineage RunEvent carrying ``event`` in the auditor's run facet."""
    facet = {k: v for k, v in event.items() if k != "event_time"}
    facet["_producer"] = "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/client/python"
    facet["_schemaURL"] = FACET_SCHEMA_URL
    return orjson.dumps({
        "eventType": "COMPLETE",
        "eventTime": event["event_time"],
        "run": {"runId": f"0191c4a8-0000-7000-8000-{n:012d}", "facets": {
            "auditor_dataFlow": facet}},
        "job": {"namespace": "recordings", "name": "upload"},
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/client/python",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    })


def mixed_file(tmp: Path) -> Path:
    lines = raw_lines(SAMPLE)[:300]
    # OpenLineage: events 200-259 arrive wrapped in RunEvents.
    for n in range(200, 260):
        lines[n] = _run_event(orjson.loads(lines[n]), n)
    # A tenant whose home region changes, and a copy kept one day whose deletion
    # deadline later events pass (rules that remember).
    first = orjson.loads(lines[3])
    moved = copy.deepcopy(first)
    moved["event_id"] = "moved-home"
    moved["tenant"]["home_region"] = "UKI1"
    kept: dict[str, Any] = {
        **copy.deepcopy(first), "event_id": "kept-one-day", "data_class": "operational_log",
        "operation": "store", "purpose": "service_delivery", "retention_days": 1,
        "destination": {"location": "aws:eu-central-1", "system": "logs"},
        "subject": {"key": "crm|42"},  # a subject key with the memory's separator in it
    }
    lines[120:120] = [orjson.dumps(moved), orjson.dumps(kept)]
    later = {**copy.deepcopy(first), "event_id": "three-days-later",
             "event_time": "2026-03-05T09:00:00Z"}
    lines += [
        orjson.dumps(later),
        b"{not json",
        b"[1, 2]",
        b'{"event_id": "missing-everything"}',
        b'{"eventType": "START", "run": {"runId": "r-1", "facets": {}}}',
    ]
    path = tmp / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def canonical(records: list[dict[str, Any]]) -> list[bytes]:
    """Decision records in a comparable form, sorted (Kafka keeps order per key only)."""
    return sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in records)


def chain_head(decisions: list[Decision]) -> str:
    chain = HashChain()
    for d in decisions:
        chain.add(d.plain())
    return chain.head


def test_check_replay_suites_and_worker_decide_alike(cluster: Cluster, tmp_path: Path) -> None:
    path = mixed_file(tmp_path)
    lines = raw_lines(path)

    # auditor check
    checked = CliRunner().invoke(main, ["check", "--policy", str(NATTERBOX), str(path)])
    assert checked.exit_code == 1, checked.output
    expected = [orjson.loads(line) for line in checked.output.splitlines()]
    assert len(expected) > len(lines)  # deadline decisions came on top of one per line
    verdicts = [r["verdict"] for r in expected if "deadline" not in r]
    assert verdicts.count("invalid") >= 4
    ids = {r["event_id"] for r in expected}
    assert "0191c4a8-0000-7000-8000-000000000200:COMPLETE" not in ids  # facets carry ids
    assert "natterbox-0000200" in ids  # the id the RunEvent's facet carries
    home = next(r for r in expected if r["event_id"] == "moved-home")
    assert "natterbox.home-region-fixed" in {f["rule"] for f in home["findings"]}
    overdue = [r for r in expected if "deadline" in r and
               r["deadline"]["opened_by"] == "kept-one-day"]
    assert [r["deadline"]["subject"] for r in overdue] == ["crm|42"]

    # the suite runner, with the file as a sample case
    suite = tmp_path / "mixed.tests.yaml"
    counts = {v: verdicts.count(v) for v in ("allow", "violation", "invalid")}
    suite.write_text(
        f"policy: {NATTERBOX}\ncases:\n  - name: mixed input\n    sample: {path}\n"
        f"    expect: {{verdicts: {orjson.dumps(counts).decode()}}}\n"
    )
    (result,) = run_suite(suite, roots=[NATTERBOX.parent])
    assert result.passed, result.problems
    assert [d.plain() for d in result.decisions] == expected

    # auditor replay (files): its hash chain is over the same decisions in the same order
    out = tmp_path / "report"
    replayed = CliRunner().invoke(main, ["replay", "--policy", str(NATTERBOX), str(path),
                                         "--out", str(out), "--quiet", "--format", "json"])
    assert replayed.exit_code == 0, replayed.output
    report = orjson.loads((out / "report.json").read_bytes())
    assert report["integrity"]["head"] == chain_head(list(result.decisions))

    # the worker, one input partition (memory is per partition), some lines as batch records
    topics = cluster.topics(partitions=1)
    cluster.start_worker(topics, policy=NATTERBOX)
    cluster.produce(topics.input, lines[: BATCHED.start])
    batched = lines[BATCHED]
    cluster.produce(topics.input, [b"\n".join(batched[i:i + BATCH])
                                   for i in range(0, len(batched), BATCH)],
                    headers=[("content-type", BATCH_CONTENT_TYPE)])
    cluster.produce(topics.input, lines[BATCHED.stop:])
    records = cluster.read(topics.decisions, until=lambda r: len(r) >= len(expected),
                           timeout=120)
    streamed = [orjson.loads(m.value() or b"") for m in records]
    assert canonical(streamed) == canonical(expected)
