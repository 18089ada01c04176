"""Replaying history: a topic's time window or JSONL files, decided again by any policy."""

from auditor.replay.records import Record, SourceError
from auditor.replay.window import Window, WindowError, make_window

__all__ = ["Record", "SourceError", "Window", "WindowError", "make_window"]
