"""Reading events from JSONL files (plain or gzip) or stdin, and decoding one line safely."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

MAX_EVENT_BYTES = 1_048_576


class NotJson(str):
    """The reason a line could not be decoded (a str, so it reads as the message)."""

    __slots__ = ()


def decode(raw: bytes) -> object:
    """The JSON value of ``raw``, or a NotJson reason. Never raises."""
    if len(raw) > MAX_EVENT_BYTES:
        return NotJson(f"event: {len(raw)} bytes is over the {MAX_EVENT_BYTES}-byte limit")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return NotJson(f"event: not valid JSON: {exc}")


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    p = Path(path)
    with p.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(p, "rb")  # type: ignore[return-value]
    return p.open("rb")


def read_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) for each non-blank line of ``path`` ('-' = stdin)."""
    stream = _open(path)
    try:
        for number, line in enumerate(stream, start=1):
            raw = line.strip()
            if raw:
                yield number, raw
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
