"""Each seed pack's sample traffic gets exactly the counts its generator expected, and the
shipped file is what the generator makes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from auditor.engine import Decider, Engine, decide_all
from auditor.policy import load_policy
from auditor.tally import Tally
from auditor.traffic import Expected, generate, load_pack
from tests.lines import raw_lines
from tests.unit.helpers import ROOT

EXPECTED = sorted((ROOT / "examples").glob("*.expected.json"))


def test_every_seed_pack_has_a_sample() -> None:
    names = {p.name.removesuffix(".expected.json") for p in EXPECTED}
    assert {"natterbox", "24calldesk", "nubitalk"} <= names


@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.name)
def test_sample_counts_match_expected(expected_file: Path) -> None:
    expected = orjson.loads(expected_file.read_bytes())
    pack = expected["pack"]
    sample = ROOT / "examples" / f"{pack}.jsonl"
    engine = Engine(load_policy(ROOT / "policies" / f"{pack}.yaml"))
    tally = Tally()
    for decision in decide_all(Decider(engine), raw_lines(sample)):
        tally.add(decision)
    assert tally.events == expected["events"] >= 1000
    assert dict(tally.verdicts) == expected["verdicts"]
    assert dict(tally.by_kind) == expected["violations_by_kind"]
    assert len(set(expected["violations_by_kind"]) - {"schema"}) >= 4  # several kinds
    assert expected["verdicts"]["allow"] > 0.85 * expected["events"]  # mostly lawful


@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.name)
def test_sample_file_is_what_the_generator_makes(expected_file: Path) -> None:
    expected = orjson.loads(expected_file.read_bytes())
    counted = Expected()
    events = list(
        generate(
            load_pack(expected["pack"]), expected["events"], seed=expected["seed"], expected=counted
        )
    )
    shipped = (ROOT / "examples" / f"{expected['pack']}.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line) for line in shipped] == events
    assert counted.as_dict()["verdicts"] == expected["verdicts"]
