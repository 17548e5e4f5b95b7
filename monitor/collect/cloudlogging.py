"""Cloud Logging kinds: the project's sinks and logs-based metrics, and its ancestors' sinks.

Read as raw REST JSON through the handwritten client's own connection
(`client._connection.api_request`), not through `client.list_sinks()` /
`list_metrics()`. Those build `Sink` / `Metric` objects that keep only `name`,
`destination`, `filter` and `writerIdentity` (`Sink._update_from_api_repr`) or `name`,
`filter` and `description` (`Metric.from_api_repr`) in google-cloud-logging 3.17: they
drop `disabled`, `includeChildren`, `exclusions`, `bigqueryOptions`, `bucketName`,
`metricDescriptor`, and `Sink.from_api_repr` raises KeyError on a sink without
`destination`. LOG-02 decides on exactly those dropped fields, so a sink that is
`disabled: true` would look enabled. The connection is the same one the client's own
methods use (credentials, endpoint, user agent), it has no retry of its own (the
`Caller` is the only retry), and each page is one call with the run's timeout. The
GAPIC logging clients would keep every field but are gRPC-only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from checks.kernel import JSON
from checks.kinds import KindSpec
from monitor.collect.calls import Caller, CallFailed
from monitor.collect.clients import GcpClients
from monitor.collect.hierarchy import ANCESTOR_COLLECTIONS, about, ancestors
from monitor.collect.paging import json_token, pages

SERVICE = "logging"


def sinks_method(collection: str) -> str:
    """The method id listing an ancestor's sinks: `logging.folders.sinks.list`."""
    return f"{SERVICE}.{collection}.sinks.list"


#: every method id the ancestor-sink walk lists with: each has its answer's envelope in the kind table
READS = frozenset(sinks_method(collection) for collection in ANCESTOR_COLLECTIONS)


def _one_page(connection: Any, path: str, page_size: int | None, token: str, timeout: float) -> Any:
    params: dict[str, Any] = {}
    if page_size is not None:
        params["pageSize"] = page_size
    if token:
        params["pageToken"] = token
    return connection.api_request(method="GET", path=path, query_params=params, timeout=timeout)


def list_raw(client: Any, path: str, key: str, call: Caller, page_size: int | None) -> list[JSON]:
    """Every item under `key` of a Logging list at `path` (`/projects/p/sinks`), one call per page."""
    items: list[JSON] = []
    fetch = functools.partial(_one_page, client._connection, path, page_size)
    for body in pages(call, fetch, json_token, parsed=True):  # api_request returns the parsed body
        page = body.get(key, []) if isinstance(body, dict) else None
        if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
            raise CallFailed(f"{call.method}: malformed response body: no list of objects under {key!r}", status="200")
        items.extend(page)
    return items


def parent_list(spec: KindSpec) -> Callable[[Any, str, Caller, int | None], list[JSON]]:
    """The fetch of a per-parent listing of the project: `logging.projects.sinks.list` reads `/projects/P/sinks`.

    The items are under the row's `items`. A disabled Logging API: empty, with a note.
    """
    _, parent, collection, _verb = spec.method.split(".")

    def fetch(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
        path = f"/{parent}/{project_id}/{collection}"
        # Once per run: LOG-04's kind lists the project's sinks too (`sinkdestinations`).
        return call.load_once(path, functools.partial(list_raw, client, path, spec.items, call, page_size))

    return fetch


def ancestor_sinks(clients: GcpClients, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """`{"parent": "folders/55", "sink": LogSink}` for every sink of every ancestor, nearest first.

    Fails closed: an ancestor whose sinks cannot be listed (denied, or the Logging API
    off for the caller) is an error naming it, since its sinks may export this project's logs.
    """
    client = clients.get("logging")
    found: list[JSON] = []
    for name, _resource in ancestors(clients, project_id, call):
        collection = name.split("/", 1)[0]
        listing = call.derive(sinks_method(collection), SERVICE)
        step = functools.partial(list_raw, client, f"/{name}/sinks", "sinks", listing, page_size)
        # The same for every project below: listed once per sweep, shared by their runs.
        # And once per run: LOG-04's kind walks them too (`sinkdestinations`).
        sinks = about(f"ancestor {name}", functools.partial(listing.load_once, name, step, across_runs=True))
        found.extend({"parent": name, "sink": sink} for sink in sinks)
    return found
