"""Admin Activity audit-log entries for the stand-in's mutations, as Google writes them.

Every successful mutation (a firewall insert, a setIamPolicy, a disk's resource policy
change) leaves one entry in `projects/P/logs/cloudaudit.googleapis.com%2Factivity`, so
the drift poller can be tested end to end against the same `entries:list` route that
serves scenario entries. The shape is the real one where the poller and the audit
controls look: `protoPayload` of type `google.cloud.audit.AuditLog` with `methodName`
as the API writes it (`v1.compute.firewalls.insert`, `SetIamPolicy`), `resourceName`,
`authenticationInfo.principalEmail`, and for IAM `serviceData.policyDelta`. Compute
writes two entries per operation (`operation.first`, then `operation.last`); the
stand-in's operations are DONE at once, so it writes one entry marked both.

Real entries reach `entries:list` seconds (sometimes minutes) after their `timestamp`.
`AuditTrail.delay` reproduces that: an entry keeps the mutation's `timestamp` but is
appended to the store only `delay` seconds later (or at `flush()`), which is how tests
prove that a poller's overlapping window catches late, out-of-order entries.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.standin.cloudlogging import LogStore
from monitor.standin.discovery import load_api

ACTIVITY_LOG_ID = "cloudaudit.googleapis.com%2Factivity"
AUDIT_LOG_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog"
IAM_AUDIT_DATA_TYPE = "type.googleapis.com/google.iam.v1.logging.AuditData"
#: the request header naming who mutates (the anonymous clients send no identity)
PRINCIPAL_HEADER = "x-standin-principal"
DEFAULT_PRINCIPAL = "sre@example.be"
CALLER_IP = "127.0.0.1"


def activity_log_name(project_id: str) -> str:
    """The Admin Activity logName of a project (LOG_ID URL-encoded, as the API lists it)."""
    return f"projects/{project_id}/logs/{ACTIVITY_LOG_ID}"


def log_time(when: datetime) -> str:
    """Logging's RFC 3339 form: UTC, `Z`, a fraction (microseconds here)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditRecord:
    """What one mutation tells the audit log; `build_entry` turns it into a LogEntry."""

    project_id: str
    service: str  # compute.googleapis.com, cloudresourcemanager.googleapis.com
    method: str  # as the API writes it: v1.compute.firewalls.insert, SetIamPolicy
    resource_name: str  # projects/p/global/firewalls/f, projects/p, projects/p/zones/z/disks/d
    resource_type: str  # the monitored resource: gce_firewall_rule, gce_disk, project
    resource_labels: Mapping[str, str]
    permission: str  # checked by IAM: compute.firewalls.create, resourcemanager.projects.setIamPolicy
    principal: str
    request: Mapping[str, Any]
    response: Mapping[str, Any]
    service_data: Mapping[str, Any] | None = None
    operation_id: str | None = None
    user_agent: str | None = None
    extra_labels: Mapping[str, str] = field(default_factory=dict)


def build_entry(record: AuditRecord, *, insert_id: str, timestamp: datetime, received: datetime) -> dict[str, Any]:
    """The Admin Activity LogEntry of `record` (valid against the LogEntry schema)."""
    metadata: dict[str, Any] = {"callerIp": CALLER_IP}
    if record.user_agent:
        metadata["callerSuppliedUserAgent"] = record.user_agent
    payload: dict[str, Any] = {
        "@type": AUDIT_LOG_TYPE,
        "status": {},
        "authenticationInfo": {"principalEmail": record.principal},
        "requestMetadata": metadata,
        "serviceName": record.service,
        "methodName": record.method,
        "authorizationInfo": [
            {
                "resource": record.resource_name,
                "permission": record.permission,
                "granted": True,
                "resourceAttributes": {"service": record.service, "name": record.resource_name},
            }
        ],
        "resourceName": record.resource_name,
        "request": dict(record.request),
        "response": dict(record.response),
    }
    if record.service_data is not None:
        payload["serviceData"] = dict(record.service_data)
    entry: dict[str, Any] = {
        "protoPayload": payload,
        "insertId": insert_id,
        "resource": {"type": record.resource_type, "labels": dict(record.resource_labels)},
        "timestamp": log_time(timestamp),
        "severity": "NOTICE",
        "logName": activity_log_name(record.project_id),
        "receiveTimestamp": log_time(received),
    }
    if record.extra_labels:
        entry["labels"] = dict(record.extra_labels)
    if record.operation_id is not None:
        entry["operation"] = {
            "id": record.operation_id,
            "producer": record.service,
            "first": True,
            "last": True,
        }
    return entry


def _grants(policy: Mapping[str, Any] | None) -> dict[tuple[str, str, str], tuple[str, str, Any]]:
    """(role, member, condition as JSON) of every grant of `policy`, with the condition itself."""
    found: dict[tuple[str, str, str], tuple[str, str, Any]] = {}
    for binding in (policy or {}).get("bindings", []):
        condition = binding.get("condition")
        key_condition = json.dumps(condition, sort_keys=True) if condition is not None else ""
        for member in binding.get("members", []):
            found[(str(binding["role"]), str(member), key_condition)] = (binding["role"], member, condition)
    return found


