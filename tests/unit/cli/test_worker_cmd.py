"""The worker's start-up checks of its internal topics."""

from __future__ import annotations

from auditor.cli.worker_cmd import miscounted


def test_internal_topics_with_another_partition_count_are_named() -> None:
    counts = {"in": 4, "g-auditor-memory-changelog": 4, "g.auditor.repartition": 6}
    assert miscounted(counts, ["g-auditor-memory-changelog", "g.auditor.repartition"], 4) \
        == ["g.auditor.repartition has 6 partitions"]


def test_topics_not_made_yet_or_right_pass() -> None:
    assert miscounted({"x": 4}, ["x", "missing"], 4) == []
