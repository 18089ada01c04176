"""Batch records: one Kafka record carrying several events as NDJSON (docs/contracts.md)."""

from __future__ import annotations

from collections.abc import Mapping

BATCH_CONTENT_TYPE = b"application/x-ndjson"


def is_batch(headers: Mapping[str, bytes]) -> bool:
    return headers.get("content-type") == BATCH_CONTENT_TYPE


def split_batch(value: bytes, headers: Mapping[str, bytes]) -> list[bytes]:
    """The events of one record: itself, or every non-blank line of a batch record."""
    if is_batch(headers):
        return [line for line in value.split(b"\n") if line.strip()]
    return [value]


def batch_lines(value: bytes) -> list[tuple[int, bytes]]:
    """(line index from 0, bytes) of each non-blank line of a batch record: the index
    counts blank lines too, so it finds the line in the record whoever wrote it."""
    return [(i, line) for i, line in enumerate(value.split(b"\n")) if line.strip()]
