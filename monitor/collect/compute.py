"""Compute listings, one generic function per list shape: a client in, the API's own JSON dicts out.

Every page is one call through the `Caller` (`paging.pages`): `client.list(request=...,
retry=None, timeout=...)` is called once per page, and the page's `items` and
`next_page_token` are read off the pager (which forwards attribute reads to the response
it holds, without fetching more). Never iterating the pager is what keeps the library
from fetching pages on its own.

The resources are the REST JSON of each page as the `Caller` parsed it to check its
envelope. The calls are lean (`envelope.watching`): the client parses only the page's
envelope (the next-page token, `unreachables`), not its items, which cost more than the
rest of a sweep when turned into messages (and back into JSON through proto-plus
`to_dict`). So no Google type leaves this module. Zonal and regional kinds use
`aggregated_list`, one listing for all zones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller, CallFailed
from monitor.collect.convert import to_json
from monitor.collect.paging import pages, proto_token

_PARTIAL_WARNINGS = frozenset({"UNREACHABLE"})


def _one_page(list_call: Callable[..., Any], request: dict[str, Any], token: str, timeout: float) -> Any:
    if token:
        request = {**request, "page_token": token}
    return list_call(request=request, retry=None, timeout=timeout)


def _pages(call: Caller, list_call: Callable[..., Any], request: dict[str, Any]) -> Iterator[Any]:
    """One pager per page, each fetched by exactly one observed call."""
    return pages(call, functools.partial(_one_page, list_call, request), proto_token, lean=True)


def _request(project: str, page_size: int | None) -> dict[str, Any]:
    request: dict[str, Any] = {"project": project}
    if page_size is not None:
        request["max_results"] = page_size
    return request


def _answer(call: Caller) -> JSON | None:
    """The page's REST JSON as the Caller parsed and checked it; None when it kept none (no envelope)."""
    answer = call.answer
    return answer if isinstance(answer, dict) else None


def global_list(client: Any, project: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every resource of a global listing (`projects/P/global/firewalls`), page by page."""
    return list_items(client.list, _request(project, page_size), call)


def list_items(list_call: Callable[..., Any], request: dict[str, Any], call: Caller) -> list[JSON]:
    """Every `items` entry of a plain Compute listing made with `request`, page by page
    (a project's, or an organisation's or folder's firewall policies by `parent_id`)."""
    resources: list[JSON] = []
    for page in _pages(call, list_call, request):
        answer = _answer(call)
        if answer is not None:  # the checked body: no conversion of the client's message back to JSON
            resources.extend(answer.get("items", []))
        else:
            resources.extend(to_json(item) for item in page.items)
    return resources


def aggregated_list(
    client: Any, project: str, call: Caller, page_size: int | None = None, *, key: str
) -> list[JSON]:
    """Flatten every scope's `key` list; scopes holding only a warning are skipped.

    A zone the API could not reach (`unreachables`, or an `UNREACHABLE` scope warning)
    would make the listing silently partial, so it fails the kind instead (fail closed).
    """
    resources: list[JSON] = []
    for page in _pages(call, client.aggregated_list, _request(project, page_size)):
        answer = _answer(call)
        unreachable = [str(name) for name in getattr(page, "unreachables", None) or ()]
        scopes = answer.get("items", {}).items() if answer is not None else page.items.items()
        for scope, scoped in scopes:
            data = scoped if answer is not None else to_json(scoped)
            warning = data.get("warning") or {}
            if warning.get("code") in _PARTIAL_WARNINGS:
                unreachable.append(str(scope))
            resources.extend(data.get(key, []))
        if unreachable:
            raise CallFailed(f"{call.method}: partial listing, unreachable: {', '.join(sorted(unreachable))}")
    return resources
