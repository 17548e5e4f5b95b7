"""What every Compute write shares: resource names and ids, Pacific timestamps, DONE operations.

A Compute write is answered with a `compute#operation` that is already `DONE` (the
stand-in applies a change at once), kept so that `globalOperations`/`zoneOperations`
`get` and `wait` answer it too: that is what `ExtendedOperation.result()` polls when an
operation is not done. The audit entry's `response` shows the operation as Compute's
does. Ids are 19-digit uint64 strings and timestamps are written in Pacific time, as
Compute writes them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from monitor.standin import compute
from monitor.standin.replies import Reply, not_found
from monitor.standin.routes import Call
from monitor.standin.scenario import Resource
from monitor.standin.writepath import WritePath

#: the service name Compute's audit entries carry
COMPUTE = "compute.googleapis.com"
#: what Compute accepts as the name of a firewall, a resource policy, …
RESOURCE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
#: Compute writes its timestamps in Pacific time
_PACIFIC = timezone(timedelta(hours=-8))
_rand = random.SystemRandom()


def compute_time(when: datetime) -> str:
    return when.astimezone(_PACIFIC).isoformat(timespec="milliseconds")


def new_id() -> str:
    """A Compute resource id: a 19-digit uint64, as a string."""
    return str(_rand.randrange(10**18, 2**63))


def done_operation(
    project_id: str, scope: str, op_type: str, target: Resource, user: str, when: datetime
) -> dict[str, Any]:
    """A `DONE` compute#operation on `target` in `scope` (`global` or `zones/Z`)."""
    stamp = compute_time(when)
    millis = int(when.timestamp() * 1000)
    name = f"operation-{millis}-{_rand.getrandbits(52):013x}-{_rand.getrandbits(32):08x}-{_rand.getrandbits(32):08x}"
    base = f"{compute.SELF_LINK_BASE}projects/{project_id}/"
    operation: dict[str, Any] = {
        "kind": "compute#operation",
        "id": new_id(),
        "name": name,
        "operationType": op_type,
        "targetLink": str(target.get("selfLink", "")),
        "targetId": str(target.get("id", "")),
        "status": "DONE",
        "user": user,
        "progress": 100,
        "insertTime": stamp,
        "startTime": stamp,
        "endTime": stamp,
        "selfLink": f"{base}{scope}/operations/{name}",
    }
    if scope.startswith("zones/"):
        operation["zone"] = base + scope
    return operation


def operation_log(operation: Mapping[str, Any]) -> dict[str, Any]:
    """The operation as Compute's audit `response` shows it."""
    keys = ("id", "name", "operationType", "progress", "selfLink", "status", "targetId", "targetLink", "user")
    shown = {k: operation[k] for k in keys if k in operation}
    shown["progress"] = str(shown.get("progress", 100))
    return {"@type": "type.googleapis.com/operation", **shown, "insertTime": operation["insertTime"]}


def operation_get(writes: WritePath, call: Call) -> Reply:
    """`globalOperations`/`zoneOperations` `get` and `wait`: an operation a write answered, or 404."""
    with writes.lock:
        project = compute.compute_project(writes.fresh(call))
        scope = f"zones/{call.params['zone']}" if "zone" in call.params else "global"
        name = call.params["operation"]
        found = writes.operation(project.project_id, scope, name)
    if found is None:
        raise not_found(f"projects/{call.params['project']}/{scope}/operations/{name}")
    return Reply(200, found)


__all__ = ["COMPUTE", "RESOURCE_NAME", "compute_time", "done_operation", "new_id", "operation_get", "operation_log"]
