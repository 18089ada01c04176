"""Rebuilds data/regions.csv, the shipped cloud region catalogue, from botocore and sources/.

Run from a checkout with botocore installed (``pip install -e '.[regions]'``; the test
extra has it too, pinned by requirements.lock)::

    python -m auditor.locations.regenerate          # rewrite data/regions.csv
    python -m auditor.locations.regenerate --check  # exit 1 if it is not what this makes

AWS regions are those of botocore's endpoint data in the public partitions, each needing a
country row in ``sources/aws-region-countries.csv`` (botocore has no country field); Azure
and GCP have no installable source, so their tables in ``sources/`` are kept by hand.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from auditor.locations.catalogue import (
    CATALOGUE_FILE,
    CloudCatalogue,
    Region,
    format_catalogue,
    parse_catalogue,
)

HERE = Path(__file__).resolve().parent
SOURCES_DIR = HERE / "sources"
CATALOGUE_PATH = HERE / "data" / CATALOGUE_FILE

# Public partitions only: the classified aws-iso* partitions are out of scope.
AWS_PARTITIONS: frozenset[str] = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-eusc"})
EXCLUDED_PARTITION_PREFIX = "aws-iso"

AWS_TABLE = "aws-region-countries.csv"
AZURE_TABLE = "azure-regions.csv"
GCP_TABLE = "gcp-regions.csv"
TABLES = (AWS_TABLE, AZURE_TABLE, GCP_TABLE)

_HEADER = ["region", "country", "name"]
_CHECKED_RE = re.compile(r"#\s*checked:\s*(\d{4}-\d{2}-\d{2})\s*$")


class RegenerateError(Exception):
    """The sources disagree with botocore; the message lists every problem and its fix."""


@dataclass(frozen=True, slots=True)
class RegionTable:
    """The rows of one source CSV file and the date its header says it was checked."""

    filename: str
    checked: str
    rows: tuple[tuple[str, str, str], ...]  # (region, country, name)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """botocore's endpoint data and what names it in a catalogue's source line."""

    data: Mapping[str, Any]
    label: str  # e.g. "botocore 1.44.8 endpoints.json"


def read_region_table(path: Path) -> RegionTable:
    """Parse one ``region,country,name`` source CSV; malformed files raise ValueError."""
    filename = path.name
    checked = ""
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
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


def installed_botocore() -> Endpoints:
    """The endpoint data of the installed botocore (ModuleNotFoundError if there is none)."""
    # Read the file straight from the package rather than through botocore's loader, whose
    # search path also honours ~/.aws/models overrides on the host.
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
    return Endpoints(loaded, f"botocore {metadata.version('botocore')} {name}")


def partitions(endpoints: Mapping[str, Any]) -> list[str]:
    """Every partition id in botocore's endpoint data, included or not."""
    return [str(p.get("partition")) for p in endpoints.get("partitions", [])]


def aws_regions(endpoints: Mapping[str, Any]) -> dict[str, str]:
    """Region -> description for every region of the public AWS partitions."""
    regions: dict[str, str] = {}
    for partition in endpoints.get("partitions", []):
        if partition.get("partition") not in AWS_PARTITIONS:
            continue
        for region, info in partition.get("regions", {}).items():
            regions[str(region)] = str(info.get("description", ""))
    return regions


