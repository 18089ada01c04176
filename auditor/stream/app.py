"""The Faust app factory: one agent that decides batches of lineage records."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Collection
from typing import Any, cast

import faust

from auditor.engine import Decision, Engine
from auditor.stream.driver import consumer_with_fetch_wait
from auditor.stream.pipeline import Pipeline, Source, normalise_headers
from auditor.stream.settings import Settings
from auditor.stream.sink import DeliveryFailed, KafkaSink, Sink
from auditor.stream.state import TableStore, memory_table

log = logging.getLogger("auditor.worker")
DELIVERY_ATTEMPTS = 3

# Called with every decision and its invalid-input reason (metrics hook, see create_app).
Observer = Callable[[Decision, "str | None", Source], None]
# Called once per batch when its outputs are acknowledged: (input records, when the first
# was consumed on the monotonic clock, when the batch was decided on the wall clock).
Delivered = Callable[[int, float, float], None]
# Called every settings.consumer_lag_interval_s with each assigned input partition's lag.
LagReport = Callable[[dict[tuple[str, int], int]], None]
LAG_QUERY_TIMEOUT_S = 2.0


def _credentials(settings: Settings) -> Any:
    if settings.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        context = None
        if settings.security_protocol == "SASL_SSL":
            context = ssl.create_default_context(
                cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None
            )
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value() if settings.sasl_password else None,
            mechanism=settings.sasl_mechanism or "PLAIN",
            ssl_context=context,
        )
    if settings.security_protocol == "SSL":
        context = ssl.create_default_context(
            cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None
        )
        if settings.ssl_certfile:
            context.load_cert_chain(
                str(settings.ssl_certfile),
                str(settings.ssl_keyfile) if settings.ssl_keyfile else None,
            )
        return faust.SSLCredentials(context)
    return None


async def input_lag(consumer: Any, topics: Collection[str]) -> dict[tuple[str, int], int]:
    """High watermark minus position of every assigned partition of ``topics``.

    Partitions whose offsets are not known yet (no fetch so far) are left out.
    """
    lags: dict[tuple[str, int], int] = {}
    for tp in consumer.assignment():
        if tp.topic not in topics:
            continue
        high = consumer.highwater(tp)
        if high is None:
            continue
        position = await asyncio.wait_for(consumer.position(tp), LAG_QUERY_TIMEOUT_S)
        if position is not None:
            lags[(tp.topic, tp.partition)] = max(int(high) - int(position), 0)
    return lags


def create_app(
    settings: Settings,
    engine: Engine,
    *,
    sink: Sink | None = None,
    observe: Observer | None = None,
    on_delivered: Delivered | None = None,
    report_lag: LagReport | None = None,
) -> faust.App:
    """A Faust app deciding every record of ``settings.input_topics`` with ``engine``.

    Outputs go to ``sink`` (default: Kafka through confluent-kafka). Input offsets are
    acked only after the batch's outputs are delivered, so a crash loses nothing: its
    events are decided again (decisions carry ``event_id`` for de-duplication).
    Metrics hooks: ``observe`` per decision, ``on_delivered`` per delivered batch and
    ``report_lag`` on a timer; an error in the last two is logged, never fatal.
    """
    (settings.data_dir / settings.worker_id).parent.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.group_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_list()],
        broker_credentials=_credentials(settings),
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        datadir=str(settings.data_dir / settings.worker_id),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        topic_allow_declare=settings.create_topics,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_commit_interval=settings.commit_interval_s,
        stream_buffer_maxsize=max(4096, settings.batch_max * 2),
        # Faust's own producer writes the memory's changelog (docs/stateful-rules.md).
        producer_max_batch_size=settings.changelog_batch_bytes,
        logging_config=None,
    )
    if settings.fetch_max_wait_ms is not None:
        # Faust picks the consumer class off its transport; this one sets the fetch wait.
        transport: Any = app.transport
        transport.Consumer = consumer_with_fetch_wait(settings.fetch_max_wait_ms)
    pipeline = Pipeline(
        engine, worker_id=settings.worker_id, max_event_bytes=settings.max_event_bytes
    )
    out = sink or KafkaSink(
        settings.kafka_client_config(),
        {
            "decision": settings.decisions_topic,
            "finding": settings.findings_topic,
            "dead_letter": settings.dead_letter_topic,
        },
        timeout_s=settings.delivery_timeout_s,
    )
    topic = app.topic(
        *settings.input_topics,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )

    # Rules that remember keep their memory in a changelog-backed table, per partition.
    memory = memory_table(app, settings.partitions) if engine.memory is not None else None
    stores: dict[int, TableStore] = {}

    @app.agent(topic, name="auditor.decide")
    async def decide(stream: faust.StreamT[bytes]) -> None:
        batches = cast(faust.Stream[bytes], stream).take_events(
            settings.batch_max, settings.batch_within_s
        )
        async for events in batches:
            # Faust's monitor stamps each message when the stream takes it (monotonic).
            consumed_at = events[0].message.time_in or time.monotonic()
            outputs = []
            for event in events:
                msg = event.message
                source = Source(
                    msg.topic,
                    msg.partition,
                    msg.offset,
                    int(msg.timestamp * 1000) if msg.timestamp else None,
                )
                store = stores.get(msg.partition) if memory is not None else None
                if memory is not None and store is None:
                    store = stores[msg.partition] = TableStore(memory, msg.partition)
                for decision, reason, outs in pipeline.process(
                    msg.value, msg.key, normalise_headers(msg.headers), source, store
                ):
                    outputs.extend(outs)
                    if observe is not None:
                        observe(decision, reason, source)
            decided_at = time.time()
            # The memory's changelog first: state before offsets. (Faust's test context runs
            # agents without a started producer: nothing to flush there.)
            if memory is not None and app.producer.started:
                await app.producer.flush()
            # Only after this may take_events ack these events (when the loop asks for the
            # next batch): their outputs are on the broker.
            for attempt in range(1, DELIVERY_ATTEMPTS + 1):
                try:
                    await out.deliver(outputs)
                    break
                except DeliveryFailed as exc:
                    if attempt == DELIVERY_ATTEMPTS:
                        # Stop with an error rather than skip: the batch stays uncommitted
                        # and is decided again after a restart.
                        log.critical("giving up on a batch of %d events: %s", len(events), exc)
                        await app.crash(exc)
                        return
                    log.warning(
                        "delivery failed (%s); retry %d of %d", exc, attempt, DELIVERY_ATTEMPTS - 1
                    )
                    await asyncio.sleep(attempt)
            if on_delivered is not None:
                try:
                    on_delivered(len(events), consumed_at, decided_at)
                except Exception:  # metrics must never cost a decision
                    log.exception("metrics hook failed")

    if report_lag is not None:

        async def consumer_lag() -> None:
            try:
                report_lag(await input_lag(app.consumer, settings.input_topics))
            except Exception as exc:  # e.g. during a rebalance: try again next tick
                log.debug("consumer lag not measured: %r", exc)

        app.timer(settings.consumer_lag_interval_s, name="auditor.consumer-lag")(consumer_lag)

    @app.on_before_shutdown.connect
    def _flush(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        out.close()

    return app
