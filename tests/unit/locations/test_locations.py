"""Unit tests for the cloud location catalogue (auditor.locations)."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import json
import os
import re
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path

import pytest

from auditor.locations import PROVIDERS, CloudCatalogue, Region, load_catalogue, regenerate
from auditor.locations.catalogue import CATALOGUE_FILE, format_catalogue, parse_catalogue
from auditor.locations.regenerate import (
    AWS_PARTITIONS,
    AWS_TABLE,
    AZURE_TABLE,
    GCP_TABLE,
    SOURCES_DIR,
    TABLES,
    Endpoints,
    RegenerateError,
    aws_regions,
    installed_botocore,
    partitions,
    read_region_table,
)

ROOT = Path(__file__).resolve().parents[3]
CHECKED = "2026-11-23"
# The catalogue's digest (every decision's policy.version hashes it): it changes only with
# a reviewed regeneration of data/regions.csv.
VERSION = "sha256:074527febc3b2a0b206ba6b9076bbab3b8e18d65b2ad765ab85286b256d1a9cd"

REQUIRED_AZURE = {
    "westeurope", "northeurope", "uksouth", "ukwest", "germanywestcentral", "swedencentral",
    "eastus", "eastus2", "southcentralus", "centralindia", "australiaeast", "brazilsouth",
    "qatarcentral", "israelcentral", "italynorth", "polandcentral", "spaincentral",
    "mexicocentral", "newzealandnorth", "indonesiacentral", "malaysiawest", "chilecentral",
    "germanynorth", "norwaywest", "switzerlandwest", "francesouth", "southafricawest",
    "uaecentral", "australiacentral2", "koreasouth", "japanwest", "westindia", "southindia",
    "jioindiawest", "jioindiacentral", "brazilsoutheast", "westus3",
}  # fmt: skip
REQUIRED_GCP = {
    "europe-west1", "europe-west2", "europe-west3", "europe-west4", "europe-west6",
    "europe-west8", "europe-west9", "europe-west10", "europe-west12", "europe-north1",
    "europe-north2", "europe-central2", "europe-southwest1", "me-west1", "me-central1",
    "me-central2", "africa-south1", "us-central1", "asia-southeast1", "australia-southeast1",
    "northamerica-northeast1", "southamerica-east1",
}  # fmt: skip


def _raw_rows(filename: str) -> list[list[str]]:
    """A source CSV's data rows, parsed independently of the code under test."""
    text = (SOURCES_DIR / filename).read_text("utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = list(csv.reader(lines))
    assert rows[0] == ["region", "country", "name"]
    return rows[1:]


def _locked_botocore() -> str:
    """The botocore version requirements.lock pins."""
    match = re.search(r"^botocore==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M)
    assert match is not None, "requirements.lock pins no botocore"
    return match.group(1)


def _endpoints(*parts: tuple[str, dict[str, str]]) -> Endpoints:
    """Fake botocore endpoint data: (partition, {region: description}) pairs."""
    data = {
        "partitions": [
            {"partition": name, "regions": {r: {"description": d} for r, d in regions.items()}}
            for name, regions in parts
        ]
    }
    return Endpoints(data, "botocore 0.0.0 endpoints.json")


def _real_tables() -> dict[str, regenerate.RegionTable]:
    return {name: read_region_table(SOURCES_DIR / name) for name in TABLES}


# --- The checked-in catalogue ---------------------------------------------------------------


def test_the_catalogue_ships_with_the_package() -> None:
    data = resources.files("auditor.locations") / "data"
    assert (data / CATALOGUE_FILE).is_file()
    assert load_catalogue().digest == VERSION


def test_the_catalogue_is_what_the_script_makes_from_the_locked_botocore() -> None:
    installed, locked = metadata.version("botocore"), _locked_botocore()
    if installed != locked and not os.environ.get("CI"):
        pytest.skip(
            f"botocore {installed} is installed, requirements.lock pins {locked}: install with "
            "PIP_CONSTRAINT=requirements.lock to compare (CI does)"
        )
    made = regenerate.generate()
    shipped = regenerate.CATALOGUE_PATH.read_text("utf-8")
    assert made == shipped, (
        f"{CATALOGUE_FILE} is not what botocore {installed} and the sources make: "
        "run python -m auditor.locations.regenerate and review the diff; "
        + "; ".join(regenerate.describe_change(parse_catalogue(shipped), parse_catalogue(made)))
    )
    assert regenerate.main(["--check"]) == 0


def test_decisions_need_no_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    # The runtime reads only the data file: hide botocore and load afresh.
    real_files = resources.files

    def no_botocore(package: str) -> Traversable:
        if package == "botocore":
            raise ModuleNotFoundError("botocore")
        return real_files(package)

    monkeypatch.setattr(resources, "files", no_botocore)
    load_catalogue.cache_clear()
    try:
        assert load_catalogue().digest == VERSION
    finally:
        load_catalogue.cache_clear()
    source = (ROOT / "auditor" / "locations" / "catalogue.py").read_text("utf-8")
    assert "botocore" not in source


def test_a_hand_edited_catalogue_is_refused() -> None:
    text = regenerate.CATALOGUE_PATH.read_text("utf-8")
    edited = text.replace("aws,eu-west-2,GB,", "aws,eu-west-2,IE,")
    assert edited != text
    with pytest.raises(ValueError, match="regenerate"):
        parse_catalogue(edited)
    unsourced = "".join(line for line in text.splitlines(True) if "# source gcp" not in line)
    with pytest.raises(ValueError, match="source"):
        parse_catalogue(unsourced)
    with pytest.raises(ValueError, match="header"):
        parse_catalogue("# version: x\nregion,country\n")


def test_the_catalogue_file_round_trips() -> None:
    catalogue = load_catalogue()
    again = parse_catalogue(format_catalogue(catalogue))
    assert again.regions() == catalogue.regions()
    assert again.sources == catalogue.sources
    assert again.digest == catalogue.digest
    with pytest.raises(ValueError, match="no source"):
        format_catalogue(CloudCatalogue(catalogue.regions()))


# --- Regenerating it --------------------------------------------------------------------------


def test_every_botocore_region_of_the_public_partitions_has_a_country() -> None:
    botocore_regions = aws_regions(installed_botocore().data)
    mapped = {row[0] for row in _raw_rows(AWS_TABLE)}
    assert set(botocore_regions) == mapped


def test_botocore_partitions_are_all_classified() -> None:
    # A new partition must be consciously included or excluded, not silently dropped.
    unknown = [
        p
        for p in partitions(installed_botocore().data)
        if p not in AWS_PARTITIONS and not p.startswith("aws-iso")
    ]
    assert not unknown, f"botocore has partitions neither included nor excluded: {unknown}"


def test_regenerating_refuses_what_it_cannot_place() -> None:
    tables = _real_tables()
    known = {row[0]: row[2] for row in _raw_rows(AWS_TABLE)}
    full = _endpoints(("aws", known), ("aws-iso", {"us-iso-east-1": "US ISO East"}))
    assert regenerate.build(full, tables).country("aws:eu-west-2") == "GB"
    assert regenerate.build(full, tables).country("aws:us-iso-east-1") is None
    new_region = _endpoints(("aws", {**known, "eu-west-9": "Europe (Nowhere)"}))
    with pytest.raises(RegenerateError, match=r"no country .*eu-west-9 \(Europe \(Nowhere\)\)"):
        regenerate.build(new_region, tables)
    retired = _endpoints(("aws", {r: d for r, d in known.items() if r != "eu-west-2"}))
    with pytest.raises(RegenerateError, match=r"does not know .*eu-west-2"):
        regenerate.build(retired, tables)
    new_partition = _endpoints(("aws", known), ("aws-moon", {"moon-1": "Moon"}))
    with pytest.raises(RegenerateError, match="neither included nor excluded: aws-moon"):
        regenerate.build(new_partition, tables)


def test_a_change_is_described_for_review() -> None:
    old = load_catalogue()
    rows = [
        dataclasses.replace(r, country="FR") if r.location == "aws:eu-west-2" else r
        for r in old.regions()
        if r.location != "gcp:europe-west2"
    ]
    new = CloudCatalogue([*rows, Region("gcp", "europe-west99", "DE", "x")], old.sources)
    assert regenerate.describe_change(old, new) == [
        "added gcp:europe-west99 (DE)",
        "removed gcp:europe-west2",
        "moved aws:eu-west-2: GB -> FR",
        f"version {old.digest} -> {new.digest}: every decision's policy.version changes",
    ]


def test_compressed_botocore_endpoints_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    endpoints = {
        "partitions": [
            {"partition": "aws", "regions": {"eu-west-2": {"description": "Europe (London)"}}},
            {"partition": "aws-iso", "regions": {"us-iso-east-1": {"description": "US ISO East"}}},
        ]
    }
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "endpoints.json.gz").write_bytes(
        gzip.compress(json.dumps(endpoints).encode("utf-8"))
    )
    real_files = resources.files

    def fake_files(package: str) -> Traversable:
        return tmp_path if package == "botocore" else real_files(package)

    monkeypatch.setattr(resources, "files", fake_files)
    read = installed_botocore()
    assert read.label.endswith(" endpoints.json.gz")
    assert aws_regions(read.data) == {"eu-west-2": "Europe (London)"}
    assert partitions(read.data) == ["aws", "aws-iso"]


def test_malformed_table_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "dup.csv").write_text(
        "# checked: 2026-11-23\nregion,country,name\na-1,GB,x\na-1,IE,y\n", "utf-8"
    )
    (tmp_path / "undated.csv").write_text("region,country,name\na-1,GB,x\n", "utf-8")
    (tmp_path / "header.csv").write_text("# checked: 2026-11-23\nregion,name\na-1,x\n", "utf-8")
    with pytest.raises(ValueError, match="twice"):
        read_region_table(tmp_path / "dup.csv")
    with pytest.raises(ValueError, match="checked"):
        read_region_table(tmp_path / "undated.csv")
    with pytest.raises(ValueError, match="header"):
        read_region_table(tmp_path / "header.csv")


