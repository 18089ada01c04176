"""Event time as hostile input: a forged date costs what memory holds, and one tenant's
clock never closes another's deadlines (issue 17; docs/stateful-rules.md)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.engine import Decider, Decision, Engine
from auditor.memory import DictStore, DictStores
from auditor.memory.clock import Clock
from auditor.policy import load_policy
from tests.unit.engine.test_memory import POLICY, _at, ev


class CountingStore(DictStore):
    """A DictStore that counts reads: what an event costs the memory."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, key: str) -> Any:
        self.reads += 1
        return super().get(key)


class CountingStores(DictStores):
    def __init__(self) -> None:
        super().__init__()
        self.one = CountingStore()

    def store(self, stream: int) -> DictStore:
        return self.one


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "mem.yaml"
    path.write_text(POLICY)
    return path


def decider(policy: Path, stores: DictStores | None = None) -> Decider:
    return Decider(Engine(load_policy(policy)), stores=stores)


def tenant(name: str) -> dict[str, str]:
    return {"id": name, "home_region": "EU1"}


def run(engine: Decider, events: list[dict[str, Any]]) -> list[Decision]:
    out: list[Decision] = []
    for e in events:
        out += engine.value(e).decisions()
    return out


def test_an_event_dated_9999_costs_what_memory_holds_not_the_years_between(
    policy: Path,
) -> None:
    stores = CountingStores()
    engine = decider(policy, stores)
    # Open deadlines spread over a few days and a year: what the memory holds.
    run(engine, [ev(n, 1 + n % 20, "store", subject={"key": f"s{n}"}, retention_days=1 + n)
                 for n in range(50)])
    store = stores.one
    store.reads = 0
    out = run(engine, [ev(99, 1, "process", event_time="9999-12-31T23:59:59Z",
                          tenant=tenant("forger"), subject={"key": "x"})])
    # Every hour from 2026 to 9999 (70 million of them) once cost 64 reads each.
    assert store.reads < 2_000
    assert [d.event_id for d in out] == ["e99"]  # acme's deadlines are not the forger's


