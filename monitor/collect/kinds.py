"""One function per resource kind: a client in, the API's own JSON dicts out.

Each function pages by hand so that every page is exactly one call through the `Caller`
(observed, retried, deadline-bound): it calls `client.list(request=..., retry=None,
timeout=...)` once, reads the first page's `items` and `next_page_token` off the pager
(which forwards attribute reads to the response it holds, without fetching more), and
asks again with `page_token`. Never iterating the pager is what keeps the library from
fetching pages on its own.

Messages become REST JSON (camelCase, enums as names, int64 as strings) through
proto-plus `to_dict`, so no Google type leaves this module. Zonal and regional kinds use
`aggregated_list`, one listing for all zones. Adding a kind is one entry in `KINDS`; the
IAM policy and ancestry kinds live in `hierarchy`, the Logging kinds in `cloudlogging`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from checks.kernel import JSON
from checks.snapshot import Kind
from monitor.collect import cloudlogging, hierarchy
from monitor.collect.calls import Caller, CallFailed
from monitor.collect.convert import to_json
from monitor.collect.paging import pages, proto_token

# fetch(client, project, call, page_size) -> resources; `call` is bound to the kind's method.
# `client` is the kind's client, or the GcpClients themselves for kinds that need several.
Fetch = Callable[[Any, str, Caller, int | None], list[JSON]]

_PARTIAL_WARNINGS = frozenset({"UNREACHABLE"})


def _one_page(list_call: Callable[..., Any], request: dict[str, Any], token: str, timeout: float) -> Any:
    if token:
        request = {**request, "page_token": token}
    return list_call(request=request, retry=None, timeout=timeout)


def _pages(call: Caller, list_call: Callable[..., Any], request: dict[str, Any]) -> Iterator[Any]:
    """One pager per page, each fetched by exactly one observed call."""
    return pages(call, functools.partial(_one_page, list_call, request), proto_token)


def _request(project: str, page_size: int | None) -> dict[str, Any]:
    request: dict[str, Any] = {"project": project}
    if page_size is not None:
        request["max_results"] = page_size
    return request


def _global_list(client: Any, project: str, call: Caller, page_size: int | None) -> list[JSON]:
    resources: list[JSON] = []
    for page in _pages(call, client.list, _request(project, page_size)):
        resources.extend(to_json(item) for item in page.items)
    return resources


def _aggregated(client: Any, project: str, call: Caller, page_size: int | None, key: str) -> list[JSON]:
    """Flatten every scope's `key` list; scopes holding only a warning are skipped.

    A zone the API could not reach (`unreachables`, or an `UNREACHABLE` scope warning)
    would make the listing silently partial, so it fails the kind instead (fail closed).
    """
    resources: list[JSON] = []
    for page in _pages(call, client.aggregated_list, _request(project, page_size)):
        unreachable = [str(name) for name in getattr(page, "unreachables", None) or ()]
        for scope, scoped in page.items.items():
            data = to_json(scoped)
            warning = data.get("warning") or {}
            if warning.get("code") in _PARTIAL_WARNINGS:
                unreachable.append(str(scope))
            resources.extend(data.get(key, []))
        if unreachable:
            raise CallFailed(f"{call.method}: partial listing, unreachable: {', '.join(sorted(unreachable))}")
    return resources


def project(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """The v3 Project resource itself (labels, parent, state), as a one-element list."""
    name = f"projects/{project_id}"
    # Shared with the ancestry walks of the same run: one projects.get per run.
    found: JSON = call.read_once(
        name, lambda timeout: to_json(client.get_project(name=name, retry=None, timeout=timeout))
    )
    return [found]


def firewalls(client: Any, project: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    return _global_list(client, project, call, page_size)


def networks(client: Any, project: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    return _global_list(client, project, call, page_size)


def snapshots(client: Any, project: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    return _global_list(client, project, call, page_size)


def subnetworks(client: Any, project: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    return _aggregated(client, project, call, page_size, "subnetworks")


def instances(client: Any, project: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    return _aggregated(client, project, call, page_size, "instances")


def disks(client: Any, project: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    return _aggregated(client, project, call, page_size, "disks")


def resource_policies(client: Any, project: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    return _aggregated(client, project, call, page_size, "resourcePolicies")


def addresses(client: Any, project: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Regional and global addresses: the aggregated listing has a `global` scope too."""
    return _aggregated(client, project, call, page_size, "addresses")


@dataclass(frozen=True, slots=True)
class KindSpec:
    """Where one kind comes from: the service and method id (metric labels), client, function."""

    service: str
    method: str
    client: str | None  # a name known to `GcpClients.get`; None: the fetch gets the GcpClients
    fetch: Fetch


KINDS: Mapping[str, KindSpec] = {
    Kind.PROJECT: KindSpec("cloudresourcemanager", "cloudresourcemanager.projects.get", "projects", project),
    Kind.FIREWALLS: KindSpec("compute", "compute.firewalls.list", "firewalls", firewalls),
    Kind.NETWORKS: KindSpec("compute", "compute.networks.list", "networks", networks),
    Kind.SNAPSHOTS: KindSpec("compute", "compute.snapshots.list", "snapshots", snapshots),
    Kind.SUBNETWORKS: KindSpec("compute", "compute.subnetworks.aggregatedList", "subnetworks", subnetworks),
    Kind.INSTANCES: KindSpec("compute", "compute.instances.aggregatedList", "instances", instances),
    Kind.DISKS: KindSpec("compute", "compute.disks.aggregatedList", "disks", disks),
    Kind.RESOURCE_POLICIES: KindSpec(
        "compute", "compute.resourcePolicies.aggregatedList", "resourcePolicies", resource_policies
    ),
    Kind.ADDRESSES: KindSpec("compute", "compute.addresses.aggregatedList", "addresses", addresses),
    Kind.IAM_POLICY: KindSpec(
        "cloudresourcemanager", "cloudresourcemanager.projects.getIamPolicy", "projects", hierarchy.iam_policy
    ),
    # Several calls (projects.get, then per ancestor {folders,organizations}.get and
    # .getIamPolicy), each observed under its own method id; `method` names the kind's errors.
    Kind.ANCESTRY: KindSpec("cloudresourcemanager", "cloudresourcemanager.folders.get", None, hierarchy.ancestry),
    Kind.SINKS: KindSpec("logging", "logging.projects.sinks.list", "logging", cloudlogging.sinks),
    Kind.ANCESTOR_SINKS: KindSpec("logging", "logging.folders.sinks.list", None, cloudlogging.ancestor_sinks),
    Kind.LOG_METRICS: KindSpec("logging", "logging.projects.metrics.list", "logging", cloudlogging.log_metrics),
}
