"""Deciding replayed records in order through the one decide loop (auditor.engine.loop)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from auditor.engine import Decider, Decision, Engine
from auditor.intake import Intake
from auditor.replay.records import Record


def feed(decider: Decider, record: Record, now: float | None = None) -> Iterator[Decision]:
    """The decisions of one record, in order: deadlines its time passed, then its own.

    A topic record is decided as the worker does (an NDJSON batch record split by its
    header, one memory per partition, its Kafka timestamp as its clock); a file line as
    ``auditor check`` does (no headers, stream 0, ``now`` as its clock): both through the
    same loop.
    """
    raw = record.raw
    clock = now if record.timestamp_ms is None else record.timestamp_ms / 1000
    steps = (
        decider.record(raw, dict(record.headers), record.stream, clock)
        if type(raw) is bytes
        else (decider.raw(raw, record.stream, clock=clock),)
    )
    for step in steps:
        if step.deadlines:
            yield from step.deadlines
        yield step.decision


def decide_records(
    engine: Engine,
    records: Iterable[Record],
    *,
    now: float | None = None,
    intake: Intake | None = None,
) -> Iterator[Decision]:
    """Every decision the records lead to, in order; ``now`` closes open deadlines at the end."""
    decider = Decider(engine, intake)
    for record in records:
        yield from feed(decider, record, now)
    if now is not None:
        yield from decider.close(now)
