"""Service Usage API v1 routes: the services of a project, all or only the enabled ones.

A scenario writes them under `serviceUsage.services`, each with its `state` (`ENABLED`,
`DISABLED`). The only filter served is `state:ENABLED` (what `gcloud services list
--enabled` sends); any other is 400, never an unfiltered answer. A project without the
`serviceUsage` group has the API disabled.
"""

from __future__ import annotations

from monitor.standin.groups import page_size, paged, project_group
from monitor.standin.replies import Reply, bad_request, not_found
from monitor.standin.routes import Call, Handler

API = "serviceusage"
ENABLED = "state:ENABLED"
#: services.list: pageSize at most 200, 50 when none is asked
DEFAULT_PAGE = 50
MAX_PAGE = 200


def _services(call: Call) -> Reply:
    collection, key = call.params["v1Id"], call.params["v1Id1"]
    if collection != "projects":
        raise not_found(f"{collection}/{key}")
    wanted = call.query.get("filter")
    if wanted not in (None, "", ENABLED):
        raise bad_request(f"The stand-in serves only filter={ENABLED!r} on services.list, not {wanted!r}.")
    _, parts = project_group(call, key, API, "serviceUsage")
    services = [s for s in parts.get("services", ()) if not wanted or s.get("state") == "ENABLED"]
    services.sort(key=lambda s: str(s.get("name", "")))
    return Reply(200, paged(call, services, page_size(call, "pageSize", DEFAULT_PAGE, MAX_PAGE), "services", {}))


def handlers() -> dict[str, Handler]:
    return {"serviceusage.services.list": _services}
