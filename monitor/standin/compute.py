"""Compute Engine v1 routes: lists, aggregated lists and gets, answered from the scenario.

Shapes follow the real API: list envelopes carry `kind`/`id`/`selfLink`, leave `items`
out when empty, page with `maxResults` (0-500, default 500) and `nextPageToken`, and sort
by name unless `orderBy` says `creationTimestamp desc` (the only two orders Compute
offers). Aggregated lists group by `zones/…`, `regions/…` or `global` and, like Compute,
list every scope the project knows on every page, with a `NO_RESULTS_ON_PAGE` warning
where the page has nothing for it. A project without a `compute` part has the API
disabled: 403 SERVICE_DISABLED. An unknown project is Compute's 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from checks.kinds import KindSpec, Shape
from monitor.standin import rfc3339
from monitor.standin.discovery import load_api
from monitor.standin.filters import compile_filter
from monitor.standin.parts import scope_prefixes
from monitor.standin.replies import ApiError, Reply, not_found, service_disabled
from monitor.standin.routes import Call, Handler, page
from monitor.standin.scenario import Project, Resource, scope_key

SELF_LINK_BASE = "https://www.googleapis.com/compute/v1/"
MAX_RESULTS = 500
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def compute_project(call: Call) -> Project:
    """The project a Compute call names; 404 when unknown, 403 SERVICE_DISABLED without a `compute` part."""
    key = call.params["project"]
    project = call.scenario.project(key)
    if project is None:
        raise not_found(f"projects/{key}")
    if project.compute is None:
        raise service_disabled("compute", project.number)
    return project


def _resources(project: Project, kind: str) -> tuple[Resource, ...]:
    assert project.compute is not None
    return project.compute.get(kind, ())


def _envelope_kind(call: Call) -> str:
    assert call.method.response is not None
    kind: str = load_api("compute").schema(call.method.response)["properties"]["kind"]["default"]
    return kind


def _page_size(call: Call) -> int:
    size = call.int_query("maxResults", MAX_RESULTS)
    if size < 0 or size > MAX_RESULTS:
        raise ApiError(
            400,
            f"Invalid value for field 'maxResults': '{size}'. Must be less than or equal to {MAX_RESULTS}",
            reason="invalid",
        )
    return size or MAX_RESULTS


def _select(call: Call, resources: Sequence[Resource]) -> list[Resource]:
    """`resources` filtered by `filter` and sorted by `orderBy` (name by default)."""
    keep = compile_filter(call.query.get("filter"))
    chosen = [r for r in resources if keep(r)]
    order = (call.query.get("orderBy") or "name").strip()
    if order == "name":
        return sorted(chosen, key=lambda r: str(r.get("name", "")))
    if order == "creationTimestamp desc":

        def created(r: Resource) -> float:
            when = rfc3339.parse(str(r.get("creationTimestamp", "")))
            return when.timestamp() if when else float("-inf")

        return sorted(chosen, key=created, reverse=True)
    raise ApiError(
        400,
        f"Invalid value for field 'orderBy': '{order}'. Only 'name' and 'creationTimestamp desc' are supported.",
        reason="invalid",
    )


def _list(call: Call, collection: str, resources: Sequence[Resource]) -> Reply:
    chosen, token = page(_select(call, resources), call.query.get("pageToken"), _page_size(call))
    ident = f"projects/{call.params['project']}/{collection}"
    body: dict[str, Any] = {"kind": _envelope_kind(call), "id": ident}
    if chosen:
        body["items"] = chosen
    body["selfLink"] = SELF_LINK_BASE + ident
    if token:
        body["nextPageToken"] = token
    return Reply(200, body)


def _known_scopes(project: Project) -> set[str]:
    """Every zone and region the project's resources mention (a zone implies its region)."""
    assert project.compute is not None
    scopes = {"global"}
    for kind, items in project.compute.items():
        for resource in items:
            key = scope_key(kind, resource)
            scopes.add(key)
            if key.startswith("zones/"):
                scopes.add("regions/" + key.removeprefix("zones/").rsplit("-", 1)[0])
    return scopes


