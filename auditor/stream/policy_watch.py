"""Watching a policy pack's files: a new version is loaded off the batch loop once they settle."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from auditor.engine import Engine
from auditor.legal import LegalTablesError
from auditor.policy import PolicyError, load_policy

log = logging.getLogger("auditor.rollout")

# Per watched file: its path and (device, inode, size, mtime in ns); None: it is missing.
Fingerprint = tuple[tuple[str, tuple[int, int, int, int] | None], ...]
# Loads a pack: an engine, or PolicyError / LegalTablesError.
Load = Callable[[Path], Engine]


def fingerprint(paths: Iterable[Path]) -> Fingerprint:
    """What changes when any of ``paths`` is written, replaced or removed.

    Symbolic links are followed: a Kubernetes ConfigMap volume is updated by swapping a
    link to a new folder, so its files become other files (another inode), which shows.
    """
    out: list[tuple[str, tuple[int, int, int, int] | None]] = []
    for path in sorted({str(p) for p in paths}):
        try:
            st = os.stat(path)
        except OSError:
            out.append((path, None))
        else:
            out.append((path, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)))
    return tuple(out)


def pack_loader(roots: Iterable[Path] = ()) -> Load:
    """Loads a pack and builds its engine, as the worker does at start."""
    kept = tuple(roots)

    def load(path: Path) -> Engine:
        return Engine(load_policy(path, roots=kept))

    return load


class PolicyWatch:
    """Loads a pack again when its files change, on a thread of its own.

    Every ``interval_s`` it looks at the pack's files (the top file, the files of the last
    version that loaded, and those the last failure named): once they changed, and then
    stayed the same for one more look (an editor or a copy may still be writing), it loads
    the pack and hands the engine to ``on_engine``, or every error to ``on_error`` (as
    ``auditor policy validate`` prints them). The files are new to a fresh watch, so it
    loads once after ``start`` too: nothing written between the worker's own load and the
    watch is missed (usually the owner is offered the version it runs). ``on_tick`` runs
    after every look (e.g. to re-send a page).
    Never raises: an unexpected error while loading is reported through ``on_error``.
    """

    def __init__(
        self,
        path: Path,
        load: Load,
        *,
        on_engine: Callable[[Engine], None],
        on_error: Callable[[str], None],
        interval_s: float,
        on_tick: Callable[[], None] | None = None,
        name: str = "policy",
    ) -> None:
        self.path = path
        self.load = load
        self.on_engine = on_engine
        self.on_error = on_error
        self.on_tick = on_tick
        self.interval_s = interval_s
        self.files: set[Path] = {path}
        self._good: set[Path] = {path}
        self._seen: Fingerprint | None = None
        self._pending: Fingerprint | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"auditor-{name}-watch",
                                        daemon=True)

    def check(self) -> bool:
        """One look at the files; True when the pack was loaded (or failed to) this time."""
        now = fingerprint(self.files)
        if now == self._seen:
            self._pending = None
            return False
        if now != self._pending:
            self._pending = now  # changed: wait one look for the writes to settle
            return False
        self._pending = None
        looked_at = set(self.files)
        try:
            engine = self.load(self.path)
        except PolicyError as exc:
            # Watch the files it names too: the fix may land in a new include.
            self.files = {self.path, *self._good, *(Path(i.where.file) for i in exc.issues)}
            self._settle(looked_at, now)
            self.on_error(str(exc))
        except LegalTablesError as exc:
            self._settle(looked_at, now)
            self.on_error(f"legal tables failed to load: {exc}")
        except Exception as exc:  # a loader bug must not stop the watch (or the worker)
            log.exception("loading %s failed", self.path)
            self._settle(looked_at, now)
            self.on_error(f"{self.path}: policy failed to load: {exc!r}")
        else:
            self._good = {self.path, *(Path(f) for f in engine.policy.files)}
            self.files = set(self._good)
            self._settle(looked_at, now)
            self.on_engine(engine)
        return True

    def _settle(self, looked_at: set[Path], before: Fingerprint) -> None:
        # What was loaded is what the files held, unless they changed while it loaded:
        # then look again (the next looks see a change and load once more).
        if fingerprint(looked_at) != before:
            self._seen = None
        else:
            self._seen = fingerprint(self.files)

    def start(self) -> PolicyWatch:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check()
                if self.on_tick is not None:
                    self.on_tick()
            except Exception:  # whatever a callback does, keep watching
                log.exception("watching %s", self.path)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
