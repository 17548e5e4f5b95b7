"""Paged listings of the GAPIC REST clients (Cloud KMS, API Keys, Essential Contacts), as REST JSON.

Each page is one observed call (`paging.pages`) of the client's list method with
`retry=None` and the run's timeout; the next-page token is read off the page the
client returns (a pager forwards it from its response) and the pager is never iterated,
so the library never fetches a page on its own. The items are taken from the REST JSON
the `Caller` checked against the method's envelope, so every field comes back as the
API spelt it and none is dropped by a message type.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller, CallFailed
from monitor.collect.paging import pages, proto_token


def _one_page(list_call: Callable[..., Any], request: dict[str, Any], token: str, timeout: float) -> Any:
    if token:
        request = {**request, "page_token": token}
    return list_call(request=request, retry=None, timeout=timeout)


def list_json(
    call: Caller, list_call: Callable[..., Any], request: dict[str, Any], items: str, page_size: int | None
) -> list[JSON]:
    """Every entry under `items` of the listing `list_call(request=...)`, page by page."""
    if page_size is not None:
        request = {**request, "page_size": page_size}
    found: list[JSON] = []
    for _page in pages(call, functools.partial(_one_page, list_call, request), proto_token):
        answer = call.answer
        if not isinstance(answer, dict):  # the Caller keeps the checked body of every answer it believes
            raise CallFailed(f"{call.method}: no checked answer to read {items!r} from", status="200")
        found.extend(answer.get(items, []))
    return found


def read_json(call: Caller, read: Callable[[float], Any]) -> JSON:
    """One read (`read(timeout)`), as the REST JSON the Caller checked."""
    call(read)
    answer = call.answer
    if not isinstance(answer, dict):
        raise CallFailed(f"{call.method}: no checked answer", status="200")
    return answer
