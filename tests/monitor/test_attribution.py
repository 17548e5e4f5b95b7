"""Drift attribution: the latest matching audit event names who changed what, and only a match."""

from __future__ import annotations

from datetime import UTC, datetime

from checks.model import Result, Verdict
from monitor.drift.attribution import attribute
from monitor.drift.audit_poller import AuditEvent

FW = "//compute.googleapis.com/projects/p/global/firewalls/allow-ssh"
DISK = "//compute.googleapis.com/projects/p/zones/europe-west1-b/disks/web-1"


def result(control: str, resource: str, reason: str, verdict: Verdict = Verdict.FAIL) -> Result:
    return Result(control=control, scope="p", resource=resource, subject="changed", verdict=verdict, reason=reason)


def event(
    resource: str, who: str, minute: int, area: str = "firewall", method: str = "v1.compute.firewalls.patch"
) -> AuditEvent:
    return AuditEvent(
        scope="p",
        method=method,
        resource_name=resource,
        principal=who,
        timestamp=datetime(2026, 11, 25, 12, minute, tzinfo=UTC),
        insert_id=f"i{minute}",
        area=area,
    )  # type: ignore[arg-type]


def test_latest_matching_event_is_named() -> None:
    events = [
        event("projects/p/global/firewalls/allow-ssh", "a@x.be", 1),
        event("projects/p/global/firewalls/allow-ssh", "b@x.be", 2),
        event("projects/p/global/firewalls/other", "c@x.be", 3),
    ]
    [got] = attribute([result("DRIFT-01", FW, "sourceRanges changed")], events)
    assert got.reason.endswith(
        "changed by b@x.be at 2026-11-25T12:02:00Z (v1.compute.firewalls.patch, Admin Activity audit log)"
    )


def test_passing_and_unmatched_results_are_left_alone() -> None:
    events = [event("projects/p/global/firewalls/other", "c@x.be", 3)]
    results = [result("DRIFT-01", FW, "x"), result("DRIFT-01", FW, "y", Verdict.PASS)]
    assert attribute(results, events) == results


def test_schedule_events_only_attribute_disks_whose_diff_names_the_schedule() -> None:
    events = [
        event(
            "projects/p/regions/europe-west1/resourcePolicies/daily",
            "d@x.be",
            4,
            "backup",
            "v1.compute.resourcePolicies.delete",
        )
    ]
    named, other = attribute(
        [result("DRIFT-03", DISK, "schedules.daily removed"), result("DRIFT-03", DISK, "schedules.weekly removed")],
        events,
    )
    assert "changed by d@x.be" in named.reason and "changed by" not in other.reason
