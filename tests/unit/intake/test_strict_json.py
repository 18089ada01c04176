"""Strict event decoding: duplicate keys refused (cheap test, exact fallback), clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.events import Invalid
from auditor.intake import Intake
from auditor.intake.strict_json import decode, duplicate_key

ROOT = Path(__file__).resolve().parents[3]
EVENT = {"event_id": "e-1", "data_class": "call_recording", "origin": {"location": "aws:eu-west-2"},
         "tenant": {"id": "acme", "settings": {"a": True}}, "upstream": ["e-0"], "n": 1.5}


def refused(raw: bytes) -> str:
    value = decode(raw)
    assert isinstance(value, Invalid), value
    return value.message


def code(raw: bytes) -> str:
    value = decode(raw)
    assert isinstance(value, Invalid), value
    return value.code


def test_valid_events_decode_as_orjson_does() -> None:
    text = (ROOT / "examples" / "natterbox.jsonl").read_bytes()
    lines = [line.strip() for line in text.splitlines() if line.strip()][:200]
    for raw in [*lines, orjson.dumps(EVENT), json.dumps(EVENT, indent=2).encode(),
                b"[1, 2]", b'"a:b"', b"3", b"null", b"{}"]:
        assert decode(raw) == orjson.loads(raw)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b'{"data_class":"a","data_class":"b"}', "data_class"),
        (b'{"data_class": "a", "data_class": "b"}', "data_class"),  # another writer's spacing
        (b'{"t":{"id":"x","id":"y"}}', "id"),
        (b'[{"a":1},{"b":2,"b":3}]', "b"),
        (b'{"a":{"x":"1:2:3"},"a":{}}', "a"),
        # escapes that decode to ':' cannot make up for the colons a duplicate drops
        (b'{"a":"x","a":"y","p":"\\u003a\\u003A"}', "a"),
        (b'{"k\\u003a":1,"k:":2}', "k:"),  # the same key, written two ways
        (b'{"a":1,"\\u0061":2}', "a"),
    ],
)
def test_a_key_twice_in_one_object_is_refused(raw: bytes, key: str) -> None:
    assert duplicate_key(raw, orjson.loads(raw)) == key
    message = refused(raw)
    assert message == (f'event: not valid JSON: key "{key}" appears twice in one object; the '
                       "auditor does not pick one of two values: send each key once")
    assert code(raw) == "duplicate_key"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":"\\\\u003a"}',  # an escaped backslash: the test errs towards the exact check
        b'{"k\\u003a":1}',
        b'{"a": "b", "c": {"d": "e:f"}}',
        b'{"a":1e400000}'.replace(b"1e400000", b"1e-400"),
    ],
)
def test_no_false_alarm(raw: bytes) -> None:
    assert decode(raw) == orjson.loads(raw)


def test_deeper_than_orjson_encodes_is_still_checked() -> None:
    deep = b'{"a":' * 300 + b"1" + b"}" * 300
    assert decode(deep) == orjson.loads(deep)
    twice = b'{"a":' * 300 + b'{"b":1,"b":2}' + b"}" * 300
    assert 'key "b" appears twice' in refused(twice)


def test_a_shown_key_is_escaped_and_clipped() -> None:
    key = "\x1b[2J\u009b" + "k" * 100
    raw = orjson.dumps({"x": 1})[:-1] + b"," + orjson.dumps(key) + b":1," + \
        orjson.dumps(key) + b":2}"
    message = refused(raw)
    assert '"\\u001b[2J\\u009b' + "k" * 59 + '"…' in message
    assert "\x1b" not in message
    assert "\u009b" not in message


@pytest.mark.parametrize(
    ("raw", "message", "reason"),
    [
        (b'{"retention_days": ' + b"9" * 5000 + b"}",
         "the number at line 1 column 20 is too large: a JSON number must fit a 64-bit float "
         "(up to about 1.8e308); send a larger value as a string", "not_json"),
        (b'{"id": "x\\ud800y"}',
         "the string at line 1 column 10 has a lone surrogate escape (\\ud800-\\udfff outside "
         "a high-low pair), which stands for no character", "not_json"),
        (b'{"id": "\\udc00"}', "the string at line 1 column 9 has a lone surrogate escape",
         "not_json"),
        (b'{"id": "x\xed\xa0\x80"}',
         "not UTF-8 text: the bytes ED A0 80 at byte 9 encode the surrogate U+D800, which is "
         "no character", "not_utf8"),
        (b'{"id": "x\xff"}', "not UTF-8 text: byte 0xFF at byte 9: invalid start byte",
         "not_utf8"),
    ],
)
def test_errors_say_what_is_wrong(raw: bytes, message: str, reason: str) -> None:
    text = refused(raw)
    assert text.startswith("event: not valid JSON: " + message), text
    assert "infinity" not in text
    assert "surrogates not allowed" not in text
    assert code(raw) == reason


def test_other_errors_and_the_size_limit_are_as_before() -> None:
    assert refused(b'{"a":').startswith("event: not valid JSON: ")
    assert code(b"[" * 2000 + b"]" * 2000) == "too_deep"
    big = Intake(1024).read(b" " * 1025)
    assert isinstance(big, Invalid)
    assert "byte limit" in big.message


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=6),
       spaced=st.booleans(), ascii_only=st.booleans())
def test_property_any_object_decodes_and_any_repeated_key_is_caught(
    value: dict[str, Any], spaced: bool, ascii_only: bool
) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only,
                     separators=(", ", ": ") if spaced else (",", ":")).encode()
    assert decode(raw) == orjson.loads(raw)
    if value:
        first = next(iter(value))
        twice = raw[:-1] + b", " + json.dumps(first).encode() + b": 0}"
        assert duplicate_key(twice, orjson.loads(twice)) == first
