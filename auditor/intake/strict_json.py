"""Decoding one event strictly: a key twice in one object is refused; errors in user terms.

orjson keeps the last of duplicate keys without a word, so ``{"data_class": "a",
"data_class": "b"}`` would be judged as "b". No C decoder at hand reports duplicates
(orjson and msgspec both keep the last), and checking every object in Python would cost
several times the decoding. So: a cheap exact test first, the slow check only when it
fails.

The test. In JSON text a ``:`` byte is either the separator after a member's key or a
character inside a string (never part of a number, a literal or a UTF-8 multi-byte
sequence), and only the escape ``\\u003a`` / ``\\u003A`` makes a ``:`` that the text
does not show. So for text without duplicates, ``:`` bytes + such escapes = keys +
colons inside strings = the ``:`` bytes of the decoded value re-encoded by orjson. A
duplicate drops a key (and its value's strings) from the decoded value, so the re-encoded
count falls short. Counting ``\\\\u003a`` (an escaped backslash) as an escape only errs
towards the slow check. Equal counts therefore prove there is no duplicate; unequal
counts (a duplicate, or that rare backslash) run the exact check. Before the counts, an
even cheaper proof: text that orjson re-encodes byte for byte has no duplicate.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from auditor.events.invalid import Invalid

__all__ = ["decode", "duplicate_key"]

_SHOWN_KEY = 64  # characters of a duplicate key quoted back
_loads = orjson.loads
_dumps = orjson.dumps


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return out


def _ignore(_text: str) -> None:
    return None


def duplicate_key(raw: bytes, value: object) -> str | None:
    """The first key that appears twice in one object of ``raw`` (already decoded by orjson
    as ``value``), or None.

    Costs one orjson re-encoding when ``raw`` is what orjson writes, else also two byte
    counts; the exact check (Python's decoder) runs only if the counts differ.
    """
    if type(value) is not dict and type(value) is not list:
        return None
    try:
        again = _dumps(value)
    except orjson.JSONEncodeError:  # deeper than orjson encodes (255): check exactly
        again = b""
    # Text written by orjson (the emitter, most services) comes back byte for byte, and
    # a re-encoded dict has no duplicate: nothing else to check.
    return None if again == raw else _counted(raw, again)


def _counted(raw: bytes, again: bytes) -> str | None:
    colons = raw.count(b":")
    if b"\\" in raw:
        colons += raw.count(b"\\u003a") + raw.count(b"\\u003A")
    if again and again.count(b":") == colons:
        return None
    try:
        # Numbers are not needed for this answer: skip converting them.
        json.loads(raw, object_pairs_hook=_pairs, parse_int=_ignore, parse_float=_ignore,
                   parse_constant=_ignore)
    except _Duplicate as dup:
        return dup.key
    return None


def decode(raw: bytes) -> object:
    """The JSON value of ``raw``, or an Invalid saying why not; never raises.

    Besides orjson's own checks: an object with a key twice is refused (``duplicate_key``),
    and a number too large, a lone surrogate or bytes that are not UTF-8 are said in the
    user's terms. Every message starts ``event: not valid JSON``.
    """
    found = decode_canonical(raw)
    return found if isinstance(found, Invalid) else found[0]


def decode_canonical(raw: bytes) -> tuple[object, bytes] | Invalid:
    """As ``decode``, with the value as orjson writes it (what the duplicate-key test makes
    anyway; b"" when it could not be made): the decision record reuses those bytes."""
    try:
        value = _loads(raw)
    except orjson.JSONDecodeError as exc:
        text = str(exc)
        return Invalid.of(_code(text), "event", "not valid JSON: " + _say(exc, raw))
    again = b""
    # duplicate_key's fast path, inlined: this runs for every event.
    if type(value) is dict or type(value) is list:
        try:
            again = _dumps(value)
        except orjson.JSONEncodeError:
            again = b""
        if again != raw:
            try:
                key = _counted(raw, again)
            except RecursionError:  # nested deeper than Python's own decoder goes
                return Invalid.of("too_deep", "event",
                                  "not valid JSON: nested too deep to check (depth limit)")
            if key is not None:
                return Invalid.of(
                    "duplicate_key", "event",
                    f"not valid JSON: key {_show(key)} appears twice in one object; the "
                    "auditor does not pick one of two values: send each key once")
    return value, again


def _code(message: str) -> str:
    if "UTF-8" in message or "utf-8" in message:
        return "not_utf8"
    if "depth limit" in message:
        return "too_deep"
    return "not_json"


def _say(exc: orjson.JSONDecodeError, raw: bytes) -> str:
    text = str(exc)
    where = f"line {exc.lineno} column {exc.colno}"
    if text.startswith("number is infinity"):
        return (f"the number at {where} is too large: a JSON number must fit a 64-bit "
                "float (up to about 1.8e308); send a larger value as a string")
    if text.startswith(("no low surrogate", "invalid high surrogate")):
        return (f"the string at {where} has a lone surrogate escape (\\ud800-\\udfff "
                "outside a high-low pair), which stands for no character; escape a "
                "character above U+FFFF as a pair (e.g. \\ud83d\\ude00) or write it as is")
    if text.startswith("str is not valid UTF-8"):
        return _not_utf8(raw) or text
    return text


def _not_utf8(raw: bytes) -> str | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        at, bad = exc.start, raw[exc.start:exc.start + 3]
        # ED A0..BF 80..BF is a UTF-16 surrogate written as UTF-8 ("CESU-8"): no character.
        if len(bad) == 3 and bad[0] == 0xED and bad[1] >= 0xA0 and 0x80 <= bad[2] <= 0xBF:
            point = 0xD000 | (bad[1] & 0x3F) << 6 | (bad[2] & 0x3F)
            return (f"not UTF-8 text: the bytes {bad.hex(' ').upper()} at byte {at} encode "
                    f"the surrogate U+{point:04X}, which is no character; encode a "
                    "character above U+FFFF as one 4-byte UTF-8 sequence")
        return (f"not UTF-8 text: byte 0x{raw[at]:02X} at byte {at}: {exc.reason}; send "
                "the event as UTF-8")
    return None


def _show(key: str) -> str:
    """``key`` quoted, clipped, with every character outside printable ASCII escaped."""
    clipped = key[:_SHOWN_KEY]
    inner = "".join(
        c if " " <= c <= "~" and c not in '"\\' else
        ("\\" + c if c in '"\\' else
         f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
        for c in clipped
    )
    return f'"{inner}"' + ("…" if len(key) > _SHOWN_KEY else "")