def build(endpoints: Endpoints, tables: Mapping[str, RegionTable]) -> CloudCatalogue:
    """The catalogue of botocore's AWS regions (countries from the AWS table) plus the
    Azure and GCP tables; ``tables`` is keyed by file name.

    Raises RegenerateError listing every partition neither included nor excluded, every
    botocore region without a country row, and every row botocore does not know.
    """
    problems: list[str] = []
    unknown = [
        p
        for p in partitions(endpoints.data)
        if p not in AWS_PARTITIONS and not p.startswith(EXCLUDED_PARTITION_PREFIX)
    ]
    if unknown:
        problems.append(
            f"botocore has partitions neither included nor excluded: {', '.join(unknown)}"
            " (add each to AWS_PARTITIONS or leave it out on purpose)"
        )
    aws = tables[AWS_TABLE]
    known = {region: (country, name) for region, country, name in aws.rows}
    regions = aws_regions(endpoints.data)
    missing = sorted(set(regions) - set(known))
    if missing:
        problems.append(
            f"{AWS_TABLE} has no country for these botocore regions (add a row each): "
            + ", ".join(f"{r} ({regions[r]})" for r in missing)
        )
    stale = sorted(set(known) - set(regions))
    if stale:
        problems.append(
            f"{AWS_TABLE} has rows for regions {endpoints.label} does not know "
            f"(a typo, or a region AWS retired): {', '.join(stale)}"
        )
    if problems:
        raise RegenerateError("\n".join(problems))
    rows = [Region("aws", r, known[r][0], known[r][1] or regions[r]) for r in regions]
    azure, gcp = tables[AZURE_TABLE], tables[GCP_TABLE]
    rows += [Region("azure", r, c, n) for r, c, n in azure.rows]
    rows += [Region("gcp", r, c, n) for r, c, n in gcp.rows]
    partitions_used = ", ".join(sorted(AWS_PARTITIONS))
    sources = {
        "aws": (
            f"{endpoints.label} (partitions {partitions_used}) + {AWS_TABLE}"
            f" (checked {aws.checked})"
        ),
        "azure": (
            f"{AZURE_TABLE} from Microsoft Azure geographies / az account list-locations"
            f" (checked {azure.checked})"
        ),
        "gcp": f"{GCP_TABLE} from Google Cloud 'Regions and zones' (checked {gcp.checked})",
    }
    return CloudCatalogue(rows, sources)


def generate(endpoints: Endpoints | None = None, sources_dir: Path = SOURCES_DIR) -> str:
    """The text data/regions.csv should hold, from ``endpoints`` (default: the installed
    botocore's) and the tables in ``sources_dir``."""
    tables = {name: read_region_table(sources_dir / name) for name in TABLES}
    return format_catalogue(build(endpoints or installed_botocore(), tables))


def describe_change(old: CloudCatalogue, new: CloudCatalogue) -> list[str]:
    """What a reviewer needs to know about replacing ``old`` by ``new``, one line each."""
    before = {r.location: r for r in old.regions()}
    after = {r.location: r for r in new.regions()}
    lines = [f"added {loc} ({after[loc].country})" for loc in sorted(after.keys() - before)]
    lines += [f"removed {loc}" for loc in sorted(before.keys() - after)]
    lines += [
        f"moved {loc}: {before[loc].country} -> {after[loc].country}"
        for loc in sorted(before.keys() & after)
        if before[loc].country != after[loc].country
    ]
    if old.digest != new.digest:
        lines.append(
            f"version {old.digest} -> {new.digest}: every decision's policy.version changes"
        )
    lines += [
        f"source {p}: {new.sources.get(p)}"
        for p in sorted(new.sources)
        if old.sources.get(p) != new.sources.get(p)
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m auditor.locations.regenerate",
        description="Rebuild data/regions.csv from botocore and sources/.",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if the file is out of date"
    )
    args = parser.parse_args(argv)
    try:
        text = generate()
    except ModuleNotFoundError:
        print("botocore is not installed: pip install -e '.[regions]'", file=sys.stderr)
        return 2
    except (RegenerateError, ValueError) as exc:
        print(f"cannot regenerate {CATALOGUE_FILE}:\n{exc}", file=sys.stderr)
        return 1
    current = CATALOGUE_PATH.read_text(encoding="utf-8") if CATALOGUE_PATH.exists() else None
    if text == current:
        print(f"{CATALOGUE_PATH.name} is up to date")
        return 0
    new = parse_catalogue(text)
    try:
        changes = ["a new file"] if current is None else describe_change(
            parse_catalogue(current), new
        )
    except ValueError as exc:
        changes = [f"the current file does not load ({exc})"]
    for line in changes or ["header or names only"]:
        print(line)
    if args.check:
        print(f"{CATALOGUE_PATH} is out of date: run python -m auditor.locations.regenerate",
              file=sys.stderr)
        return 1
    CATALOGUE_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {CATALOGUE_PATH} ({len(new)} regions, version {new.digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
