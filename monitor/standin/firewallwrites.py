"""Compute `firewalls.insert` / `patch` / `update` / `delete`, each auditing a DONE operation.

`patch` is a JSON merge patch (given fields replace, `null` removes, objects merge),
`update` a full replace. Like Compute, the stand-in refuses what a test could otherwise
slip past: a misspelt field, both or neither of `allowed`/`denied`, a network that does
not exist or a change of network, an insert of an existing name (409), an unknown rule
(404); and it fills what Compute fills (priority, direction, default source or
destination ranges, `logConfig`, `disabled`, the self link).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from monitor.standin import compute
from monitor.standin.auditlog import AuditRecord
from monitor.standin.computewrites import COMPUTE, RESOURCE_NAME, compute_time, done_operation, new_id, operation_log
from monitor.standin.replies import ApiError, Reply, bad_request, not_found
from monitor.standin.routes import Call
from monitor.standin.scenario import Project, Resource, Scenario
from monitor.standin.scenarioedits import with_compute
from monitor.standin.writepath import WritePath, request_body

_OUTPUT_ONLY = ("kind", "id", "creationTimestamp", "selfLink")
_NETWORK = re.compile(
    r"^(?:https://(?:www|compute)\.googleapis\.com/compute/v1/)?(?:projects/([^/]+)/)?global/networks/([^/]+)$"
)


def _network_url(value: Any, project: Project, scenario: Scenario) -> str:
    """The full URL of a firewall's network (default: the `default` network); 404 if unknown."""
    text = str(value) if value else "global/networks/default"
    match = _NETWORK.match(text)
    if match is None:
        raise ApiError(400, f"Invalid value for field 'resource.network': '{text}'. The URL is malformed.")
    owner_key, name = match.group(1) or project.project_id, match.group(2)
    owner = scenario.project(owner_key)
    owner_id = owner.project_id if owner else owner_key
    url = f"{compute.SELF_LINK_BASE}projects/{owner_id}/global/networks/{name}"
    known = owner.compute.get("networks") if owner and owner.compute is not None else None
    if known is not None and not any(n.get("selfLink") == url or n.get("name") == name for n in known):
        raise not_found(f"projects/{owner_id}/global/networks/{name}")
    return url


def _firewall(
    fields: Mapping[str, Any], project: Project, scenario: Scenario, ident: str, created: str
) -> dict[str, Any]:
    """A complete Firewall from request `fields`, with what Compute fills; 400 for what it refuses."""
    name = str(fields.get("name") or "")
    if not RESOURCE_NAME.match(name):
        raise ApiError(
            400,
            f"Invalid value for field 'resource.name': '{name}'. "
            "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
        )
    rule: dict[str, Any] = {"kind": "compute#firewall", "id": ident, "creationTimestamp": created}
    rule.update((k, v) for k, v in fields.items() if k not in _OUTPUT_ONLY and v is not None)
    rule["network"] = _network_url(rule.get("network"), project, scenario)
    rule.setdefault("priority", 1000)
    if not 0 <= int(rule["priority"]) <= 65535:
        raise ApiError(400, f"Invalid value for field 'resource.priority': '{rule['priority']}'. Must be 0-65535.")
    rule.setdefault("direction", "INGRESS")
    if bool(rule.get("allowed")) == bool(rule.get("denied")):
        raise ApiError(400, "Invalid value for field 'resource': exactly one of 'allowed' or 'denied' must be set.")
    if rule["direction"] == "INGRESS":
        if not any(rule.get(k) for k in ("sourceRanges", "sourceTags", "sourceServiceAccounts")):
            rule["sourceRanges"] = ["0.0.0.0/0"]  # what Compute does for an ingress rule without sources
    else:
        if rule.get("sourceTags") or rule.get("sourceServiceAccounts"):
            raise ApiError(
                400, "Invalid value for field 'resource': sourceTags and sourceServiceAccounts are ingress only."
            )
        rule.setdefault("destinationRanges", ["0.0.0.0/0"])
    rule.setdefault("logConfig", {"enable": False})
    rule.setdefault("disabled", False)
    rule["selfLink"] = f"{compute.SELF_LINK_BASE}projects/{project.project_id}/global/firewalls/{name}"
    return rule


def _merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7396 JSON merge patch: objects merge, everything else (lists included) replaces, null removes."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


