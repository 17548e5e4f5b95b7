"""The logging-and-monitoring kinds of the third catalogue: alert policies, enabled services,
Access Approval settings.

Service Usage and Access Approval are read through their official GAPIC clients over REST,
Cloud Monitoring through the discovery client (its GAPIC clients speak gRPC only): one
observed call per page, `retry=None`, the run's timeout. The resources are the REST JSON
the `Caller` checked against the row's envelope, never a client's message turned back into
JSON (a proto drops what it does not know). A disabled API leaves the kind empty with a note
(`ServiceDisabled` passes through); the controls decide what an empty kind with a note means.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller, CallFailed
from monitor.collect.convert import to_json
from monitor.collect.discoverycalls import list_all, page_args
from monitor.collect.paging import pages, proto_token

#: the Service Usage filter of the enabled-services listing (`gcloud services list --enabled`)
ENABLED = "state:ENABLED"


def _one_page(list_call: Callable[..., Any], request: dict[str, Any], token: str, timeout: float) -> Any:
    if token:
        request = {**request, "page_token": token}
    return list_call(request=request, retry=None, timeout=timeout)


def _listing(list_call: Callable[..., Any], request: dict[str, Any], key: str, call: Caller) -> list[JSON]:
    """Every item under `key` of each page of one GAPIC listing, from the checked REST body."""
    items: list[JSON] = []
    for _page in pages(call, functools.partial(_one_page, list_call, request), proto_token):
        answer = call.answer
        if not isinstance(answer, dict):  # the Caller keeps every checked body: none means no check
            raise CallFailed(f"{call.method}: no checked answer to read {key!r} from", status="200")
        items.extend(answer.get(key, []))
    return items


def _request(parent_field: str, project_id: str, page_size: int | None, **extra: str) -> dict[str, Any]:
    request: dict[str, Any] = {parent_field: f"projects/{project_id}", **extra}
    if page_size is not None:
        request["page_size"] = page_size
    return request


def alert_policies(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every AlertPolicy of the project (`monitoring.projects.alertPolicies.list`), page by page."""
    api = client.projects().alertPolicies()
    name = f"projects/{project_id}"
    return list_all(lambda token: api.list(name=name, **page_args(page_size, token, "pageSize")), "alertPolicies", call)


def enabled_services(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every service enabled on the project (`serviceusage.services.list`, `filter=state:ENABLED`)."""
    request = _request("parent", project_id, page_size, filter=ENABLED)
    return _listing(client.list_services, request, "services", call)


def access_approval(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """The project's AccessApprovalSettings as a one-element list; [] when it has none (404 NOT_FOUND:
    Access Approval never configured). Any other failure, a denial included, fails the kind."""
    name = f"projects/{project_id}/accessApprovalSettings"
    try:
        message = call(lambda timeout: client.get_access_approval_settings(name=name, retry=None, timeout=timeout))
    except CallFailed as exc:
        if exc.status == "404":
            return []
        raise
    answer = call.answer
    return [answer if isinstance(answer, dict) else to_json(message)]
