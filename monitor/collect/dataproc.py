"""Dataproc clusters, one listing per region, through the GAPIC client over REST.

Dataproc lists clusters under one region (`projects/P/regions/R/clusters`) and has no
listing of every region. Listing all of Google's ~40 regions for every project would cost
~40 calls a run for an API most projects never use, so the regions listed are those the
configuration names: every scope's `region.allowed` (`CollectSettings.dataproc_regions`),
its multi- and dual-regions left out, since clusters live in regions only. A cluster in
any other region is not seen by this kind (REG controls and the README's known limits say
so). Each region is one paged listing through the `Caller`; its clusters are the REST JSON
the Caller checked, read from the answer, never from the client's messages. Calls go to
the global REST endpoint, which routes by the region in the path (as `gcloud` does; only
the gRPC endpoint needs a regional host).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from checks.kernel import JSON
from checks.rules.regions import REGIONS
from monitor.collect.calls import Caller, CallFailed
from monitor.collect.convert import to_json
from monitor.collect.paging import pages, proto_token

#: the regions listed when the configuration names none (`region.allowed`'s default)
DEFAULT_REGIONS = ("europe-west1",)


def listed_regions(locations: Sequence[str]) -> tuple[str, ...]:
    """The Dataproc regions among `locations`, in order, once each: multi- and dual-regions dropped."""
    return tuple(dict.fromkeys(name for name in locations if name in REGIONS))


def _one_page(client: Any, request: dict[str, Any], token: str, timeout: float) -> Any:
    if token:
        request = {**request, "page_token": token}
    return client.list_clusters(request=request, retry=None, timeout=timeout)


def clusters(
    client: Any, project_id: str, call: Caller, page_size: int | None = None, regions: Sequence[str] = DEFAULT_REGIONS
) -> list[JSON]:
    """Every Cluster of the project in `regions` (one listing each), as the API's JSON.

    No region to list (`region.allowed` names multi-regions only) fails the kind: an empty
    listing nobody made would pass DATA-43 on clusters nobody looked for.
    """
    chosen = listed_regions(regions)
    if not chosen:
        named = ", ".join(regions) or "none"
        raise CallFailed(f"{call.method}: no region to list clusters in (region.allowed names {named}: no region)")
    found: list[JSON] = []
    for region in chosen:
        request: dict[str, Any] = {"project_id": project_id, "region": region}
        if page_size is not None:
            request["page_size"] = page_size
        for page in pages(call, functools.partial(_one_page, client, request), proto_token):
            answer = call.answer
            if isinstance(answer, dict):
                found.extend(answer.get("clusters") or [])
            else:
                found.extend(to_json(cluster) for cluster in page.clusters)
    return found


def reading(regions: Sequence[str]) -> Callable[[Any, str, Caller, int | None], list[JSON]]:
    """The kind's fetch for these regions (every scope's `region.allowed`)."""

    def fetch(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
        return clusters(client, project_id, call, page_size, regions)

    return fetch
