"""The one input layer: bytes (a record value, a JSONL line, a batch-record line) to events."""

from auditor.intake.batch import BATCH_CONTENT_TYPE, batch_lines, is_batch, split_batch
from auditor.intake.lines import Line, open_events, read_lines
from auditor.intake.reader import DEFAULT_MAX_AHEAD_S, DEFAULT_MAX_EVENT_BYTES, Intake, Oversized

__all__ = [
    "BATCH_CONTENT_TYPE",
    "DEFAULT_MAX_AHEAD_S",
    "DEFAULT_MAX_EVENT_BYTES",
    "Intake",
    "Line",
    "Oversized",
    "batch_lines",
    "is_batch",
    "open_events",
    "read_lines",
    "split_batch",
]
