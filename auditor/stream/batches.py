"""One batch of input records to its delivered outputs: decide, write memory, deliver."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from auditor.engine import Decision
from auditor.stream.health import Health
from auditor.stream.pipeline import Output, Pipeline, Source
from auditor.stream.sink import Commit, DeliveryFailed, Sink
from auditor.stream.source import Record

log = logging.getLogger("auditor.worker")
# Pauses between delivery attempts: doubling from retry_pause_s up to this.
MAX_RETRY_PAUSE_S = 10.0
# While delivery fails, one warning per this many seconds (the first at once).
WARN_EVERY_S = 60.0

# Called with every decision and its invalid-input reason (metrics hook).
Observer = Callable[[Decision, "str | None", Source], None]
# Called once per batch when its outputs are acknowledged: (input records, when the first
# was taken on the monotonic clock, when the batch was decided on the wall clock). A record
# whose events were all re-keyed counts when it is read again from the repartition topic.
Delivered = Callable[[int, float, float], None]
# Called once per delivered batch with how many of its events were forwarded to their
# key's partition (auditor.stream.rekey), when there were any.
Rekeyed = Callable[[int], None]


class BatchAbandoned(RuntimeError):
    """A batch's outputs could not be delivered within the outage limit."""


@dataclass(slots=True)
class Batch:
    """Records decided together, and their outputs."""

    records: list[Record]
    outputs: list[Output]
    events: int
    taken_at: float
    decided_at: float
    # Events forwarded to the repartition topic rather than decided (they count in events).
    forwarded: int = 0
    # Records wholly forwarded: decided when read again, so counted (latency) only then.
    passed_on: int = 0


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
        on_rekeyed: Rekeyed | None = None,
        retry_pause_s: float = 1.0,
        outage_limit_s: float = 600.0,
        health: Health | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pipeline = pipeline
        self.sink = sink
        self.max_events = max_events
        self.memory = pipeline.memory
        self.observe = observe
        self.on_delivered = on_delivered
        self.on_rekeyed = on_rekeyed
        self.retry_pause_s = retry_pause_s
        self.outage_limit_s = outage_limit_s
        self.health = health or Health()
        self.clock = clock
        # Taken from the source but not decided yet (a batch stops at max_events).
        self.pending: deque[Record] = deque()

    def decide(self, taken_at: float) -> Batch:
        """Decide pending records, oldest first, until ``max_events`` events are decided."""
        process = self.pipeline.process
        rekey = self.pipeline.rekey
        source_of = self.pipeline.source_of
        observe = self.observe
        memory = self.memory
        records: list[Record] = []
        outputs: list[Output] = []
        events = 0
        forwarded = 0
        passed_on = 0
        pending = self.pending
        while pending and events < self.max_events:
            rec = pending.popleft()
            records.append(rec)
            source = Source(rec.topic, rec.partition, rec.offset, rec.timestamp_ms)
            # Observers see where a re-keyed event was first read (alerts name it there).
            seen = source if rekey is None or rec.topic != rekey.topic else source_of(
                rec.topic, rec.partition, rec.offset, rec.timestamp_ms, rec.headers)
            decided = moved = 0
            for decision, reason, outs in process(rec.value, rec.key, rec.headers, source):
                outputs.extend(outs)
                events += 1
                if decision is None:  # forwarded to its key's partition, decided there
                    moved += 1
                    continue
                decided += 1
                if observe is not None:
                    observe(decision, reason, seen)
            if moved:
                forwarded += moved
                passed_on += not decided
        if memory is not None:
            # The memory's changes travel with the batch: state before offsets.
            outputs.extend(memory.changes())
        return Batch(records, outputs, events, taken_at, time.time(), forwarded, passed_on)

    async def deliver(self, batch: Batch, commit: Commit | None = None) -> None:
        """Deliver the batch's outputs, retrying while Kafka is away (a broker restart);
        raise BatchAbandoned once they stayed undelivered for ``outage_limit_s``.

        Nothing is committed meanwhile: the batch's offsets are stored only after this
        returns (or, with ``commit``, committed in the transaction that delivers it), so a
        worker that stops here decides the batch again when it restarts.
        """
        started = self.clock()
        attempt = 0
        warned = -WARN_EVERY_S
        while True:
            attempt += 1
            try:
                await self.sink.deliver(batch.outputs, commit)
                break
            except DeliveryFailed as exc:
                self.health.kafka_failing("outputs", exc.reason)
                waited = self.clock() - started
                if waited >= self.outage_limit_s:
                    raise BatchAbandoned(
                        f"the outputs of a batch of {len(batch.records)} records were not "
                        f"delivered for {waited:.0f} s ({attempt} attempts; "
                        f"AUDITOR_KAFKA_OUTAGE_LIMIT_S is {self.outage_limit_s:g}): {exc}. "
                        "Stopping without committing it: it is decided again when the "
                        "worker restarts"
                    ) from exc
                if waited - warned >= WARN_EVERY_S:
                    warned = waited
                    log.warning("outputs not delivered for %.0f s (%s); retrying until "
                                "AUDITOR_KAFKA_OUTAGE_LIMIT_S (%g s), nothing committed "
                                "meanwhile", waited, exc, self.outage_limit_s)
                pause = min(self.retry_pause_s * 2 ** (attempt - 1), MAX_RETRY_PAUSE_S)
                await asyncio.sleep(pause)
        if attempt > 1:
            log.warning("outputs delivered again after %.0f s and %d attempts",
                        self.clock() - started, attempt)
        self.health.kafka_working("outputs")
        try:
            if self.on_delivered is not None:
                self.on_delivered(len(batch.records) - batch.passed_on, batch.taken_at,
                                  batch.decided_at)
            if batch.forwarded and self.on_rekeyed is not None:
                self.on_rekeyed(batch.forwarded)
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