def _firewall_record(
    project: Project,
    method: str,
    permission: str,
    rule: Resource,
    request: Mapping[str, Any],
    operation: Mapping[str, Any],
    principal: str,
    call: Call,
) -> AuditRecord:
    name = str(rule["name"])
    return AuditRecord(
        project_id=project.project_id,
        service=COMPUTE,
        method=f"v1.compute.firewalls.{method}",
        resource_name=f"projects/{project.project_id}/global/firewalls/{name}",
        resource_type="gce_firewall_rule",
        resource_labels={"project_id": project.project_id, "firewall_rule_id": str(rule.get("id", ""))},
        permission=permission,
        principal=principal,
        request={"@type": f"type.googleapis.com/compute.firewalls.{method}", **request},
        response=operation_log(operation),
        operation_id=str(operation["name"]),
        user_agent=call.headers.get("user-agent"),
    )


def _find_firewall(call: Call) -> tuple[Project, list[Resource], int]:
    project = compute.compute_project(call)
    rules = list(project.compute.get("firewalls", ()) if project.compute else ())
    name = call.params["firewall"]
    for i, rule in enumerate(rules):
        if rule.get("name") == name:
            return project, rules, i
    raise not_found(f"projects/{call.params['project']}/global/firewalls/{name}")


def firewall_insert(writes: WritePath, call: Call) -> Reply:
    body = request_body(call, "compute", "Firewall")
    with writes.lock:
        call = writes.fresh(call)
        project = compute.compute_project(call)
        rules = list(project.compute.get("firewalls", ()) if project.compute else ())
        name = str(body.get("name") or "")
        if any(r.get("name") == name for r in rules):
            raise ApiError(
                409,
                f"The resource 'projects/{project.project_id}/global/firewalls/{name}' already exists",
                reason="alreadyExists",
            )
        now = writes.now()
        rule = _firewall(body, project, call.scenario, new_id(), compute_time(now))
        principal = writes.principal(call)
        operation = done_operation(project.project_id, "global", "insert", rule, principal, now)
        record = _firewall_record(project, "insert", "compute.firewalls.create", rule, body, operation, principal, call)
        writes.commit(with_compute(call.scenario, project, "firewalls", [*rules, rule]), record, operation, "global")
    return Reply(200, operation)


def firewall_change(writes: WritePath, call: Call, verb: str) -> Reply:
    """`patch` (merge into the rule) or `update` (replace it); the rule keeps its id, age and network."""
    body = request_body(call, "compute", "Firewall")
    name = call.params["firewall"]
    if body.get("name") not in (None, name):
        raise bad_request(f"Invalid value for field 'resource.name': '{body['name']}'. Resource name mismatch.")
    with writes.lock:
        call = writes.fresh(call)
        project, rules, i = _find_firewall(call)
        old = rules[i]
        fields = _merge_patch(old, body) if verb == "patch" else {**body, "name": name}
        fields = {k: v for k, v in fields.items() if k not in _OUTPUT_ONLY}
        rule = _firewall(fields, project, call.scenario, str(old["id"]), str(old["creationTimestamp"]))
        if rule.get("network") != old.get("network"):
            raise bad_request("Invalid value for field 'resource.network': a firewall rule's network cannot change.")
        rules[i] = rule
        now = writes.now()
        principal = writes.principal(call)
        operation = done_operation(project.project_id, "global", verb, rule, principal, now)
        record = _firewall_record(project, verb, "compute.firewalls.update", rule, body, operation, principal, call)
        writes.commit(with_compute(call.scenario, project, "firewalls", rules), record, operation, "global")
    return Reply(200, operation)


def firewall_delete(writes: WritePath, call: Call) -> Reply:
    with writes.lock:
        call = writes.fresh(call)
        project, rules, i = _find_firewall(call)
        rule = rules.pop(i)
        now = writes.now()
        principal = writes.principal(call)
        operation = done_operation(project.project_id, "global", "delete", rule, principal, now)
        record = _firewall_record(project, "delete", "compute.firewalls.delete", rule, {}, operation, principal, call)
        writes.commit(with_compute(call.scenario, project, "firewalls", rules), record, operation, "global")
    return Reply(200, operation)


__all__ = ["firewall_change", "firewall_delete", "firewall_insert"]
