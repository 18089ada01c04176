"""The legal tables and Chapter V: dated rows (last day included), sectoral scopes, SCC
versions, the invalidated US lists, the EU-UK bridge and onward transfers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from auditor.legal import LegalTablesError, load_tables
from auditor.legal import tables as tables_module
from auditor.legal.chapter_v import (
    Transfer,
    home_region_regime,
    judge_transfer,
    regime_of_countries,
)
from auditor.legal.tables import day_start, load_tables_file
from auditor.policy.limits import LIMITS
from auditor.policy.model import Clauses, Dpf, LocationGroup, Party, SignedClauses, Span


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> float:
    return datetime(y, m, d, hh, mm, ss, tzinfo=UTC).timestamp()


def last_second(y: int, m: int, d: int) -> float:
    return at(y, m, d, 23, 59, 59)


def party(pid: str = "p", country: str = "US", **facts: object) -> Party:
    return Party(pid, pid, country, country, **facts)  # type: ignore[arg-type]


def clauses(*sets: tuple[str, date | None, date | None]) -> Clauses:
    """Clauses of (version, signed, last day covered)."""
    return Clauses(
        tuple(
            SignedClauses(
                version,
                None if signed is None else day_start(signed),
                Span(
                    None if signed is None else day_start(signed),
                    None if until is None else day_start(until) + 86400,
                ),
            )
            for version, signed, until in sets
        )
    )


def judge(origin: str, dest: str, when: float, p: Party | None = None, **kw: object) -> Transfer:
    t = judge_transfer(load_tables(), origin, dest, when, party=p, **kw)  # type: ignore[arg-type]
    assert t is not None
    return t


# --- the tables ------------------------------------------------------------------------------
def test_eea_membership_is_dated() -> None:
    t = load_tables()
    assert t.in_eea("DE", at(2026, 1, 1))
    assert t.in_eea("NO", at(2026, 1, 1))
    assert "NO" not in t.eu_countries(at(2026, 1, 1))
    assert t.in_eea("GB", last_second(2020, 12, 31))
    assert not t.in_eea("GB", at(2021, 1, 1))
    assert not t.in_eea("HR", last_second(2013, 6, 30))
    assert t.in_eea("HR", at(2013, 7, 1))
    assert len(t.eea_countries(at(2026, 1, 1))) == 30


def test_regimes() -> None:
    t = load_tables()
    assert t.regime("FR", at(2026, 1, 1)) == "eu_gdpr"
    assert t.regime("GB", at(2026, 1, 1)) == "uk_gdpr"
    assert t.regime("GB", at(2019, 1, 1)) == "eu_gdpr"
    assert t.regime("US", at(2026, 1, 1)) == "none"


def test_until_is_the_last_day_in_force() -> None:
    """legal-reference.md "Dates": `until D` covers events before D+1 00:00 UTC."""
    t = load_tables()
    shield = "privacy_shield_list"
    assert t.adequacy("eu_gdpr", "US", last_second(2020, 7, 15), shield) is not None
    assert t.adequacy("eu_gdpr", "US", at(2020, 7, 16), shield) is None
    harbour = "safe_harbour_list"
    assert t.adequacy("eu_gdpr", "US", last_second(2015, 10, 5), harbour) is not None
    assert t.adequacy("eu_gdpr", "US", at(2015, 10, 6), harbour) is None
    old = t.clauses("eu_gdpr", "2010/87/EU", last_second(2022, 12, 27))
    assert old is not None
    assert t.clauses("eu_gdpr", "2010/87/EU", at(2022, 12, 28)) is None
    assert t.clauses("uk_gdpr", "2010/87/EU", last_second(2024, 3, 21)) is not None
    assert t.clauses("uk_gdpr", "2010/87/EU", at(2024, 3, 22)) is None
    uk = t.adequacy("eu_gdpr", "GB", last_second(2031, 12, 27))
    assert uk is not None
    assert "2021/1772" in uk.instrument
    assert t.adequacy("eu_gdpr", "GB", at(2031, 12, 28)) is None
    # `from D` covers D from 00:00.
    assert t.adequacy("eu_gdpr", "BR", last_second(2026, 1, 25)) is None
    br = t.adequacy("eu_gdpr", "BR", at(2026, 1, 26))
    assert br is not None
    assert br.instrument == "(EU) 2026/179"


def test_the_data_file_states_the_date_rule() -> None:
    text = (Path(tables_module.__file__).parent / "data" / "legal-tables.yaml").read_text()
    assert "`until: D` is the LAST day in force" in text
    assert "format: auditor-legal/v2" in text


def test_adequacy_rows_and_entity_scopes() -> None:
    t = load_tables()
    assert t.adequacy("eu_gdpr", "US", at(2026, 1, 1)) is None  # entity-based only
    assert t.adequacy("eu_gdpr", "US", at(2026, 1, 1), "dpf_list") is not None
    assert t.adequacy_for("eu_gdpr", "US", at(2026, 1, 1)) is None
    assert t.adequacy("uk_gdpr", "FR", at(2021, 1, 1)) is not None
    assert t.adequacy("uk_gdpr", "KR", last_second(2022, 12, 18)) is None


def test_sectoral_rows_cover_only_recipients_within_their_scope() -> None:
    t = load_tables()
    now = at(2026, 1, 1)
    assert t.adequacy_for("eu_gdpr", "CA", now) is None  # a recipient that says nothing
    assert t.adequacy_for("eu_gdpr", "CA", now, frozenset({"ca_pipeda"})) is not None
    assert t.adequacy_for("eu_gdpr", "JP", now, frozenset({"jp_appi"})) is not None
    assert t.adequacy_for("eu_gdpr", "IL", now, frozenset({"il_automated"})) is not None
    assert t.adequacy_for("eu_gdpr", "KR", now, frozenset({"kr_pipa"})) is not None
    credit = frozenset({"kr_pipa", "kr_credit_information"})
    assert t.adequacy_for("eu_gdpr", "KR", now, credit) is None
    assert t.adequacy_for("uk_gdpr", "KR", now, credit) is not None
    assert t.adequacy_for("uk_gdpr", "CA", now) is None
    assert t.adequacy_for("uk_gdpr", "JP", now, frozenset({"jp_appi"})) is not None
    assert t.adequacy_for("uk_gdpr", "IL", now) is not None  # the UK list names Israel whole
    # A scope stated for one country does not open another.
    assert t.adequacy_for("eu_gdpr", "JP", now, frozenset({"ca_pipeda"})) is None


def test_old_and_new_sccs() -> None:
    t = load_tables()
    old = t.standard_clauses("eu_gdpr", at(2020, 1, 1))
    assert old is not None
    assert "old SCCs" in old.instrument
    new = t.standard_clauses("eu_gdpr", at(2023, 1, 1))
    assert new is not None
    assert "2021/914" in new.instrument
    assert set(t.scc_versions()) == {"2021/914", "2010/87/EU", "2004/915/EC", "2001/497/EC"}


def test_epochs_change_only_at_boundaries() -> None:
    t = load_tables()
    assert t.epoch(at(2026, 1, 26)) == t.epoch(at(2026, 1, 26) + 3600)
    assert t.epoch(at(2026, 1, 26)) == t.epoch(at(2026, 1, 26) - 1) + 1
    # The end of an `until` row is the next day's 00:00.
    assert t.epoch(at(2022, 12, 28)) == t.epoch(last_second(2022, 12, 27)) + 1
    assert at(2021, 6, 28) in t.boundaries


HEAD = "format: auditor-legal/v2\n"
TAIL = "eu_adequacy: []\nuk_adequacy: []\nscc: []\nidta: []\nbcr: {eu_gdpr: a, uk_gdpr: b}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eea: 3\n" + TAIL, "section 'eea' must be a list"),
        ("eea: [{country: DE}]\n" + TAIL, "eea[0]: 'from' (first day in force) is required"),
        (
            "eea: [{country: DE, from: 2020-01-01, until: 2019-12-31}]\n" + TAIL,
            "'until' (last day in force) is before 'from'",
        ),
        ("eea: [{country: DE, from: yesterday}]\n" + TAIL, "'from' must be a date"),
        (
            "eea: []\neu_adequacy: [{destination: CA, scope: pipeda, from: 2001-12-20}]\n"
            "uk_adequacy: []\nscc: []\nidta: []\nbcr: {eu_gdpr: a, uk_gdpr: b}\n",
            "eu_adequacy[0]: scope must be one of",
        ),
        (
            "eea: []\neu_adequacy: [{destination: XX, from: 2001-12-20}]\n"
            "uk_adequacy: []\nscc: []\nidta: []\nbcr: {eu_gdpr: a, uk_gdpr: b}\n",
            "destination 'XX' is neither an ISO 3166-1 code",
        ),
        (
            "eea: []\neu_adequacy: [{destination: AR, from: 2003-06-30, verify: true}]\n"
            "uk_adequacy: []\nscc: []\nidta: []\nbcr: {eu_gdpr: a, uk_gdpr: b}\n",
            "a row marked verify needs a 'note'",
        ),
        (
            "eea: []\neu_adequacy: []\nuk_adequacy: []\nscc: [{version: x, from: 2021-06-27}]\n"
            "idta: []\nbcr: {eu_gdpr: a, uk_gdpr: b}\n",
            "scc[0]: regime must be one of",
        ),
    ],
)
def test_malformed_tables_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(HEAD + text)
    with pytest.raises(LegalTablesError, match=re.escape(message)):
        load_tables_file(path)


def test_a_v1_file_is_refused_because_its_until_meant_the_day_after(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("format: auditor-legal/v1\neea: []\n" + TAIL)
    with pytest.raises(LegalTablesError, match="re-express every `until`"):
        load_tables_file(path)


def test_a_one_day_row_covers_that_whole_day(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(HEAD + "eea: [{country: DE, from: 2020-05-01, until: 2020-05-01}]\n" + TAIL)
    t = load_tables_file(path)
    assert not t.in_eea("DE", last_second(2020, 4, 30))
    assert t.in_eea("DE", at(2020, 5, 1))
    assert t.in_eea("DE", last_second(2020, 5, 1))
    assert not t.in_eea("DE", at(2020, 5, 2))


def test_tables_file_must_be_a_bounded_regular_file(tmp_path: Path) -> None:
    with pytest.raises(LegalTablesError, match="not read: a device, not a regular file"):
        load_tables_file(Path("/dev/zero"))
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (LIMITS.max_bytes + 1))
    with pytest.raises(LegalTablesError, match=r"not read: .* bytes, more than the"):
        load_tables_file(big)


def test_every_row_is_dated_and_checked() -> None:
    doc = YAML(typ="safe").load(
        (Path(tables_module.__file__).parent / "data" / "legal-tables.yaml").read_text()
    )
    for section in ("eu_adequacy", "uk_adequacy", "scc", "idta"):
        for row in doc[section]:
            assert {"from", "checked", "source"} <= set(row), row
            assert row["source"] in doc["sources"], row
            if row.get("verify"):
                assert row.get("note"), row  # says why it is still unconfirmed
            if row["checked"] >= date(2026, 12, 2):
                assert row.get("evidence"), row  # what the source showed


# --- Chapter V -------------------------------------------------------------------------------
def test_eu_to_uk_between_brexit_and_adequacy_is_the_tca_bridge() -> None:
    plain = party()
    assert judge("DE", "GB", last_second(2020, 12, 31), plain).mechanism == "intra_eea"
    for when in (at(2021, 1, 1), at(2021, 3, 1, 12), last_second(2021, 6, 27)):
        t = judge("DE", "GB", when, plain)
        assert (t.regime, t.mechanism) == ("eu_gdpr", "adequacy")
        assert t.instrument == "EU-UK TCA Art. FINPROV.10A bridge"
    after = judge("DE", "GB", at(2021, 6, 28), plain)
    assert after.instrument is not None
    assert "2021/1772" in after.instrument


def test_a_sectoral_adequacy_needs_the_recipient_to_say_it_is_within_it() -> None:
    now = at(2026, 3, 2)
    assert judge("DE", "CA", now, party("c", "CA")).mechanism == "none"
    assert judge("DE", "CA", now, None).mechanism == "none"  # unknown recipient: fail closed
    pipeda = party("c", "CA", adequacy_scopes=frozenset({"ca_pipeda"}))
    assert judge("DE", "CA", now, pipeda).mechanism == "adequacy"
    # Outside the scope, Art. 46 still works.
    with_scc = party("c", "CA", scc=clauses(("2021/914", None, None)))
    assert judge("DE", "CA", now, with_scc).mechanism == "scc"
    credit = party("k", "KR", adequacy_scopes=frozenset({"kr_pipa", "kr_credit_information"}))
    assert judge("DE", "KR", now, credit).mechanism == "none"
    assert judge("GB", "KR", now, credit).mechanism == "adequacy"
    # Whole-country decisions need nothing from the recipient.
    assert judge("DE", "CH", now, None).mechanism == "adequacy"


def test_old_sccs_stop_covering_eu_transfers_after_2022_12_27() -> None:
    old = party("o", "IN", scc=clauses(("2010/87/EU", date(2019, 3, 1), None)))
    assert judge("DE", "IN", at(2019, 2, 28), old).mechanism == "none"  # not yet signed
    t = judge("DE", "IN", at(2022, 6, 1), old)
    assert (t.mechanism, t.instrument and "2010/87/EU" in t.instrument) == ("scc", True)
    assert judge("DE", "IN", last_second(2022, 12, 27), old).mechanism == "scc"
    assert judge("DE", "IN", at(2022, 12, 28), old).mechanism == "none"
    assert judge("DE", "IN", at(2024, 6, 1), old).mechanism == "none"


def test_old_sccs_signed_after_the_repeal_cover_only_uk_transfers() -> None:
    # Concluded on 2021-09-27: too late for the EU (before 27 September 2021), in time for
    # the UK (on or before 21 September 2022).
    late = party("l", "IN", scc=clauses(("2010/87/EU", date(2021, 9, 27), None)))
    assert judge("DE", "IN", at(2022, 1, 10), late).mechanism == "none"
    uk = judge("GB", "IN", at(2022, 1, 10), late)
    assert (uk.regime, uk.mechanism) == ("uk_gdpr", "scc")
    just_in_time = party("j", "IN", scc=clauses(("2010/87/EU", date(2021, 9, 26), None)))
    assert judge("DE", "IN", at(2022, 1, 10), just_in_time).mechanism == "scc"
    too_late_uk = party("u", "IN", scc=clauses(("2010/87/EU", date(2022, 9, 22), None)))
    assert judge("GB", "IN", at(2023, 1, 10), too_late_uk).mechanism == "none"


def test_uk_old_sccs_end_after_2024_03_21_and_idta_takes_over() -> None:
    old = party("o", "IN", scc=clauses(("2010/87/EU", date(2019, 3, 1), None)))
    assert judge("GB", "IN", last_second(2024, 3, 21), old).mechanism == "scc"
    assert judge("GB", "IN", at(2024, 3, 22), old).mechanism == "none"
    idta = party("i", "IN", idta=Span(day_start(date(2022, 3, 21))))
    assert judge("GB", "IN", at(2024, 3, 22), idta).mechanism == "idta"
    # The 2021/914 clauses alone are not a UK safeguard (the UK Addendum is `idta`).
    new_only = party("n", "IN", scc=clauses(("2021/914", None, None)))
    assert judge("GB", "IN", at(2025, 1, 1), new_only).mechanism == "none"


def test_the_2021_914_clauses_and_a_repapered_processor() -> None:
    new = party("n", "IN", scc=clauses(("2021/914", None, None)))
    assert judge("DE", "IN", last_second(2021, 6, 26), new).mechanism == "none"
    assert judge("DE", "IN", at(2021, 6, 27), new).mechanism == "scc"
    both = party(
        "r",
        "IN",
        scc=clauses(
            ("2021/914", date(2022, 7, 1), None),
            ("2010/87/EU", date(2019, 3, 1), date(2022, 6, 30)),
        ),
    )
    first = judge("DE", "IN", last_second(2022, 6, 30), both)
    then = judge("DE", "IN", at(2022, 7, 1), both)
    assert first.instrument is not None
    assert "2010/87/EU" in first.instrument
    assert then.instrument is not None
    assert "2021/914" in then.instrument


def test_safe_harbour_and_privacy_shield_for_replays() -> None:
    listed = party(
        "u",
        safe_harbour=Span(day_start(date(2005, 1, 1))),
        privacy_shield=Span(day_start(date(2016, 9, 1))),
    )
    assert judge("DE", "US", last_second(2004, 12, 31), listed).mechanism == "none"
    harbour = judge("DE", "US", at(2005, 1, 1), listed)
    assert harbour.mechanism == "adequacy"
    assert harbour.instrument is not None
    assert "2000/520/EC" in harbour.instrument
    assert judge("DE", "US", last_second(2015, 10, 5), listed).mechanism == "adequacy"
    assert judge("DE", "US", at(2015, 10, 6), listed).mechanism == "none"
    shield = judge("DE", "US", at(2019, 5, 1), listed)
    assert shield.instrument is not None
    assert "2016/1250" in shield.instrument
    assert judge("DE", "US", at(2020, 7, 16), listed).mechanism == "none"
    # A self-certification is no basis outside the US.
    assert judge("DE", "IN", at(2010, 1, 1), listed).mechanism == "none"


def test_dpf_hr_data_needs_hr_certification() -> None:
    hr_too = party(dpf=Dpf(Span(), hr=True, non_hr=True))
    assert judge("DE", "US", at(2026, 1, 1), hr_too, hr=True).mechanism == "dpf"
    non_hr = party(dpf=Dpf(Span()))
    assert judge("DE", "US", at(2026, 1, 1), non_hr, hr=True).mechanism == "none"


def test_an_international_organisation_is_a_transfer_wherever_it_sits() -> None:
    epo = party("epo", "DE", international_organisation="EPO")
    t = judge("FR", "DE", at(2026, 1, 1), epo)
    assert (t.mechanism, t.instrument) == (
        "adequacy",
        "(EU) 2025/1382 European Patent Organisation",
    )
    assert judge("FR", "DE", last_second(2025, 7, 14), epo).mechanism == "none"
    # Spec §2: a transfer record is null within one country, whoever the recipient is.
    assert judge_transfer(load_tables(), "DE", "DE", at(2026, 1, 1), party=epo) is None


# --- onward transfers ------------------------------------------------------------------------
def test_an_onward_hop_keeps_the_regime_of_the_data() -> None:
    now = at(2026, 3, 2)
    plain = party()
    assert judge("SG", "US", now, plain).regime == "none"  # no regime stated
    eu = judge("SG", "US", now, plain, regime="eu_gdpr")
    assert (eu.regime, eu.from_country, eu.mechanism) == ("eu_gdpr", "SG", "none")
    dpf = party(dpf=Dpf(Span(), uk_extension=False))
    assert judge("SG", "US", now, dpf, regime="eu_gdpr").mechanism == "dpf"
    assert judge("SG", "US", now, dpf, regime="uk_gdpr").mechanism == "none"  # no UK Extension
    # Back inside its regime: no third country involved.
    assert judge("SG", "DE", now, plain, regime="eu_gdpr").mechanism == "intra_eea"
    home = judge("SG", "GB", now, plain, regime="uk_gdpr")
    assert (home.regime, home.mechanism) == ("uk_gdpr", "unrestricted")
    # Same regime as the origin: the same answer as without it.
    assert judge("DE", "US", now, plain, regime="eu_gdpr") == judge("DE", "US", now, plain)
    # Not personal data: no regime at all.
    anon = judge("SG", "US", now, plain, regime="eu_gdpr", personal=False)
    assert (anon.regime, anon.mechanism) == ("none", "unrestricted")


def test_when_both_regimes_apply_the_less_lawful_outcome_is_reported() -> None:
    now = at(2026, 3, 2)
    eu_only = party(dpf=Dpf(Span(), uk_extension=False))
    # UK data held in Germany, moved on to a US processor without the UK Extension.
    t = judge("DE", "US", now, eu_only, regime="uk_gdpr")
    assert (t.regime, t.mechanism) == ("uk_gdpr", "none")
    both = party(dpf=Dpf(Span(), uk_extension=True))
    t = judge("DE", "US", now, both, regime="uk_gdpr")
    assert (t.regime, t.mechanism) == ("uk_gdpr", "dpf")


def test_an_unknown_regime_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="regime must be one of"):
        judge_transfer(load_tables(), "SG", "US", at(2026, 1, 1), party=None, regime="none")


def test_the_regime_of_a_home_region() -> None:
    t = load_tables()
    now = at(2026, 1, 1)
    assert regime_of_countries(t, {"DE", "SE"}, now) == "eu_gdpr"
    assert regime_of_countries(t, {"EEA"}, now) == "eu_gdpr"
    assert regime_of_countries(t, {"GB"}, now) == "uk_gdpr"
    assert regime_of_countries(t, {"GB"}, at(2020, 6, 1)) == "eu_gdpr"
    assert regime_of_countries(t, {"GB", "IE"}, now) is None  # mixed: must be stated
    assert regime_of_countries(t, {"US"}, now) is None
    assert regime_of_countries(t, set(), now) is None
    mixed = LocationGroup("UKI1", countries=frozenset({"GB", "IE"}))
    assert home_region_regime(t, mixed, now) is None
    stated = LocationGroup("UKI1", regime="uk_gdpr", countries=frozenset({"GB", "IE"}))
    assert home_region_regime(t, stated, now) == "uk_gdpr"
    assert home_region_regime(t, LocationGroup("X", regime="none"), now) is None
