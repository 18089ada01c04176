"""Where an alert leads on-call: its runbook, the dashboard panel and the replay command."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from auditor.stream.settings import Settings

# The "Auditor / Decisions" dashboard (grafana/dashboards_src/decisions.py) and its panel of
# violations by rule; tests/unit/deploy/test_grafana_dashboards.py checks the id is that panel's.
DECISIONS_DASHBOARD_UID = "auditor-decisions"
VIOLATIONS_PANEL_TITLE = "Violations/s by rule and kind"
VIOLATIONS_PANEL_ID = 7
# How far before an incident's first violation the linked panel starts.
PANEL_LEAD_S = 3600.0


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Links:
    """Absolute links for alerts, from the settings ``docs_base_url`` and ``grafana_url``."""

    docs_base_url: str
    grafana_url: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> Links:
        return cls(settings.docs_base_url, settings.grafana_url)

    def runbook(self, name: str) -> str:
        """The runbook page ``docs/runbooks/<name>.md`` under the docs' base URL."""
        return f"{self.docs_base_url}runbooks/{name}.md"

    def violations_panel(self, policy: str, since: float) -> str | None:
        """The violations panel of the decisions dashboard for ``policy``, from an hour
        before ``since`` to now; None without a Grafana URL."""
        if self.grafana_url is None:
            return None
        query = urlencode({
            "var-policy": policy,
            "viewPanel": VIOLATIONS_PANEL_ID,
            "from": int((since - PANEL_LEAD_S) * 1000),
            "to": "now",
        })
        return f"{self.grafana_url}/d/{DECISIONS_DASHBOARD_UID}/?{query}"


def replay_command(policy: str, topic: str, bootstrap: str, start: float, end: float) -> str:
    """The ``auditor replay`` command that decides again what arrived between ``start`` and
    ``end`` (Unix times; record timestamps, with a grace for clock skew)."""
    return shlex.join([
        "auditor", "replay", "--policy", policy, "--topic", topic,
        "--bootstrap-servers", bootstrap, "--from", _iso(start), "--to", _iso(end),
        "--grace", "5m", "--out", "audit-report",
    ])