def test_classified_partitions_are_excluded() -> None:
    regions = aws_regions(installed_botocore().data)
    assert not [r for r in regions if "-iso" in r]
    catalogue = load_catalogue()
    assert catalogue.country("aws:us-iso-east-1") is None
    assert catalogue.country("aws:us-isob-east-1") is None


def test_aws_regions_are_botocores() -> None:
    aws = {r.region for r in load_catalogue().regions("aws")}
    assert aws == {row[0] for row in _raw_rows(AWS_TABLE)}
    assert aws


def test_aws_csv_rows_look_like_public_partition_regions() -> None:
    # Catches typos in the CSV that would never match a botocore region.
    pattern = re.compile(r"(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|eusc-de)-[a-z]+-\d+")
    for region, _country, _name in _raw_rows(AWS_TABLE):
        assert pattern.fullmatch(region), region


# --- Lookups ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "country"),
    [
        # Natterbox routing regions.
        ("aws:eu-west-2", "GB"),
        ("aws:eu-central-1", "DE"),
        ("aws:us-east-2", "US"),
        ("aws:us-west-2", "US"),
        ("aws:ap-southeast-1", "SG"),
        ("aws:ap-southeast-2", "AU"),
        ("aws:ap-southeast-4", "AU"),
        ("aws:eu-north-1", "SE"),
        ("aws:eu-west-1", "IE"),
        # Other AWS partitions and easily confused regions.
        ("aws:ap-east-2", "TW"),
        ("aws:mx-central-1", "MX"),
        ("aws:il-central-1", "IL"),
        ("aws:me-south-1", "BH"),
        ("aws:me-central-1", "AE"),
        ("aws:eu-central-2", "CH"),
        ("aws:us-gov-west-1", "US"),
        ("aws:cn-northwest-1", "CN"),
        ("aws:eusc-de-east-1", "DE"),
        # Azure.
        ("azure:westeurope", "NL"),
        ("azure:northeurope", "IE"),
        ("azure:uksouth", "GB"),
        ("azure:ukwest", "GB"),
        ("azure:germanywestcentral", "DE"),
        ("azure:switzerlandnorth", "CH"),
        ("azure:uaenorth", "AE"),
        ("azure:eastasia", "HK"),
        ("azure:southeastasia", "SG"),
        ("azure:qatarcentral", "QA"),
        ("azure:norwaywest", "NO"),
        ("azure:jioindiawest", "IN"),
        # GCP.
        ("gcp:europe-west1", "BE"),
        ("gcp:europe-west2", "GB"),
        ("gcp:europe-west3", "DE"),
        ("gcp:europe-west4", "NL"),
        ("gcp:europe-west6", "CH"),
        ("gcp:europe-west12", "IT"),
        ("gcp:europe-north1", "FI"),
        ("gcp:me-central1", "QA"),
        ("gcp:me-central2", "SA"),
        ("gcp:me-west1", "IL"),
        ("gcp:asia-east1", "TW"),
        ("gcp:northamerica-south1", "MX"),
    ],
)
def test_known_regions(location: str, country: str) -> None:
    assert load_catalogue().country(location) == country


