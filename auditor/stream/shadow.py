"""Shadow mode: a candidate policy decides the live events too; only its differences go out."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import orjson
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from auditor import kafka_config
from auditor.engine import Decider, Decision, Engine
from auditor.events.keys import partition_key
from auditor.memory import DictStore, DictStores
from auditor.ops.shadow_metrics import ShadowMetrics
from auditor.report.diff import Judged, judged, rule_changes
from auditor.stream.batches import Batch, Batcher, BatchHook, Observer
from auditor.stream.memory import PartitionStore
from auditor.stream.pipeline import Source

log = logging.getLogger("auditor.shadow")
MEMO_MAX = 65_536
# Two outcomes (kept, so that their ids stay theirs) and what each is judged on.
_Compared = tuple[Any, Any, Judged, Judged]


class ShadowOut(Protocol):
    """Where difference records go: (key, value) pairs, never waited for."""

    def send(self, records: list[tuple[bytes | None, bytes]]) -> None: ...
    def poll(self) -> None: ...
    def close(self) -> None: ...


class KafkaShadowOut:
    """Produces difference records to ``topic`` without waiting for them: a record that
    fails is counted (``failed``), one that finds the queue full is dropped (``dropped``),
    and neither ever holds up or stops the live decisions."""

    def __init__(self, client_config: Mapping[str, Any], topic: str,
                 count: Callable[[str, int], None], *, timeout_s: float = 30.0) -> None:
        self.topic = topic
        self.count = count
        self.timeout_s = timeout_s
        self.producer = Producer(kafka_config.shadow_producer(client_config,
                                                              timeout_s=timeout_s))

    def _delivered(self, err: KafkaError | None, msg: Message) -> None:
        self.count("sent" if err is None else "failed", 1)

    def send(self, records: list[tuple[bytes | None, bytes]]) -> None:
        for key, value in records:
            try:
                self.producer.produce(self.topic, value, key, on_delivery=self._delivered)
            except (BufferError, KafkaException):
                self.count("dropped", 1)
        self.producer.poll(0)

    def poll(self) -> None:
        """Run the delivery callbacks that are due (counts), without waiting."""
        self.producer.poll(0)

    def close(self) -> None:
        left = self.producer.flush(self.timeout_s)
        if left:
            self.count("failed", left)


def seeded(live: PartitionStore) -> DictStore:
    """A deep copy of a live partition store's data (JSON values, as in its changelog):
    the candidate's rules change their copy, never the live one."""
    return DictStore(orjson.loads(orjson.dumps(live.data)))


