"""The benchmark's traffic: a seeded mix of the seed packs' generated events, as JSONL."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson

from auditor.traffic import PACKS, generate, load_pack

# Every seed pack; those without a traffic module or a policy yet are left out at run time.
DEFAULT_PACKS = PACKS
POLICIES = Path(__file__).resolve().parents[1] / "policies"


@dataclass(frozen=True)
class Traffic:
    """The lines of the traffic file and, for each, the index of its pack in ``packs``."""

    path: Path
    packs: tuple[str, ...]
    lines: list[bytes]
    pack_of: list[int]
    sha256: str

    def per_pack(self) -> dict[str, int]:
        counts = Counter(self.pack_of)
        return {pack: counts[i] for i, pack in enumerate(self.packs)}

    def lines_of(self, pack: str) -> list[bytes]:
        index = self.packs.index(pack)
        return [line for line, p in zip(self.lines, self.pack_of, strict=True) if p == index]


def loadable_packs(names: tuple[str, ...]) -> tuple[str, ...]:
    """The packs among ``names`` with a traffic module and a policy (others are skipped)."""
    out = []
    for name in names:
        try:
            load_pack(name)
        except (KeyError, ImportError):
            continue
        if (POLICIES / f"{name}.yaml").is_file():
            out.append(name)
    return tuple(out)


def build(path: Path, packs: tuple[str, ...], events: int, seed: int) -> Traffic:
    """Write ``events`` events (an equal share per pack, interleaved at random) to ``path``.

    Each pack's events keep their generated order (its rules that remember need it);
    the interleaving and every event are fixed by ``seed``.
    """
    shares = [events // len(packs) + (1 if i < events % len(packs) else 0)
              for i in range(len(packs))]
    streams = [
        iter(generate(load_pack(pack), share, seed=seed + i))
        for i, (pack, share) in enumerate(zip(packs, shares, strict=True))
    ]
    order = [i for i, share in enumerate(shares) for _ in range(share)]
    random.Random(seed).shuffle(order)
    lines = [orjson.dumps(next(streams[i])) for i in order]
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(data)
    return Traffic(path, packs, lines, order, hashlib.sha256(data).hexdigest())
