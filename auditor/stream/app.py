"""The Faust app factory: the worker's service that decides batches of lineage records.

Faust runs the worker (its service tree, signals, crash handling); the records
come from a confluent-kafka consumer in batches (auditor.stream.source, where the reason
is measured) rather than from Faust's own stream, and the outputs go out through
confluent-kafka (auditor.stream.sink). Faust's own Kafka clients are not started.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import faust
import mode
from faust.app.base import BootStrategy

from auditor import kafka_config
from auditor.engine import Engine
from auditor.stream.batches import (
    BatchAbandoned,
    Batcher,
    BatchHook,
    Delivered,
    Observer,
    Rekeyed,
)
from auditor.stream.changelog import RestoreFailed, read_partition
from auditor.stream.health import Health
from auditor.stream.lag import LagMonitor
from auditor.stream.memory import PartitionMemory, changelog_topic
from auditor.stream.pipeline import Pipeline
from auditor.stream.rekey import Rekey
from auditor.stream.settings import Settings
from auditor.stream.sink import Commit, KafkaSink, Sink
from auditor.stream.source import KafkaSource, Rebalance, Record, SourceError
from auditor.stream.transactions import TransactionalSink, TransactionLost

log = logging.getLogger("auditor.worker")

# Called every settings.consumer_lag_interval_s, from the lag thread, with each assigned
# input partition's lag.
LagReport = Callable[[dict[tuple[str, int], int]], None]

__all__ = ["Delivered", "LagReport", "Observer", "Source", "WorkerApp", "create_app"]


class Source(Protocol):
    """What the worker needs of its input (KafkaSource; a list in stream tests).

    ``lag`` is called from the lag thread, concurrently with the others. ``commit_point``
    is asked only with a transactional sink (exactly once), ``done`` only without one.
    """

    def take(self, max_records: int, within_s: float) -> list[Record]: ...
    def done(self, records: list[Record]) -> None: ...
    def commit_point(self, records: list[Record]) -> Commit: ...
    def lag(self) -> dict[tuple[str, int], int]: ...
    def close(self) -> None: ...


# Builds the source once the worker starts, given its rebalance callbacks.
SourceFactory = Callable[[Rebalance, Rebalance], Source]


class _NoFaustKafka(BootStrategy):
    """Start no Faust Kafka client, table or web server: only sensors and our services."""

    enable_kafka = False
    enable_web = False


class WorkerApp(faust.App):
    """The worker's Faust app; ``decide_service`` is its batch loop.

    What Faust runs for the worker (docs/architecture.md): the service tree and its
    start/stop order, signal handling (SIGTERM/SIGINT stop it cleanly) and crash handling
    (a fatal error stops the worker with a non-zero status).
    Its own Kafka clients are not started: records move through confluent-kafka.
    """

    BootStrategy = _NoFaustKafka
    decide_service: DecideService
    datadir: tempfile.TemporaryDirectory[str]
    health: Health

    async def on_start(self) -> None:
        # Faust's on_start builds its consumer (a thread with a private event loop) only to
        # hang the topic conductor under it in the service graph; with no Faust Kafka
        # client started there is nothing to hang, and that loop would never be closed.
        self.finalize()

    async def on_stop(self) -> None:
        await super().on_stop()
        self.datadir.cleanup()


class DecideService(mode.Service):
    """Takes batches from the source, decides them, delivers, then marks them done."""

    def __init__(self, batcher: Batcher, make_source: SourceFactory, settings: Settings,
                 app: WorkerApp, health: Health | None = None,
                 report_lag: LagReport | None = None, hooks: Sequence[BatchHook] = (),
                 **kwargs: Any) -> None:
        self.batcher = batcher
        self.hooks = tuple(hooks)
        self.health = health or Health()
        self.make_source = make_source
        self.settings = settings
        self.app = app
        self.report_lag = report_lag
        self.lag_monitor: LagMonitor | None = None
        self.source: Source | None = None
        self._stopping = False
        self._loop_task: asyncio.Future[None] | None = None
        # Every consumer call runs on this one thread (librdkafka's rebalance callbacks
        # run inside take(), so they never overlap a batch).
        self._io = ThreadPoolExecutor(1, thread_name_prefix="auditor-consumer")
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        loop = asyncio.get_running_loop()
        self.source = await loop.run_in_executor(
            self._io, self.make_source, self._assigned, self._revoked
        )
        if self.report_lag is not None:
            # A thread of its own: the lag keeps being measured while a batch takes long.
            self.lag_monitor = LagMonitor(self.source.lag, self.report_lag,
                                          self.settings.consumer_lag_interval_s).start()
        self._loop_task = asyncio.ensure_future(self._run())

    def _assigned(self, partitions: list[int]) -> None:
        # Not ready until the memory of the new partitions is restored (readiness probe).
        self.health.assigning(partitions)
        self._restore(partitions)
        self.health.assigned(partitions)

    def _restore(self, partitions: list[int]) -> None:
        memory = self.batcher.memory
        if memory is None:
            return
        topic = changelog_topic(self.settings.group_id)
        config = kafka_config.connection(self.settings)
        for partition in partitions:
            started = time.monotonic()
            keys = memory.restore(partition, read_partition(
                config, topic, partition, stall_s=self.settings.restore_stall_s,
                fetch_max_wait_ms=self.settings.fetch_max_wait_ms,
            ))
            log.info("memory of partition %d restored: %d keys in %.2f s", partition, keys,
                     time.monotonic() - started)

    def _revoked(self, partitions: list[int]) -> None:
        self.health.revoked(partitions)
        self.batcher.forget(partitions)
        for hook in self.hooks:
            hook.forget(partitions)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        source = self.source
        assert source is not None
        batcher = self.batcher
        batch_max = self.settings.batch_max
        within_s = self.settings.batch_within_s
        limit_s = self.settings.kafka_outage_limit_s
        transactional = getattr(batcher.sink, "transactional", False)
        hooks = self.hooks
        try:
            while not self._stopping:
                room = batch_max - len(batcher.pending)
                if room > 0:
                    # Pending records left from the last batch: take only what is ready.
                    wait = 0.0 if batcher.pending else within_s
                    taken = await loop.run_in_executor(self._io, source.take, room, wait)
                    batcher.pending.extend(taken)
                away = self.health.kafka_failing_for()
                if away > limit_s:
                    raise SourceError(f"no Kafka broker answered for {away:.0f} s "
                                      f"(AUDITOR_KAFKA_OUTAGE_LIMIT_S is {limit_s:g})")
                for hook in hooks:  # between batches: e.g. a new policy version is taken
                    hook.before(batcher)
                if not batcher.pending:
                    continue
                batch = batcher.decide(time.monotonic())
                if transactional:
                    commit = await loop.run_in_executor(self._io, source.commit_point,
                                                        batch.records)
                    await batcher.deliver(batch, commit)
                else:
                    await batcher.deliver(batch)
                    source.done(batch.records)
                for hook in hooks:
                    hook.after(batch)
        except (BatchAbandoned, SourceError, RestoreFailed, TransactionLost) as exc:
            log.critical("%s", exc)
            await self.app.crash(exc)
        except Exception as exc:  # a bug: stop loudly rather than spin
            log.exception("the worker's batch loop failed")
            await self.app.crash(exc)

    async def on_stop(self) -> None:
        # Finish the batch in hand (its outputs delivered, offsets stored), then close the
        # consumer, which commits and leaves the group.
        self._stopping = True
        if self._loop_task is not None:
            await asyncio.shield(self._loop_task)
        loop = asyncio.get_running_loop()
        if self.lag_monitor is not None:
            await loop.run_in_executor(None, self.lag_monitor.stop)
        if self.source is not None:
            await loop.run_in_executor(self._io, self.source.close)
        self.batcher.sink.close()
        for hook in self.hooks:
            hook.close()
        self._io.shutdown(wait=True)


def create_app(
    settings: Settings,
    engine: Engine,
    *,
    sink: Sink | None = None,
    source: SourceFactory | None = None,
    observe: Observer | None = None,
    on_delivered: Delivered | None = None,
    report_lag: LagReport | None = None,
    health: Health | None = None,
    hooks: Sequence[BatchHook] = (),
    rekey: Rekey | None = None,
    on_rekeyed: Rekeyed | None = None,
) -> WorkerApp:
    """A Faust app deciding every record of ``settings.input_topics`` with ``engine``.

    Outputs go to ``sink`` (default: Kafka through confluent-kafka), records come from
    ``source`` (default: a KafkaSource in ``settings.group_id``). A batch's input offsets
    are marked done only after its outputs and its memory changes are delivered, so a
    crash loses nothing: its events are decided again (decisions carry ``event_id`` for
    de-duplication). Metrics hooks: ``observe`` per decision, ``on_delivered`` per
    delivered batch and ``report_lag`` from the lag thread (consumer lag asked of the broker
    every ``consumer_lag_interval_s``); an error in the last two is logged,
    never fatal. ``health`` (``app.health``) follows the partitions assigned and restored.
    ``hooks`` run on the batch loop between batches (auditor.stream.batches.BatchHook).
    ``rekey`` (for a policy with rules that remember): events in a partition other than
    their key's are forwarded to it through ``rekey.topic``, which the source also reads
    (auditor.stream.rekey); ``on_rekeyed`` counts them per delivered batch.
    """
    # Faust makes a data directory for tables and stores; the worker keeps none there (its
    # memory is restored from the changelog topic), so a private temporary one will do.
    datadir = tempfile.TemporaryDirectory(prefix=f"auditor-{settings.worker_id}-")
    app = WorkerApp(
        settings.group_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_list()],
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        datadir=datadir.name,
        logging_config=None,
    )
    memory = PartitionMemory() if engine.memory is not None else None
    topics = {
        "decision": settings.decisions_topic,
        "finding": settings.findings_topic,
        "dead_letter": settings.dead_letter_topic,
    }
    if memory is not None:
        topics["changelog"] = changelog_topic(settings.group_id)
    if rekey is not None:
        topics["repartition"] = rekey.topic
    out = sink or _kafka_sink(settings, topics)
    pipeline = Pipeline(engine, memory=memory, worker_id=settings.worker_id,
                        max_event_bytes=settings.max_event_bytes,
                        max_ahead_s=settings.event_time_max_ahead_s, rekey=rekey)
    app.health = health or Health()
    batcher = Batcher(pipeline, out, max_events=settings.batch_max,
                      observe=observe, on_delivered=on_delivered, on_rekeyed=on_rekeyed,
                      outage_limit_s=settings.kafka_outage_limit_s, health=app.health)

    def kafka_source(on_assign: Rebalance, on_revoke: Rebalance) -> Source:
        return KafkaSource(settings, on_assign=on_assign, on_revoke=on_revoke,
                           health=app.health,
                           repartition_topic=rekey.topic if rekey is not None else None)

    service = DecideService(batcher, source or kafka_source, settings, app, health=app.health,
                            report_lag=report_lag, hooks=hooks)
    app.service(service)  # type: ignore[arg-type]  # Faust takes instances too
    app.decide_service = service
    app.datadir = datadir  # removed with the app
    return app


def _kafka_sink(settings: Settings, topics: dict[str, str]) -> Sink:
    """Exactly once: one transaction per batch; at least once: outputs, then offsets."""
    config = kafka_config.connection(settings)
    if settings.processing_guarantee == "exactly_once":
        return TransactionalSink(config, topics, transactional_id=settings.transactional_id(),
                                 timeout_s=settings.delivery_timeout_s)
    return KafkaSink(config, topics, timeout_s=settings.delivery_timeout_s,
                     changelog_batch_bytes=settings.changelog_batch_bytes)
