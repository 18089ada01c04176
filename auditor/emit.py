"""Emitter: the library a service uses to send lineage events v1 to the auditor's Kafka topic."""

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

from auditor.events.keys import partition_key as default_key
from auditor.events.validate import validation_error

__all__ = [
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

# Producer defaults; ``producer_config`` overrides any of them.
_DEFAULTS: dict[str, str | int | bool] = {
    # No duplicates and no reordering on retries: the auditor's per-tenant state (home
    # region, erasure) depends on seeing a tenant's events in the order they were sent.
    "enable.idempotence": True,
    "acks": "all",
    # A few milliseconds of batching costs little latency and saves most requests.
    "linger.ms": 5,
    "compression.type": "lz4",
    # The Java client's default partitioner: a tenant's events land in the same partition
    # whichever language the emitting service is written in (librdkafka's own default,
    # consistent_random, hashes keys differently).
    "partitioner": "murmur2_random",
    "client.id": "auditor-emitter",
}
_MAX_SHOWN_IDS = 20


class EmitError(Exception):
    """Base class of the emitter's errors."""


class InvalidEventError(EmitError, ValueError):
    """The event is not a valid lineage event v1; nothing was sent."""

    def __init__(
        self, message: str, *, event_id: str | None = None, index: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.event_id = event_id
        self.index = index


class QueueFullError(EmitError, BufferError):
    """The producer's local queue stayed full for longer than the emitter waits."""


class DeliveryError(EmitError):
    """Some events were not delivered: the broker rejected them or they timed out."""

    def __init__(
        self,
        failed: list[tuple[str | None, str]],
        undelivered: list[str | None] | None = None,
        *,
        detail: str | None = None,
    ) -> None:
        self.failed = failed
        self.undelivered = undelivered or []
        parts = []
        if failed:
            ids = [str(event_id) for event_id, _ in failed]
            reasons = sorted({reason for _, reason in failed})
            parts.append(
                f"{len(failed)} event(s) failed delivery ({'; '.join(reasons[:3])}): "
                + _show_ids(ids)
            )
        if self.undelivered:
            parts.append(
                f"{len(self.undelivered)} event(s) still undelivered: "
                + _show_ids([str(i) for i in self.undelivered])
            )
        if detail:
            parts.append(detail)
        super().__init__("; ".join(parts) or "delivery failed")

    @property
    def event_ids(self) -> list[str | None]:
        """Ids of every event that failed or is still undelivered."""
        return [event_id for event_id, _ in self.failed] + list(self.undelivered)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """Outcome of one event: where it was written, or why it was not."""

    event_id: str | None
    topic: str | None
    partition: int | None
    offset: int | None
    error: str | None


def _show_ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:_MAX_SHOWN_IDS])
    return shown + (
        f", ... ({len(ids) - _MAX_SHOWN_IDS} more)" if len(ids) > _MAX_SHOWN_IDS else ""
    )


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
    ) -> None:
        if not topic:
            raise ValueError("topic must not be empty")
        self.topic = topic
        self.validate = validate
        self._key = key if key is not None else default_key
        self._on_delivery = on_delivery
        self._queue_full_timeout = queue_full_timeout
        self._close_timeout = close_timeout
        conf: dict[str, Any] = {"bootstrap.servers": bootstrap_servers, **_DEFAULTS}
        conf.update(producer_config or {})
        # librdkafka writes its own log lines to stderr unless given a logger; a library
        # should leave that to the application's logging set-up.
        conf.setdefault("logger", _log)
        conf.setdefault("error_cb", self._on_error)
        try:
            self._producer = Producer(conf)
        except KafkaException as exc:
            err = exc.args[0] if exc.args else exc
            reason = err.str() if isinstance(err, KafkaError) else str(err)
            raise EmitError(f"invalid producer configuration: {reason}") from exc
        self._seq = 0
        # Events handed to librdkafka and not yet reported on: sequence -> event id.
        self._pending: dict[int, str | None] = {}
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

    def _report(self, seq: int, event_id: str | None, err: KafkaError | None, msg: Message) -> None:
        self._pending.pop(seq, None)
        error = None if err is None else _describe(err)
        if error is None:
            self.delivered += 1
        else:
            self._failed.append((event_id, error))
        if self._on_delivery is not None:
            ok = err is None
            report = DeliveryReport(
                event_id=event_id,
                topic=msg.topic(),
                partition=msg.partition() if ok else None,
                offset=msg.offset() if ok else None,
                error=error,
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
        """Events queued or in flight, not yet acknowledged or failed."""
        return len(self._pending)

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
        self._produce(value, self._key(obj), _event_id(obj))

    def emit_raw(
        self, value: bytes, *, key: bytes | None = None, event_id: str | None = None
    ) -> None:
        """Queue bytes as they are, unchecked: for testing the auditor's dead-letter path."""
        self._produce(value, key, event_id)

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

    def _produce(self, value: bytes, key: bytes | None, event_id: str | None) -> None:
        if self._closed:
            raise EmitError("emitter is closed")
        if self._fatal is not None:
            raise EmitError(f"producer failed fatally and cannot send: {self._fatal}")
        seq = self._seq
        self._seq += 1
        callback = functools.partial(self._report, seq, event_id)
        deadline: float | None = None
        while True:
            try:
                self._producer.produce(self.topic, value=value, key=key, on_delivery=callback)
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
                        f"({len(self._pending)} events pending; last broker error: "
                        f"{self._last_error or 'none'})"
                    ) from None
                self._producer.poll(0.05)
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                reason = _describe(err) if isinstance(err, KafkaError) else str(exc)
                raise DeliveryError([(event_id, reason)]) from exc
        self._pending[seq] = event_id
        # Serve delivery callbacks of earlier events without blocking.
        self._producer.poll(0)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait up to ``timeout`` s for every queued event.

        Raises DeliveryError naming the events that failed since the last flush, and those
        still undelivered when the time is up (they stay queued).
        """
        if self._closed:
            return
        remaining = self._producer.flush(timeout)
        failed, self._failed = self._failed, []
        undelivered = list(self._pending.values()) if remaining else []
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
