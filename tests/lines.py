"""Reading sample files in tests the way every entry point does (auditor.intake)."""

from __future__ import annotations

from pathlib import Path

from auditor.intake import DEFAULT_MAX_EVENT_BYTES, read_lines


def raw_lines(path: Path | str) -> list[bytes]:
    """The non-blank lines of a JSONL file (plain or gzip), as bytes."""
    return [line.raw for line in read_lines(str(path), DEFAULT_MAX_EVENT_BYTES)
            if isinstance(line.raw, bytes)]


def numbered_lines(path: Path | str) -> list[tuple[int, bytes]]:
    """(line number, bytes) of each non-blank line."""
    return [(line.number, line.raw) for line in read_lines(str(path), DEFAULT_MAX_EVENT_BYTES)
            if isinstance(line.raw, bytes)]
