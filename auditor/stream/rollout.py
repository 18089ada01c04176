"""Taking a new policy version without a restart: checked off the loop, switched between batches."""

from __future__ import annotations

import threading
from typing import Protocol

from auditor.engine import Engine
from auditor.stream.batches import Batcher, BatchHook


class RolloutReport(Protocol):
    """Who hears what became of a new version (auditor.ops.reloads: metrics, log, page)."""

    def switched(self, old: Engine, new: Engine) -> None:
        """The batch loop decides with ``new`` from the next batch on."""

    def rejected(self, errors: str, running: Engine) -> None:
        """A new version in the files cannot be taken; ``running`` goes on deciding."""

    def settled(self) -> None:
        """The files hold the running (or already accepted) version again."""


def stateful_kinds(engine: Engine) -> dict[str, str]:
    """Rule id -> kind, for the rules of ``engine`` that remember."""
    return {r.id: r.kind for r in engine.rules if engine.kinds[r.kind].needs_memory(r)}


def incompatible(running: Engine, new: Engine, *, memory: bool) -> list[str]:
    """Why ``new`` cannot replace ``running`` in a worker as it was started (empty: it can).

    ``memory``: the worker keeps memory (its changelog topic exists and is restored).
    """
    problems = []
    if new.policy.id != running.policy.id:
        problems.append(f"the pack's id changed from {running.policy.id} to {new.policy.id}: "
                        "a worker audits one pack; start workers with the other pack instead")
    remembering = stateful_kinds(new)
    if remembering and not memory:
        problems.append(
            f"rules that remember ({', '.join(sorted(remembering))}) need the worker's "
            "memory, and this worker was started with a version that has none (no memory "
            "changelog is written or restored): restart the workers to take this version")
    remembered = stateful_kinds(running)
    old_kinds = {r.id: r.kind for r in running.rules}
    for rule in new.rules:
        old_kind = old_kinds.get(rule.id)
        if old_kind not in (None, rule.kind) and (rule.id in remembered
                                                  or rule.id in remembering):
            problems.append(
                f"rule {rule.id} was of kind {old_kind} and is now {rule.kind}: what it "
                "remembers would be read as the other kind's; give the rule a new id")
    return problems


class Rollout(BatchHook):
    """The live policy version of a worker, and the one waiting to replace it.

    ``offer`` (the watch's thread) checks a version that loaded against the running one
    and stages it, or rejects it (``incompatible``), and ``failed`` rejects one that did
    not load; either way the running version goes on. ``before`` (the batch loop, between
    two batches) switches to a staged version: every record from the next batch on is
    decided by it, none of an earlier batch is; the memory's stores are the same
    (auditor.engine.memory drops deadlines whose rule is gone). Versions are compared by
    their content hash (``Engine.version``, the decisions' ``policy.version``).
    """

    def __init__(self, engine: Engine, report: RolloutReport, *, memory: bool) -> None:
        self.live = engine
        self.report = report
        self.memory = memory
        self._lock = threading.Lock()
        self._staged: Engine | None = None

    # -- the watch's thread --------------------------------------------------------
    def offer(self, engine: Engine) -> None:
        """A version that loaded: stage it, reject it, or note the files are back."""
        with self._lock:
            live, staged = self.live, self._staged
            if engine.version == live.version:
                self._staged = None  # written back before it was taken, if it was staged
                problems = None
            elif staged is not None and engine.version == staged.version:
                return
            else:
                problems = incompatible(live, engine, memory=self.memory)
                # A version rejected after another was staged: the files' latest counts.
                self._staged = None if problems else engine
                if not problems:
                    return  # reported once the batch loop switches to it
        if problems is None:
            self.report.settled()
        else:
            self.report.rejected("\n".join(
                [f"{self.describe(engine)} cannot replace the running version:",
                 *(f"  {p}" for p in problems)]), live)

    def failed(self, errors: str) -> None:
        """A version that did not load."""
        with self._lock:
            self._staged = None
            live = self.live
        self.report.rejected(errors, live)

    @staticmethod
    def describe(engine: Engine) -> str:
        return f"policy {engine.policy.id} version {engine.version}"

    # -- the batch loop ------------------------------------------------------------
    def before(self, batcher: Batcher) -> None:
        if self._staged is None:  # the common case: no lock taken
            return
        with self._lock:
            new, self._staged = self._staged, None
            if new is None:
                return
            old, self.live = self.live, new
        batcher.pipeline.use(new)
        self.report.switched(old, new)
