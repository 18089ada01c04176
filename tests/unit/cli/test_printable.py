"""Text from events never drives a terminal: tables, summaries, explain, reports, logs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.events.invalid import Invalid
from auditor.events.validate import parse_event, readable_event_id
from auditor.printable import PrintableFormatter, printable
from auditor.report.csv_tables import render
from auditor.report.html.blocks import escape
from tests.unit.engine.test_memory import POLICY, ev

CLEAR = "\x1b[2J"
TITLE = "\x1b]0;pwned\x07"  # an OSC sequence: sets the terminal's title
HOSTILE = CLEAR + TITLE + "acme\x00\u202e"


def _no_control(text: str) -> None:
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\x00" not in text
    assert "\u202e" not in text


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "mem.yaml"
    policy.write_text(POLICY)
    events: list[dict[str, Any]] = [
        ev(1, 1, "process", tenant={"id": HOSTILE, "home_region": "EU1"}),
        ev(2, 2, "process", tenant={"id": HOSTILE, "home_region": "EU2"}),  # a violation
        ev(3, 3, "process", event_id="[red]markup[/red]", data_class=CLEAR + "x"),
        ev(4, 4, "process", labels={CLEAR: 1}),  # an invalid field named by a hostile key
    ]
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    return policy, path


@pytest.mark.parametrize("fmt", ["table", "summary"])
def test_check_escapes_control_characters_and_markup(files: tuple[Path, Path],
                                                      fmt: str) -> None:
    policy, path = files
    result = CliRunner().invoke(main, ["check", "--policy", str(policy), str(path),
                                       "--format", fmt])
    assert result.exit_code == 1
    _no_control(result.output)
    if fmt == "table":
        assert "\\u001b[2J\\u001b]0;pwned\\u0007acme\\u0000\\u202e" in result.output
        assert "[red]markup[/red]" in result.output  # shown as written, not as a style
        assert "(home_region)" in result.output
        assert "[deny]" in result.output
    else:
        assert "labels.\\u001b[2J 1" in result.output


def test_explain_escapes_control_characters(files: tuple[Path, Path]) -> None:
    policy, path = files
    result = CliRunner().invoke(main, ["explain", "--policy", str(policy), str(path)])
    _no_control(result.output)
    assert "first home region of tenant \\u001b[2J" in result.output


def test_an_event_id_with_a_control_character_is_invalid() -> None:
    result = parse_event(ev(1, 1, "store", event_id="a\x00b"))
    assert isinstance(result, Invalid)
    assert (result.code, result.field) == ("wrong_value", "event_id")
    assert result.event_id is None  # not named by an id no output should carry
    assert readable_event_id({"event_id": "ok\u00e9"}) == "ok\u00e9"
    assert readable_event_id({"event_id": CLEAR}) is None
    assert not isinstance(parse_event(ev(1, 1, "store", event_id="e\u00e9-\u2603")), Invalid)


def test_reports_and_logs_escape_control_characters() -> None:
    assert escape(HOSTILE + "<b>") == (
        "\\u001b[2J\\u001b]0;pwned\\u0007acme\\u0000\\u202e&lt;b&gt;")
    csv = render(["event_id"], [{"event_id": HOSTILE}, {"event_id": "=cmd\x1b"}])
    _no_control(csv)
    assert "'=cmd\\u001b" in csv  # a formula is still quoted
    record = logging.LogRecord("auditor", logging.WARNING, __file__, 1,
                               "subject %s\nforged line", (HOSTILE,), None)
    line = PrintableFormatter("%(message)s").format(record)
    _no_control(line)
    assert "\n" not in line  # one record, one line
    assert printable("plain text, é, ☃") == "plain text, é, ☃"
