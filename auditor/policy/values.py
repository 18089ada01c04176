"""Small helpers for policy values: dates and instants, and "did you mean" suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import UTC, date, datetime


def suggest(name: str, known: Iterable[str]) -> str:
    """' (did you mean X?)' or a short list of what is known, for an error message."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    if not known:
        return "; none is defined"
    shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
    return f"; known: {shown}"


def parse_instant(text: str) -> float | None:
    """POSIX seconds of a policy date (YYYY-MM-DD = 00:00 UTC) or date-time (no offset = UTC)."""
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
