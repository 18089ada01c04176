"""Text that came from events, made safe to show: what a terminal would act on is escaped.

Event ids, subject keys, names and messages built from them reach tables, summaries,
explanations, logs and reports. A control character (``ESC[2J``, an OSC title sequence, a
NUL), a bidirectional override or any other character Python does not call printable is
written as a JSON-style ``\\uXXXX`` escape instead, so it is seen, never obeyed; the
escaped text is also valid inside a JSON string. Printable text comes back unchanged.
"""

from __future__ import annotations

import logging
from types import TracebackType

ExcInfo = (tuple[type[BaseException], BaseException, TracebackType | None]
           | tuple[None, None, None])


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` with every non-printable character escaped (``newlines``: keep ``\\n``)."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() or (newlines and c == "\n") else _escape(c) for c in text
    )


def _escape(c: str) -> str:
    n = ord(c)
    if n <= 0xFFFF:
        return f"\\u{n:04x}"
    n -= 0x10000  # a UTF-16 surrogate pair, as JSON writes it
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"


class PrintableFormatter(logging.Formatter):
    """A log formatter that escapes what a message carries: one record is one line, and
    a terminal or log viewer never acts on text from an event (a traceback keeps its
    line breaks)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))

    def formatException(self, ei: ExcInfo) -> str:
        return printable(super().formatException(ei), newlines=True)
