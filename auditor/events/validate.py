"""One-pass validation of a decoded lineage event v1 into the typed event the engine decides.

This is the per-event hot path, so it is written as one flat function of type checks
rather than a generic schema walk; ``schemas/lineage-event-v1.schema.json`` stays the
source of truth and ``tests/unit/events/test_schema_agreement.py`` proves both agree.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NoReturn

from auditor.events.flow import Event, Flow, SettingItem
from auditor.events.invalid import Invalid
from auditor.events.vocabulary import (
    AT_REST,
    DEROGATIONS,
    IN_TRANSIT,
    OPERATIONS,
    ORIGIN_REGIMES,
    SPECIAL_CATEGORIES,
)

_OPERATIONS = frozenset(OPERATIONS)
_IN_TRANSIT = frozenset(IN_TRANSIT)
_AT_REST = frozenset(AT_REST)
_SPECIAL = frozenset(SPECIAL_CATEGORIES)
_DEROGATIONS = frozenset(DEROGATIONS)
_REGIMES = frozenset(ORIGIN_REGIMES)
_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})\Z"
)
_AFTER_SECONDS = frozenset(".Z+-")
_LOCATION = re.compile(r"(?:aws|azure|gcp|country|site):\S+\Z")
# An event id is the key consumers de-duplicate by and what every output names: control
# characters (a NUL, an escape sequence) have no place in it (the schema's pattern too).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_LOCATION_TEXT = (
    "a LOCATION string aws:<region>, azure:<region>, gcp:<region>, country:<ISO code> or site:<id>"
)
_MAX_SHOWN = 60
# Well-formed LOCATION strings seen so far: a set lookup is cheaper than the pattern.
_SEEN_LOCATIONS: set[str] = set()


def show(value: object) -> str:
    """A short, safe rendering of a value for an error message."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class _Reject(Exception):
    """Raised inside the validator; ``parse_event`` turns it into an Invalid."""

    def __init__(self, invalid: Invalid) -> None:
        self.invalid = invalid


def _want(field: str, expected: str, value: object) -> NoReturn:
    raise _Reject(
        Invalid.of("wrong_value", field, f"expected {expected}, got {_kind(value)} {show(value)}")
    )


def _missing(field: str) -> NoReturn:
    raise _Reject(Invalid.of("missing_field", field, "required field is missing"))


def parse_time(value: str) -> float | None:
    """POSIX seconds of an RFC 3339 date-time with offset, or None if it is not one."""
    # Fast path: the common shape checked by position, then the C parser checks ranges.
    if (
        len(value) >= 20
        and value[10] == "T"
        and value[4] == "-"
        and value[7] == "-"
        and value[13] == ":"
        and value[16] == ":"
        and value[19] in _AFTER_SECONDS
        and (value[-1] == "Z" or (value[-6] in "+-" and value[-3] == ":"))
    ):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            pass
    if _TIME.match(value) is None:
        return None
    try:
        # Lower-case t and z are RFC 3339 too; leap seconds (:60) are refused, as the
        # schema's date-time format checker does.
        return datetime.fromisoformat(value.upper()).timestamp()
    except ValueError:
        return None


def _place(obj: dict[str, Any], name: str) -> dict[str, Any]:
    """The ``origin``/``destination`` object, its LOCATION checked."""
    place = obj.get(name)
    if type(place) is not dict:
        if place is None and name not in obj:
            _missing(name)
        _want(name, 'an object {"location": LOCATION}', place)
    loc = place.get("location")
    if type(loc) is not str:
        if loc is None and "location" not in place:
            _missing(f"{name}.location")
        _want(f"{name}.location", _LOCATION_TEXT, loc)
    if loc not in _SEEN_LOCATIONS:
        if _LOCATION.match(loc) is None:
            _want(f"{name}.location", _LOCATION_TEXT, loc)
        if len(_SEEN_LOCATIONS) < 65536:  # bounded: hostile input cannot grow it forever
            _SEEN_LOCATIONS.add(loc)
    return place


def _place_extra(place: dict[str, Any], name: str, key: str) -> str | None:
    """``origin.regime`` or ``destination.system``: absent, or a valid string."""
    value = place.get(key)
    if value is None:
        if key in place:
            _want(f"{name}.{key}", "a string", value)
        return None
    if type(value) is not str:
        _want(f"{name}.{key}", "a string", value)
    if key == "regime" and value not in _REGIMES:
        _want("origin.regime", "one of " + ", ".join(ORIGIN_REGIMES), value)
    return value