@pytest.mark.parametrize(
    "location",
    [
        "aws:eu-west-10",
        "azure:westeurope2",
        "gcp:europe-west99",
        "gcp:europe-west5",
        "aws:",
        ":eu-west-2",
        "EU-WEST-2",
        "eu-west-2",
        "aws:EU-WEST-2",
        "AWS:eu-west-2",
        "aws: eu-west-2",
        "aws:eu-west-2 ",
        "aws:westeurope",
        "gcp:eu-west-2",
        "azure:centraluseuap",
        "azure:eastus2euap",
        "oci:eu-frankfurt-1",
        "country:DE",
        "site:x",
        "",
    ],
)
def test_near_misses_are_unknown(location: str) -> None:
    catalogue = load_catalogue()
    assert catalogue.country(location) is None
    assert catalogue.region(location) is None


def test_region_lookup_returns_the_entry() -> None:
    entry = load_catalogue().region("aws:eu-west-2")
    assert entry == Region("aws", "eu-west-2", "GB", "Europe (London)")
    assert entry is not None
    assert entry.location == "aws:eu-west-2"


@pytest.mark.parametrize("filename", TABLES)
def test_csv_countries_are_well_formed(filename: str) -> None:
    rows = _raw_rows(filename)
    assert rows
    for region, country, name in rows:
        assert re.fullmatch(r"[A-Z]{2}", country), (filename, region, country)
        # Exceptionally reserved codes that look right but are not ISO countries.
        assert country not in {"UK", "EU", "EL", "UN"}, (filename, region, country)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", region), (filename, region)
        assert name.strip(), (filename, region)


