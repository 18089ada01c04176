"""The settings a worker takes on the embedded broker (Tansu) unless they were set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.broker.embedded import EMBEDDED_CLUSTER_ID
from auditor.stream.settings import Settings

# Each value answers a measured difference of the embedded broker (docs/kafka-brokers.md).
LOCAL_PROFILE: Mapping[str, Any] = {
    # It completes a group join after about half the session timeout: 45 s -> ~23 s.
    "session_timeout_s": 6.0,
    "heartbeat_interval_s": 1.0,
    # It holds every fetch for the full wait, even with data there.
    "fetch_max_wait_ms": 50,
    # It under-reports end offsets of multi-record batches, which cuts a restore short.
    "changelog_batch_bytes": 1,
    # It does not hide aborted transactions from read_committed readers.
    "processing_guarantee": "at_least_once",
}

# (setting, value before, value now) for each setting the profile changed.
Changes = list[tuple[str, Any, Any]]


def is_embedded(cluster_id: str | None) -> bool:
    """True for the cluster id ``auditor broker`` / ``EmbeddedBroker`` reports."""
    return cluster_id == EMBEDDED_CLUSTER_ID


def apply_local_profile(settings: Settings, cluster_id: str | None) -> tuple[Settings, Changes]:
    """``settings`` with the local profile for every setting not given explicitly (flag or
    ``AUDITOR_*`` variable), if ``cluster_id`` is the embedded broker's; and what changed.

    An explicit setting always wins; on any other cluster nothing changes.
    """
    if not is_embedded(cluster_id):
        return settings, []
    given = settings.model_fields_set
    update = {name: value for name, value in LOCAL_PROFILE.items()
              if name not in given and getattr(settings, name) != value}
    if not update:
        return settings, []
    changes = [(name, getattr(settings, name), value) for name, value in update.items()]
    # model_copy does not validate: the profile's values are checked by its unit test.
    return settings.model_copy(update=update), changes


def profile_environment() -> dict[str, str]:
    """The profile as ``AUDITOR_*`` variables: for tools that start workers on a broker
    they know to be the embedded one, or want timed alike on any (the benchmark)."""
    return {f"AUDITOR_{name.upper()}": str(value) for name, value in LOCAL_PROFILE.items()}


def describe(changes: Changes) -> str:
    """``session_timeout_s 45 -> 6, ...``: the one log line's list."""
    return ", ".join(f"{name} {_shown(old)} -> {_shown(new)}" for name, old, new in changes)


def _shown(value: Any) -> str:
    if value is None:
        return "unset"
    return f"{value:g}" if isinstance(value, float) else str(value)
