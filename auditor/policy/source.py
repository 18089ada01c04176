"""Reading policy YAML into plain values while remembering the line of every node."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from auditor.policy.errors import PolicyIssue, Where

PathKey = tuple[str | int, ...]


@dataclass
class Source:
    """One policy file: its plain data and the line of each node by path."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def where(self, path: PathKey) -> Where:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return Where(self.file, line)
        return Where(self.file, 1)


def _plain(node: Any, path: PathKey, lines: dict[PathKey, int]) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            child = (*path, str(key))
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                lines[child] = node.lc.key(key)[0] + 1
            out[str(key)] = _plain(value, child, lines)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                lines[(*path, i)] = node.lc.item(i)[0] + 1
            items.append(_plain(value, (*path, i), lines))
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, datetime):
        return node.isoformat()
    if isinstance(node, date):
        return node.isoformat()
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def read_source(path: Path, shown: str) -> Source | PolicyIssue:
    """Parse one YAML file; a syntax error comes back as a located issue."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PolicyIssue(Where(shown), "file not found")
    except (OSError, UnicodeDecodeError) as exc:
        return PolicyIssue(Where(shown), f"cannot read file: {exc}")
    yaml = YAML(typ="rt")
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        return PolicyIssue(Where(shown, line), f"not valid YAML: {exc.problem or exc.context}")
    except YAMLError as exc:
        return PolicyIssue(Where(shown), f"not valid YAML: {exc}")
    lines: dict[PathKey, int] = {(): 1}
    data = _plain(doc, (), lines)
    return Source(shown, data, lines)
