"""Typed memory keys: a tag and its parts, as text that any subject key survives.

The text form is ``tag|part|part…`` (what a store and the changelog hold); a ``%`` or
``|`` inside a part is written ``%25`` / ``%7C``, so a subject key may contain any
character and still comes back whole. Keys without those characters read exactly as
before this escaping existed, so older changelogs restore unchanged.
"""

from __future__ import annotations

from typing import NamedTuple


def _escape(part: str) -> str:
    if "%" in part or "|" in part:
        return part.replace("%", "%25").replace("|", "%7C")
    return part


def _unescape(part: str) -> str:
    if "%" in part:
        return part.replace("%7C", "|").replace("%7c", "|").replace("%25", "%")
    return part


class MemoryKey(NamedTuple):
    """A key of the memory: ``tag`` says what it holds; ``parts`` identify it."""

    tag: str
    parts: tuple[str, ...]

    @classmethod
    def of(cls, tag: str, *parts: str) -> MemoryKey:
        return cls(tag, parts)

    def text(self) -> str:
        return key_text(self.tag, *self.parts)

    @classmethod
    def parse(cls, text: str) -> MemoryKey:
        tag, *parts = text.split("|")
        return cls(tag, tuple(_unescape(p) for p in parts))


def key_text(tag: str, *parts: str) -> str:
    """``MemoryKey(tag, parts).text()`` without making the key: on the hot path."""
    joined = "|".join(parts)
    # The common key needs no escaping: one join and two scans.
    if parts and "%" not in joined and joined.count("|") == len(parts) - 1:
        return f"{tag}|{joined}"
    return "|".join((tag, *(_escape(p) for p in parts)))
