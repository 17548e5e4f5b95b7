"""Every 2xx answer is checked against the envelope its kind row declares before it is believed.

The Google clients parse an answer into a message that keeps only the fields it knows:
`{}`, `[]`, a list field that is null or renamed, items that are `{}` and another kind's
listing all parse into an empty, valid-looking message, which reads as "no firewall
rules" and lets every firewall control pass. The raw body still shows what the message
hides, so a `requests` response hook on each client's session (`record`, installed by
`clients.py`) keeps the 2xx body of the call the current thread is `watching`, and
`Caller` asks `problem()` about it. Pure JSON in, a reason out: no Google import here.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from checks.kinds import Envelope

_LOCAL = threading.local()
#: `judge`'s `parsed` when the client kept no parsed body to check
UNPARSED: Any = object()


class Seen:
    """The raw body of the 2xx answer one call got (None until one arrives), and, for a lean
    call, that body parsed (`parsed`, UNPARSED until then)."""

    __slots__ = ("body", "lean", "parsed")

    def __init__(self, lean: bool = False) -> None:
        self.body: bytes | None = None
        self.lean = lean
        self.parsed: Any = UNPARSED


@contextlib.contextmanager
def watching(*, lean: bool = False) -> Iterator[Seen]:
    """Keep the 2xx body the calls made in this thread get, until the block ends.

    `lean`: the caller reads the answer's `items` from the body (`Seen.parsed`), never from
    the client's message, so the client is handed the body without them (see `record`).
    """
    seen = Seen(lean)
    previous = getattr(_LOCAL, "seen", None)
    _LOCAL.seen = seen
    try:
        yield seen
    finally:
        _LOCAL.seen = previous


def record(response: Any, *args: Any, **kwargs: Any) -> Any:
    """A `requests` response hook: hand a 2xx body to the call watching in this thread.

    Reading `content` here is what `Session.send` does right after its hooks anyway
    (no client streams), so a body that fails to arrive fails exactly as it did before.
    """
    seen = getattr(_LOCAL, "seen", None)
    if seen is not None and 200 <= response.status_code < 300:
        seen.body = response.content
        if seen.lean:
            _lean(seen, response)
    return response


def _lean(seen: Seen, response: Any) -> None:
    """Parse the body once and hand the client only its envelope (everything but `items`).

    The Compute client turns every item of a page into a protobuf message through
    `json_format` (pure Python, about 4,000 items a second), which was the largest part of
    a sweep's CPU at a thousand projects, and the collector then reads the items from the
    REST JSON anyway. The client still parses what the pager needs (the next-page token,
    `unreachables`), and a body that is not a JSON object is left whole, for the client to
    refuse as it did before. What the items are is checked against the kind's envelope.
    """
    try:
        parsed = json.loads(seen.body or b"")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return
    seen.parsed = parsed
    if isinstance(parsed, dict) and "items" in parsed:
        rest = {key: value for key, value in parsed.items() if key != "items"}
        response._content = json.dumps(rest).encode("utf-8")


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    names = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _item(envelope: Envelope, item: Any, where: str) -> str | None:
    if not isinstance(item, dict):
        return f"{where} is {_what(item)}, not an object"
    if envelope.item_kind and item.get("kind") != envelope.item_kind:
        got = f"kind {item['kind']!r}" if "kind" in item else "no kind"
        return f"{where} has {got}, expected {envelope.item_kind!r}"
    missing = [name for name in envelope.item_fields if _empty(item.get(name))]
    return f"{where} has no {', '.join(map(repr, missing))}" if missing else None


def _items(envelope: Envelope, items: Any, where: str) -> str | None:
    if not isinstance(items, list):
        return f"{where} is {_what(items)}, expected a list"
    for i, item in enumerate(items):
        found = _item(envelope, item, f"{where}[{i}]")
        if found:
            return found
    return None


def _scopes(envelope: Envelope, scopes: Any) -> str | None:
    """An aggregated listing: `items` maps each scope to `{scoped: [...]}` or `{warning: ...}`."""
    where = repr(envelope.items)
    if not isinstance(scopes, dict):
        return f"{where} is {_what(scopes)}, expected an object of scopes"
    for scope, scoped in scopes.items():
        here = f"{envelope.items}[{scope!r}]"
        if not isinstance(scoped, dict):
            return f"{here} is {_what(scoped)}, not an object"
        unknown = sorted(set(scoped) - {envelope.scoped, "warning"})
        if unknown:
            return f"{here} has unexpected field(s) {', '.join(map(repr, unknown))}"
        if envelope.scoped in scoped:
            found = _items(envelope, scoped[envelope.scoped], f"{here}[{envelope.scoped!r}]")
            if found:
                return found
    return None


def _fields(envelope: Envelope, body: Mapping[str, Any]) -> str | None:
    nulls = sorted(name for name, value in body.items() if value is None)
    if nulls:
        return f"{', '.join(map(repr, nulls))} is null (an API leaves out what it has not)"
    if envelope.fields is not None:
        known = {*envelope.fields, *envelope.required, *(f for f in ("kind", envelope.items) if f)}
        unknown = sorted(set(body) - known)
        if unknown:
            return f"unexpected field(s) {', '.join(map(repr, unknown))}"
    missing = [name for name in envelope.required if not isinstance(body.get(name), str) or not body[name]]
    if missing:
        return f"no {', '.join(map(repr, missing))}"
    name = body.get("name")
    if envelope.name_prefix and not (isinstance(name, str) and name.startswith(envelope.name_prefix)):
        return f"name {name!r} is not a {envelope.name_prefix}… name"
    return None


def problem(envelope: Envelope, body: bytes | None) -> str | None:
    """Why `body` is not an answer of `envelope`'s shape, or None when it is."""
    return judge(envelope, body)[0]


