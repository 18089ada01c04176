"""Memory keys: typed, and any subject key comes back whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from auditor.memory import MemoryKey


@given(st.text(min_size=1, max_size=8, alphabet="abcdefgh"),
       st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_any_parts_round_trip(tag: str, parts: list[str]) -> None:
    key = MemoryKey(tag, tuple(parts))
    assert MemoryKey.parse(key.text()) == key


def test_separator_and_percent_in_a_subject_key() -> None:
    key = MemoryKey.of("ed", "pack.erasure", "crm|42")
    assert key.text() == "ed|pack.erasure|crm%7C42"
    assert MemoryKey.parse(key.text()).parts == ("pack.erasure", "crm|42")
    odd = MemoryKey.of("st", "-", "100%|%7C")
    assert MemoryKey.parse(odd.text()).parts == ("-", "100%|%7C")


def test_keys_without_special_characters_read_as_before() -> None:
    # Changelogs written before escaping existed restore unchanged.
    assert MemoryKey.parse("rt|rule.keep|subj-1|aws:eu-west-2") == MemoryKey(
        "rt", ("rule.keep", "subj-1", "aws:eu-west-2"))
    assert MemoryKey.of("hr", "acme").text() == "hr|acme"
