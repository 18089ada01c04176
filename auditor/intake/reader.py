"""Bytes to a lineage event: size limit, JSON decoding, OpenLineage unwrapping, validation."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.events.flow import Event
from auditor.events.invalid import Invalid
from auditor.events.validate import parse_event, readable_event_id
from auditor.intake import strict_json
from auditor.intake.openlineage import is_run_event, unwrap_run_event

# The one default size limit of an event (Settings.max_event_bytes overrides it).
DEFAULT_MAX_EVENT_BYTES = 1_048_576


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

    __slots__ = ("max_event_bytes",)

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self.max_event_bytes = max_event_bytes

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
