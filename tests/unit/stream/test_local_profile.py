"""The local profile: taken on the embedded broker for what was not set, never over it."""

from __future__ import annotations

import pytest

from auditor.broker.embedded import EMBEDDED_CLUSTER_ID
from auditor.stream.local_profile import (
    LOCAL_PROFILE,
    apply_local_profile,
    describe,
    profile_environment,
)
from auditor.stream.settings import Settings


def test_the_profile_is_valid_settings() -> None:
    # apply_local_profile does not validate (model_copy): the values are checked here.
    settings = Settings(**LOCAL_PROFILE)
    for name, value in LOCAL_PROFILE.items():
        assert getattr(settings, name) == value


def test_defaults_take_the_profile_on_the_embedded_broker() -> None:
    tuned, changes = apply_local_profile(Settings(group_id="g"), EMBEDDED_CLUSTER_ID)
    assert tuned.session_timeout_s == 6
    assert tuned.heartbeat_interval_s == 1
    assert tuned.fetch_max_wait_ms == 50
    assert tuned.changelog_batch_bytes == 1
    assert tuned.processing_guarantee == "at_least_once"
    assert tuned.group_id == "g"
    assert [name for name, _, _ in changes] == list(LOCAL_PROFILE)
    assert "session_timeout_s 45 -> 6" in describe(changes)
    assert "fetch_max_wait_ms unset -> 50" in describe(changes)


def test_an_explicit_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_SESSION_TIMEOUT_S", "45")  # the default, but given
    tuned, changes = apply_local_profile(Settings(processing_guarantee="exactly_once"),
                                         EMBEDDED_CLUSTER_ID)
    assert tuned.session_timeout_s == 45
    assert tuned.processing_guarantee == "exactly_once"
    assert tuned.heartbeat_interval_s == 1
    assert {name for name, _, _ in changes} == {
        "heartbeat_interval_s", "fetch_max_wait_ms", "changelog_batch_bytes"}


@pytest.mark.parametrize("cluster_id", [None, "", "MkU3OEVBNTcwNTJENDM2Qk", "auditor-embedded-2"])
def test_any_other_cluster_keeps_the_settings(cluster_id: str | None) -> None:
    settings = Settings()
    tuned, changes = apply_local_profile(settings, cluster_id)
    assert tuned is settings
    assert changes == []


def test_profile_environment_gives_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in profile_environment().items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert {name: getattr(settings, name) for name in LOCAL_PROFILE} == dict(LOCAL_PROFILE)