class Shadow(BatchHook):
    """Decides every delivered batch again with a candidate policy and reports differences.

    Works on the batch loop after a batch is delivered and marked done, so the live
    decisions are never delayed by it, but the next batch is: the candidate costs about
    what the live policy costs (docs/policy-rollout.md). Events are paired with their live
    decision (``observe``, the metrics hook's twin) and compared as replay's what-if
    compares (auditor.report.diff): verdict, and rules with findings with their effect.
    Invalid input and deadline decisions are not compared. The candidate's memory is its
    own: a copy of the live memory of each partition, taken before the first batch it
    decides of that partition, then kept by the candidate's own rules; nothing of it is
    written anywhere. Never raises into the loop: a failure is logged and the batch's
    comparison skipped.
    """

    def __init__(self, metrics: ShadowMetrics, out: ShadowOut, live: Engine, *,
                 worker_id: str = "worker-1") -> None:
        self.metrics = metrics
        self.out = out
        self.live = live
        self.worker_id = worker_id
        self.engine: Engine | None = None
        self.decider: Decider | None = None
        self.stores = DictStores()
        self._lock = threading.Lock()
        self._offered: Engine | None = None
        self._batch: list[tuple[Decision, Source]] = []
        self._memo: dict[tuple[int, int], _Compared] = {}

    # -- the watch's thread (or start-up) -------------------------------------------
    def offer(self, engine: Engine) -> None:
        """A candidate version that loaded: it compares from the next batch on."""
        with self._lock:
            current = self._offered or self.engine
            if current is None or engine.version != current.version:
                self._offered = engine

    def failed(self, errors: str) -> None:
        self.metrics.count_rejected()
        log.error("shadow policy: new version refused; %s\n%s", "the previous candidate "
                  "goes on" if self.engine is not None else "no candidate runs", errors)

    # -- the batch loop ----------------------------------------------------------------
    def observe(self, decision: Decision, reason: str | None, source: Source) -> None:
        """Every live decision of a batch (Batcher's observer): keeps the events'."""
        if reason is None and decision.event is not None and self.decider is not None:
            self._batch.append((decision, source))

    def observing(self, other: Observer | None) -> Observer:
        """An observer that hands each decision to ``other`` (metrics) and to this."""
        if other is None:
            return self.observe
        mine = self.observe

        def both(decision: Decision, reason: str | None, source: Source) -> None:
            other(decision, reason, source)
            mine(decision, reason, source)

        return both

    def before(self, batcher: Batcher) -> None:
        self.out.poll()  # delivery results of earlier batches, also while idle
        if self._offered is not None:
            self._take(batcher)
        if batcher.pipeline.engine is not self.live:  # the live policy switched
            self.live = batcher.pipeline.engine
            self.metrics.policies(self.live, None)
        memory = batcher.memory
        if memory is None or self.decider is None:
            return
        # Partitions whose live memory the candidate has not copied yet (restored since).
        mine = self.stores.by_stream
        for partition in memory.stores.keys() - mine.keys():
            mine[partition] = seeded(memory.stores[partition])

    def _take(self, batcher: Batcher) -> None:
        with self._lock:
            engine, self._offered = self._offered, None
        if engine is None:
            return
        self.live = batcher.pipeline.engine
        self.engine = engine
        self.stores = DictStores()  # a new candidate starts from the live memory again
        self.decider = Decider(engine, stores=self.stores)
        self._memo.clear()
        self.metrics.policies(self.live, engine)
        log.warning("shadow policy: version %s of %s compares from this batch on",
                    engine.version, engine.policy.id)

    def after(self, batch: Batch) -> None:
        items, self._batch = self._batch, []
        if not items or self.decider is None:
            return
        started = time.perf_counter()
        try:
            self._compare(items, started)
        except Exception:  # the shadow must never cost a live decision
            log.exception("shadow comparison of a batch failed")

    def _compare(self, items: list[tuple[Decision, Source]], started: float) -> None:
        decider = self.decider
        assert decider is not None
        memo = self._memo
        verdicts: Counter[tuple[str, str]] = Counter()
        rules: Counter[tuple[str, str]] = Counter()
        records: list[tuple[bytes | None, bytes]] = []
        for live, source in items:
            # The live decision's memory: a re-keyed event's is not where it was read.
            candidate = decider.value(live.event, source.memory).decision
            key = (id(live.outcome), id(candidate.outcome))
            compared = memo.get(key)
            if compared is None:
                if len(memo) >= MEMO_MAX:
                    memo.clear()
                compared = memo[key] = (live.outcome, candidate.outcome, judged(live),
                                        judged(candidate))
            before, after = compared[2], compared[3]
            if before == after:
                continue
            plus, minus = rule_changes(before, after)
            if before[0] != after[0]:
                verdicts[(before[0], after[0])] += 1
            rules.update((rule, "added") for rule in plus)
            rules.update((rule, "removed") for rule in minus)
            records.append(self._record(live, candidate, before, after, plus, minus, source))
        if records:
            self.out.send(records)
        self.metrics.count_batch(len(items), len(records), verdicts, rules,
                                 time.perf_counter() - started)

    def _record(self, live: Decision, candidate: Decision, before: Judged, after: Judged,
                plus: list[str], minus: list[str], source: Source
                ) -> tuple[bytes | None, bytes]:
        event = live.event
        assert isinstance(event, dict)  # observe keeps decisions of events only
        value = {
            "event_id": live.event_id,
            "event_time": event.get("event_time"),
            "live": {"verdict": before[0], "rules": list(before[1]),
                     "policy": live.outcome.body["policy"]},
            "candidate": {"verdict": after[0], "rules": list(after[1]),
                          "policy": candidate.outcome.body["policy"]},
            "added_rules": plus,
            "removed_rules": minus,
            "source": {"topic": source.topic, "partition": source.partition,
                       "offset": source.offset},
            "worker": self.worker_id,
        }
        # Keyed as the event's decisions are, so one tenant's differences stay in order.
        return partition_key(event), orjson.dumps(value)

    def forget(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self.stores.by_stream.pop(partition, None)

    def close(self) -> None:
        self.out.close()
