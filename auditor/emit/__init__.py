"""Emitter: the library a service uses to send lineage events v1 to the auditor's Kafka topic.

The emitter and its delivery reports are here; its errors are in ``errors`` and the batch
records it packs events into (``batch_events``) in ``batches``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import orjson
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from auditor import kafka_config
from auditor.emit.batches import (
    BATCH_CONTENT_TYPE,
    BATCH_HEADERS,
    DEFAULT_BATCH_BYTES,
    DEFAULT_BATCH_LINGER_S,
    Batches,
    Headers,
)
from auditor.emit.errors import DeliveryError, EmitError, InvalidEventError, QueueFullError
from auditor.events.keys import partition_key as default_key
from auditor.events.validate import validation_error

__all__ = [
    "BATCH_CONTENT_TYPE",
    "DEFAULT_TOPIC",
    "DeliveryError",
    "DeliveryReport",
    "EmitError",
    "Emitter",
    "InvalidEventError",
    "QueueFullError",
    "default_key",
]

DEFAULT_TOPIC = "lineage.events"

_log = logging.getLogger("auditor.emit")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """Outcome of one event: where it was written, or why it was not.

    ``batch_index`` is the event's line in its batch record (None when not batched).
    """

    event_id: str | None
    topic: str | None
    partition: int | None
    offset: int | None
    error: str | None
    batch_index: int | None = None


def _event_id(event: Mapping[str, Any]) -> str | None:
    event_id = event.get("event_id")
    return event_id if isinstance(event_id, str) else None


def _describe(err: KafkaError) -> str:
    return f"{err.name()}: {err.str()}"


class Emitter:
    """Sends lineage events to Kafka, asynchronously, with delivery errors surfaced.

    ``emit`` validates an event (unless ``validate=False``), serialises it and queues it;
    ``flush`` waits for the broker's acknowledgements and raises :class:`DeliveryError`
    naming every event that failed. Used as a context manager it closes (flushes) on
    exit. Not thread-safe: use one emitter per thread, or guard it with a lock.

    With ``batch_events=N`` (N > 1) events of the same key are packed, up to N (and up to
    ``batch_bytes`` bytes) at a time, into one record of NDJSON lines with the header
    ``content-type: application/x-ndjson``. A batch goes out when full, when the next
    ``emit``/``poll`` finds it older than ``batch_linger_s``, or on ``flush``/``close``.
    Per-key order is kept: a key's batches are produced in order, to one partition.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str = DEFAULT_TOPIC,
        *,
        validate: bool = True,
        producer_config: Mapping[str, str | int | bool] | None = None,
        key: Callable[[Mapping[str, Any]], bytes | None] | None = None,
        on_delivery: Callable[[DeliveryReport], None] | None = None,
        queue_full_timeout: float = 30.0,
        close_timeout: float = 30.0,
        batch_events: int = 1,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        batch_linger_s: float = DEFAULT_BATCH_LINGER_S,
    ) -> None:
        if not topic:
            raise ValueError("topic must not be empty")
        if isinstance(batch_events, bool) or not isinstance(batch_events, int) or batch_events < 1:
            raise ValueError(f"batch_events must be an integer >= 1, not {batch_events!r}")
        if isinstance(batch_bytes, bool) or not isinstance(batch_bytes, int) or batch_bytes < 1:
            raise ValueError(f"batch_bytes must be an integer >= 1, not {batch_bytes!r}")
        if not isinstance(batch_linger_s, int | float) or not batch_linger_s >= 0:
            raise ValueError(f"batch_linger_s must be a number >= 0, not {batch_linger_s!r}")
        self.batch_events = batch_events
        self.batch_bytes = batch_bytes
        self.batch_linger_s = float(batch_linger_s)
        self.topic = topic
        self.validate = validate
        self._key = key if key is not None else default_key
        self._on_delivery = on_delivery
        self._queue_full_timeout = queue_full_timeout
        self._close_timeout = close_timeout
        conf = kafka_config.emitter(bootstrap_servers, producer_config, logger=_log,
                                    error_cb=self._on_error)
        try:
            self._producer = Producer(conf)
        except KafkaException as exc:
            err = exc.args[0] if exc.args else exc
            reason = err.str() if isinstance(err, KafkaError) else str(err)
            raise EmitError(f"invalid producer configuration: {reason}") from exc
        self._seq = 0
        # Records handed to librdkafka and not yet reported on: sequence -> their event ids.
        self._pending: dict[int, list[str | None]] = {}
        self._pending_events = 0
        self._batches = Batches()
        self._failed: list[tuple[str | None, str]] = []
        self._last_error: str | None = None
        self._fatal: str | None = None
        self._closed = False
        self.delivered = 0

    # -- callbacks ------------------------------------------------------------------------

    def _on_error(self, err: KafkaError) -> None:
        self._last_error = _describe(err)
        if err.fatal():
            # An idempotent producer that hits a fatal error can send nothing more.
            self._fatal = self._last_error
            _log.error("Kafka producer failed fatally: %s", self._last_error)
        else:
            # librdkafka retries these itself and its own log line (via ``logger``)
            # already says the same; kept for DeliveryError's message.
            _log.debug("Kafka producer error: %s", self._last_error)

    def _report(
        self,
        seq: int,
        event_ids: list[str | None],
        batched: bool,
        err: KafkaError | None,
        msg: Message,
    ) -> None:
        if self._pending.pop(seq, None) is not None:
            self._pending_events -= len(event_ids)
        error = None if err is None else _describe(err)
        if error is None:
            self.delivered += len(event_ids)
        else:
            self._failed.extend((event_id, error) for event_id in event_ids)
        if self._on_delivery is None:
            return
        ok = err is None
        for index, event_id in enumerate(event_ids):
            report = DeliveryReport(
                event_id=event_id,
                topic=msg.topic(),
                partition=msg.partition() if ok else None,
                offset=msg.offset() if ok else None,
                error=error,
                batch_index=index if batched else None,
            )
            try:
                self._on_delivery(report)
            except Exception:
                # An exception must not escape into librdkafka's callback machinery,
                # where it would be raised from an unrelated poll() or flush().
                _log.exception("on_delivery callback raised for event %s", event_id)

    # -- sending ---------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Events batched, queued or in flight, not yet acknowledged or failed."""
        return self._pending_events + self._batches.events

    @property
    def failures(self) -> list[tuple[str | None, str]]:
        """(event id, error) of deliveries failed since the last ``flush``."""
        return list(self._failed)

    def emit(self, event: Mapping[str, Any]) -> None:
        """Validate and queue one event; InvalidEventError (and nothing sent) if it is invalid."""
        obj = event if type(event) is dict else dict(event)
        if self.validate:
            problem = validation_error(obj)
            if problem is not None:
                raise InvalidEventError(problem, event_id=_event_id(obj))
        try:
            value = orjson.dumps(obj)
        except orjson.JSONEncodeError as exc:
            raise InvalidEventError(
                f"event: cannot be serialised as JSON ({exc})", event_id=_event_id(obj)
            ) from exc
        self._queue(value, self._key(obj), _event_id(obj))

    def emit_raw(
        self, value: bytes, *, key: bytes | None = None, event_id: str | None = None
    ) -> None:
        """Queue bytes as they are, unchecked: for testing the auditor's dead-letter path.

        When batching, bytes that are blank or hold a line break cannot be one NDJSON line:
        they go out alone, as a plain record, after the key's open batch.
        """
        if self.batch_events > 1 and (b"\n" in value or not value.strip()):
            self._check_open()
            self._send_batch(key)
            self._produce(value, key, [event_id], None)
            return
        self._queue(value, key, event_id)

    def emit_many(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Emit each event in order and return how many were queued.

        Stops at the first invalid event with InvalidEventError (its ``index`` says which);
        the events before it are already queued.
        """
        count = 0
        for index, event in enumerate(events):
            try:
                self.emit(event)
            except InvalidEventError as exc:
                raise InvalidEventError(
                    f"event #{index}: {exc.message}", event_id=exc.event_id, index=index
                ) from exc
            count += 1
        return count

    def poll(self) -> None:
        """Send batches older than ``batch_linger_s`` and serve delivery reports.

        ``emit`` does this itself; call it from an idle service so that its last events
        do not wait for the next ``emit`` or ``flush``.
        """
        self._check_open()
        self._send_due(time.monotonic())
        self._producer.poll(0)

    def _check_open(self) -> None:
        if self._closed:
            raise EmitError("emitter is closed")
        if self._fatal is not None:
            raise EmitError(f"producer failed fatally and cannot send: {self._fatal}")

    def _queue(self, value: bytes, key: bytes | None, event_id: str | None) -> None:
        if self.batch_events == 1:
            self._produce(value, key, [event_id], None)
            return
        self._check_open()
        now = time.monotonic()
        if self._batches.size(key) + len(value) + 1 > self.batch_bytes:
            # The line does not fit in the key's open batch: that one goes out first.
            self._send_batch(key)
        if self._batches.add(key, value, event_id, now) >= self.batch_events:
            self._send_batch(key)
        self._send_due(now)

    def _send_due(self, now: float) -> None:
        # Batches are in creation order, so the first one not yet due ends the scan.
        cutoff = now - self.batch_linger_s
        while (batch := self._batches.oldest()) is not None and batch.started <= cutoff:
            self._send_batch(batch.key)

    def _send_batch(self, key: bytes | None) -> None:
        batch = self._batches.take(key)
        if batch is None:
            return
        self._produce(batch.value(), key, batch.event_ids, BATCH_HEADERS)

    def _send_all(self) -> None:
        while (batch := self._batches.oldest()) is not None:
            self._send_batch(batch.key)

    def _produce(
        self,
        value: bytes,
        key: bytes | None,
        event_ids: list[str | None],
        headers: Headers | None,
    ) -> None:
        self._check_open()
        seq = self._seq
        self._seq += 1
        callback = functools.partial(self._report, seq, event_ids, headers is not None)
        deadline: float | None = None
        while True:
            try:
                if headers is None:
                    self._producer.produce(self.topic, value=value, key=key, on_delivery=callback)
                else:
                    self._producer.produce(
                        self.topic, value=value, key=key, headers=headers, on_delivery=callback
                    )
                break
            except BufferError:
                # The local queue is full (queue.buffering.max.messages/kbytes): serve
                # delivery reports so it drains, and try again for a bounded time.
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self._queue_full_timeout
                elif now >= deadline:
                    raise QueueFullError(
                        f"producer queue still full after {self._queue_full_timeout:g} s "
                        f"({self.pending} events pending; last broker error: "
                        f"{self._last_error or 'none'})",
                        event_ids,
                    ) from None
                self._producer.poll(0.05)
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                reason = _describe(err) if isinstance(err, KafkaError) else str(exc)
                raise DeliveryError([(event_id, reason) for event_id in event_ids]) from exc
        self._pending[seq] = event_ids
        self._pending_events += len(event_ids)
        # Serve delivery callbacks of earlier events without blocking.
        self._producer.poll(0)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait up to ``timeout`` s for every queued event.

        Raises DeliveryError naming the events that failed since the last flush, and those
        still undelivered when the time is up (they stay queued).
        """
        if self._closed:
            return
        self._send_all()
        remaining = self._producer.flush(timeout)
        failed, self._failed = self._failed, []
        undelivered = [i for ids in self._pending.values() for i in ids] if remaining else []
        if failed or undelivered:
            detail = None
            if undelivered and self._last_error:
                detail = f"last broker error: {self._last_error}"
            raise DeliveryError(failed, undelivered, detail=detail)

    def close(self, timeout: float | None = None) -> None:
        """Flush, drop what is still undelivered (DeliveryError names it), release the producer."""
        if self._closed:
            return
        wait = self._close_timeout if timeout is None else timeout
        try:
            self.flush(wait)
        finally:
            self._closed = True
            if len(self._producer):
                # Closing a producer waits for queued messages up to message.timeout.ms
                # (5 min by default); after our own bounded flush they are dropped.
                self._producer.purge()
                self._producer.poll(0)
            self._producer.close()

    def __enter__(self) -> Emitter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        # The caller's own exception matters more than a delivery failure it hides.
        try:
            self.close()
        except EmitError as delivery:
            _log.error("while handling %s: %s", exc_type.__name__, delivery)