def judge(envelope: Envelope, body: bytes | None, parsed: Any = UNPARSED) -> tuple[str | None, int]:
    """(why the answer is not of `envelope`'s shape or None, how many items it lists).

    `parsed` is the body as the client already parsed it (plain JSON, such as Logging's
    `response.json()`): it is checked instead of parsing `body` a second time. Either
    way a 2xx `body` must have been seen: an answer that came through no hooked session
    is not believed.
    """
    if body is None:
        return "no 2xx body was seen to check", 0
    if parsed is UNPARSED or isinstance(parsed, bytes | str):
        try:
            parsed = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return f"not JSON: {exc}", 0
    found = _problem(envelope, parsed)
    return found, 0 if found else _count(envelope, parsed)


def _problem(envelope: Envelope, parsed: Any) -> str | None:
    if not isinstance(parsed, dict):
        return f"{_what(parsed)}, expected an object"
    if envelope.kind and parsed.get("kind") != envelope.kind:
        got = f"kind {parsed['kind']!r}" if "kind" in parsed else "no kind"
        return f"{got}, expected {envelope.kind!r}"
    found = _fields(envelope, parsed)
    if found or not envelope.items or envelope.items not in parsed:
        return found  # a listing without its list field is an empty listing, as the APIs send it
    if envelope.scoped:
        return _scopes(envelope, parsed[envelope.items])
    return _items(envelope, parsed[envelope.items], repr(envelope.items))


def _count(envelope: Envelope, parsed: Mapping[str, Any]) -> int:
    """The items a well-shaped answer lists (every scope's, in an aggregated listing)."""
    listed = parsed.get(envelope.items) if envelope.items else None
    if not listed:
        return 0
    if envelope.scoped:
        return sum(len(scoped.get(envelope.scoped, ())) for scoped in listed.values())
    return len(listed)


def keep(body: bytes) -> None:
    """Hand a 2xx body that came through no `requests` session (the discovery clients' httplib2)
    to the call watching in this thread, as `record` does for the others."""
    seen = getattr(_LOCAL, "seen", None)
    if seen is not None:
        seen.body = body
