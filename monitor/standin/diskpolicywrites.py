"""Compute `disks.addResourcePolicies` / `removeResourcePolicies`: snapshot schedules on and off a disk.

The backup controls judge which schedules a disk carries, so the drift work needs them
attached and detached the way people do it. As Compute does, a policy may be named by
its bare name (in the disk's region), a partial or a full URL; an unknown policy is 404,
one in another region, attached twice or detached when not attached is 400. A disk left
without policies loses the `resourcePolicies` field, as Compute shows it.
"""

from __future__ import annotations

import re
from typing import Any

from monitor.standin import compute
from monitor.standin.auditlog import AuditRecord
from monitor.standin.computewrites import COMPUTE, RESOURCE_NAME, done_operation, operation_log
from monitor.standin.replies import ApiError, Reply, bad_request, not_found
from monitor.standin.routes import Call
from monitor.standin.scenario import Project, scope_key
from monitor.standin.scenarioedits import with_compute
from monitor.standin.writepath import WritePath, request_body

_POLICY = re.compile(
    r"^(?:https://(?:www|compute)\.googleapis\.com/compute/v1/)?(?:projects/([^/]+)/)?regions/([^/]+)/resourcePolicies/([^/]+)$"
)


def _policy_url(value: Any, project: Project, region: str) -> str:
    """A resource policy reference as its full URL (a bare name is in the disk's region)."""
    text = str(value)
    if "/" not in text and RESOURCE_NAME.match(text):
        text = f"regions/{region}/resourcePolicies/{text}"
    match = _POLICY.match(text)
    if match is None:
        raise ApiError(400, f"Invalid value for field 'resourcePolicies': '{value}'. The URL is malformed.")
    owner = match.group(1) or project.project_id
    return f"{compute.SELF_LINK_BASE}projects/{owner}/regions/{match.group(2)}/resourcePolicies/{match.group(3)}"


def _canonical(url: str) -> str:
    """`url` on the self-link host, so references written either way compare equal."""
    return url.replace("https://compute.googleapis.com/", compute.SELF_LINK_BASE.removesuffix("compute/v1/"))


def disk_policies(writes: WritePath, call: Call, *, add: bool) -> Reply:
    verb = "addResourcePolicies" if add else "removeResourcePolicies"
    ref = "DisksAddResourcePoliciesRequest" if add else "DisksRemoveResourcePoliciesRequest"
    body = request_body(call, "compute", ref)
    wanted = body.get("resourcePolicies") or []
    if not wanted:
        raise bad_request("Invalid value for field 'resourcePolicies': at least one resource policy is required.")
    with writes.lock:
        call = writes.fresh(call)
        project = compute.compute_project(call)
        assert project.compute is not None
        zone, name = call.params["zone"], call.params["disk"]
        region = zone.rsplit("-", 1)[0]
        disks = list(project.compute.get("disks", ()))
        at = next(
            (i for i, d in enumerate(disks) if d.get("name") == name and scope_key("disks", d) == f"zones/{zone}"),
            None,
        )
        if at is None:
            raise not_found(f"projects/{call.params['project']}/zones/{zone}/disks/{name}")
        disk = disks[at]
        attached = [_canonical(str(u)) for u in disk.get("resourcePolicies", [])]
        urls = [_policy_url(u, project, region) for u in wanted]
        if add:
            known = {_canonical(str(p.get("selfLink", ""))) for p in project.compute.get("resourcePolicies", ())}
            for url in urls:
                if url not in known:
                    raise not_found(url.removeprefix(compute.SELF_LINK_BASE))
                if f"/regions/{region}/" not in url:
                    raise bad_request(f"Resource policy {url} is not in the disk's region {region}.")
                if url in attached:
                    raise bad_request(f"Resource policy {url} is already attached to disk {name}.")
            attached += urls
        else:
            for url in urls:
                if url not in attached:
                    raise bad_request(f"Resource policy {url} is not attached to disk {name}.")
            attached = [u for u in attached if u not in urls]
        changed = {k: v for k, v in disk.items() if k != "resourcePolicies"}
        if attached:
            changed["resourcePolicies"] = attached
        disks[at] = changed
        now = writes.now()
        principal = writes.principal(call)
        scope = f"zones/{zone}"
        operation = done_operation(project.project_id, scope, verb, changed, principal, now)
        record = AuditRecord(
            project_id=project.project_id,
            service=COMPUTE,
            method=f"v1.compute.disks.{verb}",
            resource_name=f"projects/{project.project_id}/zones/{zone}/disks/{name}",
            resource_type="gce_disk",
            resource_labels={"project_id": project.project_id, "disk_id": str(disk.get("id", "")), "zone": zone},
            permission=f"compute.disks.{verb}",
            principal=principal,
            request={"@type": f"type.googleapis.com/compute.disks.{verb}", "resourcePolicies": urls},
            response=operation_log(operation),
            operation_id=str(operation["name"]),
            user_agent=call.headers.get("user-agent"),
        )
        writes.commit(with_compute(call.scenario, project, "disks", disks), record, operation, scope)
    return Reply(200, operation)


__all__ = ["disk_policies"]
