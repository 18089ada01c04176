"""ISO 3166-1 alpha-2 country codes, for checking `country:` locations and policy facts."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def iso_countries() -> frozenset[str]:
    text = (resources.files("auditor.legal") / "data" / "iso3166-1-alpha2.txt").read_text()
    return frozenset(
        code for line in text.splitlines() if not line.startswith("#") for code in line.split()
    )
