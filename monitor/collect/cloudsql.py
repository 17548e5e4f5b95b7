"""Cloud SQL instances, each with its backup runs, through the discovery client (REST).

One listing of the project's instances, then one listing of backup runs per primary
instance (BKP-07 needs the newest successful run): those calls are sequential inside the
kind's one worker, each an observed call bound by the run's deadline like every other.
Read replicas keep no backups of their own (they are taken on the primary), so they get
no `backupRuns` read. A listing whose `warnings` say a region could not be reached is a
partial listing: it fails the kind rather than hide the instances of that region.
"""

from __future__ import annotations

import functools
from typing import Any

from checks.kernel import JSON
from checks.rules.cloudsql import RUNS, is_replica
from monitor.collect.calls import Caller, CallFailed
from monitor.collect.discoverycalls import list_all, page_args

SERVICE = "sqladmin"
RUNS_METHOD = "sql.backupRuns.list"
_PARTIAL_WARNINGS = frozenset({"REGION_UNREACHABLE"})


def refuse_partial(body: Any, method: str) -> None:
    """CallFailed when a page of the instance listing says a region could not be reached."""
    unreachable = [
        str(w.get("region") or w.get("message") or w.get("code"))
        for w in (body.get("warnings") or () if isinstance(body, dict) else ())
        if isinstance(w, dict) and w.get("code") in _PARTIAL_WARNINGS
    ]
    if unreachable:
        raise CallFailed(f"{method}: partial listing, unreachable: {', '.join(sorted(unreachable))}")


def _runs_page(runs_api: Any, project_id: str, instance: str, page_size: int | None, token: str) -> Any:
    return runs_api.list(project=project_id, instance=instance, **page_args(page_size, token))


def instances(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every DatabaseInstance of the project; a primary's runs under `backupRuns` (BackupRun, newest first)."""
    api = client.instances()
    found = list_all(
        lambda token: api.list(project=project_id, **page_args(page_size, token)),
        "items",
        call,
        check=lambda body: refuse_partial(body, call.method),
    )
    runs_api = client.backupRuns()
    runs_call = call.derive(RUNS_METHOD, SERVICE)
    for instance in found:
        if is_replica(instance):
            continue
        name = str(instance.get("name") or "")
        build = functools.partial(_runs_page, runs_api, project_id, name, page_size)
        instance[RUNS] = list_all(build, "items", runs_call)
    return found
