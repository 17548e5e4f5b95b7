"""Resource Manager `projects.setIamPolicy`, with IAM's read-modify-write rules.

A stale etag is 409 ABORTED (no etag means last write wins); `updateMask` picks the
fields replaced (default `bindings,etag`); a request touching a conditional binding must
say version 3, and the stored policy is version 3 exactly when a binding is conditional;
every write gets a fresh base64 etag. Bad roles and members are 400, member-less
bindings are dropped as IAM drops them. The audit entry carries IAM's `policyDelta`
(binding and audit-config deltas), where the audit-log controls look.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Mapping
from typing import Any

from monitor.standin import crm
from monitor.standin.auditlog import IAM_AUDIT_DATA_TYPE, AuditRecord, audit_config_deltas, binding_deltas
from monitor.standin.replies import ApiError, Reply, bad_request
from monitor.standin.routes import Call
from monitor.standin.scenarioedits import with_policy
from monitor.standin.writepath import WritePath, request_body

#: the service name Resource Manager's audit entries carry
CRM = "cloudresourcemanager.googleapis.com"
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


def _new_etag() -> str:
    """An IAM etag: 8 bytes (IAM's start with 0x07 0x06), base64."""
    return base64.b64encode(b"\x07\x06" + _rand.randbytes(6)).decode()


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


def set_iam_policy(writes: WritePath, call: Call) -> Reply:
    body = request_body(call, "cloudresourcemanager", "SetIamPolicyRequest")
    sent = body.get("policy")
    if not isinstance(sent, dict):
        raise bad_request("policy: required (the complete policy to apply)")
    mask = _update_mask(body.get("updateMask"))
    with writes.lock:
        call = writes.fresh(call)
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
            principal=writes.principal(call),
            request=request,
            response={"@type": "type.googleapis.com/google.iam.v1.Policy", **result},
            service_data={"@type": IAM_AUDIT_DATA_TYPE, "policyDelta": delta},
            user_agent=call.headers.get("user-agent"),
        )
        writes.commit(with_policy(call.scenario, project, result), record)
    return Reply(200, result)


__all__ = ["CRM", "set_iam_policy"]
