"""Every shipped policy pack loads and its scenario suite passes case by case."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.suites import discover, run_suite
from tests.unit.helpers import ROOT

SUITES = discover(ROOT / "policies")


def test_there_are_suites() -> None:
    assert any(p.name == "gdpr-transfers.tests.yaml" for p in SUITES)


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.name)
def test_suite_passes(suite: Path) -> None:
    results = run_suite(suite)
    failed = [f"{r.name} (line {r.line}): {'; '.join(r.problems)}" for r in results if not r.passed]
    assert not failed, "\n".join(failed)
