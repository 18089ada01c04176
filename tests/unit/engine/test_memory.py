"""Rules that remember, driven by event time: home region, erasure, retention deadlines,
derogation overuse; late events; bounded memory; `auditor check --now`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from auditor import schemas
from auditor.cli import main
from auditor.engine import Decider, Decision, Engine, Trace
from auditor.memory import DictStore, DictStores
from auditor.policy import load_policy

POLICY = """apiVersion: auditor/v1
id: mem
company: {id: me, country: DK}
home_regions: {EU1: {locations: ["country:DE"]}, EU2: {locations: ["country:SE"]}}
data_classes: {transcript: {}}
processors: {vendor: {country: US}}
purposes: {service_delivery: {}}
rules:
  - {id: mem.home, kind: home_region, description: d, severity: high, effect: deny, citation: c}
  - {id: mem.forget, kind: erasure, description: d, severity: high, effect: deny, citation: c,
     params: {deadline_days: 30}}
  - {id: mem.keep, kind: retention, description: d, severity: medium, effect: deny, citation: c,
     params: {max_days: 90, track_deletion: true}}
  - {id: mem.chapter-v, kind: transfer, description: d, severity: high, effect: deny, citation: c,
     params: {derogation_limit: {max: 2, window_days: 7}}}
"""


@pytest.fixture
def engine(tmp_path: Path) -> Decider:
    """The decide loop of the memory policy, with one memory (a file read in order)."""
    path = tmp_path / "mem.yaml"
    path.write_text(POLICY)
    return Decider(Engine(load_policy(path)))


def ev(n: int, day: int, operation: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": f"e{n}",
        "event_time": f"2026-03-{day:02d}T10:00:00Z",
        "data_class": "transcript",
        "operation": operation,
        "origin": {"location": "country:DK"},
        "destination": {"location": "country:DK", "system": "db"},
        "tenant": {"id": "acme", "home_region": "EU1"},
        "subject": {"key": "s1"},
        "retention_days": 10,
    }
    base.update(extra)
    return base


def run(engine: Decider, events: list[dict[str, Any]]) -> list[Decision]:
    out: list[Decision] = []
    for e in events:
        out += engine.value(e).decisions()
    return out


def kinds(d: Decision) -> list[str]:
    return sorted(f.kind for f in d.findings)


def test_home_region_cannot_change(engine: Decider) -> None:
    out = run(
        engine,
        [
            ev(1, 1, "process"),
            ev(2, 2, "process"),
            ev(3, 3, "process", tenant={"id": "acme", "home_region": "EU2"}),
            ev(4, 3, "process", tenant={"id": "other", "home_region": "EU2"}),
        ],
    )
    assert [kinds(d) for d in out] == [[], [], ["home_region"], []]
    assert "it was EU1 (event e1)" in out[2].findings[0].message


def test_erasure_blocks_further_use_but_not_deletion(engine: Decider) -> None:
    out = run(
        engine,
        [
            ev(1, 1, "store"),
            ev(2, 2, "erasure_request"),
            ev(3, 3, "delete"),
            ev(4, 4, "access"),
            ev(5, 4, "store", subject={"key": "s2"}),
        ],
    )
    assert [(d.event_id, kinds(d)) for d in out] == [
        ("e1", []),
        ("e2", []),
        ("e3", []),
        ("e4", ["erasure"]),
        ("e5", []),
    ]


def test_erasure_overdue_when_a_seen_store_is_not_deleted_in_time(engine: Decider) -> None:
    out = run(
        engine,
        [
            ev(1, 1, "store", retention_days=None),
            ev(
                2,
                1,
                "store",
                destination={"location": "country:DK", "system": "s3"},
                retention_days=None,
            ),
            ev(3, 2, "erasure_request"),
            ev(4, 3, "delete"),
        ],
    )
    assert engine.close(_at("2026-04-01T10:00:00Z")) == []  # the 30 days end at 04-01 10:00
    late = engine.close(_at("2026-04-01T10:00:01Z"))
    assert [d.findings[0].kind for d in late] == ["erasure"]
    assert "not deleted or anonymised in s3" in late[0].findings[0].message
    assert late[0].outcome.body["deadline"]["opened_by"] == "e3"
    assert [d.event_id for d in out] == ["e1", "e2", "e3", "e4"]


def test_erasure_met_gives_no_finding(engine: Decider) -> None:
    run(
        engine,
        [
            ev(1, 1, "store", retention_days=None),
            ev(2, 2, "erasure_request"),
            ev(3, 3, "anonymize"),
        ],
    )
    assert engine.close(_at("2027-01-01T00:00:00Z")) == []


def test_retention_deadline_fires_when_event_time_passes_it(engine: Decider) -> None:
    out = run(
        engine,
        [
            ev(1, 1, "store"),
            ev(2, 5, "process", subject={"key": "s9"}),
            ev(3, 12, "process", subject={"key": "s9"}),
        ],
    )
    # e1's copy was due on 03-11; the first event after that (e3) brings its decision first.
    assert [d.event_id for d in out] == ["e1", "e2", "deadline:mem.keep:e1:s1", "e3"]
    record = out[2].plain()
    schemas.validator(schemas.DECISION).validate(record)
    assert record["verdict"] == "violation"
    assert record["deadline"]["due"] == "2026-03-11T10:00:00Z"


def test_retention_met_by_delete_and_late_events_do_not_rewind(engine: Decider) -> None:
    out = run(
        engine,
        [
            ev(1, 1, "store"),
            ev(2, 8, "delete"),
            ev(3, 20, "process"),
            ev(4, 2, "store", subject={"key": "late"}),
        ],
    )
    assert [d.event_id for d in out] == ["e1", "e2", "e3", "e4"]
    # e4 arrived late (its deadline, 03-12, is already behind the watermark): it fires at
    # the next event that moves time on.
    later = engine.value(ev(5, 21, "process", subject={"key": "x"})).decisions()
    assert [d.event_id for d in later] == ["deadline:mem.keep:e4:late", "e5"]


def test_derogation_overuse_is_a_warning(engine: Decider) -> None:
    def transfer(n: int, day: int) -> dict[str, Any]:
        return ev(
            n,
            day,
            "transfer",
            destination={"location": "country:US"},
            processor="vendor",
            derogation="explicit_consent",
        )

    out = run(engine, [transfer(1, 1), transfer(2, 2), transfer(3, 3), transfer(4, 20)])
    warns = [[f.effect for f in d.findings if f.rule == "mem.chapter-v"] for d in out]
    assert warns == [["warn"], ["warn"], ["warn", "warn"], ["warn"]]
    assert "3 derogation-based transfers" in out[2].findings[-1].message
    assert all(d.verdict == "allow" for d in out)


def test_memory_stays_bounded(engine: Decider) -> None:
    assert isinstance(engine.stores, DictStores)
    store: DictStore = engine.stores.store(0)
    for n in range(2000):
        engine.value(ev(n, 1, "process", subject={"key": f"s{n}"}, tenant={"id": "t"}))
    # Stores remember the subject until deletion or expiry; processing does not.
    assert len(store.data) < 10
    for n in range(500):
        engine.value(ev(n, 1, "store", subject={"key": f"k{n}"}, retention_days=1))
    grown = len(store.data)
    engine.close(_at("2028-01-01T00:00:00Z"))
    assert len(store.data) < grown / 10  # deadlines fired and stale memory expired


def test_check_now_closes_deadlines(tmp_path: Path) -> None:
    policy = tmp_path / "mem.yaml"
    policy.write_text(POLICY)
    events = tmp_path / "e.jsonl"
    events.write_bytes(orjson.dumps(ev(1, 1, "store")) + b"\n")
    runner = CliRunner()
    without = runner.invoke(main, ["check", "--policy", str(policy), str(events)])
    assert without.exit_code == 0
    assert len(without.output.splitlines()) == 1
    closed = runner.invoke(
        main, ["check", "--policy", str(policy), str(events), "--now", "2026-06-01T00:00:00Z"]
    )
    assert closed.exit_code == 1
    lines = [orjson.loads(line) for line in closed.output.splitlines()]
    assert [r["event_id"] for r in lines] == ["e1", "deadline:mem.keep:e1:s1"]
    bad = runner.invoke(main, ["check", "--policy", str(policy), str(events), "--now", "soon"])
    assert bad.exit_code == 2


def _at(text: str) -> float:
    from auditor.events.validate import parse_time

    value = parse_time(text)
    assert value is not None
    return value


def test_a_subject_key_with_the_separator_is_named_whole(engine: Decider) -> None:
    out = run(engine, [
        ev(1, 1, "store", subject={"key": "crm|42"}, retention_days=None),
        ev(2, 2, "erasure_request", subject={"key": "crm|42"}),
        ev(3, 3, "store", subject={"key": "crm|7"}),
    ])
    late = engine.close(_at("2026-06-01T00:00:00Z"))
    subjects = sorted(d.outcome.body["deadline"]["subject"] for d in late)
    assert subjects == ["crm|42", "crm|7"]
    assert {d.event_id for d in late} == {"deadline:mem.forget:e2:crm|42",
                                          "deadline:mem.keep:e3:crm|7"}
    assert [d.event_id for d in out] == ["e1", "e2", "e3"]


def test_explain_shows_what_each_rule_remembers(engine: Decider) -> None:
    trace = Trace()
    engine.value(ev(1, 1, "store"), trace=trace)
    text = "\n".join(trace.lines())
    assert "memo  mem.keep [retention]: remembers each stored copy" in text
    assert ("remembers: opens a deletion deadline for s1 in country:DK, due "
            "2026-03-11T10:00:00Z (10 days)") in text
    assert "remembers: first home region of tenant acme: EU1" in text
    assert "remembers: subject s1 is stored in db" in text
    moved = Trace()
    engine.value(ev(2, 2, "process", tenant={"id": "acme", "home_region": "EU2"}), trace=moved)
    assert any(line.startswith("  DENY  mem.home [home_region]: tenant acme has home region EU2")
               for line in moved.lines())
