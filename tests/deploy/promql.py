"""Just enough PromQL lexing to list the metric selectors and grouping labels of an expression.

Not a parser: syntax is checked by a real Prometheus (see conftest.py). This only answers "which
metric names, matcher labels and values, and grouping labels does this expression use", so tests can
compare them with what the daemon exports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    | (?P<number>(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:ms|[smhdwy])*)
    | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
    | (?P<op>==|!=|=~|!~|>=|<=|[-+*/%^<>=,:(){}\[\]@])
    """,
    re.VERBOSE,
)

GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
AGGREGATIONS = {
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "group_left", "group_right", "atan2"}


@dataclass
class Selector:
    name: str
    matchers: list[tuple[str, str, str]] = field(default_factory=list)  # (label, op, value)


@dataclass
class Usage:
    selectors: list[Selector] = field(default_factory=list)
    grouping_labels: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)


def tokens(expr: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            raise ValueError(f"cannot lex {expr[pos : pos + 20]!r} in {expr!r}")
        kind = m.lastgroup
        assert kind is not None
        if kind != "ws":
            out.append((kind, m.group()))
        pos = m.end()
    return out


def _unquote(s: str) -> str:
    if s[0] == "`":
        return s[1:-1]
    return bytes(s[1:-1], "utf-8").decode("unicode_escape")


def usage(expr: str) -> Usage:
    toks = tokens(expr)
    result = Usage()
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if kind == "op" and text == "[":
            while i < len(toks) and toks[i][1] != "]":  # range or subquery: durations only
                i += 1
        elif kind == "op" and text == "{":
            raise ValueError(f"selector without a metric name in {expr!r}")
        elif kind == "ident" and text in GROUPING and nxt == "(":
            i += 2
            while toks[i][1] != ")":
                if toks[i][0] == "ident":
                    result.grouping_labels.add(toks[i][1])
                i += 1
        elif kind == "ident" and (nxt == "(" or text in AGGREGATIONS):
            result.functions.add(text)
        elif kind == "ident" and text not in KEYWORDS:
            selector = Selector(text)
            if nxt == "{":
                i += 2
                while toks[i][1] != "}":
                    if toks[i][1] == ",":
                        i += 1
                        continue
                    (_, label), (_, op), (vkind, value) = toks[i], toks[i + 1], toks[i + 2]
                    if vkind != "string":
                        raise ValueError(f"matcher {label}{op}{value} in {expr!r}")
                    selector.matchers.append((label, op, _unquote(value)))
                    i += 3
            result.selectors.append(selector)
        i += 1
    return result


def label_values_selector(query: str) -> str:
    """The selector inside a Grafana `label_values(SELECTOR, label)` variable query."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)\s*", query)
    if m is None:
        raise ValueError(f"not a label_values() query: {query!r}")
    return m.group(1)


def literal_alternatives(regex: str) -> list[str] | None:
    """`a|b|c` as its words; None when the regex is more than an alternation of literals."""
    words = regex.split("|")
    if all(re.fullmatch(r"[A-Za-z0-9_]+", w) for w in words):
        return words
    return None
