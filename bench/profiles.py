"""The summary of a cProfile run of row (b): its top functions by own time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

TOP = 15


def summarise_cprofile(path: Path) -> dict[str, Any]:
    """The first lines of a pstats report sorted by own time (the text file has both sorts)."""
    lines = path.read_text().splitlines()
    rows = [ln.strip() for ln in lines if re.match(r"^\s+\d+(/\d+)?\s+\d", ln)]
    return {"file": str(path), "top_tottime": rows[:TOP]}