def _optional_str(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        if name in obj:
            _want(name, "a string", value)
        return None
    if type(value) is not str:
        _want(name, "a string", value)
    return value


def _encryption(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    enc = obj["encryption"]
    if type(enc) is not dict:
        _want("encryption", "an object {in_transit?, at_rest?}", enc)
    in_transit = enc.get("in_transit")
    if (in_transit is not None or "in_transit" in enc) and (
        type(in_transit) is not str or in_transit not in _IN_TRANSIT
    ):
        _want("encryption.in_transit", "one of " + ", ".join(IN_TRANSIT), in_transit)
    at_rest = enc.get("at_rest")
    if (at_rest is not None or "at_rest" in enc) and (
        type(at_rest) is not str or at_rest not in _AT_REST
    ):
        _want("encryption.at_rest", "one of " + ", ".join(AT_REST), at_rest)
    return in_transit, at_rest


def _tenant(obj: dict[str, Any]) -> tuple[str, str | None, tuple[SettingItem, ...]]:
    tenant = obj["tenant"]
    if type(tenant) is not dict:
        _want("tenant", 'an object {"id": string, ...}', tenant)
    tid = tenant.get("id")
    if type(tid) is not str:
        if tid is None and "id" not in tenant:
            _missing("tenant.id")
        _want("tenant.id", "a string", tid)
    home = tenant.get("home_region")
    if type(home) is not str and (home is not None or "home_region" in tenant):
        _want("tenant.home_region", "a string", home)
    settings = tenant.get("settings")
    if settings is None:
        if "settings" in tenant:
            _want("tenant.settings", "an object", settings)
        return tid, home, ()
    if type(settings) is not dict:
        _want("tenant.settings", "an object of string/number/boolean", settings)
    items: list[SettingItem] = []
    for key, value in settings.items():
        kind = type(value)
        if kind is not str and kind is not bool and kind is not int and kind is not float:
            _want(f"tenant.settings.{key}", "a string, number or boolean", value)
        # The type is part of the key: True == 1 in Python, but not in a policy.
        items.append((key, kind, value))
    return tid, home, tuple(items)


def _retention(obj: dict[str, Any]) -> int | None:
    value = obj["retention_days"]
    if value is None:
        return None
    if type(value) is float and value.is_integer():
        value = int(value)  # JSON Schema counts 30.0 as an integer
    if type(value) is not int or value < 0:
        _want("retention_days", "an integer >= 0 or null", value)
    return value


def _special(obj: dict[str, Any]) -> tuple[str, ...]:
    value = obj["special_categories"]
    if type(value) is not list:
        _want("special_categories", "an array of special categories", value)
    for i, item in enumerate(value):
        if type(item) is not str or item not in _SPECIAL:
            _want(f"special_categories[{i}]", "one of " + ", ".join(SPECIAL_CATEGORIES), item)
    return tuple(sorted(set(value)))


def _rest(obj: dict[str, Any]) -> str | None:
    """Fields that do not change a stateless decision but must still be well-formed; the
    subject key, if any (memory keys on it)."""
    subject = obj.get("subject")
    subject_key = None
    if subject is not None or "subject" in obj:
        if type(subject) is not dict or type(subject.get("key")) is not str:
            _want("subject", 'an object {"key": string}', subject)
        subject_key = subject["key"]
    upstream = obj.get("upstream")
    if upstream is not None or "upstream" in obj:
        if type(upstream) is not list:
            _want("upstream", "an array of event ids", upstream)
        for i, item in enumerate(upstream):
            if type(item) is not str:
                _want(f"upstream[{i}]", "a string", item)
    labels = obj.get("labels")
    if labels is not None or "labels" in obj:
        if type(labels) is not dict:
            _want("labels", "an object of string values", labels)
        for key, value in labels.items():
            if type(value) is not str:
                _want(f"labels.{key}", "a string", value)
    _optional_str(obj, "service")
    return subject_key


def parse_event(obj: object, json: bytes = b"") -> Event | Invalid:
    """Validate a decoded JSON value as a v1 event.

    Returns the typed Event, or an Invalid naming the first wrong field and why (with the
    input's event id when it can be read). ``json``: ``obj`` as orjson writes it, if the
    caller has it (the Event keeps it for the decision record). Never raises.
    """
    if type(obj) is not dict:
        return Invalid.of("not_object", "event", f"expected a JSON object, got {_kind(obj)} "
                          f"{show(obj)}")
    try:
        return _parse(obj, json)
    except _Reject as exc:
        return exc.invalid.with_event_id(readable_event_id(obj))
    except Exception as exc:  # pragma: no cover - a bug here must still not stop a stream
        return Invalid.of("wrong_value", "event", f"could not be validated ({type(exc).__name__})",
                          readable_event_id(obj))


def _parse(obj: dict[str, Any], json: bytes) -> Event:
    event_id = obj.get("event_id")
    if type(event_id) is not str or not 0 < len(event_id) <= 128:
        if event_id is None and "event_id" not in obj:
            _missing("event_id")
        _want("event_id", "a string of 1-128 characters", event_id)
    if not event_id.isprintable() and _CONTROL.search(event_id):
        _want("event_id", "no control characters (U+0000-U+001F, U+007F-U+009F)", event_id)
    version = obj.get("spec_version", "1")
    if version != "1" or type(version) is not str:
        raise _Reject(Invalid.of("unsupported_version", "spec_version",
                                 f"unsupported version {show(version)}; this auditor reads '1'"))
    when = obj.get("event_time")
    if type(when) is not str:
        if when is None and "event_time" not in obj:
            _missing("event_time")
        _want("event_time", "an RFC 3339 date-time string", when)
    seconds = parse_time(when)
    if seconds is None:
        raise _Reject(Invalid.of(
            "wrong_value", "event_time",
            f"{show(when)} is not an RFC 3339 date-time with offset (e.g. 2026-03-14T09:26:53Z)",
        ))
    data_class = obj.get("data_class")
    if type(data_class) is not str:
        if data_class is None and "data_class" not in obj:
            _missing("data_class")
        _want("data_class", "a string", data_class)
    operation = obj.get("operation")
    if type(operation) is not str or operation not in _OPERATIONS:
        if operation is None and "operation" not in obj:
            _missing("operation")
        _want("operation", "one of " + ", ".join(OPERATIONS), operation)
    origin = _place(obj, "origin")
    destination = _place(obj, "destination")
    # The common event names neither: two dict lookups instead of two calls.
    regime = _place_extra(origin, "origin", "regime") if "regime" in origin else None
    system = _place_extra(destination, "destination", "system") if "system" in destination \
        else None
    processor = _optional_str(obj, "processor")
    purpose = _optional_str(obj, "purpose")
    in_transit, at_rest = _encryption(obj) if "encryption" in obj else (None, None)
    if "retention_days" in obj:
        retention, stated = _retention(obj), True
    else:
        retention, stated = None, False
    special = _special(obj) if "special_categories" in obj else ()
    anonymized = obj.get("anonymized", False)
    if type(anonymized) is not bool:
        _want("anonymized", "a boolean", anonymized)
    tenant_id, home, settings = _tenant(obj) if "tenant" in obj else (None, None, ())
    derogation = obj.get("derogation")
    if (derogation is not None or "derogation" in obj) and (
        type(derogation) is not str or derogation not in _DEROGATIONS
    ):
        _want("derogation", "one of " + ", ".join(DEROGATIONS), derogation)
    subject = None
    if "subject" in obj or "upstream" in obj or "labels" in obj or "service" in obj:
        subject = _rest(obj)
    flow = Flow(
        data_class,
        operation,
        origin["location"],
        destination["location"],
        processor,
        purpose,
        in_transit,
        at_rest,
        retention,
        stated,
        special,
        anonymized,
        home,
        settings,
        derogation,
        regime,
    )
    return Event(event_id, seconds, flow, tenant_id, subject, system, obj, json)


def validation_error(obj: object) -> str | None:
    """None if ``obj`` is a valid lineage event v1, else what is wrong with it."""
    result = parse_event(obj)
    return result.message if type(result) is Invalid else None


def readable_event_id(obj: object) -> str | None:
    """The event id of a (possibly invalid) event, if one can be read safely."""
    if type(obj) is dict:
        event_id = obj.get("event_id")
        if type(event_id) is str and 0 < len(event_id) <= 128 and (
                event_id.isprintable() or not _CONTROL.search(event_id)):
            return event_id
    return None
