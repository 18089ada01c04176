"""auditor-emit, the light distribution: what it ships is what the emitter imports, no more.

tests/integration/test_emit_package.py builds and installs it; this checks, statically and
fast, that a change to the emitter cannot quietly make it need more than it ships.
"""

from __future__ import annotations

import ast
import os
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "packages" / "auditor-emit"
# Import names of the light distribution's dependencies.
IMPORT_NAMES = {"confluent-kafka": "confluent_kafka", "orjson": "orjson", "msgspec": "msgspec"}


def _project(path: Path) -> tuple[str, list[Requirement]]:
    """(version, dependencies) of a pyproject.toml."""
    project = tomllib.loads(path.read_text("utf-8"))["project"]
    return str(project["version"]), [Requirement(spec) for spec in project["dependencies"]]


def _shipped() -> dict[str, Path]:
    """Module name → the repository file behind it, for every module auditor-emit ships."""
    modules = {}
    # os.walk, not Path.rglob: only it follows the links to directories (auditor/events).
    for folder, _dirs, files in os.walk(PACKAGE / "auditor", followlinks=True):
        for file in files:
            if not file.endswith(".py"):
                continue
            path = Path(folder) / file
            parts = path.relative_to(PACKAGE).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path.resolve()
    return modules


def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports when it runs (``if TYPE_CHECKING:`` blocks left out)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                # `from auditor import kafka_config` imports a module, not a name.
                found.update(
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if _module_file(f"{node.module}.{alias.name}") is not None
                )
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    visit([c for c in children if isinstance(c, ast.stmt)])

    visit(ast.parse(path.read_text("utf-8")).body)
    return found


def _closure(start: str) -> tuple[set[str], set[str]]:
    """(auditor modules, other top-level modules) that importing ``start`` runs."""
    ours: set[str] = set()
    others: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        if parts[0] != "auditor":
            others.add(parts[0])
            continue
        # Importing a.b.c runs a/__init__, a/b/__init__ and then a/b/c.
        for depth in range(1, len(parts) + 1):
            module = ".".join(parts[:depth])
            path = _module_file(module)
            if module in ours or path is None:
                continue
            ours.add(module)
            todo.extend(_imports(path))
    return ours, others


def test_it_ships_every_module_the_emitter_imports() -> None:
    ours, others = _closure("auditor.emit")
    shipped = _shipped()
    missing = sorted(ours - set(shipped))
    assert not missing, (
        f"auditor.emit now imports {missing}: link each into packages/auditor-emit/auditor/ "
        "(if it may depend on what it imports), or keep the emitter from importing it"
    )
    third_party = others - set(sys.stdlib_module_names) - {"__future__"}
    allowed = {IMPORT_NAMES[d.name] for d in _project(PACKAGE / "pyproject.toml")[1]}
    assert third_party <= allowed, f"auditor.emit imports {third_party - allowed} at run time"


def test_it_is_the_same_code_not_a_copy() -> None:
    for path in (PACKAGE / "auditor").iterdir():
        assert path.is_symlink() or path.is_dir(), f"{path}: link it to the main tree, not a copy"
    for name, target in _shipped().items():
        assert target.is_relative_to(ROOT / "auditor"), (name, target)
    schema = (PACKAGE / "auditor" / "_schemas" / "lineage-event-v1.schema.json").resolve()
    assert schema == ROOT / "schemas" / "lineage-event-v1.schema.json"


def test_it_is_the_same_release_with_the_same_requirements() -> None:
    (light_version, light_deps), (version, deps) = (
        _project(PACKAGE / "pyproject.toml"),
        _project(ROOT / "pyproject.toml"),
    )
    assert light_version == version
    specs = {d.name: str(d) for d in deps}
    for requirement in light_deps:
        assert specs[requirement.name] == str(requirement), requirement.name
