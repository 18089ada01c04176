"""What a run is given (Options) and what it keeps while it runs (Run)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.stream.local_profile import profile_environment
from auditor.stream.settings import Settings
from bench.measure import Rate
from bench.procs import Children
from bench.traffic import POLICIES, Traffic

__all__ = ["BROKER_ENV", "PHASES", "POLICIES", "Options", "Run"]

PHASES = ("a", "b", "b2", "c", "c_batch", "d", "e", "e_batch", "e_procs", "f")
# The worker's local profile (auditor.stream.local_profile: short group timings and fetch
# wait, at least once), set explicitly so that every process of a run is timed alike on
# any broker (--bootstrap), the naive agent included. All but its changelog batch of one
# record, which is set back to the product's default (given, so the worker's own profile
# leaves it): it only keeps a restore on the embedded broker whole (no run restores), and
# it costs the stateful packs ~2x (a request per memory write; 2026-12-02, bench/README.md).
BROKER_ENV = {
    **profile_environment(),
    "AUDITOR_CHANGELOG_BATCH_BYTES": str(Settings.model_fields["changelog_batch_bytes"].default),
}


@dataclass(frozen=True)
class Options:
    events: int = 200_000
    packs: tuple[str, ...] = ()
    seed: int = 7
    skip: frozenset[str] = frozenset()
    batch_events: int = 100
    # Events per record batch of every input topic (the producer's batching, fixed).
    input_batch_events: int = 100
    # Decision processes of the worker in row (e_procs): AUDITOR_PROCESSES.
    processes: int = 2
    rate: float = 5000.0
    latency_seconds: float = 10.0
    bootstrap: str | None = None
    partitions: int = 4
    results: Path = Path("bench/results")
    out: Path | None = None
    phase_timeout: float = 600.0
    profile: bool = False
    worker_env: tuple[tuple[str, str], ...] = ()

    def wants(self, *phases: str) -> bool:
        """True if any of ``phases`` is to run."""
        return any(p not in self.skip for p in phases)


@dataclass
class Run:
    """State of one run: where it writes, its children, what it measured."""

    options: Options
    traffic: Traffic
    children: Children
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    bootstrap: str = ""
    # The embedded broker's process (None on an external cluster): its CPU is measured.
    broker_pid: int | None = None
    rates: dict[str, Rate | None] = field(default_factory=dict)
    rss_kib: dict[str, int | None] = field(default_factory=dict)
    latency: dict[str, Any] | None = None
    preload: dict[str, Rate] = field(default_factory=dict)
    # The record batches the broker holds for the input topics, by kind (records,
    # batch_records): what (c) and (e) read.
    layout: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Records each input topic holds (from its layout): (c) asks for no more than are left.
    records_in: dict[str, int] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str) -> None:
        print(text, flush=True)

    @property
    def work_dir(self) -> Path:
        return self.options.results / f"run-{self.tag}"

    def topic(self, role: str, pack: str) -> str:
        return f"bench.{self.tag}.{role}.{pack}"

    def events_of(self, pack: str) -> int:
        return self.traffic.per_pack()[pack]
