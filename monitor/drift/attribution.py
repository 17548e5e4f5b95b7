"""Who made a drifted change, and when: DRIFT results joined with Admin Activity audit events.

Pure: the daemon keeps the recent events per scope (from the audit poller) and calls
`attribute` on a run's DRIFT results before storing them, so `/results` and the drift log
line say "changed by sre@example.be at …" (a change approved before it was made too). A
result with no matching event is unchanged: the audit log may be late, and the next run
tries again.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from checks.drift import APPROVED_CHANGE
from checks.model import Result, Verdict, is_drift
from monitor.drift.audit_poller import AuditEvent

_COMPUTE = "//compute.googleapis.com/"
_CRM = "//cloudresourcemanager.googleapis.com/"


def _resource_name(result: Result) -> str:
    """`projects/p/global/firewalls/f` from `//compute.googleapis.com/projects/p/...`."""
    for prefix in (_COMPUTE, _CRM):
        if result.resource.startswith(prefix):
            return result.resource[len(prefix) :]
    return result.resource


def _matches(result: Result, event: AuditEvent) -> bool:
    name = _resource_name(result)
    if result.control == "DRIFT-02":  # grants: the project's SetIamPolicy
        return event.area == "iam" and event.resource_name == name
    if result.control == "DRIFT-03":  # a disk's attachments, or a schedule the diff names
        if event.area != "backup":
            return False
        if "/resourcePolicies/" in event.resource_name:
            return event.resource_name.rsplit("/", 1)[-1] in result.reason
        return event.resource_name == name
    return event.resource_name == name


def attribute(results: Sequence[Result], events: Iterable[AuditEvent]) -> list[Result]:
    """Append the latest matching audit event (who, when, which method) to each drifted result,
    and to each change approved before it was made (the evidence names who made it too)."""
    recent = sorted(events, key=lambda e: e.timestamp)
    attributed: list[Result] = []
    for result in results:
        event = next((e for e in reversed(recent) if _matches(result, e)), None)
        changed = result.verdict is Verdict.FAIL or result.reason.startswith(APPROVED_CHANGE)
        if not changed or event is None:
            attributed.append(result)
            continue
        who = event.principal or "an unknown principal"
        when = event.timestamp.isoformat().replace("+00:00", "Z")
        note = f"; changed by {who} at {when} ({event.method}, Admin Activity audit log)"
        attributed.append(replace(result, reason=result.reason + note))
    return attributed


def attribute_run(results: Mapping[str, list[Result]], events: Iterable[AuditEvent]) -> dict[str, list[Result]]:
    """A run's results per control, DRIFT ones attributed (the others as they are)."""
    recent = list(events)
    return {control: attribute(found, recent) if is_drift(control) else found for control, found in results.items()}


class RecentEvents:
    """The latest audit events per scope (a bounded memory), for attributing the next runs' drift."""

    def __init__(self, kept: int = 200) -> None:
        self._kept = kept
        self._lock = threading.Lock()
        self._events: dict[str, deque[AuditEvent]] = {}

    def remember(self, event: AuditEvent) -> None:
        with self._lock:
            self._events.setdefault(event.scope, deque(maxlen=self._kept)).append(event)

    def of(self, scope: str) -> list[AuditEvent]:
        with self._lock:
            return list(self._events.get(scope, ()))
