"""Cloud DNS managed zones and server policies, through the discovery client (REST).

One paged listing per kind per project. A project whose Cloud DNS API is not enabled has
no zone and no policy: its SERVICE_DISABLED makes the kind empty with a note (the `Caller`
does that), like Compute's; any other failure fails the kind.
"""

from __future__ import annotations

from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller
from monitor.collect.discoverycalls import list_all, page_args


def managed_zones(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every ManagedZone of the project, public and private, with its `dnssecConfig`."""
    api = client.managedZones()
    return list_all(lambda token: api.list(project=project_id, **page_args(page_size, token)), "managedZones", call)


def policies(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every DNS server Policy of the project, with `enableLogging` and its `networks`."""
    api = client.policies()
    return list_all(lambda token: api.list(project=project_id, **page_args(page_size, token)), "policies", call)
