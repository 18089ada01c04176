"""`auditor register` from a topic window on a real broker."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from auditor.cli.register_cmd import register
from tests.conftest import TopicFactory
from tests.integration.test_replay_topic import INSIDE, RECORDS, T1, T2, windowed_topic
from tests.unit.helpers import EXAMPLE_POLICY

pytestmark = pytest.mark.integration


def test_a_topic_window_is_drafted_from_the_records_inside_it(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    topic = windowed_topic(kafka_bootstrap, topic_factory)
    result = CliRunner().invoke(register, [
        "--policy", str(EXAMPLE_POLICY), "--topic", topic, "--from", T1, "--to", T2,
        "--bootstrap-servers", kafka_bootstrap, "--quiet",
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    outside = len(RECORDS) - len(INSIDE)
    assert (f"# source: topic {topic}: {len(RECORDS)} records read, {outside} outside the "
            "window") in result.stdout
    assert f"# events drafted: {len(INSIDE)};" in result.stdout
    assert result.stdout.count("  - id: observed.") == 1
    assert f'    description: "observed: {len(INSIDE)} events (0 violations)' in result.stdout
