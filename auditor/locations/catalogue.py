"""Cloud region catalogue: maps aws:/azure:/gcp: locations to ISO 3166-1 alpha-2 countries."""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from typing import Any

__all__ = [
    "AWS_PARTITIONS",
    "PROVIDERS",
    "CloudCatalogue",
    "Region",
    "RegionTable",
    "botocore_aws_regions",
    "botocore_partitions",
    "load_catalogue",
    "read_region_table",
]

PROVIDERS: tuple[str, ...] = ("aws", "azure", "gcp")

# Public partitions only: the classified aws-iso* partitions are out of scope.
AWS_PARTITIONS: frozenset[str] = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-eusc"})

AWS_TABLE = "aws-region-countries.csv"
AZURE_TABLE = "azure-regions.csv"
GCP_TABLE = "gcp-regions.csv"

_HEADER = ["region", "country", "name"]
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_REGION_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_CHECKED_RE = re.compile(r"#\s*checked:\s*(\d{4}-\d{2}-\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Region:
    """One cloud region and the country its data centres are in."""

    provider: str
    region: str
    country: str
    name: str

    @property
    def location(self) -> str:
        """The event spelling of this region, e.g. ``aws:eu-west-2``."""
        return f"{self.provider}:{self.region}"


@dataclass(frozen=True, slots=True)
class RegionTable:
    """The rows of one shipped CSV file and the date its header says it was checked."""

    filename: str
    checked: str
    rows: tuple[tuple[str, str, str], ...]  # (region, country, name)


class CloudCatalogue:
    """Immutable lookup from cloud locations to countries."""

    __slots__ = ("_by_location", "_countries", "_digest", "_regions", "_sources")

    def __init__(self, regions: Iterable[Region], sources: Mapping[str, str] | None = None) -> None:
        by_location: dict[str, Region] = {}
        for entry in regions:
            _validate(entry)
            if entry.location in by_location:
                raise ValueError(f"duplicate region {entry.location!r} in cloud catalogue")
            by_location[entry.location] = entry
        ordered = sorted(by_location.values(), key=lambda r: (r.provider, r.region))
        self._regions: tuple[Region, ...] = tuple(ordered)
        self._by_location = by_location
        # One flat dict so country() is a single lookup on the hot path.
        self._countries: dict[str, str] = {r.location: r.country for r in ordered}
        canonical = "".join(f"{r.provider},{r.region},{r.country}\n" for r in ordered)
        self._digest = "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        self._sources: dict[str, str] = dict(sources or {})

    def country(self, location: str) -> str | None:
        """ISO alpha-2 country of ``provider:region``; None when not a known cloud region."""
        return self._countries.get(location)

    def region(self, location: str) -> Region | None:
        """The catalogue entry for ``provider:region``, or None."""
        return self._by_location.get(location)

    def regions(self, provider: str | None = None) -> list[Region]:
        """All regions (or one provider's), sorted by (provider, region)."""
        if provider is None:
            return list(self._regions)
        return [r for r in self._regions if r.provider == provider]

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` over the sorted ``provider,region,country`` rows."""
        return self._digest

    @property
    def sources(self) -> dict[str, str]:
        """Provider -> where its rows came from and when they were checked."""
        return dict(self._sources)

    def __len__(self) -> int:
        return len(self._regions)

    def __repr__(self) -> str:
        return f"CloudCatalogue({len(self._regions)} regions, {self._digest[:19]}…)"


def _validate(entry: Region) -> None:
    if entry.provider not in PROVIDERS:
        raise ValueError(f"unknown cloud provider {entry.provider!r}")
    if not _REGION_RE.fullmatch(entry.region):
        raise ValueError(f"malformed region name {entry.location!r}")
    if not _COUNTRY_RE.fullmatch(entry.country):
        raise ValueError(f"{entry.location}: {entry.country!r} is not an ISO alpha-2 code")


def _data_dir() -> Traversable:
    return resources.files("auditor.locations").joinpath("data")


def read_region_table(filename: str) -> RegionTable:
    """Parse one shipped ``region,country,name`` CSV; malformed files raise ValueError."""
    text = _data_dir().joinpath(filename).read_text(encoding="utf-8")
    checked = ""
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            match = _CHECKED_RE.match(line)
            if match:
                checked = match.group(1)
        elif line.strip():
            body.append(line)
    if not checked:
        raise ValueError(f"{filename}: header lacks a '# checked: YYYY-MM-DD' line")
    reader = csv.reader(body, strict=True)
    header = next(reader, None)
    if header != _HEADER:
        raise ValueError(f"{filename}: expected header {_HEADER}, got {header}")
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        if len(row) != len(_HEADER):
            raise ValueError(f"{filename}: data row {number} has {len(row)} columns")
        region, country, name = (cell.strip() for cell in row)
        if region in seen:
            raise ValueError(f"{filename}: region {region!r} appears twice")
        seen.add(region)
        rows.append((region, country, name))
    return RegionTable(filename=filename, checked=checked, rows=tuple(rows))


def _botocore_endpoints() -> tuple[dict[str, Any], str]:
    # Read the file straight from the installed package rather than through botocore's
    # loader, whose search path also honours ~/.aws/models overrides on the host.
    data = resources.files("botocore").joinpath("data")
    plain = data.joinpath("endpoints.json")
    if plain.is_file():
        raw = plain.read_bytes()
        name = "endpoints.json"
    else:
        # Some botocore releases ship their data files gzip-compressed.
        raw = gzip.decompress(data.joinpath("endpoints.json.gz").read_bytes())
        name = "endpoints.json.gz"
    loaded = json.loads(raw)
    if not isinstance(loaded, dict):
        raise ValueError(f"botocore {name} is not a JSON object")
    return loaded, name


def botocore_aws_regions(endpoints: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Region -> description for every region of the public AWS partitions botocore knows."""
    if endpoints is None:
        endpoints, _ = _botocore_endpoints()
    regions: dict[str, str] = {}
    for partition in endpoints.get("partitions", []):
        if partition.get("partition") not in AWS_PARTITIONS:
            continue
        for region, info in partition.get("regions", {}).items():
            regions[str(region)] = str(info.get("description", ""))
    return regions


def botocore_partitions() -> list[str]:
    """Every partition id in botocore's endpoint data, included or not."""
    endpoints, _ = _botocore_endpoints()
    return [str(p.get("partition")) for p in endpoints.get("partitions", [])]


def _aws_regions(table: RegionTable, endpoints: Mapping[str, Any]) -> list[Region]:
    known = {region: (country, name) for region, country, name in table.rows}
    out: list[Region] = []
    for region, description in botocore_aws_regions(endpoints).items():
        # A botocore region without a CSV row stays unknown: fail closed, never guess.
        if region in known:
            country, name = known[region]
            out.append(Region("aws", region, country, name or description))
    return out


@functools.cache
def load_catalogue() -> CloudCatalogue:
    """The shipped catalogue: botocore's AWS regions plus the Azure and GCP tables."""
    aws = read_region_table(AWS_TABLE)
    azure = read_region_table(AZURE_TABLE)
    gcp = read_region_table(GCP_TABLE)
    endpoints, endpoints_name = _botocore_endpoints()
    regions = _aws_regions(aws, endpoints)
    regions += [Region("azure", r, c, n) for r, c, n in azure.rows]
    regions += [Region("gcp", r, c, n) for r, c, n in gcp.rows]
    here = "auditor/locations/data/"
    sources = {
        "aws": (
            f"botocore {metadata.version('botocore')} {endpoints_name} + {here}{AWS_TABLE}"
            f" (checked {aws.checked})"
        ),
        "azure": (
            f"{here}{AZURE_TABLE} from Microsoft Azure geographies / az account list-locations"
            f" (checked {azure.checked})"
        ),
        "gcp": (f"{here}{GCP_TABLE} from Google Cloud 'Regions and zones' (checked {gcp.checked})"),
    }
    return CloudCatalogue(regions, sources)
