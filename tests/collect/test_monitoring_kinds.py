"""The logging-and-monitoring kinds through the real clients and the stand-in: alert policies
(discovery client), enabled services and Access Approval settings (GAPIC REST clients) collect
exactly what the scenario holds, one observed call a page, and fail closed."""

from __future__ import annotations

import copy
from typing import Any

from checks.snapshot import Kind, Snapshot
from monitor.collect import GcpClients, collect_snapshot
from monitor.standin import Fault, StandIn, load_scenario
from tests.collect.conftest import NOW, PROJECT, Recorder, fast

KINDS = (Kind.ALERT_POLICIES, Kind.ENABLED_SERVICES, Kind.ACCESS_APPROVAL_SETTINGS)


def _collect(clients: GcpClients, recorder: Recorder, *kinds: str, **settings: Any) -> Snapshot:
    return collect_snapshot(PROJECT, kinds or KINDS, clients, settings=fast(**settings), observer=recorder,
                            now=NOW).snapshot  # fmt: skip


def test_each_kind_holds_what_the_scenario_holds(
    standin: StandIn, clients: GcpClients, recorder: Recorder, scenario: dict[str, Any]
) -> None:
    shop = scenario["projects"][0]
    snapshot = _collect(clients, recorder)
    assert snapshot.failed_kinds(KINDS) == {}
    assert list(snapshot.get(Kind.ALERT_POLICIES)) == shop["monitoring"]["alertPolicies"]
    enabled = [s for s in shop["serviceUsage"]["services"] if s["state"] == "ENABLED"]
    assert list(snapshot.get(Kind.ENABLED_SERVICES)) == enabled and len(enabled) < len(shop["serviceUsage"]["services"])
    assert list(snapshot.get(Kind.ACCESS_APPROVAL_SETTINGS)) == shop["accessApproval"]["settings"]
    [listing] = standin.requests_for("serviceusage.services.list")
    assert listing.query.get("filter") == "state:ENABLED"  # the filter is sent, not applied here
    assert sorted(recorder.requests) == sorted([
        ("monitoring", "monitoring.projects.alertPolicies.list", "200"),
        ("serviceusage", "serviceusage.services.list", "200"),
        ("accessapproval", "accessapproval.projects.getAccessApprovalSettings", "200"),
    ])  # fmt: skip


def test_listings_page_one_observed_call_a_page(
    standin: StandIn, clients: GcpClients, recorder: Recorder, scenario: dict[str, Any]
) -> None:
    policy = scenario["projects"][0]["monitoring"]["alertPolicies"][0]
    more = [dict(policy, name=f"{policy['name']}{i}") for i in range(2)]
    changed = copy.deepcopy(scenario)
    changed["projects"][0]["monitoring"]["alertPolicies"] += more
    standin.load(load_scenario(changed))
    try:
        snapshot = _collect(clients, recorder, Kind.ALERT_POLICIES, page_size=1)
    finally:
        standin.load(load_scenario(scenario))
    names = sorted([policy["name"], *(m["name"] for m in more)])
    assert [p["name"] for p in snapshot.get(Kind.ALERT_POLICIES)] == names
    assert recorder.codes("monitoring.projects.alertPolicies.list") == ["200"] * 3


def test_never_configured_access_approval_is_no_settings_and_a_denial_is_an_error(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    method = "accessapproval.projects.getAccessApprovalSettings"
    standin.add_fault(Fault(method=method, project=PROJECT, status=404, times=1))
    snapshot = _collect(clients, recorder, Kind.ACCESS_APPROVAL_SETTINGS)
    assert snapshot.get(Kind.ACCESS_APPROVAL_SETTINGS) == () and snapshot.note(Kind.ACCESS_APPROVAL_SETTINGS) is None
    standin.add_fault(Fault(method=method, project=PROJECT, status=403, times=1))
    denied = _collect(clients, recorder, Kind.ACCESS_APPROVAL_SETTINGS)
    assert denied.failed_kinds((Kind.ACCESS_APPROVAL_SETTINGS,)) == {
        Kind.ACCESS_APPROVAL_SETTINGS: denied.kinds[Kind.ACCESS_APPROVAL_SETTINGS].error}
    assert "HTTP 403" in str(denied.kinds[Kind.ACCESS_APPROVAL_SETTINGS].error)


def test_a_disabled_api_leaves_its_kind_empty_with_a_note(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    for kind in KINDS:
        standin.add_fault(Fault(method=kind.spec.method, project=PROJECT, status=403, reason="SERVICE_DISABLED"))
    snapshot = _collect(clients, recorder)
    assert {kind: (snapshot.get(kind), snapshot.note(kind)) for kind in KINDS} == {
        Kind.ALERT_POLICIES: ((), "Cloud Monitoring API not enabled"),
        Kind.ENABLED_SERVICES: ((), "Service Usage API not enabled"),
        Kind.ACCESS_APPROVAL_SETTINGS: ((), "Access Approval API not enabled"),
    }
