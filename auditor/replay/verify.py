"""Verifying a report: read what it names again, decide it again, compare the chain head."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from jsonschema import ValidationError

from auditor import schemas
from auditor.replay.files import FileSource
from auditor.replay.records import ReplaySource, SourceError
from auditor.replay.topic import TopicSource
from auditor.replay.window import Window, WindowError, make_window
from auditor.report import SCHEMA


def read_report(folder: Path) -> dict[str, Any]:
    """The report.json in ``folder``, checked against its schema; raises SourceError."""
    path = folder / "report.json"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        report: dict[str, Any] = orjson.loads(data)
        schemas.validator(SCHEMA).validate(report)
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise SourceError(f"{path} is not an audit report: {str(exc).splitlines()[0]}") from exc
    if report["scope"]["policy"].get("path") is None:
        raise SourceError(f"{path} does not name its policy file")
    return report


def window_of(report: Mapping[str, Any]) -> Window:
    """The time window the report was made with (offsets come from its sources)."""
    period = report["scope"]["period"]
    try:
        return make_window(period.get("from"), period.get("to"))
    except WindowError as exc:
        raise SourceError(f"the report's period cannot be used: {exc}") from exc


def source_of(
    report: Mapping[str, Any],
    *,
    max_line_bytes: int,
    client_config: Mapping[str, Any],
    timeout_s: float = 30.0,
    fetch_wait_ms: int | None = None,
) -> ReplaySource:
    """What the report read: its files again, or its topic at the very same offsets."""
    sources = report["scope"]["sources"]
    if len(sources) == 1 and sources[0].get("kind") == "topic":
        topic = sources[0]
        offsets = {p["partition"]: (p["start_offset"], p["end_offset"])
                   for p in topic["partitions"]}
        return TopicSource(topic["topic"], window_of(report), client_config,
                           timeout_s=timeout_s, fetch_wait_ms=fetch_wait_ms, offsets=offsets)
    if sources and all(s.get("kind") == "file" for s in sources):
        return FileSource([s["path"] for s in sources], max_line_bytes)
    raise SourceError("the report names no input that can be read again")


def changed_inputs(report: Mapping[str, Any], planned: list[dict[str, Any]]) -> list[str]:
    """Files whose bytes differ from those the report read (by SHA-256)."""
    problems = []
    for recorded, now in zip(report["scope"]["sources"], planned, strict=True):
        if recorded.get("kind") == "file" and recorded["sha256"] != now["sha256"]:
            problems.append(f"input {recorded['path']} changed: sha256 {now['sha256']}, the "
                            f"report read {recorded['sha256']}")
    return problems


def differences(recorded: Mapping[str, Any], fresh: Mapping[str, Any]) -> list[str]:
    """How a report decided again differs from the recorded one (empty: verified)."""
    problems = []
    r_chain, f_chain = recorded["integrity"], fresh["integrity"]
    if r_chain["records"] != f_chain["records"]:
        problems.append(f"{f_chain['records']:,} decision records, the report has "
                        f"{r_chain['records']:,}")
    if r_chain["head"] != f_chain["head"]:
        problems.append(f"chain head {f_chain['head']}, the report has {r_chain['head']}")
    if recorded["verdicts"] != fresh["verdicts"]:
        problems.append(f"verdicts {fresh['verdicts']}, the report has {recorded['verdicts']}")
    r_scope, f_scope = recorded["scope"], fresh["scope"]
    for key in ("events", "deadline_decisions"):
        if r_scope[key] != f_scope[key]:
            problems.append(f"{key} {f_scope[key]:,}, the report has {r_scope[key]:,}")
    return problems
