"""Reading events from JSONL files (plain or gzip) or stdin, one bounded line at a time."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from auditor.intake.reader import Oversized

_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line: its number in the file and its bytes (or how much was too much)."""

    number: int
    raw: bytes | Oversized


def open_events(path: str) -> BinaryIO:
    """The byte stream of ``path`` ('-' = stdin), decompressed if it is gzip."""
    if path == "-":
        return sys.stdin.buffer
    p = Path(path)
    with p.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(p, "rb")  # type: ignore[return-value]
    return p.open("rb")


def read_lines(path: str, max_line_bytes: int) -> Iterator[Line]:
    """Each non-blank line of ``path`` ('-' = stdin), never holding more than about
    ``max_line_bytes`` of one line in memory: a longer line (a gzip bomb of zeros, say)
    is skipped to its end and comes back as Oversized, so its event is reported too large.
    """
    stream = open_events(path)
    # Room for the line ending and surrounding white space beyond the event itself.
    bound = max_line_bytes + 3
    try:
        number = 0
        while True:
            line = stream.readline(bound)
            if not line:
                return
            number += 1
            if len(line) == bound and not line.endswith(b"\n"):
                size = len(line)
                while True:  # read the rest of this line without keeping it
                    rest = stream.readline(_CHUNK)
                    size += len(rest)
                    if not rest or rest.endswith(b"\n"):
                        break
                yield Line(number, Oversized(size))
                continue
            raw = line.strip()
            if raw:
                yield Line(number, raw)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
