"""Pushes violation incidents to Alertmanager's API v2 from a background thread."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from auditor.ops.incidents import Incidents, ViolationGroup

log = logging.getLogger("auditor.alerts")
API = "/api/v2/alerts"
MAX_ALERTS_PER_POST = 200
BACKOFF_S = 0.5

# (result, number of alerts): result is sent, failed or dropped.
Count = Callable[[str, int], None]
# Posts a JSON body to a URL with a timeout; raises OSError (urllib's errors) on failure.
Post = Callable[[str, bytes, float], None]


class AlertPostError(OSError):
    """Alertmanager refused or did not answer a post."""


def post_json(url: str, body: bytes, timeout_s: float) -> None:
    """POST ``body`` as JSON; raises AlertPostError unless Alertmanager answers 2xx."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip()
        raise AlertPostError(f"HTTP {exc.code} {detail}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise AlertPostError(str(getattr(exc, "reason", exc))) from None
    if not 200 <= status < 300:
        raise AlertPostError(f"HTTP {status}")


def post_with_retries(
    post: Post,
    url: str,
    alerts: Sequence[dict[str, Any]],
    *,
    timeout_s: float,
    attempts: int,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Post ``alerts``, retrying with exponential backoff; the last error, or None if sent."""
    body = orjson.dumps(list(alerts))
    error = None
    for attempt in range(attempts):
        if attempt:
            sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            post(url, body, timeout_s)
            return None
        except OSError as exc:
            error = str(exc) or type(exc).__name__
    return error


class AlertPusher:
    """Sends violation incidents to Alertmanager without ever blocking the caller.

    ``submit`` (the worker's agent, once per delivered batch) puts the batch's violation
    groups on a bounded queue and returns at once; when the queue is full the batch's
    violations are dropped and counted (``dropped``). A thread groups them into
    incidents and posts the due ones (see ``Incidents``) with bounded retries; alerts of a
    post that still fails are counted ``failed`` and tried again an interval later. So
    Alertmanager being slow or down costs no decision and no time on the hot path.
    """

    def __init__(
        self,
        url: str,
        incidents: Incidents,
        count: Count,
        *,
        queue_size: int = 64,
        timeout_s: float = 5.0,
        attempts: int = 3,
        tick_s: float = 1.0,
        post: Post = post_json,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/") + API
        self.incidents = incidents
        self.count = count
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.tick_s = tick_s
        self.post = post
        self.clock = clock
        self.sleep = sleep
        self.queue: queue.Queue[list[ViolationGroup]] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="auditor-alerts", daemon=True)
        self._failing = False

    def start(self) -> AlertPusher:
        self._thread.start()
        return self

    def submit(self, groups: list[ViolationGroup]) -> None:
        """Queue a delivered batch's violations; never blocks."""
        if not groups:
            return
        try:
            self.queue.put_nowait(groups)
        except queue.Full:
            self.count("dropped", sum(g.count for g in groups))

    def close(self) -> None:
        """Post what is due one last time (one attempt) and stop the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.tick_s + self.timeout_s + 1.0)

    def _add(self, groups: list[ViolationGroup]) -> None:
        refused = self.incidents.refused
        self.incidents.add(groups, self.clock())
        if self.incidents.refused > refused:
            self.count("dropped", self.incidents.refused - refused)

    def _drain(self) -> None:
        while True:
            try:
                groups = self.queue.get_nowait()
            except queue.Empty:
                break
            self._add(groups)

    def flush(self, attempts: int | None = None) -> None:
        """Post every due incident now (in the calling thread)."""
        self._drain()
        now = self.clock()
        due = self.incidents.due(now)
        for start in range(0, len(due), MAX_ALERTS_PER_POST):
            chunk = due[start : start + MAX_ALERTS_PER_POST]
            error = post_with_retries(
                self.post,
                self.url,
                [self.incidents.alert(i) for i in chunk],
                timeout_s=self.timeout_s,
                attempts=attempts or self.attempts,
                sleep=self.sleep,
            )
            self.incidents.attempted(chunk, self.clock(), sent=error is None)
            self.count("failed" if error else "sent", len(chunk))
            if error and not self._failing:
                log.warning("alerts to %s failed (%s); the worker goes on", self.url, error)
            elif not error and self._failing:
                log.warning("alerts to %s are delivered again", self.url)
            self._failing = error is not None

    def _run(self) -> None:
        # At most one round of posts per tick, each carrying every incident then due.
        last = time.monotonic()
        while not self._stop.is_set():
            with contextlib.suppress(queue.Empty):
                self._add(self.queue.get(timeout=self.tick_s))
            if time.monotonic() - last < self.tick_s:
                continue
            last = time.monotonic()
            try:
                self.flush()
            except Exception:  # a bug here must not end alerting for the worker's life
                log.exception("alert push failed")
        try:
            self.flush(attempts=1)
        except Exception:
            log.exception("last alert push failed")
