"""PromQL helpers: Grafana's built-in variables, and the metric names an expression selects."""

from __future__ import annotations

import re

# Stand-ins for Grafana's interval variables and the dashboards' own (job, policy and
# instance: regex matchers, "All" matches everything), so an expression is plain PromQL.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "${__rate_interval}": "5m",
    "$__interval": "1m",
    "${__interval}": "1m",
    "$__range": "1h",
    "${__range}": "1h",
    "$job": ".*",
    "$policy": ".*",
    "$instance": ".*",
}

_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)"""
    r"|(?P<number>(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)[a-zA-Z]*)"
    r"|(?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.DOTALL,
)
# Words that are never metric names where they stand: operators, modifiers, literals.
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "start", "end"}
)
# Keywords followed by a parenthesised list of label names, not expressions.
_LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})


_VARIABLE = re.compile(r"\$(?:\{|\[\[|[A-Za-z_])")


class UnknownVariable(ValueError):
    """An expression uses a dashboard variable that has no stand-in."""


def substitute_variables(expr: str, values: dict[str, str] | None = None) -> str:
    """``expr`` with the dashboard variables replaced: by ``values`` where given (e.g. the
    exact range of a test), else by the stand-ins above.

    Raises UnknownVariable for any other ``$`` variable.
    """
    stand_ins = {**GRAFANA_VARIABLES, **(values or {})}
    for name in sorted(stand_ins, key=len, reverse=True):
        expr = expr.replace(name, stand_ins[name])
    # `$1` in a label_replace string is PromQL's own; Grafana expands `$name` even in strings.
    if _VARIABLE.search(expr):
        raise UnknownVariable(f"unknown dashboard variable in {expr!r}")
    return expr


def _tokens(expr: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(expr):
        kind = match.lastgroup or "other"
        if kind != "space":
            tokens.append((kind, match.group()))
    return tokens


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects (``foo`` in ``rate(foo{a="b"}[5m])``).

    Skips label names in matchers and in by/without/on/ignoring/group_* lists, function
    and aggregation names, keywords, strings, numbers and durations. Also finds names given
    as ``{__name__="..."}``.
    """
    tokens = _tokens(expr)
    names: set[str] = set()
    brace = bracket = 0
    skip_list_depth: int | None = None
    paren = 0
    for i, (kind, text) in enumerate(tokens):
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "other":
            if text == "{":
                brace += 1
            elif text == "}":
                brace -= 1
            elif text == "[":
                bracket += 1
            elif text == "]":
                bracket -= 1
            elif text == "(":
                paren += 1
            elif text == ")":
                if skip_list_depth == paren:
                    skip_list_depth = None
                paren -= 1
            continue
        if kind == "string" and brace and i >= 2 and tokens[i - 2][1] == "__name__":
            names.add(text[1:-1])
        if kind != "ident" or brace or bracket or skip_list_depth is not None:
            continue
        if text in _LABEL_LISTS and nxt == "(":
            skip_list_depth = paren + 1
            continue
        # A function or aggregation: `rate(`, `sum(`, `sum by (`.
        if nxt == "(" or nxt in _LABEL_LISTS or text in _KEYWORDS:
            continue
        names.add(text)
    return names
