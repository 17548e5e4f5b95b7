"""Mutations through the real API routes, each leaving an Admin Activity audit-log entry.

The drift work needs changes made the way people make them (the real clients, the real
routes) and the trail Google leaves of them, so a poller can be tested end to end. This
module is the registry: it names every mutating method the stand-in serves and wires it
to the module that answers it, over one shared `WritePath`:
- `firewallwrites`: Compute `firewalls.insert` / `patch` / `update` / `delete`;
- `diskpolicywrites`: Compute `disks.addResourcePolicies` / `removeResourcePolicies`;
- `computewrites`: the `DONE` operation every Compute write answers, and the
  `globalOperations`/`zoneOperations` `get` and `wait` that find it again;
- `iampolicywrites`: Resource Manager `projects.setIamPolicy` with IAM's etag check;
- `writepath` and `scenarioedits`: the validated body, the lock, the commit with its
  audit entry, and the next immutable scenario.

Who made the change comes from the `X-Standin-Principal` header (see `auditlog`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from monitor.standin.auditlog import AuditTrail
from monitor.standin.computewrites import operation_get
from monitor.standin.diskpolicywrites import disk_policies
from monitor.standin.firewallwrites import firewall_change, firewall_delete, firewall_insert
from monitor.standin.iampolicywrites import set_iam_policy
from monitor.standin.routes import Handler
from monitor.standin.scenario import Scenario
from monitor.standin.writepath import WritePath


class Mutations:
    """The mutating routes, over the scenario the server holds (`current`/`replace`)."""

    def __init__(
        self,
        current: Callable[[], Scenario],
        replace: Callable[[Scenario], None],
        audit: AuditTrail,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writes = WritePath(current, replace, audit, clock=clock)

    def clear(self) -> None:
        """Forget answered operations (the stand-in's reset and load)."""
        self._writes.clear()

    def handlers(self) -> dict[str, Handler]:
        """API method id -> handler, for every mutating method the stand-in serves."""
        writes = self._writes
        return {
            "compute.firewalls.insert": lambda call: firewall_insert(writes, call),
            "compute.firewalls.patch": lambda call: firewall_change(writes, call, "patch"),
            "compute.firewalls.update": lambda call: firewall_change(writes, call, "update"),
            "compute.firewalls.delete": lambda call: firewall_delete(writes, call),
            "compute.globalOperations.get": lambda call: operation_get(writes, call),
            "compute.globalOperations.wait": lambda call: operation_get(writes, call),
            "compute.zoneOperations.get": lambda call: operation_get(writes, call),
            "compute.zoneOperations.wait": lambda call: operation_get(writes, call),
            "compute.disks.addResourcePolicies": lambda call: disk_policies(writes, call, add=True),
            "compute.disks.removeResourcePolicies": lambda call: disk_policies(writes, call, add=False),
            "cloudresourcemanager.projects.setIamPolicy": lambda call: set_iam_policy(writes, call),
        }


__all__ = ["Mutations"]