@pytest.mark.parametrize("filename", TABLES)
def test_csv_has_no_duplicate_rows(filename: str) -> None:
    regions = [row[0] for row in _raw_rows(filename)]
    duplicates = sorted({r for r in regions if regions.count(r) > 1})
    assert not duplicates, f"{filename} repeats {duplicates}"


@pytest.mark.parametrize("filename", TABLES)
def test_csv_header_states_source_and_date(filename: str) -> None:
    text = (SOURCES_DIR / filename).read_text("utf-8")
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert any(line.startswith("# source:") for line in comments), filename
    assert f"# checked: {CHECKED}" in comments, filename
    assert read_region_table(SOURCES_DIR / filename).checked == CHECKED


def test_required_azure_and_gcp_regions_present() -> None:
    catalogue = load_catalogue()
    azure = {r.region for r in catalogue.regions("azure")}
    assert not REQUIRED_AZURE - azure
    assert not [r for r in azure if r.endswith("euap")]
    gcp = {r.region for r in catalogue.regions("gcp")}
    assert not REQUIRED_GCP - gcp


def test_regions_sorted_and_filtered() -> None:
    catalogue = load_catalogue()
    everything = catalogue.regions()
    assert everything == sorted(everything, key=lambda r: (r.provider, r.region))
    assert {r.provider for r in everything} == set(PROVIDERS)
    for provider in PROVIDERS:
        subset = catalogue.regions(provider)
        assert subset
        assert all(r.provider == provider for r in subset)
    assert catalogue.regions("oci") == []
    assert len(everything) == sum(len(catalogue.regions(p)) for p in PROVIDERS)