def test_check_finishes_an_event_dated_9999(policy: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    lines = [ev(n, 1, "store", subject={"key": f"s{n}"}) for n in range(20)]
    lines.append(ev(20, 2, "process", event_time="9999-01-01T00:00:00Z"))
    events.write_bytes(b"\n".join(orjson.dumps(e) for e in lines) + b"\n")
    result = CliRunner().invoke(main, ["check", "--policy", str(policy), str(events)])
    records = [orjson.loads(line) for line in result.output.splitlines()]
    # acme's own clock reached 9999: acme's twenty copies are overdue, nothing else.
    assert len([r for r in records if "deadline" in r]) == 20
    assert records[-1]["event_id"] == "e20"


def test_a_tenant_dated_2030_does_not_close_another_tenants_deadline(policy: Path) -> None:
    engine = decider(policy)
    out = run(engine, [
        ev(1, 1, "store", tenant=tenant("b"), subject={"key": "b-1"}),  # due 03-11
        ev(2, 2, "store", tenant=tenant("a"), subject={"key": "a-1"}),  # due 03-12
        ev(3, 3, "process", tenant=tenant("a"), event_time="2030-01-01T00:00:00Z"),
    ])
    # a's clock closed a's own copy, never b's.
    assert [d.event_id for d in out] == ["e1", "e2", "deadline:mem.keep:e2:a-1", "e3"]
    # b's own time passing its deadline closes it.
    later = run(engine, [ev(4, 12, "process", tenant=tenant("b"), subject={"key": "b-2"})])
    assert [d.event_id for d in later] == ["deadline:mem.keep:e1:b-1", "e4"]


def test_a_quiet_tenants_deadline_passes_once_two_other_tenants_pass_it(policy: Path) -> None:
    engine = decider(policy)
    run(engine, [ev(1, 1, "store", tenant=tenant("quiet"), subject={"key": "q"})])  # 03-11
    first = run(engine, [ev(2, 20, "process", tenant=tenant("a"), subject={"key": "a"})])
    assert [d.event_id for d in first] == ["e2"]  # one tenant's clock is not enough
    second = run(engine, [ev(3, 19, "process", tenant=tenant("c"), subject={"key": "c"})])
    # a and c both went beyond 03-11: the stream's consensus did.
    assert [d.event_id for d in second] == ["deadline:mem.keep:e1:q", "e3"]


def untenanted(event: dict[str, Any]) -> dict[str, Any]:
    del event["tenant"]
    return event


def test_events_without_a_tenant_keep_the_time_of_their_subject(policy: Path) -> None:
    engine = decider(policy)
    out = run(engine, [
        untenanted(ev(1, 1, "store", subject={"key": "p"})),
        untenanted(ev(2, 2, "store", subject={"key": "q"})),
        untenanted(ev(3, 3, "process", subject={"key": "p"},
                      event_time="2031-01-01T00:00:00Z")),
    ])
    assert [d.verdict for d in out] == ["allow", "allow", "violation", "allow"]
    assert [d.event_id for d in out] == ["e1", "e2", "deadline:mem.keep:e1:p", "e3"]


def test_a_forged_date_does_not_make_a_tenants_erasure_overdue_early(policy: Path) -> None:
    engine = decider(policy)
    out = run(engine, [
        ev(1, 1, "store", tenant=tenant("b"), subject={"key": "b-1"}, retention_days=None),
        ev(2, 2, "erasure_request", tenant=tenant("b"), subject={"key": "b-1"}),
        ev(3, 3, "process", tenant=tenant("a"), event_time="2030-01-01T00:00:00Z"),
        ev(4, 4, "process", tenant=tenant("c"), subject={"key": "c-1"}),
    ])
    assert [d.event_id for d in out] == ["e1", "e2", "e3", "e4"]
    late = engine.close(_at("2026-04-02T00:00:00Z"))  # the deadline, for everyone
    assert [d.event_id for d in late] == ["deadline:mem.forget:e2:b-1"]


def test_memory_written_with_one_watermark_is_upgraded_and_keeps_its_deadlines(
    policy: Path,
) -> None:
    # The format of the previous release: one watermark, buckets of keys by hour.
    due = _at("2026-03-11T10:00:00Z")
    hour = int(due // 3600)
    old = DictStore({
        "wm": _at("2026-03-01T10:00:00Z"),
        f"due|{hour}|7": ["rt|mem.keep|s1|country:DK"],
        "rt|mem.keep|s1|country:DK": {"due": due, "event": "e1", "subject": "s1",
                                      "class": "transcript", "place": "country:DK"},
    })
    stores = DictStores()
    stores.by_stream[0] = old
    engine = decider(policy, stores)
    assert [d.event_id for d in run(engine, [ev(2, 5, "process")])] == ["e2"]
    assert "wm" not in old.data
    assert not any(k.startswith("due|") for k in old.data)
    out = run(engine, [ev(3, 12, "process", tenant=tenant("other"))])
    assert [d.event_id for d in out] == ["deadline:mem.keep:e1:s1", "e3"]


def test_an_event_far_ahead_of_its_clock_is_quarantined_and_remembered_nowhere(
    policy: Path,
) -> None:
    engine = decider(policy)
    written = _at("2026-03-01T12:00:00Z")  # when its record was written
    kept = engine.value(ev(1, 1, "store"), clock=written)
    assert kept.invalid is None
    ahead = engine.value(ev(2, 1, "store", event_time="2026-03-01T13:00:01Z"), clock=written)
    assert ahead.invalid is not None
    assert ahead.invalid.code == "future_event_time"
    assert ahead.decision.verdict == "invalid"
    assert ahead.decision.event_id == "e2"
    assert ahead.invalid.message.startswith(
        "event_time: 2026-03-01T13:00:01Z is 1 h after its input's clock "
        "(2026-03-01T12:00:00Z: when its record was written, or --now)")
    forged = engine.value(ev(3, 1, "process", event_time="9999-01-01T00:00:00Z"), clock=written)
    assert forged.invalid is not None
    assert forged.invalid.code == "future_event_time"
    # Neither moved time: the copy of e1 is still open, and closes when it is due.
    later = engine.value(ev(4, 12, "process", subject={"key": "x"}))
    assert [d.event_id for d in later.decisions()] == ["deadline:mem.keep:e1:s1", "e4"]


def test_check_now_is_the_clock_of_a_file(policy: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_bytes(orjson.dumps(ev(1, 1, "store")) + b"\n" + orjson.dumps(
        ev(2, 2, "process", event_time="2030-01-01T00:00:00Z")) + b"\n")
    runner = CliRunner()
    without = runner.invoke(main, ["check", "--policy", str(policy), str(events)])
    assert [orjson.loads(line)["verdict"] for line in without.output.splitlines()] == [
        "allow", "violation", "allow"]  # acme's own clock reached 2030: its copy is overdue
    now = runner.invoke(main, ["check", "--policy", str(policy), str(events),
                               "--now", "2026-06-01T00:00:00Z"])
    records = [orjson.loads(line) for line in now.output.splitlines()]
    assert [r["verdict"] for r in records] == ["allow", "invalid", "violation"]
    assert "AUDITOR_EVENT_TIME_MAX_AHEAD_S" in records[1]["findings"][0]["message"]
    assert records[2]["deadline"]["due"] == "2026-03-11T10:00:00Z"  # closed by --now


def test_a_derogation_dated_years_ahead_does_not_count_in_todays_window(policy: Path) -> None:
    def transfer(n: int, day: int, **extra: Any) -> dict[str, Any]:
        return ev(n, day, "transfer", destination={"location": "country:US"},
                  processor="vendor", derogation="explicit_consent", **extra)

    engine = decider(policy)
    out = run(engine, [transfer(1, 1, event_time="2030-01-01T00:00:00Z",
                                tenant=tenant("forger")),
                       transfer(2, 2), transfer(3, 3)])
    # The limit is 2 within 7 days: the 2030 transfer is not within 7 days of 03-02.
    overuse = [[f.message for f in d.findings if "derogation-based transfers" in f.message]
               for d in out]
    assert overuse == [[], [], []]


def test_a_second_domain_arriving_keeps_the_leaders_deadline_due_this_hour(
    policy: Path,
) -> None:
    engine = decider(policy)
    a = tenant("a")
    out = run(engine, [
        ev(1, 1, "store", tenant=a, retention_days=1, event_time="2026-03-01T10:20:00Z"),
        ev(2, 2, "process", tenant=a, subject={"key": "x"}, event_time="2026-03-02T10:10:00Z"),
        ev(3, 2, "process", tenant=tenant("b"), subject={"key": "y"},
           event_time="2026-03-02T09:00:00Z"),
        ev(4, 2, "process", tenant=a, subject={"key": "x"}, event_time="2026-03-02T10:30:00Z"),
    ])
    # a's copy was due 03-02 10:20, within the hour a's clock was in when b arrived.
    assert [d.event_id for d in out] == ["e1", "e2", "e3", "deadline:mem.keep:e1:s1", "e4"]


@pytest.mark.parametrize("seed", range(6))
def test_random_streams_close_deadlines_only_when_due_and_survive_the_changelog(
    policy: Path, seed: int
) -> None:
    """Safety: a deadline fires only once time has passed it for its tenant (the consensus,
    or its own tenant leading). Determinism: memory sent through JSON (the changelog) at
    any point decides the same. Liveness: closing at the end fires each open one once."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    at = _at("2026-03-01T00:00:00Z")
    for n in range(400):
        at += rng.choice([60.0, 600.0, 3_600.0, 20_000.0])
        when = at - rng.choice([0.0, 0.0, 0.0, 90_000.0])  # some late
        if rng.random() < 0.02:
            when = _at("2031-06-01T00:00:00Z") + rng.random() * 1e6  # a forged date
        operation = rng.choice(["store", "store", "process", "delete", "erasure_request"])
        events.append(ev(n, 1, operation, tenant=tenant(f"t{rng.randrange(4)}"),
                         subject={"key": f"s{rng.randrange(30)}"}, retention_days=1,
                         event_time=_iso(when)))
    opened_by = {e["event_id"]: "t|" + e["tenant"]["id"] for e in events}

    straight = decider(policy, DictStores())
    assert isinstance(straight.stores, DictStores)
    store = straight.stores.store(0)
    fired: list[str] = []
    first: list[dict[str, Any]] = []
    for e in events:
        decisions = straight.value(e).decisions()
        first += [d.plain() for d in decisions]
        clock = Clock(store.get("clock"))
        for d in decisions[:-1]:
            due = _at(d.outcome.body["deadline"]["due"])
            assert clock.passes(due, opened_by[d.outcome.body["deadline"]["opened_by"]])
            fired.append(d.event_id or "")
    assert len(fired) == len(set(fired))

    stores = DictStores()
    again = decider(policy, stores)
    second: list[dict[str, Any]] = []
    for n, e in enumerate(events):
        if n % 37 == 0 and 0 in stores.by_stream:  # as a new owner restores the changelog
            stores.by_stream[0] = DictStore(orjson.loads(orjson.dumps(stores.by_stream[0].data)))
        second += [d.plain() for d in again.value(e).decisions()]
    assert second == first
    assert [d.plain() for d in straight.close(_at("2040-01-01T00:00:00Z"))] == \
        [d.plain() for d in again.close(_at("2040-01-01T00:00:00Z"))]
    assert straight.close(_at("2041-01-01T00:00:00Z")) == []
    assert not any(k.startswith("dl|") for k in store.data)  # the index is empty again


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
