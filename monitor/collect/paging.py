"""The one paging loop: every listing (Compute, Logging, the audit poller) pages through `pages`.

Each page is exactly one call through the `Caller` (observed, retried, deadline-bound):
the client library is never left to fetch further pages on its own, or those calls
would escape the metrics, the retry table and the run's deadline. An API that hands
back a page token it gave before would page forever, and one handing out ever new tokens
too: either fails the listing (the second after the Caller's `max_pages`), never cuts it
short silently. Each page's items are counted by the Caller as the page arrives (its
envelope check), so a listing of more than the Caller's `max_items` fails at the page
that passes the bound, with only that page and the ones before it ever in memory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from monitor.collect.calls import Caller, CallFailed

P = TypeVar("P")

#: fetch(token, timeout) -> one page; "" asks for the first page
FetchPage = Callable[[str, float], P]


def pages(
    call: Caller, fetch: FetchPage[P], next_token: Callable[[P], Any], *, parsed: bool = False, lean: bool = False
) -> Iterator[P]:
    """Yield the pages of one listing, each fetched by one `call` of `fetch(token, timeout)`.

    The next page is asked for only once the consumer has read this one, so a malformed
    page fails the listing before its token is trusted. `next_token(page)` is the token
    of the next page; empty or None ends the listing. `parsed`: `fetch` returns the body
    as parsed JSON, which the Caller checks instead of parsing the body again. `lean`: the
    items are read from `call.answer` only (see `Caller.__call__`).
    """
    seen: set[str] = set()
    token = ""
    while True:
        page = call(functools.partial(fetch, token), parsed=parsed, lean=lean)
        yield page
        token = str(next_token(page) or "")
        if not token:
            return
        if token in seen:
            raise CallFailed(f"{call.method}: the API returned page token {token!r} twice (paging loop)")
        if len(seen) + 1 >= call.max_pages:
            raise CallFailed(f"{call.method}: more than {call.max_pages} pages (an endless listing?), refused")
        seen.add(token)


def proto_token(page: Any) -> Any:
    """The next-page token of a client library pager (read off the response it holds)."""
    return page.next_page_token


def json_token(body: Any) -> Any:
    """The next-page token of a raw REST response body (already checked to be an object)."""
    return body.get("nextPageToken")