def test_country_agrees_with_region_for_every_entry() -> None:
    catalogue = load_catalogue()
    for entry in catalogue.regions():
        assert catalogue.country(entry.location) == entry.country
        assert catalogue.region(entry.location) == entry


def test_load_catalogue_is_cached() -> None:
    assert load_catalogue() is load_catalogue()


def test_digest_is_stable_across_loads() -> None:
    first = load_catalogue()
    load_catalogue.cache_clear()
    try:
        second = load_catalogue()
    finally:
        load_catalogue.cache_clear()
    assert first is not second
    assert first.digest == second.digest
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first.digest)
    assert CloudCatalogue(first.regions()).digest == first.digest


def test_digest_changes_when_a_row_changes() -> None:
    rows = load_catalogue().regions()
    baseline = CloudCatalogue(rows).digest
    moved = [dataclasses.replace(r, country="FR") if r.region == "eu-west-2" else r for r in rows]
    assert CloudCatalogue(moved).digest != baseline
    dropped = [r for r in rows if r.location != "gcp:europe-west2"]
    assert CloudCatalogue(dropped).digest != baseline
    added = [*rows, Region("gcp", "europe-west99", "DE", "test")]
    assert CloudCatalogue(added).digest != baseline


def test_digest_ignores_row_order_and_names() -> None:
    rows = load_catalogue().regions()
    renamed = [dataclasses.replace(r, name=r.name + "!") for r in reversed(rows)]
    assert CloudCatalogue(renamed).digest == CloudCatalogue(rows).digest


def test_constructor_from_rows() -> None:
    catalogue = CloudCatalogue([Region("gcp", "europe-west2", "GB", "London")])
    assert catalogue.country("gcp:europe-west2") == "GB"
    assert catalogue.country("aws:eu-west-2") is None
    assert catalogue.sources == {}


@pytest.mark.parametrize(
    "bad",
    [
        Region("oci", "eu-frankfurt-1", "DE", "x"),
        Region("aws", "eu-west-2", "gb", "x"),
        Region("aws", "eu-west-2", "GBR", "x"),
        Region("aws", "EU-WEST-2", "GB", "x"),
        Region("aws", "", "GB", "x"),
    ],
)
def test_constructor_rejects_malformed_rows(bad: Region) -> None:
    with pytest.raises(ValueError, match=r"provider|region|ISO"):
        CloudCatalogue([bad])


def test_constructor_rejects_duplicates() -> None:
    row = Region("aws", "eu-west-2", "GB", "x")
    with pytest.raises(ValueError, match="duplicate"):
        CloudCatalogue([row, dataclasses.replace(row, country="IE")])


def test_sources_name_origin_and_date() -> None:
    sources = load_catalogue().sources
    assert set(sources) == set(PROVIDERS)
    for provider, text in sources.items():
        assert CHECKED in text, provider
    assert "botocore" in sources["aws"]
    assert "endpoints.json" in sources["aws"]
    assert AWS_TABLE in sources["aws"]
    assert AZURE_TABLE in sources["azure"]
    assert GCP_TABLE in sources["gcp"]
    # The property hands out a copy: callers cannot corrupt the catalogue.
    sources["aws"] = "tampered"
    assert load_catalogue().sources["aws"] != "tampered"
