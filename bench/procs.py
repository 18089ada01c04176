"""Child processes of the benchmark (workers, the naive agent): started, measured, stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_kib(pid: int) -> int | None:
    """Peak resident set size (``VmHWM``) of a live process, in KiB; None if unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


@dataclass
class Child:
    """One child process in its own process group, with its output in ``log``."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    # Wall-clock time (epoch seconds) when it was started.
    started_at: float = 0.0

    def describe(self) -> str:
        return f"log {self.log}:\n{self.log_tail()}"

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Children:
    """Every child started by the benchmark, so that all are stopped, even on Ctrl-C."""

    log_dir: Path
    started: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        log = self.log_dir / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        started_at = time.time()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                cwd=ROOT, start_new_session=True,
            )
        child = Child(name, proc, log, started_at)
        self.started.append(child)
        return child

    def python(self, name: str, module: str, args: list[str], env: dict[str, str]) -> Child:
        """``python -m module args`` in its own process group."""
        return self.start(name, [sys.executable, "-m", module, *args], env)

    def stop(self, child: Child, timeout: float = 20.0) -> int | None:
        """SIGTERM to its process group; SIGKILL after ``timeout`` seconds."""
        proc = child.proc
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if child in self.started:
            self.started.remove(child)
        return proc.returncode

    def stop_all(self) -> None:
        for child in list(reversed(self.started)):
            self.stop(child, timeout=10.0)

