"""A small, honest subset of the Logging query language, for `entries:list`.

Supported, because the drift poller and the evidence reader need it:
- comparisons `FIELD OP VALUE` where FIELD is a dotted LogEntry path (`logName`,
  `resource.type`, `resource.labels.project_id`, `protoPayload.methodName`, …), OP is
  `=`, `!=` or `:` (has: a substring, anywhere inside an object; `:*` tests presence),
  and VALUE a double-quoted string (with `\\"` escapes) or a bare word;
- on `timestamp` and `receiveTimestamp` also `>=`, `>`, `<=`, `<`, compared as instants
  (RFC 3339, and the `+0000` offsets google-cloud-logging writes);
- `AND`, `OR`, `NOT` and parentheses, with the language's own precedence: NOT binds
  tightest, then OR, then juxtaposition, then AND (`a OR b AND c` is `(a OR b) AND c`).

As the docs say, string comparisons ignore case. `!=` is `NOT =` (a missing field is
"not equal"). Everything else — global restrictions (a bare `"text"`), functions such
as `LOG_ID(…)` or `SEARCH(…)`, regular expressions, value groups `f=("a" OR "b")`,
ordering on other fields (severity) — is answered 400 naming the part, rather than
silently ignored, so a caller never receives entries it believes are filtered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.standin import rfc3339
from monitor.standin.replies import ApiError

Entry = Mapping[str, Any]
Predicate = Callable[[Entry], bool]
TIME_FIELDS = frozenset({"timestamp", "receiveTimestamp"})
_ORDERING = (">=", "<=", ">", "<")
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<paren>[()])
    | (?P<field>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_@][A-Za-z0-9_@]*)*)\s*
      (?P<op>>=|<=|!=|=~|!~|=|:|>|<)\s*
      (?P<value>"(?:[^"\\]|\\.)*"(?=[\s()]|$)|[^\s()"]+)
    | (?P<word>"(?:[^"\\]|\\.)*"|[^\s()]+)
    )""",
    re.VERBOSE,
)
_BARE_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
SUPPORTED = "FIELD = | != | : VALUE (and >=, >, <=, < on timestamp), joined by AND, OR, NOT and parentheses"


def unsupported(part: str, text: str) -> ApiError:
    """400 naming the part of `text` the stand-in cannot evaluate."""
    return ApiError(
        400,
        f"Unsupported filter: the stand-in cannot evaluate {part!r} in filter {text!r}. It supports {SUPPORTED}.",
        reason="invalid",
    )


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "AND", "OR", "NOT", "cmp"
    text: str
    field: str = ""
    op: str = ""
    value: str = ""


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise unsupported(text[pos:].strip(), text)
        pos = match.end()
        raw = match.group(0).strip()
        if match.group("paren"):
            found.append(_Token(match.group("paren"), raw))
        elif match.group("field"):
            found.append(_Token("cmp", raw, match.group("field"), match.group("op"), match.group("value")))
        elif match.group("word") in ("AND", "OR", "NOT"):
            found.append(_Token(match.group("word"), raw))
        else:
            raise unsupported(raw, text)
    return found


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def _instant(text: str) -> datetime | None:
    return rfc3339.parse(_BARE_OFFSET.sub(r"\1:\2", text.strip()))


def _lookup(entry: Entry, field: str) -> tuple[bool, Any]:
    value: Any = entry
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _leaves(value: Any) -> list[str]:
    """Every scalar inside `value`, as text (booleans as JSON writes them)."""
    if isinstance(value, Mapping):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def _comparison(token: _Token, text: str) -> Predicate:
    field, op, raw = token.field, token.op, token.value
    value = _unquote(raw)
    if op in ("=~", "!~"):
        raise unsupported(token.text, text)
    if field in TIME_FIELDS and op != ":":
        return _time_comparison(token, value, text)
    if op in _ORDERING:
        raise unsupported(token.text, text)
    wanted = value.lower()
    if op == ":":
        if raw == "*":
            return lambda e: _lookup(e, field)[0]

        def has(entry: Entry) -> bool:
            present, found = _lookup(entry, field)
            return present and any(wanted in leaf.lower() for leaf in _leaves(found))

        return has

    def equal(entry: Entry) -> bool:
        present, found = _lookup(entry, field)
        if not present or isinstance(found, Mapping | list):
            return False
        return _leaves(found)[0].lower() == wanted

    return equal if op == "=" else (lambda e: not equal(e))


def _time_comparison(token: _Token, value: str, text: str) -> Predicate:
    field, op = token.field, token.op
    bound = _instant(value)
    if bound is None:
        raise unsupported(token.text, text)
    compare: Callable[[datetime], bool] = {
        ">=": lambda t: t >= bound,
        ">": lambda t: t > bound,
        "<=": lambda t: t <= bound,
        "<": lambda t: t < bound,
        "=": lambda t: t == bound,
        "!=": lambda t: t != bound,
    }[op]

    def check(entry: Entry) -> bool:
        present, found = _lookup(entry, field)
        when = _instant(found) if present and isinstance(found, str) else None
        if when is None:
            return op == "!="
        return compare(when)

    return check


class _Parser:
    """Recursive descent: expression = sequence {AND sequence}; sequence = factor {factor};
    factor = term {OR term}; term = [NOT] ( "(" expression ")" | comparison )."""

    def __init__(self, tokens: list[_Token], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise unsupported("an expression that ends early", self.text)
        self.pos += 1
        return token

    def expression(self) -> Predicate:
        parts = [self.sequence()]
        while (token := self.peek()) is not None and token.kind == "AND":
            self.take()
            parts.append(self.sequence())
        return _all(parts)

    def sequence(self) -> Predicate:
        parts = [self.factor()]
        while (token := self.peek()) is not None and token.kind in ("cmp", "(", "NOT"):
            parts.append(self.factor())
        return _all(parts)

    def factor(self) -> Predicate:
        parts = [self.term()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def term(self) -> Predicate:
        token = self.take()
        if token.kind == "NOT":
            inner = self.term()
            return lambda e: not inner(e)
        if token.kind == "(":
            inner = self.expression()
            closing = self.take()
            if closing.kind != ")":
                raise unsupported(closing.text, self.text)
            return inner
        if token.kind == "cmp":
            return _comparison(token, self.text)
        raise unsupported(token.text, self.text)


def _all(parts: list[Predicate]) -> Predicate:
    return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))


def compile_log_filter(text: str | None) -> Predicate:
    """A predicate over LogEntry dicts for a Logging `filter`, or ApiError 400 if unsupported."""
    if text is None or not text.strip():
        return lambda e: True
    parser = _Parser(_tokens(text), text)
    predicate = parser.expression()
    leftover = parser.peek()
    if leftover is not None:
        raise unsupported(leftover.text, text)
    return predicate
