"""Why an input is not a valid lineage event: a stable code, the field, and the text."""

from __future__ import annotations

from dataclasses import dataclass

# Stable codes (a metric label, a dead-letter header, what tooling matches on): the
# message text may be reworded, these never are. Values: what each means.
CODES: dict[str, str] = {
    "not_json": "the bytes are not a JSON document",
    "duplicate_key": "an object names the same key twice (two values: the auditor picks none)",
    "not_utf8": "the bytes are not UTF-8 text",
    "too_deep": "JSON nested deeper than the decoder allows",
    "too_large": "the event is over the size limit (AUDITOR_MAX_EVENT_BYTES)",
    "not_object": "the JSON value is not an object",
    "missing_field": "a required field is missing",
    "unsupported_version": "spec_version is not one this auditor reads",
    "wrong_value": "a field has the wrong type or a value outside its vocabulary",
    "openlineage": "an OpenLineage RunEvent without the auditor's data-flow facet",
    "future_event_time": "event_time is further ahead of the time its record was written "
    "(or of --now) than AUDITOR_EVENT_TIME_MAX_AHEAD_S allows: the event is quarantined",
}


@dataclass(frozen=True, slots=True)
class Invalid:
    """An input that is not a valid v1 event.

    ``field`` is the JSON path of the first wrong field (``event`` for the input as a
    whole); ``message`` is the full text shown to users, ``"<field>: <what is wrong>"``.
    ``event_id`` is the input's own id when it could be read safely.
    """

    code: str
    field: str
    message: str
    event_id: str | None = None

    @classmethod
    def of(cls, code: str, field: str, why: str, event_id: str | None = None) -> Invalid:
        return cls(code, field, f"{field}: {why}", event_id)

    def with_event_id(self, event_id: str | None) -> Invalid:
        if event_id is None or event_id == self.event_id:
            return self
        return Invalid(self.code, self.field, self.message, event_id)