def _aggregated(kind: str, key: str, prefixes: tuple[str, ...]) -> Handler:
    """An aggregated list of part `kind`, each scope's resources under `key`, scopes with `prefixes`."""

    def handle(call: Call) -> Reply:
        project = compute_project(call)
        scopes = sorted(s for s in _known_scopes(project) if s.startswith(prefixes))
        chosen = _select(call, _resources(project, kind))
        keyed = sorted(((scope_key(kind, r), r) for r in chosen), key=lambda pair: pair[0])
        on_page, token = page(keyed, call.query.get("pageToken"), _page_size(call))
        items: dict[str, Any] = {}
        for scope in scopes:
            found = [r for s, r in on_page if s == scope]
            if found:
                items[scope] = {key: found}
            else:
                items[scope] = {
                    "warning": {
                        "code": "NO_RESULTS_ON_PAGE",
                        "message": f"There are no results for scope '{scope}' on this page.",
                        "data": [{"key": "scope", "value": scope}],
                    }
                }
        ident = f"projects/{call.params['project']}/aggregated/{kind}"
        body: dict[str, Any] = {"kind": _envelope_kind(call), "id": ident, "items": items}
        body["selfLink"] = SELF_LINK_BASE + ident
        if token:
            body["nextPageToken"] = token
        return Reply(200, body)

    return handle


def _global_list(kind: str, collection: str, keep: Callable[[Resource], bool] = lambda r: True) -> Handler:
    def handle(call: Call) -> Reply:
        resources = [r for r in _resources(compute_project(call), kind) if keep(r)]
        return _list(call, collection, resources)

    return handle


def _located_list(kind: str, place: str, collection: str) -> Handler:
    """The listing of part `kind` in one zone or region (`place`: `zone` or `region`), as Compute pages it.

    What a collector going zone by zone reads instead of the aggregated listing.
    """

    def handle(call: Call) -> Reply:
        where = f"{place}s/{call.params[place]}"
        resources = [r for r in _resources(compute_project(call), kind) if scope_key(kind, r) == where]
        return _list(call, f"{where}/{collection}", resources)

    return handle


def _get(kind: str, collection: str) -> Handler:
    """The get of one resource of part `kind` by name, in the zone or region the route names (if any)."""

    def handle(call: Call) -> Reply:
        project = compute_project(call)
        name = call.params[_PLACEHOLDER.findall(call.method.flat_path)[-1]]
        place = next((f"{field}s/{call.params[field]}" for field in ("zone", "region") if field in call.params), None)
        for resource in _resources(project, kind):
            if resource.get("name") == name and (place is None or scope_key(kind, resource) == place):
                return Reply(200, resource)
        raise not_found(f"projects/{call.params['project']}/{place or 'global'}/{collection}/{name}")

    return handle


def kind_handlers(spec: KindSpec) -> dict[str, Handler]:
    """The routes a Compute kind row implies: its listing, and the get of one of its resources."""
    collection = spec.method.split(".")[1]
    get = f"compute.{collection}.get"
    if spec.shape is Shape.GLOBAL:
        return {spec.method: _global_list(spec.key, f"global/{collection}"), get: _get(spec.key, collection)}
    if spec.shape is Shape.AGGREGATED:
        return {spec.method: _aggregated(spec.key, spec.items, scope_prefixes(spec)), get: _get(spec.key, collection)}
    raise ValueError(f"the stand-in lists Compute kinds globally or aggregated, not as {spec.shape}: {spec.name}")


def handlers() -> dict[str, Handler]:
    """The Compute routes no kind row implies: per-zone, per-region and global-only listings."""
    return {
        "compute.globalAddresses.list": _global_list(
            "addresses", "global/addresses", lambda r: scope_key("addresses", r) == "global"
        ),
        "compute.subnetworks.list": _located_list("subnetworks", "region", "subnetworks"),
        "compute.instances.list": _located_list("instances", "zone", "instances"),
        "compute.disks.list": _located_list("disks", "zone", "disks"),
        "compute.regionDisks.list": _located_list("disks", "region", "disks"),
        "compute.resourcePolicies.list": _located_list("resourcePolicies", "region", "resourcePolicies"),
        "compute.addresses.list": _located_list("addresses", "region", "addresses"),
    }
