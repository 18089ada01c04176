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
