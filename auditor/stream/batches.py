"""One batch of input records to its delivered outputs: decide, write memory, deliver."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from auditor.engine import Decision
from auditor.stream.pipeline import Output, Pipeline, Source
from auditor.stream.sink import DeliveryFailed, Sink
from auditor.stream.source import Record

log = logging.getLogger("auditor.worker")
DELIVERY_ATTEMPTS = 3

# Called with every decision and its invalid-input reason (metrics hook).
Observer = Callable[[Decision, "str | None", Source], None]
# Called once per batch when its outputs are acknowledged: (input records, when the first
# was taken on the monotonic clock, when the batch was decided on the wall clock).
Delivered = Callable[[int, float, float], None]


class BatchAbandoned(RuntimeError):
    """A batch's outputs could not be delivered after every attempt."""


@dataclass(slots=True)
class Batch:
    """Records decided together, and their outputs."""

    records: list[Record]
    outputs: list[Output]
    events: int
    taken_at: float
    decided_at: float


class BatchHook:
    """Work the batch loop does beside deciding (a policy switch, a shadow policy: see
    auditor.stream.rollout and auditor.stream.shadow). Each method does nothing here.

    ``before`` runs on every turn of the batch loop (also when nothing was taken),
    ``after`` once a batch is delivered and marked done, ``close`` once the loop has
    stopped; ``forget``, when partitions are taken away, on the consumer's thread while
    the loop waits for it (never during a batch).
    """

    def before(self, batcher: Batcher) -> None:
        """Between two batches: nothing of the next one is decided yet."""

    def after(self, batch: Batch) -> None:
        """``batch`` is delivered and its offsets marked done."""

    def forget(self, partitions: Iterable[int]) -> None:
        """``partitions`` are no longer this worker's."""

    def close(self) -> None:
        """The loop has stopped."""


class Batcher:
    """Decides records in batches of at most ``max_events`` events (one code path: Pipeline).

    A batch record (NDJSON) counts as its events, so a batch stays bounded in memory and
    in how long it holds its decisions, whatever the records carry.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        sink: Sink,
        *,
        max_events: int,
        observe: Observer | None = None,
        on_delivered: Delivered | None = None,
        retry_pause_s: float = 1.0,
    ) -> None:
        self.pipeline = pipeline
        self.sink = sink
        self.max_events = max_events
        self.memory = pipeline.memory
        self.observe = observe
        self.on_delivered = on_delivered
        self.retry_pause_s = retry_pause_s
        # Taken from the source but not decided yet (a batch stops at max_events).
        self.pending: deque[Record] = deque()

    def decide(self, taken_at: float) -> Batch:
        """Decide pending records, oldest first, until ``max_events`` events are decided."""
        process = self.pipeline.process
        observe = self.observe
        memory = self.memory
        records: list[Record] = []
        outputs: list[Output] = []
        events = 0
        pending = self.pending
        while pending and events < self.max_events:
            rec = pending.popleft()
            records.append(rec)
            source = Source(rec.topic, rec.partition, rec.offset, rec.timestamp_ms)
            for decision, reason, outs in process(rec.value, rec.key, rec.headers, source):
                outputs.extend(outs)
                events += 1
                if observe is not None:
                    observe(decision, reason, source)
        if memory is not None:
            # The memory's changes travel with the batch: state before offsets.
            outputs.extend(memory.changes())
        return Batch(records, outputs, events, taken_at, time.time())

    async def deliver(self, batch: Batch) -> None:
        """Deliver the batch's outputs, retrying; raise BatchAbandoned if that fails."""
        for attempt in range(1, DELIVERY_ATTEMPTS + 1):
            try:
                await self.sink.deliver(batch.outputs)
                break
            except DeliveryFailed as exc:
                if attempt == DELIVERY_ATTEMPTS:
                    # Stop rather than skip: the batch stays uncommitted and is decided
                    # again after a restart.
                    raise BatchAbandoned(
                        f"giving up on a batch of {len(batch.records)} records: {exc}"
                    ) from exc
                log.warning("delivery failed (%s); retry %d of %d", exc, attempt,
                            DELIVERY_ATTEMPTS - 1)
                await asyncio.sleep(self.retry_pause_s * attempt)
        if self.on_delivered is not None:
            try:
                self.on_delivered(len(batch.records), batch.taken_at, batch.decided_at)
            except Exception:  # metrics must never cost a decision
                log.exception("metrics hook failed")

    def forget(self, partitions: Iterable[int]) -> None:
        """Partitions taken away: drop their undecided records and their memory."""
        gone = set(partitions)
        if not gone:
            return
        self.pending = deque(r for r in self.pending if r.partition not in gone)
        if self.memory is not None:
            self.memory.drop(gone)
