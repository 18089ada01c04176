"""Shared by several commands: load a policy or open input, with a clear message on failure."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.text import Text

from auditor.engine import Engine
from auditor.intake import Intake, Line, read_lines
from auditor.legal import LegalTablesError
from auditor.policy import PolicyError, load_policy
from auditor.policy.packs import pack_names, resolve_policy
from auditor.printable import printable
from auditor.stream.settings import Settings


def settings_or_exit(**overrides: Any) -> Settings:
    """Settings from ``AUDITOR_*`` variables with the given flags on top; exit 2 if invalid."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            what = f"setting {where}" if where else "settings"
            click.echo(f"error: {what}: {error['msg'].removeprefix('Value error, ')}", err=True)
        sys.exit(2)


def cell(text: str) -> Text:
    """A table cell of text that may come from events: escaped, and never rich markup."""
    return Text(printable(text))


def intake_or_exit() -> Intake:
    """The input layer with the limits of the settings (AUDITOR_MAX_EVENT_BYTES,
    AUDITOR_EVENT_TIME_MAX_AHEAD_S)."""
    settings = settings_or_exit()
    return Intake(settings.max_event_bytes, settings.event_time_max_ahead_s)

# The one definition of --policy-root, shared by every command that loads a policy.
policy_root_option = click.option(
    "--policy-root",
    "policy_roots",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder a policy's includes may come from besides the policy's own folder "
    "(repeatable) [worker: env AUDITOR_POLICY_ROOTS].",
)


def load_engine_or_exit(policy_path: str, roots: Iterable[Path] = ()) -> Engine:
    """The engine for ``policy_path``; on failure every error goes to stderr and exit 2.

    ``roots``: folders its includes may come from besides its own (``--policy-root``).
    """
    path = resolve_policy(policy_path)
    if not path.exists():
        click.echo(f"error: {policy_path}: no such policy file, and no shipped pack of that "
                   f"name (shipped: {', '.join(pack_names())})", err=True)
        sys.exit(2)
    try:
        return Engine(load_policy(path, roots=roots))
    except PolicyError as exc:
        click.echo(str(exc), err=True)
    except LegalTablesError as exc:
        click.echo(f"legal tables failed to load: {exc}", err=True)
    sys.exit(2)


def open_lines_or_exit(path: str, intake: Intake) -> Iterator[Line]:
    """The non-blank lines of ``path`` (each at most the intake's size limit in memory);
    exit 2 with a message if it cannot be opened."""
    if path != "-":
        p = Path(path)
        if not p.is_file():
            click.echo(f"error: no such events file: {path}", err=True)
            sys.exit(2)
        try:
            p.open("rb").close()
        except OSError as exc:
            click.echo(f"error: cannot read {path}: {exc.strerror}", err=True)
            sys.exit(2)
    return read_lines(path, intake.max_event_bytes)
