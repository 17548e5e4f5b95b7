"""A small, honest subset of Compute's list `filter` syntax.

Supported: terms `field OP value`, optionally parenthesised, joined by spaces or `AND`;
OP is `=`, `!=`, `:` (`:*` tests presence), or the legacy regular-expression `eq`/`ne`.
`field` is a dotted path (`labels.env`, `status`); a list field matches when any
element does. Anything else (OR, NOT, `<`, `>`) is answered 400 rather than silently
ignored, so a collector never receives an unfiltered list it believes is filtered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from monitor.standin.replies import ApiError

Predicate = Callable[[Mapping[str, Any]], bool]
_TERM = re.compile(
    r"""\s*(?:AND\s+)?(\()?\s*
    (?P<field>[A-Za-z_][A-Za-z0-9_.]*)\s*
    (?P<op>!=|=|:|\beq\b|\bne\b)\s*
    (?P<value>"(?:[^"\\]|\\.)*"|[^\s()"]+)\s*
    (?(1)\))\s*""",
    re.VERBOSE,
)


def _unsupported(text: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid value for field 'filter': '{text}'. The stand-in supports terms "
        "`field =|!=|:|eq|ne value`, optionally in parentheses, joined by AND.",
        reason="invalid",
    )


def _lookup(resource: Mapping[str, Any], field: str) -> list[str] | None:
    value: Any = resource
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    values = value if isinstance(value, list) else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]


def _term(field: str, op: str, raw: str) -> Predicate:
    value = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
    if op in ("eq", "ne"):
        try:
            pattern = re.compile(value)
        except re.error:
            raise ApiError(400, f"Invalid value for field 'filter': bad regular expression {value!r}") from None
        want = op == "eq"
        return lambda r: want == any(pattern.fullmatch(v) for v in (_lookup(r, field) or []))
    if op == ":" and value == "*":
        return lambda r: _lookup(r, field) is not None
    if op == "!=":
        return lambda r: value not in (_lookup(r, field) or [])
    return lambda r: value in (_lookup(r, field) or [])


def compile_filter(text: str | None) -> Predicate:
    """A predicate over resources for a Compute `filter`, or ApiError 400 if unsupported."""
    if not text or not text.strip():
        return lambda r: True
    terms: list[Predicate] = []
    pos = 0
    while pos < len(text):
        match = _TERM.match(text, pos)
        if not match or match.end() == pos:
            raise _unsupported(text)
        terms.append(_term(match.group("field"), match.group("op"), match.group("value")))
        pos = match.end()
    return lambda r: all(t(r) for t in terms)
