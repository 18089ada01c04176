"""Reading a file that may be hostile: a regular file only, and never more than a bound."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class FileRefused(OSError):
    """The file was not read: its message says why in a user's terms (never its content)."""


class FileTooLarge(FileRefused):
    """The file holds more than the bytes allowed."""


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``, a regular file of at most ``max_bytes`` bytes.

    Raises FileNotFoundError, FileRefused (a directory, device, FIFO or socket),
    FileTooLarge (more than ``max_bytes``, whatever size it claims) or another OSError.
    Never blocks on a FIFO and never reads more than ``max_bytes + 1`` bytes.
    """
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{_kind(info.st_mode)}, not a regular file")
        if info.st_size > max_bytes:
            raise FileTooLarge(f"{info.st_size:,} bytes, more than the {max_bytes:,} allowed")
        # Files under /proc and the like claim a size of 0: the read itself is bounded.
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise FileTooLarge(f"more than the {max_bytes:,} bytes allowed")
        return data
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"
