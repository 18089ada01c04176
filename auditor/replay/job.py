"""One replay run: sources planned up front, records decided in order, a baseline compared."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from auditor.engine import Decider, Engine
from auditor.intake import Intake
from auditor.replay.records import Record, ReplaySource
from auditor.replay.run import feed
from auditor.replay.window import Window
from auditor.report import Diff, ReportBuilder
from auditor.report.about import about

# Wraps a record stream (e.g. with a progress bar): (records, label, total, unit) -> records.
Track = Callable[[Iterable[Record], str, "int | None", str], Iterable[Record]]


def untracked(records: Iterable[Record], label: str, total: int | None, unit: str
              ) -> Iterable[Record]:
    return records


class ReplayJob:
    """Decides a source with one fresh engine and folds the decisions into a report.

    ``plan()`` fixes what will be read (a topic's end offsets are captured then, for the
    source and the live decisions alike); ``run()`` reads, decides and returns the report.
    A baseline is either another policy (``baseline``, run in step over the same records)
    or the live decisions topic (``live``, read after the replay).
    """

    def __init__(
        self,
        engine: Engine,
        source: ReplaySource,
        *,
        policy_path: str,
        window: Window,
        intake: Intake | None = None,
        baseline: Engine | None = None,
        baseline_path: str | None = None,
        live: ReplaySource | None = None,
        live_topic: str | None = None,
        now: float | None = None,
        now_text: str | None = None,
        max_examples: int = 5,
    ) -> None:
        self.engine = engine
        self.source = source
        self.window = window
        self.intake = intake or Intake()
        self.baseline = baseline
        self.live = live
        self.now = now
        self.now_text = now_text
        self.diff: Diff | None = None
        if baseline is not None:
            self.diff = Diff({"kind": "policy", "path": baseline_path, "id": baseline.policy.id,
                              "version": baseline.version}, max_examples)
        elif live is not None:
            self.diff = Diff({"kind": "live-decisions", "topic": live_topic}, max_examples)
        self.builder = ReportBuilder(
            {"id": engine.policy.id, "version": engine.version,
             "legal_tables": engine.tables.version, "path": policy_path},
            max_examples=max_examples,
            diff=self.diff,
            about=about(engine),
            declared_flows=engine.policy.declared_flows,
        )

    def plan(self) -> None:
        """Fix the records to read; raises SourceError."""
        self.source.plan()
        if self.live is not None:
            self.live.plan()

    def run(self, track: Track = untracked, generated_at: str | None = None) -> dict[str, Any]:
        """Read, decide, compare; the report. Raises SourceError if a source fails."""
        self._decide(track(self.source.records(), "replaying events", self.source.total,
                           self.source.unit))
        if self.live is not None and self.diff is not None:
            for record in track(self.live.records(), "reading live decisions", self.live.total,
                                self.live.unit):
                value: object = None
                if isinstance(record.raw, bytes):
                    try:
                        value = orjson.loads(record.raw)
                    except orjson.JSONDecodeError:
                        value = None
                self.diff.add_baseline_record(value)
            self.diff.description["partitions"] = self.live.sources()[0]["partitions"]
        return self.builder.report(
            period={"from": self.window.start, "to": self.window.end,
                    "grace_seconds": self.window.grace_ms / 1000},
            sources=self.source.sources(),
            records_read=self.source.records_read,
            records_outside_window=self.source.outside_window,
            closed_at=self.now_text,
            generated_at=generated_at,
        )

    def _decide(self, records: Iterable[Record]) -> None:
        decider = Decider(self.engine, self.intake)
        shadow = Decider(self.baseline, self.intake) if self.baseline is not None else None
        diff = self.diff
        for record in records:
            for decision in feed(decider, record, self.now):
                self.builder.add(decision)
            if shadow is not None and diff is not None:
                for decision in feed(shadow, record, self.now):
                    diff.add_baseline(decision)
        if self.now is not None:
            for decision in decider.close(self.now):
                self.builder.add(decision)
            if shadow is not None and diff is not None:
                for decision in shadow.close(self.now):
                    diff.add_baseline(decision)

    def close(self) -> None:
        self.source.close()
        if self.live is not None:
            self.live.close()
