"""What the second catalogue's routes share: a project's part group, a page of a list, and
the resources a scenario nests inside others.

Each of these APIs is on or off per project like Compute: a project whose scenario leaves
the group out (`sql`, `storage`, `iam`, `orgPolicy`) has the API disabled, and its calls
answer 403 SERVICE_DISABLED naming the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monitor.standin.parts import NESTED
from monitor.standin.replies import ApiError, bad_request, not_found, service_disabled
from monitor.standin.routes import Call, page
from monitor.standin.scenario import Project, Resource


def project_group(call: Call, key: str, api: str, group: str) -> tuple[Project, Mapping[str, tuple[Resource, ...]]]:
    """The project `key` names and its part `group`; 404 when unknown, 403 SERVICE_DISABLED without the group."""
    project = call.scenario.project(key)
    if project is None:
        raise not_found(f"projects/{key}")
    parts = project.parts.get(group)
    if parts is None:
        raise service_disabled(api, project.number)
    return project, parts


def page_size(call: Call, name: str, default: int, largest: int) -> int:
    """The page size asked for in query parameter `name` (0 or absent: `default`), at most `largest`."""
    size = call.int_query(name, default)
    if size < 0:
        raise bad_request(f"Invalid value for field '{name}': '{size}'. Must be a non-negative number.")
    return min(size or default, largest)


def paged(call: Call, items: Sequence[Resource], size: int, field: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """`body` plus one page of `items` under `field` (left out when empty, as Google does) and its next token."""
    chosen, token = page(items, call.query.get("pageToken"), size)
    answer = dict(body)
    if chosen:
        answer[field] = chosen
    if token:
        answer["nextPageToken"] = token
    return answer


def own_fields(api: str, schema: str, resource: Resource) -> dict[str, Any]:
    """`resource` without what the scenario nests in it for other calls (a bucket's `iamPolicy`)."""
    nested = NESTED.get((api, schema), {})
    return {k: v for k, v in resource.items() if k not in nested}


def require(call: Call, name: str) -> str:
    """Query parameter `name`, which the method needs: 400 naming it when absent, as Google answers."""
    value = call.query.get(name)
    if not value:
        raise ApiError(400, f"Required parameter: {name}", reason="required")
    return value
