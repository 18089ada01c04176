"""The alert a worker pushes when its policy fails to load (it exits 2 before /metrics)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from auditor.ops.links import Links

ALERTNAME = "AuditorPolicyLoadFailure"
RUNBOOK = "policy-load-failure"  # docs/runbooks/policy-load-failure.md
MAX_DESCRIPTION = 4000


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def policy_failure_alert(
    worker: str,
    policy: str,
    errors: str,
    ttl_s: float,
    now: float,
    links: Links,
    *,
    resolved: bool = False,
) -> dict[str, Any]:
    """The Alertmanager v2 alert for ``worker`` failing to load ``policy``.

    Labels are the worker id and the policy's file name (both configuration, so bounded);
    the errors (file, line, rule) go in the description. Each failed start re-sends it;
    it resolves ``ttl_s`` after the last one, or at once when ``resolved`` (a good start).
    """
    return {
        "labels": {
            "alertname": ALERTNAME,
            "severity": "critical",
            "team": "privacy",
            "incident": "policy-load",
            "worker": worker,
            "policy": PurePath(policy).name,
        },
        "annotations": {
            "summary": f"worker {worker} cannot load policy {PurePath(policy).name}",
            "description": errors[:MAX_DESCRIPTION] or "the policy loads again",
            "runbook_url": links.runbook(RUNBOOK),
        },
        "startsAt": _iso(now),
        "endsAt": _iso(now if resolved else now + ttl_s),
        # Nothing serves this worker's state (it exits): the runbook is where to go.
        "generatorURL": links.runbook(RUNBOOK),
    }
