"""Cloud SQL Admin API v1 routes: a project's instances, and one instance's backup runs.

Backup runs come newest first (by `startTime`, else `enqueuedTime`), as Cloud SQL lists
them; a scenario's `backupRuns` name their instance in `instance`. An instance the project
lacks is Cloud SQL's 404. `filter` is not supported (400), so a collector cannot silently
get an unfiltered answer to a filtered question.
"""

from __future__ import annotations

from monitor.standin.groups import page_size, paged, project_group
from monitor.standin.replies import ApiError, Reply, bad_request
from monitor.standin.routes import Call, Handler
from monitor.standin.scenario import Resource

API = "sqladmin"
MAX_RESULTS = 500


def _instances(call: Call) -> Reply:
    if call.query.get("filter"):
        raise bad_request("The stand-in does not support 'filter' on sql.instances.list.")
    _, parts = project_group(call, call.params["project"], API, "sql")
    instances = sorted(parts.get("instances", ()), key=lambda i: str(i.get("name", "")))
    size = page_size(call, "maxResults", MAX_RESULTS, MAX_RESULTS)
    return Reply(200, paged(call, instances, size, "items", {"kind": "sql#instancesList"}))


def _when(run: Resource) -> str:
    return str(run.get("startTime") or run.get("enqueuedTime") or "")


def _backup_runs(call: Call) -> Reply:
    _, parts = project_group(call, call.params["project"], API, "sql")
    instance = call.params["instance"]
    if not any(i.get("name") == instance for i in parts.get("instances", ())):
        raise ApiError(404, "The Cloud SQL instance does not exist.", reason="instanceDoesNotExist")
    runs = sorted((r for r in parts.get("backupRuns", ()) if r.get("instance") == instance), key=_when, reverse=True)
    size = page_size(call, "maxResults", MAX_RESULTS, MAX_RESULTS)
    return Reply(200, paged(call, runs, size, "items", {"kind": "sql#backupRunsList"}))


def handlers() -> dict[str, Handler]:
    return {"sql.instances.list": _instances, "sql.backupRuns.list": _backup_runs}
