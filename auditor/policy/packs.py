"""The seed packs that ship with auditor, named by their id (`--policy natterbox`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_PACKS = "_packs"  # a link to the repository's policies/ folder, packaged with the code


def packs_dir() -> Path:
    return Path(str(resources.files("auditor") / _PACKS))


def pack_names() -> list[str]:
    """The shipped packs: ``natterbox``, …, ``examples/gdpr-transfers`` (not the suites, nor
    the fragments a pack includes: a pack names its company)."""
    root = packs_dir()
    return sorted(
        str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml")
        if not p.name.endswith(".tests.yaml") and _is_pack(p)
    )


def _is_pack(path: Path) -> bool:
    return any(line.startswith("company:") for line in path.read_text().splitlines())


def resolve_policy(value: str | Path) -> Path:
    """The policy file ``value`` names: a path as given if it exists, else a shipped pack
    of that name. An unknown name comes back as given, for the loader to report."""
    path = Path(value)
    if path.exists():
        return path
    name = str(value).removesuffix(".yaml")
    shipped = packs_dir() / f"{name}.yaml"
    if name in pack_names() and shipped.is_file():
        return shipped
    return path
