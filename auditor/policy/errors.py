"""Located policy errors: every one names the file, the line, the rule and what to change."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a policy file (line is 1-based; 0 when unknown)."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    where: Where
    message: str
    rule: str | None = None
    path: str = ""
    # What ``rule`` names: a rule (or an exception's rule), or a declared flow.
    label: str = "rule"

    def __str__(self) -> str:
        parts = [str(self.where)]
        if self.rule:
            parts.append(f"{self.label} '{self.rule}'")
        if self.path:
            parts.append(self.path)
        return ": ".join(parts) + ": " + self.message


class PolicyError(Exception):
    """A policy failed to load; ``issues`` holds every problem found, in file order."""

    def __init__(self, issues: list[PolicyIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.where.file, i.where.line, i.message))
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.issues)
        head = f"policy failed to load: {count} error{'s' if count != 1 else ''}"
        return "\n".join([head, *(f"  {issue}" for issue in self.issues)])
