"""Mutations through the real API routes, each leaving an Admin Activity audit-log entry.

The drift work needs changes made the way people make them (the real clients, the real
routes) and the trail Google leaves of them, so a poller can be tested end to end:
- Compute `firewalls.insert` / `patch` (JSON merge patch: given fields replace, `null`
  removes) / `update` (full replace) / `delete`, and `disks.addResourcePolicies` /
  `removeResourcePolicies`: the scenario state changes, the answer is a `DONE`
  `compute#operation`, kept so `globalOperations`/`zoneOperations` `get` and `wait`
  answer it too (what `ExtendedOperation.result()` polls when an operation is not done);
- Resource Manager `projects.setIamPolicy`: IAM's etag check (a stale etag is 409
  ABORTED; none means last write wins), `updateMask` (default `bindings,etag`),
  version 3 exactly when a binding is conditional, a fresh base64 etag.

Requests are validated as Google does where a test could otherwise pass by accident: a
misspelt field, a firewall with both or neither of `allowed`/`denied`, a network or
resource policy that does not exist, an insert of an existing name (409), an unknown
resource (404). The scenario is immutable: each mutation builds the next one under a
lock and hands it to the server, so a request already reading the old one finishes on
it. Who made the change comes from the `X-Standin-Principal` header (see `auditlog`).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import random
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from monitor.standin import compute, crm
from monitor.standin.auditlog import IAM_AUDIT_DATA_TYPE, AuditRecord, AuditTrail, audit_config_deltas, binding_deltas
from monitor.standin.discovery import load_api
from monitor.standin.replies import ApiError, Reply, bad_request, not_found
from monitor.standin.routes import Call, Handler
from monitor.standin.scenario import Project, Resource, Scenario, scope_key

COMPUTE = "compute.googleapis.com"
CRM = "cloudresourcemanager.googleapis.com"
MAX_OPERATIONS = 1000
#: Compute writes its timestamps in Pacific time
_PACIFIC = timezone(timedelta(hours=-8))
_OUTPUT_ONLY = ("kind", "id", "creationTimestamp", "selfLink")
_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_NETWORK = re.compile(
    r"^(?:https://(?:www|compute)\.googleapis\.com/compute/v1/)?(?:projects/([^/]+)/)?global/networks/([^/]+)$"
)
_POLICY = re.compile(
    r"^(?:https://(?:www|compute)\.googleapis\.com/compute/v1/)?(?:projects/([^/]+)/)?regions/([^/]+)/resourcePolicies/([^/]+)$"
)
_MEMBER_PREFIXES = (
    "user:",
    "group:",
    "serviceAccount:",
    "domain:",
    "deleted:",
    "principal:",
    "principalSet:",
    "projectOwner:",
    "projectEditor:",
    "projectViewer:",
)
_MEMBER_WORDS = ("allUsers", "allAuthenticatedUsers")
_ROLE = re.compile(r"^(roles/[A-Za-z0-9_.]+|(projects|organizations)/[^/]+/roles/[A-Za-z0-9_.]+)$")
_MASK_PATHS = frozenset({"bindings", "etag", "auditConfigs", "version"})
_DEFAULT_MASK = frozenset({"bindings", "etag"})
_rand = random.SystemRandom()


# -- small helpers ---------------------------------------------------------------------


def _compute_time(when: datetime) -> str:
    return when.astimezone(_PACIFIC).isoformat(timespec="milliseconds")


def _new_id() -> str:
    """A Compute resource id: a 19-digit uint64, as a string."""
    return str(_rand.randrange(10**18, 2**63))


def _new_etag() -> str:
    """An IAM etag: 8 bytes (IAM's start with 0x07 0x06), base64."""
    return base64.b64encode(b"\x07\x06" + _rand.randbytes(6)).decode()


def _request_leaf(value: Any, schema: Mapping[str, Any], name: str) -> Any:
    """int64 numbers as strings, enums sent as numbers (Resource Manager's client does) as names."""
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    if schema.get("format") in ("int64", "uint64"):
        return str(value)
    enum = schema.get("enum")
    if enum and 0 <= value < len(enum):
        return enum[value]
    return value


def _request(call: Call, api: str, ref: str) -> dict[str, Any]:
    """The request body, normalised as the server stores it, validated against `ref`."""
    if not isinstance(call.body, dict):
        raise bad_request(f"Invalid JSON payload received: the body of {call.method.id} must be a {ref} object")
    loaded = load_api(api)
    body: dict[str, Any] = loaded.rewrite(call.body, ref, _request_leaf)
    issues = loaded.validate(body, ref)
    if issues:
        raise bad_request(f"Invalid JSON payload received. {issues[0]}")
    return body


def _principal(call: Call, trail: AuditTrail) -> str:
    return trail.principal(call.headers)


# -- scenario updates ------------------------------------------------------------------


def _with_project(scenario: Scenario, project: Project, edit: Callable[[dict[str, Any]], None]) -> Scenario:
    """`scenario` with `project` replaced, its document edited alike (so both tell one story)."""
    document = dict(scenario.document)
    projects = list(document.get("projects", []))
    for i, raw in enumerate(projects):
        if raw.get("projectId") == project.project_id:
            raw = copy.copy(raw)
            edit(raw)
            projects[i] = raw
    document["projects"] = projects
    return dataclasses.replace(scenario, projects={**scenario.projects, project.project_id: project}, document=document)


def _with_compute(scenario: Scenario, project: Project, kind: str, items: list[Resource]) -> Scenario:
    assert project.compute is not None

    def edit(raw: dict[str, Any]) -> None:
        raw["compute"] = {**raw.get("compute", {}), kind: [dict(i) for i in items]}

    changed = project.with_list("compute", kind, tuple(items))
    return _with_project(scenario, changed, edit)


def _with_policy(scenario: Scenario, project: Project, policy: Resource) -> Scenario:
    def edit(raw: dict[str, Any]) -> None:
        raw["iamPolicy"] = dict(policy)

    return _with_project(scenario, dataclasses.replace(project, iam_policy=policy), edit)


# -- operations ------------------------------------------------------------------------


def _operation(
    project_id: str, scope: str, op_type: str, target: Resource, user: str, when: datetime
) -> dict[str, Any]:
    """A `DONE` compute#operation on `target` in `scope` (`global` or `zones/Z`)."""
    stamp = _compute_time(when)
    millis = int(when.timestamp() * 1000)
    name = f"operation-{millis}-{_rand.getrandbits(52):013x}-{_rand.getrandbits(32):08x}-{_rand.getrandbits(32):08x}"
    base = f"{compute.SELF_LINK_BASE}projects/{project_id}/"
    operation: dict[str, Any] = {
        "kind": "compute#operation",
        "id": _new_id(),
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


def _operation_log(operation: Mapping[str, Any]) -> dict[str, Any]:
    """The operation as Compute's audit `response` shows it."""
    keys = ("id", "name", "operationType", "progress", "selfLink", "status", "targetId", "targetLink", "user")
    shown = {k: operation[k] for k in keys if k in operation}
    shown["progress"] = str(shown.get("progress", 100))
    return {"@type": "type.googleapis.com/operation", **shown, "insertTime": operation["insertTime"]}


# -- firewalls -------------------------------------------------------------------------


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
    if not _NAME.match(name):
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
        response=_operation_log(operation),
        operation_id=str(operation["name"]),
        user_agent=call.headers.get("user-agent"),
    )


# -- disks -----------------------------------------------------------------------------


def _policy_url(value: Any, project: Project, region: str) -> str:
    """A resource policy reference as its full URL (a bare name is in the disk's region)."""
    text = str(value)
    if "/" not in text and _NAME.match(text):
        text = f"regions/{region}/resourcePolicies/{text}"
    match = _POLICY.match(text)
    if match is None:
        raise ApiError(400, f"Invalid value for field 'resourcePolicies': '{value}'. The URL is malformed.")
    owner = match.group(1) or project.project_id
    return f"{compute.SELF_LINK_BASE}projects/{owner}/regions/{match.group(2)}/resourcePolicies/{match.group(3)}"


def _canonical(url: str) -> str:
    return url.replace("https://compute.googleapis.com/", compute.SELF_LINK_BASE.removesuffix("compute/v1/"))


# -- IAM -------------------------------------------------------------------------------


def _update_mask(raw: Any) -> frozenset[str]:
    if raw is None or raw == "":
        return _DEFAULT_MASK
    paths = frozenset(p.strip() for p in str(raw).split(",") if p.strip())
    unknown = sorted(paths - _MASK_PATHS)
    if unknown:
        raise bad_request(f"Invalid update_mask: unknown field(s) {', '.join(unknown)} of Policy")
    return paths


def _checked_bindings(bindings: Any) -> list[dict[str, Any]]:
    """Bindings as IAM stores them (without member-less ones), or 400 for a bad role or member."""
    kept: list[dict[str, Any]] = []
    for binding in bindings or []:
        role = str(binding.get("role", ""))
        if not _ROLE.match(role):
            raise bad_request(f"Role {role!r} is not a valid role name (roles/…, projects/P/roles/…).")
        for member in binding.get("members", []):
            if member not in _MEMBER_WORDS and not str(member).startswith(_MEMBER_PREFIXES):
                raise bad_request(f"Invalid argument: member {member!r} is not of a supported type (user:, group:, …).")
        if binding.get("members"):
            kept.append(dict(binding))
    return kept


def _conditional(policy: Mapping[str, Any] | None) -> bool:
    return any("condition" in b for b in (policy or {}).get("bindings", []))


# -- the handlers ----------------------------------------------------------------------


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
        self._current = current
        self._replace = replace
        self._audit = audit
        self._clock = clock
        self._lock = threading.RLock()
        self._operations: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()

    def clear(self) -> None:
        """Forget answered operations (the stand-in's reset and load)."""
        with self._lock:
            self._operations.clear()

    def handlers(self) -> dict[str, Handler]:
        """API method id -> handler, for every mutating method the stand-in serves."""
        return {
            "compute.firewalls.insert": self._firewall_insert,
            "compute.firewalls.patch": lambda call: self._firewall_change(call, "patch"),
            "compute.firewalls.update": lambda call: self._firewall_change(call, "update"),
            "compute.firewalls.delete": self._firewall_delete,
            "compute.globalOperations.get": self._operation_get,
            "compute.globalOperations.wait": self._operation_get,
            "compute.zoneOperations.get": self._operation_get,
            "compute.zoneOperations.wait": self._operation_get,
            "compute.disks.addResourcePolicies": lambda call: self._disk_policies(call, add=True),
            "compute.disks.removeResourcePolicies": lambda call: self._disk_policies(call, add=False),
            "cloudresourcemanager.projects.setIamPolicy": self._set_iam_policy,
        }

    # -- plumbing --

    def _fresh(self, call: Call) -> Call:
        """`call` on the scenario as it is now (the request may have arrived before a mutation)."""
        return dataclasses.replace(call, scenario=self._current())

    def _finish(self, scenario: Scenario, record: AuditRecord, operation: dict[str, Any] | None, scope: str) -> None:
        """Commit `scenario`, keep `operation`, write the audit entry (built first: a bad one changes nothing)."""
        entry = self._audit.entry(record, now=self._clock())
        self._replace(scenario)
        if operation is not None:
            self._operations[(record.project_id, scope, str(operation["name"]))] = operation
            while len(self._operations) > MAX_OPERATIONS:
                self._operations.popitem(last=False)
        self._audit.write(entry)

    # -- firewalls --

    def _firewall_insert(self, call: Call) -> Reply:
        body = _request(call, "compute", "Firewall")
        with self._lock:
            call = self._fresh(call)
            project = compute.compute_project(call)
            rules = list(project.compute.get("firewalls", ()) if project.compute else ())
            name = str(body.get("name") or "")
            if any(r.get("name") == name for r in rules):
                raise ApiError(
                    409,
                    f"The resource 'projects/{project.project_id}/global/firewalls/{name}' already exists",
                    reason="alreadyExists",
                )
            now = self._clock()
            rule = _firewall(body, project, call.scenario, _new_id(), _compute_time(now))
            principal = _principal(call, self._audit)
            operation = _operation(project.project_id, "global", "insert", rule, principal, now)
            record = _firewall_record(
                project, "insert", "compute.firewalls.create", rule, body, operation, principal, call
            )
            self._finish(
                _with_compute(call.scenario, project, "firewalls", [*rules, rule]), record, operation, "global"
            )
        return Reply(200, operation)

    def _find_firewall(self, call: Call) -> tuple[Project, list[Resource], int]:
        project = compute.compute_project(call)
        rules = list(project.compute.get("firewalls", ()) if project.compute else ())
        name = call.params["firewall"]
        for i, rule in enumerate(rules):
            if rule.get("name") == name:
                return project, rules, i
        raise not_found(f"projects/{call.params['project']}/global/firewalls/{name}")

    def _firewall_change(self, call: Call, verb: str) -> Reply:
        body = _request(call, "compute", "Firewall")
        name = call.params["firewall"]
        if body.get("name") not in (None, name):
            raise bad_request(f"Invalid value for field 'resource.name': '{body['name']}'. Resource name mismatch.")
        with self._lock:
            call = self._fresh(call)
            project, rules, i = self._find_firewall(call)
            old = rules[i]
            fields = _merge_patch(old, body) if verb == "patch" else {**body, "name": name}
            fields = {k: v for k, v in fields.items() if k not in _OUTPUT_ONLY}
            rule = _firewall(fields, project, call.scenario, str(old["id"]), str(old["creationTimestamp"]))
            if rule.get("network") != old.get("network"):
                raise bad_request(
                    "Invalid value for field 'resource.network': a firewall rule's network cannot change."
                )
            rules[i] = rule
            now = self._clock()
            principal = _principal(call, self._audit)
            operation = _operation(project.project_id, "global", verb, rule, principal, now)
            record = _firewall_record(project, verb, "compute.firewalls.update", rule, body, operation, principal, call)
            self._finish(_with_compute(call.scenario, project, "firewalls", rules), record, operation, "global")
        return Reply(200, operation)

    def _firewall_delete(self, call: Call) -> Reply:
        with self._lock:
            call = self._fresh(call)
            project, rules, i = self._find_firewall(call)
            rule = rules.pop(i)
            now = self._clock()
            principal = _principal(call, self._audit)
            operation = _operation(project.project_id, "global", "delete", rule, principal, now)
            record = _firewall_record(
                project, "delete", "compute.firewalls.delete", rule, {}, operation, principal, call
            )
            self._finish(_with_compute(call.scenario, project, "firewalls", rules), record, operation, "global")
        return Reply(200, operation)

    # -- operations --

    def _operation_get(self, call: Call) -> Reply:
        with self._lock:
            project = compute.compute_project(self._fresh(call))
            scope = f"zones/{call.params['zone']}" if "zone" in call.params else "global"
            name = call.params["operation"]
            found = self._operations.get((project.project_id, scope, name))
        if found is None:
            raise not_found(f"projects/{call.params['project']}/{scope}/operations/{name}")
        return Reply(200, found)

    # -- disks --

    def _disk_policies(self, call: Call, *, add: bool) -> Reply:
        verb = "addResourcePolicies" if add else "removeResourcePolicies"
        ref = "DisksAddResourcePoliciesRequest" if add else "DisksRemoveResourcePoliciesRequest"
        body = _request(call, "compute", ref)
        wanted = body.get("resourcePolicies") or []
        if not wanted:
            raise bad_request("Invalid value for field 'resourcePolicies': at least one resource policy is required.")
        with self._lock:
            call = self._fresh(call)
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
            now = self._clock()
            principal = _principal(call, self._audit)
            scope = f"zones/{zone}"
            operation = _operation(project.project_id, scope, verb, changed, principal, now)
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
                response=_operation_log(operation),
                operation_id=str(operation["name"]),
                user_agent=call.headers.get("user-agent"),
            )
            self._finish(_with_compute(call.scenario, project, "disks", disks), record, operation, scope)
        return Reply(200, operation)

    # -- IAM --

    def _set_iam_policy(self, call: Call) -> Reply:
        body = _request(call, "cloudresourcemanager", "SetIamPolicyRequest")
        sent = body.get("policy")
        if not isinstance(sent, dict):
            raise bad_request("policy: required (the complete policy to apply)")
        mask = _update_mask(body.get("updateMask"))
        with self._lock:
            call = self._fresh(call)
            project = crm.crm_project(call, "setIamPolicy")
            stored = dict(project.iam_policy) if project.iam_policy is not None else dict(crm.EMPTY_POLICY)
            etag = sent.get("etag")
            if etag and etag != stored.get("etag", crm.EMPTY_POLICY["etag"]):
                raise ApiError(
                    409,
                    "There were concurrent policy changes. Please retry the whole read-modify-write "
                    "with exponential backoff.",
                    reason="aborted",
                )
            policy = {k: v for k, v in stored.items() if k not in mask}
            for path in mask - {"etag", "version"}:
                if path in sent:
                    policy[path] = sent[path]
                else:
                    policy.pop(path, None)
            policy["bindings"] = _checked_bindings(policy.get("bindings"))
            if not policy["bindings"]:
                del policy["bindings"]
            touches_conditions = _conditional(policy) or ("bindings" in mask and _conditional(stored))
            if touches_conditions and int(sent.get("version", 0)) < 3:
                raise bad_request(
                    "Invalid IAM policy: a request that adds, changes or removes conditional role bindings "
                    "must set policy version 3."
                )
            result: dict[str, Any] = {"version": 3 if _conditional(policy) else 1}
            result.update((k, policy[k]) for k in ("bindings", "auditConfigs") if policy.get(k))  # [] is absent
            result["etag"] = _new_etag()
            delta: dict[str, Any] = {}
            if deltas := binding_deltas(stored, result):
                delta["bindingDeltas"] = deltas
            if audit_deltas := audit_config_deltas(stored, result):
                delta["auditConfigDeltas"] = audit_deltas
            request: dict[str, Any] = {
                "@type": "type.googleapis.com/google.iam.v1.SetIamPolicyRequest",
                "resource": f"projects/{project.project_id}",
                "policy": sent,
            }
            if body.get("updateMask"):
                request["updateMask"] = body["updateMask"]
            record = AuditRecord(
                project_id=project.project_id,
                service=CRM,
                method="SetIamPolicy",
                resource_name=f"projects/{project.project_id}",
                resource_type="project",
                resource_labels={"project_id": project.project_id},
                permission="resourcemanager.projects.setIamPolicy",
                principal=_principal(call, self._audit),
                request=request,
                response={"@type": "type.googleapis.com/google.iam.v1.Policy", **result},
                service_data={"@type": IAM_AUDIT_DATA_TYPE, "policyDelta": delta},
                user_agent=call.headers.get("user-agent"),
            )
            self._finish(_with_policy(call.scenario, project, result), record, None, "")
        return Reply(200, result)


__all__ = ["Mutations"]
