"""`auditor traffic`: write a seed pack's synthetic traffic sample with its expected counts."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from auditor.traffic import PACKS, Expected, generate, load_pack


@click.command()
@click.argument("pack", type=click.Choice(PACKS))
@click.option("-n", "--count", default=1000, show_default=True, help="Number of events.")
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same file).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="-",
    help="JSONL file to write (default stdout).",
)
@click.option(
    "--expected",
    "expected_path",
    type=click.Path(dir_okay=False),
    help="Also write the expected verdict and violation counts as JSON.",
)
def traffic(pack: str, count: int, seed: int, output: str, expected_path: str | None) -> None:
    """Generate realistic lineage events for PACK, each flow drawn from its notice."""
    expected = Expected()
    events = generate(load_pack(pack), count, seed=seed, expected=expected)
    if output == "-":
        sys.stdout.buffer.writelines(orjson.dumps(e) + b"\n" for e in events)
    else:
        with Path(output).open("wb") as out:
            out.writelines(orjson.dumps(e) + b"\n" for e in events)
    if expected_path:
        data = {"pack": pack, "events": count, "seed": seed, **expected.as_dict()}
        Path(expected_path).write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
