"""Several decision processes per worker: a parent that runs N workers in one consumer group.

One worker process decides on one core (the decision code is Python, bound by the GIL). With
``AUDITOR_PROCESSES=N`` (``auditor worker --processes N``; 0 = one per CPU this process may
use) ``auditor worker`` becomes a small supervisor that starts N children, each an ordinary
``auditor worker`` with the same settings, in the same consumer group, so Kafka shares the
input partitions among them as it would among N machines (a child gets no partition when
there are more children than partitions: give the input topics at least N partitions).

What the parent does, and nothing more (it never connects to Kafka):
- **children**: ``python -m auditor worker`` with every setting given to the parent passed
  down as ``AUDITOR_*`` variables (``child_environment``; one left at its default stays
  so, for the child's local profile on the embedded broker to apply to it,
  auditor.stream.local_profile): the same settings, except ``processes`` (1),
  ``worker_id`` (``<worker_id>-<n>``, n from 0: client ids, dead-letter headers and logs
  tell the children apart) and ``metrics_port`` (``<port>+n``, or a free one each when the
  port is 0): each child serves its own /metrics, /livez and /readyz;
- **signals**: SIGTERM and SIGINT are forwarded to every child as SIGTERM; each finishes
  its batch, commits and leaves the group (as one worker does); a child not gone after
  ``stop_timeout_s`` is killed. Exit 0 when every child stopped cleanly, else 1;
- **a child that exits on its own** (a crash, a policy that does not load, an
  undeliverable batch) stops the others the same way and the parent exits with that
  child's status (1 if it was 0): the orchestrator restarts the whole worker, as it would
  restart one worker process. Nothing is restarted in place, so a crash loop is seen as one;
- **the parent dies** (SIGKILL): on Linux each child is sent SIGTERM by the kernel
  (``PR_SET_PDEATHSIG``), so none is left deciding without a supervisor.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import SecretStr

from auditor.stream.settings import Settings

log = logging.getLogger("auditor.processes")

# How often the parent looks at its children.
POLL_S = 0.2
_PR_SET_PDEATHSIG = 1


def process_count(settings: Settings) -> int:
    """How many decision processes ``settings`` asks for (0: one per usable CPU)."""
    if settings.processes:
        return settings.processes
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _env_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return json.dumps([str(v) if isinstance(v, Path) else v for v in value])
    return str(value)


def child_environment(settings: Settings, index: int,
                      base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of child ``index``: ``base`` (default: this process's) without its
    ``AUDITOR_*`` variables, then every setting given to ``settings`` as one (flags
    included; defaults stay defaults), with the child's own processes, worker_id and
    metrics_port."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not k.startswith("AUDITOR_")}
    port = settings.metrics_port
    own = {
        "processes": 1,
        "worker_id": f"{settings.worker_id}-{index}",
        "metrics_port": port + index if port else 0,
    }
    for name in sorted(settings.model_fields_set | own.keys()):
        value = own.get(name, getattr(settings, name))
        if value is not None:
            env[f"AUDITOR_{name.upper()}"] = _env_value(value)
    return env


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """Starts ``count`` children running ``command`` and watches them until they stop."""

    def __init__(self, settings: Settings, count: int, *,
                 command: Sequence[str] | None = None, stop_timeout_s: float = 60.0) -> None:
        self.settings = settings
        self.count = count
        self.command = list(command or [sys.executable, "-m", "auditor", "worker"])
        self.stop_timeout_s = stop_timeout_s
        self.children: list[subprocess.Popen[bytes]] = []
        self._stopping = False

    def start(self) -> None:
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        for index in range(self.count):
            # The parent starts no thread of its own, so preexec_fn is safe here.
            self.children.append(subprocess.Popen(
                self.command, env=child_environment(self.settings, index),
                preexec_fn=preexec,  # noqa: PLW1509
            ))
        log.info("started %d decision processes: pids %s", self.count,
                 ", ".join(str(c.pid) for c in self.children))

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True
        self._signal_all(signal.SIGTERM)

    def _signal_all(self, signum: int) -> None:
        for child in self.children:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signum)

    def run(self) -> int:
        """Start the children and supervise them; the exit status for the parent."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            status = self._watch()
            return self._stop(status)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _watch(self) -> int:
        """Wait until a signal asks the children to stop (0), or one of them exits (its
        status, 1 if that was 0)."""
        while not self._stopping:
            for index, child in enumerate(self.children):
                code = child.poll()
                if code is not None and not self._stopping:
                    log.error("decision process %d (pid %d) exited with status %d: "
                              "stopping the others", index, child.pid, code)
                    self._stopping = True
                    self._signal_all(signal.SIGTERM)
                    return code if code > 0 else 1
            time.sleep(POLL_S)
        return 0

    def _stop(self, status: int) -> int:
        deadline = time.monotonic() + self.stop_timeout_s
        for index, child in enumerate(self.children):
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("decision process %d (pid %d) did not stop within %g s: killed",
                          index, child.pid, self.stop_timeout_s)
                child.kill()
                child.wait()
            if child.returncode != 0 and status == 0:
                status = 1
        return status


def run_processes(settings: Settings) -> int:
    """``auditor worker`` with ``processes`` > 1: supervise that many workers; exit status."""
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    count = process_count(settings)
    supervisor = Supervisor(settings, count)
    print(f"auditor worker {settings.worker_id}: {count} decision processes in group "
          f"{settings.group_id} ({settings.worker_id}-0 … {settings.worker_id}-{count - 1})",
          file=sys.stderr, flush=True)
    return supervisor.run()
