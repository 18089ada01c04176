"""The one decide loop: inputs in order to decisions, shared by every entry point.

``auditor check`` and ``explain``, replay, the suite runner and the worker all feed their
input through a ``Decider``: bytes go through the one input layer (auditor.intake), each
event to the engine with the memory store of its stream, and back come ``Step``s — the
deadline decisions an event's time passed, then its own decision — explicitly, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from auditor.engine.decision import Decision, Step
from auditor.engine.engine import Engine
from auditor.engine.trace import Trace
from auditor.events.flow import Event
from auditor.events.invalid import Invalid
from auditor.intake import Intake, Oversized, split_batch
from auditor.memory import DictStores, Stores


class Decider:
    """Decides inputs in order with one engine; the memory of stream N is ``stores.store(N)``.

    A stream is a Kafka partition (each has its own memory and event-time clocks), or 0 for
    a file read in order. ``clock``, when given, is the input's own time (a record's Kafka
    timestamp, or ``--now``): an event further ahead of it than the intake allows is
    ``future_event_time``, decided invalid without touching memory.
    """

    __slots__ = ("engine", "intake", "stores")

    def __init__(
        self, engine: Engine, intake: Intake | None = None, stores: Stores | None = None
    ) -> None:
        self.engine = engine
        self.intake = intake or Intake()
        self.stores: Stores = stores if stores is not None else DictStores()

    def raw(self, raw: bytes | Oversized, stream: int = 0, trace: Trace | None = None,
            clock: float | None = None) -> Step:
        """Decide one event given as bytes (a record value, a JSONL line, a batch line)."""
        return self.item(self.intake.read(raw), stream, trace, clock)

    def value(self, value: object, stream: int = 0, trace: Trace | None = None,
              clock: float | None = None) -> Step:
        """Decide one event given as a decoded JSON value."""
        return self.item(self.intake.read_value(value), stream, trace, clock)

    def read(self, raw: bytes | Oversized, clock: float | None = None) -> Event | Invalid:
        """``raw`` read as ``raw()`` reads it (``clock``: the input's clock, see ``item``),
        for a caller that looks at the event before deciding it with ``item``."""
        item = self.intake.read(raw)
        return item if clock is None else self.intake.in_time(item, clock)

    def item(self, item: Event | Invalid, stream: int = 0, trace: Trace | None = None,
             clock: float | None = None) -> Step:
        """Decide an input already read by ``self.intake`` (e.g. to look at its id first)."""
        if clock is not None:
            item = self.intake.in_time(item, clock)
        return self.engine.decide(item, self.stores.store(stream), trace)

    def record(self, value: bytes, headers: Mapping[str, bytes], stream: int = 0,
               clock: float | None = None) -> Iterator[Step]:
        """Decide one Kafka record: one event, or each line of an NDJSON batch record."""
        for raw in split_batch(value, headers):
            yield self.raw(raw, stream, clock=clock)

    def close(self, now: float) -> list[Decision]:
        """Deadline decisions of everything still open at ``now``, stream by stream."""
        out: list[Decision] = []
        for stream in self.stores.streams():
            out.extend(self.engine.close(now, self.stores.store(stream)))
        return out


def decide_all(
    decider: Decider, raws: Iterable[bytes | Oversized], now: float | None = None
) -> Iterator[Decision]:
    """One decision per input, in order, each after the deadline decisions its event time
    passed (spec §3: ``auditor check``); ``now`` is the input's clock (no event may be
    further ahead of it than the intake allows) and closes what is still open at the end."""
    for raw in raws:
        step = decider.raw(raw, clock=now)
        if step.deadlines:
            yield from step.deadlines
        yield step.decision
    if now is not None:
        yield from decider.close(now)
