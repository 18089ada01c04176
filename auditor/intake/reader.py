"""Bytes to a lineage event: size limit, JSON decoding, OpenLineage unwrapping, validation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.events.flow import Event
from auditor.events.invalid import Invalid
from auditor.events.validate import parse_event, readable_event_id
from auditor.intake import strict_json
from auditor.intake.openlineage import is_run_event, unwrap_run_event

# The one default size limit of an event (Settings.max_event_bytes overrides it).
DEFAULT_MAX_EVENT_BYTES = 1_048_576
# How far an event's time may be ahead of its input's clock (Settings.event_time_max_ahead_s).
DEFAULT_MAX_AHEAD_S = 3_600.0


@dataclass(frozen=True, slots=True)
class Oversized:
    """A line longer than the limit, of which only ``size`` bytes were read."""

    size: int


class Intake:
    """The one input layer: every way in (check, explain, replay, suites, the worker)
    turns input into events here, so a verdict never depends on how an event arrived.

    ``read`` takes the bytes of one event (a record value, a JSONL line, one line of a
    batch record); ``read_value`` an already decoded JSON value. Both return the typed
    Event (an OpenLineage RunEvent is unwrapped to the v1 event its facet carries) or an
    Invalid with a stable code. Neither raises.
    """

    __slots__ = ("max_ahead_s", "max_event_bytes")

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
                 max_ahead_s: float = DEFAULT_MAX_AHEAD_S) -> None:
        self.max_event_bytes = max_event_bytes
        self.max_ahead_s = max_ahead_s

    def in_time(self, item: Event | Invalid, clock: float) -> Event | Invalid:
        """``item``, or a ``future_event_time`` Invalid if its event time is more than
        ``max_ahead_s`` after ``clock`` (when its record was written, or ``--now``): an
        event cannot be reported before it happened, beyond clock skew."""
        if type(item) is not Event or item.at <= clock + self.max_ahead_s:
            return item
        return Invalid.of(
            "future_event_time", "event_time",
            f"{_iso(item.at)} is {_span(item.at - clock)} after its input's clock "
            f"({_iso(clock)}: when its record was written, or --now), more than the "
            f"{_span(self.max_ahead_s)} AUDITOR_EVENT_TIME_MAX_AHEAD_S allows; check the "
            "emitting service's clock and time zone",
            item.event_id,
        )

    def too_large(self, size: int) -> Invalid:
        return Invalid.of(
            "too_large", "event", f"{size} bytes is over the {self.max_event_bytes}-byte limit"
        )

    def read(self, raw: bytes | Oversized) -> Event | Invalid:
        if type(raw) is Oversized:
            return self.too_large(raw.size)
        assert type(raw) is bytes
        if len(raw) > self.max_event_bytes:
            return self.too_large(len(raw))
        found = strict_json.decode_canonical(raw)
        if isinstance(found, Invalid):
            return found
        value, canonical = found
        if type(value) is dict and "eventType" in value:  # is_run_event, inlined: hot path
            return self.read_value(value)
        return parse_event(value, canonical)

    def read_value(self, value: object) -> Event | Invalid:
        if is_run_event(value):
            assert isinstance(value, dict)
            unwrapped = unwrap_run_event(value)
            if type(unwrapped) is Invalid:
                return unwrapped.with_event_id(readable_event_id(value))
            value = unwrapped
        return parse_event(value)


def _iso(seconds: float) -> str:
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{seconds:.0f} s after 1970"


def _span(seconds: float) -> str:
    for unit, size in (("days", 86_400.0), ("h", 3_600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.4g} {unit}"
    return f"{seconds:.4g} s"
