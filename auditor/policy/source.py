"""Reading policy YAML into plain values while remembering the line of every node."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

from auditor.files import FileRefused, FileTooLarge, read_regular_file
from auditor.policy.errors import PolicyIssue, Where
from auditor.policy.limits import Budget

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


# A file that declares itself one of ours; only such a file's text may be quoted back.
_DECLARED = re.compile(rb"(?m)^apiVersion:[ \t]*(['\"]?)auditor/v1\1[ \t]*(#.*)?\r?$")


class _Refused(Exception):
    """A limit was reached while composing; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _BoundedComposer(Composer):
    """ruamel's composer, spending the pack's budget on every value and alias it composes.

    An alias costs the values of the node it names (counted once, when that node was
    composed), so expanding nested aliases is paid for before any of it is built.
    """

    budget: Budget

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.budget = Budget()
        self.level = 0
        self.weights: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        budget = self.budget
        limits = budget.limits
        event = self.parser.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            node = self.anchors.get(event.anchor)
            if node is not None:  # else the composer's own "undefined alias" error
                budget.aliases -= 1
                if budget.aliases < 0:
                    raise _Refused(line, f"more than {limits.max_aliases:,} aliases (*name) in "
                                   "the pack (limit max_aliases): write the values out instead")
                weight = self.weights.get(id(node))
                if weight is None:
                    raise _Refused(line, "an alias inside the node it names (a recursive "
                                   "alias): a policy is a tree; remove the alias")
                self._spend(weight, line)
            return super().compose_node(parent, index)
        self.level += 1
        if self.level > limits.max_depth:
            raise _Refused(line, f"nested more than {limits.max_depth} levels deep (limit "
                           "max_depth): a policy needs fewer than 10; flatten this part")
        self._spend(1, line)
        before = budget.values
        node = super().compose_node(parent, index)
        self.level -= 1
        if event.anchor is not None:
            self.weights[id(node)] = before - budget.values + 1
        return node

    def _spend(self, values: int, line: int) -> None:
        self.budget.values -= values
        if self.budget.values < 0:
            limit = self.budget.limits.max_values
            raise _Refused(line, f"the pack holds more than {limit:,} values once its aliases "
                           "are expanded (limit max_values): use fewer or smaller aliases, or "
                           "split the pack")


def read_source(path: Path, shown: str, budget: Budget | None = None) -> Source | PolicyIssue:
    """Parse one YAML file within ``budget`` (what is left of the pack's limits).

    Never raises for a bad file: a file that is missing, not a regular file, too large,
    not UTF-8, not YAML or over a limit comes back as a located issue. The issue quotes
    the file's text only if the file declares ``apiVersion: auditor/v1``.
    """
    budget = budget if budget is not None else Budget()
    limits = budget.limits
    budget.files -= 1
    if budget.files < 0:
        return PolicyIssue(Where(shown), f"more than {limits.max_files} files in the pack "
                           "(limit max_files): include fewer files")
    try:
        raw = read_regular_file(path, budget.bytes)
    except FileNotFoundError:
        return PolicyIssue(Where(shown), "file not found")
    except FileTooLarge:
        return PolicyIssue(Where(shown), f"not read: more than the {budget.bytes:,} bytes left: "
                           f"a pack's files together may hold {limits.max_bytes:,} bytes "
                           "(limit max_bytes)")
    except FileRefused as exc:
        return PolicyIssue(Where(shown), f"not read: {exc}; a policy is a regular file")
    except OSError as exc:
        return PolicyIssue(Where(shown), f"cannot read file: {exc.strerror or exc}")
    budget.bytes -= len(raw)
    declared = _DECLARED.search(raw) is not None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return PolicyIssue(Where(shown, line), "not UTF-8 text: a policy is a UTF-8 YAML file")
    yaml = YAML(typ="rt")
    yaml.Composer = _BoundedComposer
    yaml.composer.budget = budget
    try:
        doc = yaml.load(text)
    except _Refused as exc:
        return PolicyIssue(Where(shown, exc.line), exc.message)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = str(exc.problem or exc.context)
        return PolicyIssue(Where(shown, line), "not valid YAML: " + _shown(problem, declared))
    except YAMLError as exc:
        return PolicyIssue(Where(shown), "not valid YAML: " + _shown(str(exc), declared))
    except ValueError as exc:
        # Python converts at most 4,300 digits to an int; a bad value has no mark here.
        what = ("a number of more than 4,300 digits (quote it to make it a string)"
                if "integer string conversion" in str(exc) else "a value cannot be read")
        return PolicyIssue(Where(shown), f"not valid YAML: {what}")
    lines: dict[PathKey, int] = {(): 1}
    data = _plain(doc, (), lines)
    return Source(shown, data, lines)


def _shown(problem: str, declared: bool) -> str:
    """``problem`` as it may be shown: what it quotes only from a file of ours."""
    first = problem.strip().splitlines()[0] if problem.strip() else "syntax error"
    if declared:
        return first
    # ruamel quotes the text at fault ("found undefined alias 'x'"): keep what precedes it.
    kept = re.split(r"['\"]", first, maxsplit=1)[0].rstrip(" ,:")
    return (kept or "syntax error") + " (not quoted: the file does not declare " \
        "apiVersion: auditor/v1)"
