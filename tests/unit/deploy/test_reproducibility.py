"""The lock file covers pyproject.toml and CI uses it; the images are pinned as the docs say."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[3]
LOCK = ROOT / "requirements.lock"
DOC = ROOT / "docs" / "reproducibility.md"


def _locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text("utf-8").splitlines():
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line.strip())
        if match:
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_the_lock_pins_every_runtime_and_test_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    pins = _locked()
    for spec in wanted:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"requirements.lock has no {name}: regenerate it (see {DOC.name})"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, pyproject.toml wants {spec}"
        )
    header = LOCK.read_text("utf-8").splitlines()[1]
    assert "uv pip compile pyproject.toml --extra test --python-version 3.11" in header


def test_ci_runs_the_readme_test_command_with_the_lock() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    command = next(line for line in readme.splitlines() if "pytest -q" in line)
    ci = (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
    assert command in ci
    export = 'export PIP_CONSTRAINT="$PWD/requirements.lock"'
    assert export in ci
    assert ci.index(export) < ci.index(command)


def _image_refs() -> dict[str, str]:
    """Where → image reference, for the Dockerfile's base and every pulled compose image."""
    refs: dict[str, str] = {}
    for line in (ROOT / "Dockerfile").read_text("utf-8").splitlines():
        if line.startswith("FROM "):
            refs["Dockerfile"] = line.split()[1]
    compose = YAML(typ="safe", pure=True).load((ROOT / "docker-compose.yml").read_text("utf-8"))
    for name, service in compose["services"].items():
        if "build" not in service:  # built images are tagged locally, never pulled
            refs[name] = service["image"]
    return refs


def test_images_are_pinned_as_the_docs_say() -> None:
    doc = DOC.read_text("utf-8")
    for where, ref in _image_refs().items():
        image, _, digest = ref.partition("@")
        assert re.fullmatch(r"[a-z0-9./-]+:v?\d+(\.\d+)+(-slim)?", image), f"{where}: {ref}"
        if digest:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{where}: {ref}"
            assert f"`{image}@{digest[:15]}…`" in doc, f"{where}: {ref} not in {DOC.name}"
        else:
            assert f"`{image}` (tag only" in doc, f"{where}: {ref} not in {DOC.name}"
