"""`auditor policy validate` and `auditor policy test`: checking packs and running their suites."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from auditor.cli.common import cell, policy_root_option
from auditor.engine import Engine
from auditor.legal import LegalTablesError
from auditor.policy import PolicyError, load_policy
from auditor.policy.packs import resolve_policy
from auditor.suites import SuiteError, discover, run_suite
from auditor.suites.runner import SUITE_SUFFIX, load_suite


@click.group()
def policy() -> None:
    """Validate policy packs and run their test suites."""


@policy.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@policy_root_option
def validate(files: tuple[str, ...], policy_roots: tuple[Path, ...]) -> None:
    """Load each policy file and report every error (file, line, rule, what to change).

    A suite file (*.tests.yaml) is checked as a suite: its format, and that its policy
    loads (`auditor policy test` runs it). A file another pack given here includes (such
    as a `*.declared.yaml`) is checked as part of that pack. Exit status: 0 all valid, 1
    at least one invalid.
    """
    failed = 0
    packs: dict[str, Engine | PolicyError | LegalTablesError] = {}
    for name in files:
        if name.endswith(SUITE_SUFFIX):
            try:
                src, engine = load_suite(Path(name), policy_roots)
            except SuiteError as exc:
                failed += 1
                click.echo(f"FAIL {name}\n{exc}", err=True)
                continue
            click.echo(f"ok   {name}: suite of policy {engine.policy.id}, "
                       f"{len(src.data['cases'])} cases (run it: auditor policy test {name})")
            continue
        try:
            packs[name] = Engine(load_policy(resolve_policy(name), roots=policy_roots))
        except (PolicyError, LegalTablesError) as exc:
            packs[name] = exc
    included = _included_by(packs)
    for name, loaded in packs.items():
        includer = included.get(Path(name).resolve())
        if includer is not None:
            click.echo(f"ok   {name}: included by {includer} (checked as part of it)")
        elif isinstance(loaded, Engine):
            p = loaded.policy
            click.echo(
                f"ok   {name}: policy {p.id}, {len(p.rules)} rules, {len(p.exceptions)} "
                f"exceptions, {loaded.version}"
            )
        else:
            failed += 1
            click.echo(f"FAIL {name}\n{loaded}", err=True)
    sys.exit(1 if failed else 0)


def _included_by(packs: dict[str, Engine | PolicyError | LegalTablesError]) -> dict[Path, str]:
    """Each file a pack that loaded includes -> that pack's name (its top file apart)."""
    out: dict[Path, str] = {}
    for name, loaded in packs.items():
        if isinstance(loaded, Engine):
            top = resolve_policy(name).resolve()
            for f in loaded.policy.files:
                if Path(f).resolve() != top:
                    out.setdefault(Path(f).resolve(), name)
    return out


@policy.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--verbose", "-v", is_flag=True, help="List passing cases too.")
@policy_root_option
def test(path: str, verbose: bool, policy_roots: tuple[Path, ...]) -> None:
    """Run the suites at PATH (a *.tests.yaml file, or a folder searched recursively).

    Exit status: 0 all cases pass, 1 a case fails, 2 a suite or its policy cannot be loaded.
    """
    suites = discover(Path(path))
    if not suites:
        click.echo(f"no *.tests.yaml suites under {path}", err=True)
        sys.exit(2)
    console = Console(width=200 if not sys.stdout.isatty() else None)
    table = Table("suite", "case", "line", "expected", "got", "result")
    totals = {"pass": 0, "fail": 0}
    broken = 0
    per_suite: list[tuple[str, int, int]] = []
    for suite in suites:
        try:
            results = run_suite(suite, roots=policy_roots)
        except SuiteError as exc:
            broken += 1
            click.echo(f"ERROR {suite}: {exc}", err=True)
            continue
        passed = sum(r.passed for r in results)
        per_suite.append((str(suite), passed, len(results) - passed))
        for r in results:
            totals["pass" if r.passed else "fail"] += 1
            if verbose or not r.passed:
                table.add_row(*map(cell, (
                    Path(r.suite).name,
                    r.name,
                    str(r.line),
                    r.expected,
                    r.got,
                    "PASS" if r.passed else "FAIL: " + "; ".join(r.problems),
                )))
    if table.row_count:
        console.print(table)
    summary = Table("suite", "passed", "failed", title="policy test")
    for name, ok, bad in per_suite:
        summary.add_row(cell(name), str(ok), str(bad))
    console.print(summary)
    console.print(f"{totals['pass']} passed, {totals['fail']} failed")
    sys.exit(2 if broken else (1 if totals["fail"] else 0))
