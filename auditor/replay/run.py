"""Deciding replayed records in order with one engine: as the worker (topics) or check (files)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from auditor.engine import Decision, Engine
from auditor.engine.memory import DictStore
from auditor.inputs import NotJson, decode
from auditor.replay.records import Record
from auditor.stream.pipeline import Pipeline, split_batch


class Decider:
    """Feeds records, in order, to one fresh engine (its memory belongs to this run).

    ``kafka``: records are topic records, decided as the worker does (NDJSON batch records
    split, OpenLineage run events unwrapped, one memory store per partition); otherwise
    lines of files, decided as ``auditor check`` does (one store for all files).
    """

    def __init__(self, engine: Engine, *, kafka: bool) -> None:
        self.engine = engine
        self.pipeline = Pipeline(engine) if kafka else None
        self.stores: dict[int, DictStore] = {}

    def feed(self, record: Record) -> list[Decision]:
        """The decisions of one record, in order: deadlines its time passed, then its own."""
        store = self.stores.get(record.stream)
        if store is None:
            store = self.stores[record.stream] = DictStore()
        if self.pipeline is None:
            value = decode(record.raw)
            if type(value) is NotJson:
                return [self.engine.invalid(str(value))]
            return self.engine.decide(value, store)
        out: list[Decision] = []
        for raw in split_batch(record.raw, dict(record.headers)):
            decision, _reason = self.pipeline.decide(raw, store)
            if self.engine.due:
                out.extend(self.engine.due)
                self.engine.due.clear()
            out.append(decision)
        return out

    def close(self, now: float) -> list[Decision]:
        """Deadline decisions of everything still open at ``now``, store by store."""
        out: list[Decision] = []
        for stream in sorted(self.stores) or [0]:
            out.extend(self.engine.close(now, self.stores.get(stream, DictStore())))
        return out


def decide_records(
    engine: Engine, records: Iterable[Record], *, kafka: bool, now: float | None = None
) -> Iterator[Decision]:
    """Every decision the records lead to, in order; ``now`` closes open deadlines at the end."""
    decider = Decider(engine, kafka=kafka)
    for record in records:
        yield from decider.feed(record)
    if now is not None:
        yield from decider.close(now)


def is_deadline(decision: Decision) -> bool:
    """True for a deadline decision (a record of its own, not an input event's)."""
    return "deadline" in decision.outcome.body
