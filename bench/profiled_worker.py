"""``auditor worker`` under pyinstrument, switched on and written out by signals.

The benchmark sends ``START`` at the first decision and ``STOP`` at the last, so the
profile covers the steady state only (no start-up, no group join). ``STOP`` writes the
summary JSON to ``$BENCH_PROFILE_OUT`` and the text report next to it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

# SIGUSR1 is taken: mode's worker dumps its tasks on it.
START = signal.SIGRTMIN + 1
STOP = signal.SIGRTMIN + 2
TOP = 20


def _label(frame: Any) -> str:
    name = frame.function
    if frame.class_name:
        name = f"{frame.class_name}.{name}"
    return f"{name} ({frame.file_path_short})"


def summarise(root: Any, seconds: float) -> dict[str, Any]:
    """Own and inclusive time per function (a recursive function counted once per stack)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()

    def walk(frame: Any, above: frozenset[str]) -> None:
        if frame.is_synthetic:
            return
        label = _label(frame)
        own[label] += frame.total_self_time
        if label not in above:
            inclusive[label] += frame.time
        for child in frame.children:
            walk(child, above | {label})

    if root is not None:
        walk(root, frozenset())
    total = seconds or 1.0
    idle = sum(v for k, v in own.items() if k.startswith(("epoll.poll", "EpollSelector.select")))
    return {
        "seconds": round(seconds, 3),
        "idle_share": round(idle / total, 4),
        "top_self": [[k, round(v / total, 4)] for k, v in own.most_common(TOP)],
        "top_inclusive": [[k, round(v / total, 4)] for k, v in inclusive.most_common(TOP)],
    }


def main() -> None:
    from pyinstrument import Profiler

    out = Path(os.environ["BENCH_PROFILE_OUT"])
    # async_mode disabled: the whole main thread, event loop included, not one task.
    profiler = Profiler(interval=0.001, async_mode="disabled")

    def start(signum: int, frame: FrameType | None) -> None:
        if not profiler.is_running:
            profiler.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not profiler.is_running:
            return
        session = profiler.stop()
        out.with_suffix(".txt").write_text(profiler.output_text(unicode=False, color=False))
        doc = summarise(session.root_frame(), session.duration)
        doc["cpu_seconds"] = round(session.cpu_time, 3)
        out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))

    signal.signal(START, start)
    signal.signal(STOP, stop)
    from auditor.cli import main as auditor

    sys.argv = ["auditor", "worker"]
    auditor()


if __name__ == "__main__":
    main()
