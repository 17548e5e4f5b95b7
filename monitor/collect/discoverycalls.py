"""Calls through a discovery client (Cloud SQL Admin, IAM admin): one request, one observed call.

`googleapiclient` sends over httplib2, past the `requests` hook that keeps each 2xx body
for the envelope check (`envelope.record`), so the request's `postproc` (run on a 2xx
only, with the raw body) hands the body over instead (`envelope.keep`) before parsing it.
`num_retries` stays 0: the `Caller` is the only retry. Paging follows `nextPageToken`
through `paging.pages`, one request a page, never the client's `list_next` loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller, CallFailed
from monitor.collect.envelope import keep
from monitor.collect.paging import json_token, pages


def execute(request: Any, timeout: float) -> Any:
    """Run one discovery request (the parsed JSON answer), its 2xx body kept for the envelope check.

    httplib2 takes no per-request timeout (the connection's is `clients.DISCOVERY_TIMEOUT`);
    the run's deadline bounds the run from outside the call.
    """
    parse = request.postproc

    def kept(response: Any, content: bytes) -> Any:
        keep(content)
        return parse(response, content)

    request.postproc = kept
    return request.execute(num_retries=0)


def _one_page(build: Callable[[str], Any], token: str, timeout: float) -> Any:
    return execute(build(token), timeout)


def list_all(
    build: Callable[[str], Any], key: str, call: Caller, *, check: Callable[[Any], None] | None = None
) -> list[JSON]:
    """Every item under `key` of a paged discovery listing; `build(token)` makes the request of one page,
    `check(body)` may refuse a page (raise CallFailed) before its items are taken."""
    items: list[JSON] = []
    for body in pages(call, functools.partial(_one_page, build), json_token, parsed=True):
        if check is not None:
            check(body)
        page = body.get(key, []) if isinstance(body, dict) else None
        if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
            raise CallFailed(f"{call.method}: malformed response body: no list of objects under {key!r}", status="200")
        items.extend(page)
    return items


def page_args(page_size: int | None, token: str, size_name: str = "maxResults") -> dict[str, Any]:
    """The paging arguments of one request: its page size (if set) and token (if any)."""
    args: dict[str, Any] = {}
    if page_size is not None:
        args[size_name] = page_size
    if token:
        args["pageToken"] = token
    return args