def binding_deltas(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """IAM's `policyDelta.bindingDeltas` from `old` to `new`: one ADD or REMOVE per member and role."""
    before, after = _grants(old), _grants(new)
    deltas: list[dict[str, Any]] = []
    for action, keys in (
        ("REMOVE", sorted(before.keys() - after.keys())),
        ("ADD", sorted(after.keys() - before.keys())),
    ):
        for key in keys:
            role, member, condition = (before if action == "REMOVE" else after)[key]
            delta: dict[str, Any] = {"action": action, "role": role, "member": member}
            if condition is not None:
                delta["condition"] = condition
            deltas.append(delta)
    deltas.sort(key=lambda d: (d["role"], d["member"], d["action"]))
    return deltas


def _audit_configs(policy: Mapping[str, Any] | None) -> set[tuple[str, str, tuple[str, ...]]]:
    found: set[tuple[str, str, tuple[str, ...]]] = set()
    for config in (policy or {}).get("auditConfigs", []):
        for log_config in config.get("auditLogConfigs", []):
            exempted = tuple(sorted(log_config.get("exemptedMembers", [])))
            found.add((str(config.get("service", "")), str(log_config.get("logType", "")), exempted))
    return found


def audit_config_deltas(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """IAM's `policyDelta.auditConfigDeltas` from `old` to `new` (one per service and log type)."""
    before, after = _audit_configs(old), _audit_configs(new)
    deltas: list[dict[str, Any]] = []
    for action, items in (("REMOVE", before - after), ("ADD", after - before)):
        for service, log_type, exempted in sorted(items):
            delta: dict[str, Any] = {"action": action, "service": service, "logType": log_type}
            if exempted:
                delta["exemptedMember"] = exempted[0]
            deltas.append(delta)
    return deltas


class AuditTrail:
    """Writes mutation entries into the stand-in's `LogStore`, now or after an ingestion delay.

    `delay` (seconds, settable at any time) holds each new entry back: it is appended
    `delay` seconds after its `timestamp` (its `receiveTimestamp`), by a timer, or at
    once by `flush()`. `clear()` (the stand-in's reset) drops held entries.
    """

    def __init__(self, store: LogStore, *, delay: float = 0.0, default_principal: str = DEFAULT_PRINCIPAL) -> None:
        self._store = store
        self.delay = delay
        self.default_principal = default_principal
        self._lock = threading.Lock()
        self._held: dict[str, tuple[dict[str, Any], threading.Timer]] = {}

    def principal(self, headers: Mapping[str, str]) -> str:
        """Who made a request: the `X-Standin-Principal` header, else the default."""
        return headers.get(PRINCIPAL_HEADER) or self.default_principal

    def entry(self, record: AuditRecord, *, now: datetime | None = None) -> dict[str, Any]:
        """The entry `record` will be written as (checked against the LogEntry schema).

        Raises ValueError for an invalid entry: a stand-in bug, answered 500 before the
        mutation is applied.
        """
        when = now or datetime.now(UTC)
        delay = max(0.0, self.delay)
        entry = build_entry(
            record, insert_id=self._store.insert_id(), timestamp=when, received=when + timedelta(seconds=delay)
        )
        issues = load_api("logging").validate(entry, "LogEntry")
        if issues:
            raise ValueError(f"invalid audit entry for {record.method}: {'; '.join(map(str, issues[:3]))}")
        return entry

    def write(self, entry: dict[str, Any]) -> None:
        """Append `entry` now, or hold it for `delay` seconds."""
        delay = max(0.0, self.delay)
        if delay <= 0:
            self._store.append([entry])
            return
        insert_id = str(entry["insertId"])
        timer = threading.Timer(delay, self._release, args=(insert_id,))
        timer.daemon = True
        with self._lock:
            self._held[insert_id] = (entry, timer)
        timer.start()

    def _release(self, insert_id: str) -> None:
        with self._lock:
            held = self._held.pop(insert_id, None)
        if held is not None:
            self._store.append([held[0]])

    def held(self) -> list[dict[str, Any]]:
        """Entries written but not yet visible to `entries:list`, oldest first."""
        with self._lock:
            return [entry for entry, _ in self._held.values()]

    def flush(self) -> int:
        """Make every held entry visible now; returns how many there were."""
        with self._lock:
            held = list(self._held.values())
            self._held.clear()
        for _, timer in held:
            timer.cancel()
        self._store.append(entry for entry, _ in held)
        return len(held)

    def clear(self) -> None:
        """Drop held entries (those already visible live in the store, cleared with it)."""
        with self._lock:
            held = list(self._held.values())
            self._held.clear()
        for _, timer in held:
            timer.cancel()


__all__ = [
    "ACTIVITY_LOG_ID",
    "DEFAULT_PRINCIPAL",
    "PRINCIPAL_HEADER",
    "AuditRecord",
    "AuditTrail",
    "activity_log_name",
    "audit_config_deltas",
    "binding_deltas",
    "build_entry",
    "log_time",
]
