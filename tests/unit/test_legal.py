"""The legal tables: dated membership, adequacy and clauses; malformed tables are refused."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from auditor.legal import LegalTablesError, load_tables
from auditor.legal.chapter_v import judge_transfer
from auditor.legal.tables import day_start, load_tables_file
from auditor.policy.limits import LIMITS
from auditor.policy.model import Dpf, Party, Span


def at(y: int, m: int, d: int) -> float:
    return day_start(date(y, m, d))


def test_eea_membership_is_dated() -> None:
    t = load_tables()
    assert t.in_eea("DE", at(2026, 1, 1))
    assert t.in_eea("NO", at(2026, 1, 1))
    assert "NO" not in t.eu_countries(at(2026, 1, 1))
    assert t.in_eea("GB", at(2020, 12, 31))
    assert not t.in_eea("GB", at(2021, 1, 1))
    assert not t.in_eea("HR", at(2013, 6, 30))
    assert t.in_eea("HR", at(2013, 7, 1))
    assert len(t.eea_countries(at(2026, 1, 1))) == 30


def test_regimes() -> None:
    t = load_tables()
    assert t.regime("FR", at(2026, 1, 1)) == "eu_gdpr"
    assert t.regime("GB", at(2026, 1, 1)) == "uk_gdpr"
    assert t.regime("GB", at(2019, 1, 1)) == "eu_gdpr"
    assert t.regime("US", at(2026, 1, 1)) == "none"


def test_adequacy_by_date_and_scope() -> None:
    t = load_tables()
    assert t.adequacy("eu_gdpr", "BR", at(2026, 1, 25)) is None
    row = t.adequacy("eu_gdpr", "BR", at(2026, 1, 26))
    assert row is not None
    assert row.instrument == "(EU) 2026/179"
    assert t.adequacy("eu_gdpr", "US", at(2026, 1, 1)) is None  # entity-based only
    assert t.adequacy("eu_gdpr", "US", at(2026, 1, 1), "dpf_list") is not None
    assert t.adequacy("eu_gdpr", "US", at(2020, 7, 15), "privacy_shield_list") is not None
    assert t.adequacy("eu_gdpr", "US", at(2020, 7, 16), "privacy_shield_list") is None
    assert t.adequacy("uk_gdpr", "FR", at(2021, 1, 1)) is not None
    assert t.adequacy("uk_gdpr", "KR", at(2022, 12, 18)) is None


def test_old_sccs_expired() -> None:
    t = load_tables()
    old = t.standard_clauses("eu_gdpr", at(2020, 1, 1))
    assert old is not None
    assert "old SCCs" in old.instrument
    new = t.standard_clauses("eu_gdpr", at(2023, 1, 1))
    assert new is not None
    assert "2021/914" in new.instrument


def test_privacy_shield_processor_for_replays() -> None:
    shielded = Party("p", "p", "US", "US", privacy_shield=Span(None, at(2020, 7, 16)))
    before = judge_transfer(load_tables(), "DE", "US", at(2019, 5, 1), party=shielded)
    after = judge_transfer(load_tables(), "DE", "US", at(2021, 5, 1), party=shielded)
    assert before is not None
    assert before.mechanism == "adequacy"
    assert after is not None
    assert after.mechanism == "none"


def test_dpf_hr_data_needs_hr_certification() -> None:
    hr_too = Party("p", "p", "US", "US", dpf=Dpf(Span(), hr=True, non_hr=True))
    t = judge_transfer(load_tables(), "DE", "US", at(2026, 1, 1), party=hr_too, hr=True)
    assert t is not None
    assert t.mechanism == "dpf"


def test_epochs_change_only_at_boundaries() -> None:
    t = load_tables()
    assert t.epoch(at(2026, 1, 26)) == t.epoch(at(2026, 1, 26) + 3600)
    assert t.epoch(at(2026, 1, 26)) == t.epoch(at(2026, 1, 26) - 1) + 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eea: 3\n", "section 'eea' must be a list"),
        ("eea: [{country: DE}]\n", "eea[0]: 'from' (first day in force) is required"),
        ("eea: [{country: DE, from: 2020-01-01, until: 2019-01-01}]\n", "'until' must be after"),
        ("eea: [{country: DE, from: yesterday}]\n", "'from' must be a date"),
    ],
)
def test_malformed_tables_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        text + "eu_adequacy: []\nuk_adequacy: []\nscc: []\nidta: []\n"
        "bcr: {eu_gdpr: a, uk_gdpr: b}\n"
    )
    with pytest.raises(LegalTablesError, match=re.escape(message)):
        load_tables_file(path)


def test_tables_file_must_be_a_bounded_regular_file(tmp_path: Path) -> None:
    with pytest.raises(LegalTablesError, match="not read: a device, not a regular file"):
        load_tables_file(Path("/dev/zero"))
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (LIMITS.max_bytes + 1))
    with pytest.raises(LegalTablesError, match=r"not read: .* bytes, more than the"):
        load_tables_file(big)


def test_every_row_is_dated_and_checked() -> None:
    from ruamel.yaml import YAML

    from auditor.legal import tables

    doc = YAML(typ="safe").load(
        (Path(tables.__file__).parent / "data" / "legal-tables.yaml").read_text()
    )
    for section in ("eu_adequacy", "uk_adequacy", "scc", "idta"):
        for row in doc[section]:
            assert {"from", "checked", "source"} <= set(row), row
            assert row["source"] in doc["sources"], row
