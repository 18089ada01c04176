"""What a worker says of new policy versions: metrics, log lines, a page while one is refused."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from auditor.engine import Engine
from auditor.ops.alerts import API, post_json, post_with_retries
from auditor.ops.links import Links
from auditor.ops.policy_alert import policy_failure_alert
from auditor.ops.telemetry import Telemetry
from auditor.stream.settings import Settings

log = logging.getLogger("auditor.rollout")
# The running version goes on deciding: a page, but not the critical one of a worker that
# cannot start at all (docs/alerts.md).
SEVERITY = "high"


def reload_alert(settings: Settings, errors: str, now: float, *,
                 resolved: bool = False) -> dict[str, Any]:
    """``AuditorPolicyLoadFailure`` for a new version this worker refused (labels as for a
    failed start, severity high; the errors and the running version in the description)."""
    alert = policy_failure_alert(settings.worker_id, str(settings.policy), errors,
                                 settings.alert_ttl_s, now, Links.of(settings),
                                 resolved=resolved)
    alert["labels"]["severity"] = SEVERITY
    alert["annotations"]["summary"] = (
        f"worker {settings.worker_id} refused a new version of policy "
        f"{PurePath(str(settings.policy)).name}; the running version goes on deciding")
    return alert


class PolicyReloads:
    """The worker's RolloutReport (auditor.stream.rollout.Rollout reports to it).

    A switch: metrics, readiness and alert labels follow the new version
    (``Telemetry.use_policy``), ``auditor_policy_reloads_total{result="applied"}`` counts it
    and a log line names both versions. A refusal: counted (``rejected``), logged with
    every error, ``auditor_policy_reload_failing`` set to 1 and, with
    AUDITOR_ALERTMANAGER_URL, a page (``reload_alert``) re-sent every
    ``alert_interval_s`` while the files hold that version; resolved once a version is
    taken or the files hold the running one again. Pages are posted by ``tick`` (the
    watch's thread), never on the batch loop.
    """

    def __init__(self, telemetry: Telemetry, *, clock: Callable[[], float] = time.time,
                 post: Callable[[str, bytes, float], None] = post_json) -> None:
        self.telemetry = telemetry
        self.settings = telemetry.settings
        self.clock = clock
        self.post = post
        self._lock = threading.Lock()
        self._errors: str | None = None  # the refused version's, while the files hold it
        self._posted_at: float | None = None
        self._open = False  # a page is active in Alertmanager

    # -- RolloutReport -------------------------------------------------------------
    def switched(self, old: Engine, new: Engine) -> None:
        self.telemetry.use_policy(new, self.clock())
        self.telemetry.metrics.count_reload("applied", failing=False)
        self._clear()
        log.warning("policy %s: version %s decides from this batch on (was %s)",
                    new.policy.id, new.version, old.version)

    def rejected(self, errors: str, running: Engine) -> None:
        self.telemetry.metrics.count_reload("rejected", failing=True)
        text = (f"{errors}\nThe running version {running.version} goes on deciding; "
                "fix the pack's files (or write the running version back).")
        log.error("policy %s: new version refused. %s", running.policy.id, text)
        with self._lock:
            self._errors = text
            self._posted_at = None  # page at the next tick

    def settled(self) -> None:
        with self._lock:
            was_failing, self._errors = self._errors is not None, None
        if was_failing:
            self.telemetry.metrics.set_reload_failing(False)
            log.warning("policy: the pack's files hold the running version again")

    def _clear(self) -> None:
        with self._lock:
            self._errors = None

    # -- the watch's thread --------------------------------------------------------
    def tick(self) -> None:
        """Post the page that is due: a refusal (again every interval), or its end."""
        url = self.settings.alertmanager_url
        if url is None:
            return
        now = self.clock()
        with self._lock:
            errors, posted_at, is_open = self._errors, self._posted_at, self._open
        if errors is not None:
            if posted_at is not None and now - posted_at < self.settings.alert_interval_s:
                return
            alert = reload_alert(self.settings, errors, now)
        elif is_open:
            alert = reload_alert(self.settings, "", now, resolved=True)
        else:
            return
        failed = post_with_retries(self.post, url + API, [alert],
                                   timeout_s=self.settings.alert_timeout_s, attempts=2)
        if failed:
            log.warning("policy reload page not posted to %s: %s", url, failed)
        with self._lock:
            if errors is not None and self._errors is errors:
                self._posted_at = now  # failed posts too: tried again next interval
                self._open = self._open or not failed
            elif errors is None and self._errors is None and not failed:
                self._open = False
