"""Reading JSONL files (plain or gzip) for a replay, with each file's digest for the report."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from auditor.intake import Oversized, read_lines
from auditor.replay.records import Record, SourceError


class FileSource:
    """The non-blank lines of one or more files, in the order given (one memory store)."""

    kind = "files"
    unit = "bytes"

    def __init__(self, paths: Sequence[str], max_line_bytes: int) -> None:
        self.paths = list(paths)
        self.max_line_bytes = max_line_bytes
        self._files: list[dict[str, Any]] = []
        self.records_read = 0
        self.outside_window = 0
        self.total: int | None = None

    def plan(self) -> list[dict[str, Any]]:
        """Check every file can be read and take its SHA-256; raises SourceError."""
        self._files = []
        compressed = False
        size = 0
        for path in self.paths:
            p = Path(path)
            if not p.is_file():
                raise SourceError(f"no such events file: {path}")
            digest = hashlib.sha256()
            try:
                with p.open("rb") as f:
                    head = f.read(2)
                    digest.update(head)
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        digest.update(chunk)
                    size += f.tell()
            except OSError as exc:
                raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
            is_gzip = head == b"\x1f\x8b"
            compressed = compressed or is_gzip
            self._files.append(
                {"kind": "file", "path": path, "sha256": digest.hexdigest(), "gzip": is_gzip,
                 "lines": 0}
            )
        # Progress counts bytes of plain files; a gzip file's decompressed size is unknown.
        self.total = None if compressed else size
        return self._files

    def records(self) -> Iterator[Record]:
        """(raw line) records in file order; raises SourceError on a read failure."""
        if not self._files:
            self.plan()
        for entry in self._files:
            path = entry["path"]
            try:
                for line in read_lines(path, self.max_line_bytes):
                    entry["lines"] += 1
                    self.records_read += 1
                    raw = line.raw
                    size = raw.size if isinstance(raw, Oversized) else len(raw) + 1
                    yield Record(raw, 0, line.number, (), size)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise SourceError(f"cannot read {path}: {exc}") from exc

    def sources(self) -> list[dict[str, Any]]:
        """The report's description of what was read."""
        return [dict(f) for f in self._files]

    def close(self) -> None:
        """Nothing to release: each file is closed when read."""
