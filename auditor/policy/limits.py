"""How much one policy pack may hold: the bounds that keep a hostile pack from stalling us."""

from __future__ import annotations

from dataclasses import dataclass, field

# The seed packs are far inside these bounds (docs/policy-format.md): natterbox.yaml, the
# largest, is one file of 37 KB, ~1,600 values, nested 6 levels deep, with no alias.


@dataclass(frozen=True, slots=True)
class PolicyLimits:
    """Bounds on one pack: the top file and every file it includes, counted together."""

    # Bytes of YAML read (a larger file is refused before it is parsed).
    max_bytes: int = 2 * 1024 * 1024
    # Files read: the top file and its includes, each time it is included.
    max_files: int = 64
    # Nesting of mappings and lists (a deeper document is refused while it is parsed).
    max_depth: int = 32
    # Uses of an alias (``*name``).
    max_aliases: int = 1_000
    # Values (mappings, lists, keys, scalars) once every alias is expanded: an alias
    # costs as many values as the node it names, so nested aliases cannot multiply.
    max_values: int = 200_000


LIMITS = PolicyLimits()


@dataclass(slots=True)
class Budget:
    """What is left of ``limits`` while one pack is being read."""

    limits: PolicyLimits = field(default=LIMITS)
    bytes: int = 0
    files: int = 0
    aliases: int = 0
    values: int = 0

    def __post_init__(self) -> None:
        self.bytes = self.limits.max_bytes
        self.files = self.limits.max_files
        self.aliases = self.limits.max_aliases
        self.values = self.limits.max_values
