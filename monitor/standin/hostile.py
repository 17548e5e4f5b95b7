"""Hostile 200s: answers with the right status and the wrong shape, for the `hostile` fault.

A client library parses a 200 into a message that drops what it does not know, so these
answers used to read as "no resources" and let controls pass. Each mode keeps status
200 and breaks the body in one way a proxy, a front end or an API bug could. Which field
is "the list" comes from the kind table's envelope of the method (`checks.kinds.answers`),
so every kind row gets every mode without a line here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from checks.kinds import LIST_SHAPES, Envelope, Kind, KindSpec, Shape, answers
from monitor.standin.replies import ApiError, Reply

#: mode -> what the answer becomes
MODES: Mapping[str, str] = {
    "empty-object": "the body is `{}`",
    "array": "the body is `[]`",
    "null-list": "the list field is null",
    "renamed-list": "the list field is under another name (in an aggregated listing, each scope's)",
    "empty-items": "every item is `{}`",
    "other-kind": "another kind's answer: the next listing of the same API and shape, a resource for its policy",
    "truncated": "the JSON stops halfway",
    "html": "an HTML error page, with status 200",
    "same-token": "every page hands back the same next-page token",
    "endless": "every page hands out a new next-page token",
    "many": "`count` items (100,000 unless said) made from the first, paged as the request asks",
}
#: modes whose page tokens are the fault's own: the request's token is not the stand-in's to read
PAGED = frozenset({"same-token", "endless", "many"})
MANY = 100_000
_PAGE = 500
_HTML = (
    "<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>Error 500 (Server Error)!!1</title>"
    "<p><b>500.</b> <ins>That’s an error.</ins><p>There was an error. Please try again later.</html>\n"
).encode()
_ENDLESS = re.compile(r"^hostile-(\d+)$")
_ANSWERS = answers()


def _aggregated(spec: KindSpec) -> bool:
    """An aggregated listing read by custom code (the regional network firewall policies)."""
    return spec.method.endswith(".aggregatedList")


def _shape(spec: KindSpec) -> Shape:
    return Shape.AGGREGATED if _aggregated(spec) else spec.shape


def _next_listing(method: str) -> str | None:
    """The next kind row listing with the same API and shape (cyclic): its answer is "another kind's"."""
    rows = [kind.spec for kind in Kind if kind.spec.shape in LIST_SHAPES or _aggregated(kind.spec)]
    mine = next((spec for spec in rows if spec.method == method), None)
    if mine is None:
        return None
    peers = [spec.method for spec in rows if (spec.api, _shape(spec)) == (mine.api, _shape(mine))]
    return peers[(peers.index(method) + 1) % len(peers)] if len(peers) > 1 else None


def other_method(method: str) -> str | None:
    """The method whose answer stands in for `method`'s in mode `other-kind` (same route parameters)."""
    api, _, rest = method.partition(".")
    if method.endswith(".getIamPolicy"):
        return method.removesuffix("IamPolicy")  # a policy answered by its resource
    if api == "cloudresourcemanager" and method.endswith(".get"):
        return f"{method}IamPolicy"
    if api == "logging" and rest in ("folders.sinks.list", "organizations.sinks.list"):
        return f"cloudresourcemanager.{rest.split('.')[0]}.get"  # an ancestor's sinks answered by the ancestor
    return _next_listing(method)


def applies(mode: str, method: str) -> bool:
    """Whether `mode` can break an answer of `method`: list modes need a list field, `other-kind` another route."""
    if mode == "other-kind":
        return other_method(method) is not None
    if mode in ("null-list", "renamed-list", "empty-items", *PAGED):
        envelope = _ANSWERS.get(method)
        return envelope is not None and bool(envelope.items)
    return mode in MODES


def query_for(mode: str, query: Mapping[str, Any]) -> dict[str, Any]:
    """The query the stand-in answers: without the page token when the fault owns the tokens."""
    return {k: v for k, v in query.items() if not (mode in PAGED and k == "pageToken")}


def _not_applicable(mode: str, method: str) -> Reply:
    return ApiError(500, f"stand-in: hostile mode {mode!r} does not apply to {method}").reply()


def _each_list(envelope: Envelope, body: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(object, key) of every list the answer holds: the list field, or each scope's in an aggregated listing."""
    if not envelope.scoped:
        return [(body, envelope.items)] if envelope.items in body else []
    scopes = body.get(envelope.items) or {}
    return [(scoped, envelope.scoped) for scoped in scopes.values() if envelope.scoped in scoped]


def _clone(item: Any, i: int) -> Any:
    made = copy.deepcopy(item)
    if isinstance(made, dict):
        for name in ("name", "selfLink"):
            if isinstance(made.get(name), str):
                made[name] = f"{made[name]}-{i}"
        if isinstance(made.get("id"), str) and made["id"].isdigit():
            made["id"] = str(int(made["id"]) + i)
    return made


def _many(envelope: Envelope, body: dict[str, Any], token: str, size: int, count: int) -> dict[str, Any] | None:
    """One page of `count` clones of the answer's first item, from offset `token`."""
    lists = _each_list(envelope, body)
    first = next(((holder, key) for holder, key in lists if holder[key]), None)
    if first is None:
        return None
    holder, key = first
    start = int(token) if token.isdigit() else 0
    end = min(start + size, count)
    holder[key] = [_clone(holder[key][0], i) for i in range(start, end)]
    if envelope.scoped:
        body[envelope.items] = {scope: s for scope, s in body[envelope.items].items() if s is holder}
    body.pop("nextPageToken", None)
    if end < count:
        body["nextPageToken"] = str(end)
    return body


def _reshaped(mode: str, envelope: Envelope, body: dict[str, Any], query: Mapping[str, Any], count: int) -> Any:
    """The answer `body` broken by a list mode; None when it has nothing to break."""
    token = str(query.get("pageToken") or "")
    if mode == "null-list":
        body[envelope.items] = None
    elif mode == "renamed-list":
        for holder, key in _each_list(envelope, body):
            holder[f"{key}Renamed"] = holder.pop(key)
    elif mode == "empty-items":
        for holder, key in _each_list(envelope, body):
            holder[key] = [{} for _ in holder[key]]
    elif mode == "same-token":
        body["nextPageToken"] = "hostile-again"
    elif mode == "endless":
        found = _ENDLESS.match(token)
        body["nextPageToken"] = f"hostile-{int(found.group(1)) + 1 if found else 1}"
    else:
        size = int(query.get("maxResults") or query.get("pageSize") or 0) or _PAGE
        return _many(envelope, body, token, size, count)
    return body


def answer(
    mode: str, method: str, reply: Reply, query: Mapping[str, Any], count: int | None, other: Callable[[str], Reply]
) -> Reply:
    """`reply` (a 2xx of `method`) as mode `mode` breaks it; `other(method)` answers another route."""
    if mode == "empty-object":
        return Reply(200, {})
    if mode == "array":
        return Reply(200, [])
    if mode == "truncated":
        data = reply.encode()
        return Reply(200, raw=data[: max(1, len(data) // 2)])
    if mode == "html":
        return Reply(200, raw=_HTML, content_type="text/html; charset=UTF-8")
    if mode == "other-kind":
        stand_in = other_method(method)
        return other(stand_in) if stand_in else _not_applicable(mode, method)
    envelope = _ANSWERS.get(method)
    if envelope is None or not envelope.items or not isinstance(reply.payload, dict):
        return _not_applicable(mode, method)
    body = _reshaped(mode, envelope, copy.deepcopy(reply.payload), query, count or MANY)
    return _not_applicable(mode, method) if body is None else Reply(200, body)
