"""librdkafka's log lines and the consumer's errors, through one logger, rate-limited.

With the broker away, librdkafka logs every reconnect of every client ("Connect to …
failed: Connection refused", some 200 lines while a broker restarts) and the consumer
reports each transport error. Every worker client logs to ``auditor.kafka``
(auditor.kafka_config gives it to librdkafka), and ``RateLimit`` lets one line of a kind
through per interval; the next one says how many like it were left out.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

KAFKA_LOGGER = "auditor.kafka"
DEFAULT_INTERVAL_S = 60.0
# What varies between two lines of one kind: numbers (ports, ms, counts, offsets) and
# librdkafka's own "(after 0ms in state CONNECT, 3 identical error(s) suppressed)".
_VARYING = re.compile(r"\(after [^)]*\)|\d+")
_KINDS_KEPT = 1024  # hostile or buggy input cannot grow the table without end


def kafka_log() -> logging.Logger:
    """The logger every worker Kafka client writes to."""
    return logging.getLogger(KAFKA_LOGGER)


class RateLimit(logging.Filter):
    """At most one record of each kind per ``interval_s``; the next one that passes
    carries the count of those dropped meanwhile."""

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.clock = clock
        self._lock = threading.Lock()
        # kind -> [when one last passed, how many were dropped since]
        self._kinds: dict[str, list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        kind = f"{record.levelno}:{_VARYING.sub('#', record.getMessage())}"
        now = self.clock()
        with self._lock:
            seen = self._kinds.get(kind)
            if seen is not None and now - seen[0] < self.interval_s:
                seen[1] += 1
                return False
            if seen is None and len(self._kinds) >= _KINDS_KEPT:
                self._kinds.clear()
            dropped = int(seen[1]) if seen is not None else 0
            self._kinds[kind] = [now, 0]
        if dropped:
            record.msg = f"{record.getMessage()} ({dropped} more like it left out since " \
                "the last one)"
            record.args = None
        return True


def rate_limit_kafka_logs(interval_s: float = DEFAULT_INTERVAL_S) -> RateLimit:
    """Install the rate limit on the Kafka logger (once)."""
    logger = kafka_log()
    for existing in logger.filters:
        if isinstance(existing, RateLimit):
            return existing
    limit = RateLimit(interval_s)
    logger.addFilter(limit)
    return limit
