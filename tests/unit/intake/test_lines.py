"""Reading JSONL files one bounded line at a time."""

from __future__ import annotations

import gzip
from pathlib import Path

from auditor.intake import Oversized, read_lines


def test_numbers_skip_blank_lines_and_strip_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b'{"a": 1}\r\n\n  \n{"b": 2}')
    assert [(line.number, line.raw) for line in read_lines(str(path), 1024)] == [
        (1, b'{"a": 1}'), (4, b'{"b": 2}')]


def test_a_line_over_the_limit_is_skipped_to_its_end(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"x" * 10_000 + b"\n" + b'{"ok": 1}\n' + b"y" * 1030)
    lines = list(read_lines(str(path), 1024))
    assert [line.number for line in lines] == [1, 2, 3]
    assert lines[0].raw == Oversized(10_001)
    assert lines[1].raw == b'{"ok": 1}'
    assert lines[2].raw == Oversized(1030)


def test_a_line_exactly_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"z" * 1024 + b"\r\n")
    assert [line.raw for line in read_lines(str(path), 1024)] == [b"z" * 1024]


def test_a_gzip_bomb_is_never_held_in_memory(tmp_path: Path) -> None:
    # 200 MB of zeros without a newline compress to about 200 KB; reading keeps at most
    # one bounded line in memory and reports the line as too large.
    path = tmp_path / "bomb.jsonl.gz"
    chunk = b"0" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as out:
        for _ in range(200):
            out.write(chunk)
    assert path.stat().st_size < 2_000_000
    (line,) = read_lines(str(path), 1_048_576)
    assert line.raw == Oversized(200 << 20)
