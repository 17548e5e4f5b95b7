"""The logging-and-monitoring kinds fail closed, end to end: a fault on the alert-policy listing,
the enabled-services listing or the Access Approval read turns exactly the controls reading that
kind into `error`, naming the call, while every other control keeps its verdict and the other
scope stays green. A disabled API leaves its kind empty (with a note), never an error of the kind.

Real clients (the discovery client for Monitoring, the GAPIC REST clients for Service Usage and
Access Approval), collectors, daemon and the stand-in serving the demo.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checks import default_registry
from checks.snapshot import Kind
from monitor.collect import StuckCalls
from monitor.daemon import Daemon
from monitor.standin import Fault, StandIn
from tests.monitor.conftest import config_for

SCOPE, OTHER = "shop-prod", "ledger-clean"
ENABLED = [c for c in default_registry() if not c.meta.id.startswith("DRIFT-")]
METHODS = {
    Kind.ALERT_POLICIES: "monitoring.projects.alertPolicies.list",
    Kind.ENABLED_SERVICES: "serviceusage.services.list",
    Kind.ACCESS_APPROVAL_SETTINGS: "accessapproval.projects.getAccessApprovalSettings",
}
READERS = {kind: {c.meta.id for c in ENABLED if kind in c.meta.kinds} for kind in METHODS}

MakeDaemon = Callable[..., tuple[Daemon, StuckCalls]]


def statuses(daemon: Daemon, scope: str) -> dict[str, str]:
    return {s.control: s.status.value for s in daemon.store.states() if s.scope == scope and s.status is not None}


def test_each_kind_is_read_by_exactly_its_control() -> None:
    assert READERS == {Kind.ALERT_POLICIES: {"LOG-03"}, Kind.ENABLED_SERVICES: {"LOG-05"},
                       Kind.ACCESS_APPROVAL_SETTINGS: {"LOG-06"}}  # fmt: skip


FAULTS = [
    pytest.param(kind, Fault(method=method, project=SCOPE, **how), cause, id=f"{kind}-{label}")
    for kind, method in METHODS.items()
    for label, how, cause in [
        ("denied", {"status": 403}, "HTTP 403"),
        ("500", {"status": 500}, "HTTP 500"),
        ("malformed", {"kind": "malformed"}, "malformed"),
        ("hostile", {"kind": "hostile", "mode": "array"}, method),
    ]
]


@pytest.mark.parametrize(("kind", "fault", "cause"), FAULTS)
def test_a_fault_turns_exactly_the_readers_of_the_kind_to_error(
    standin: StandIn, make_daemon: MakeDaemon, kind: Kind, fault: Fault, cause: str
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE, OTHER]))
    daemon.run_scope(SCOPE)
    clean = statuses(daemon, SCOPE)
    assert "error" not in clean.values() and (clean["LOG-03"], clean["LOG-05"], clean["LOG-06"]) == (
        "fail", "pass", "pass")

    standin.add_fault(fault)
    daemon.run_scope(SCOPE)
    daemon.run_scope(OTHER)
    got = statuses(daemon, SCOPE)
    readers = READERS[kind]
    assert {c for c, s in got.items() if s == "error"} == readers
    assert {c: s for c, s in got.items() if c not in readers} == {c: s for c, s in clean.items() if c not in readers}
    for control in readers:
        errors = daemon.store.results(control=control, scope=SCOPE, verdict="error")
        assert errors and all(f"{kind}:" in r.reason and fault.method in r.reason for r in errors)
        assert all(cause in r.reason for r in errors), errors[0].reason
    assert set(statuses(daemon, OTHER).values()) == {"pass"}


def disable(standin: StandIn, kind: Kind) -> None:
    standin.add_fault(Fault(method=METHODS[kind], project=SCOPE, status=403, reason="SERVICE_DISABLED"))


def test_a_disabled_monitoring_api_means_no_alert_policies(standin: StandIn, make_daemon: MakeDaemon) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    disable(standin, Kind.ALERT_POLICIES)
    daemon.run_scope(SCOPE)
    assert statuses(daemon, SCOPE)["LOG-03"] == "fail"
    failed = daemon.store.results(control="LOG-03", scope=SCOPE, verdict="fail")
    firewall = next(r for r in failed if "firewall-changes" in r.reason)
    assert "Cloud Monitoring API not enabled: the project has no alert policies" in firewall.reason


def test_a_disabled_service_usage_api_leaves_log05_unable_to_tell(standin: StandIn, make_daemon: MakeDaemon) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    disable(standin, Kind.ENABLED_SERVICES)
    daemon.run_scope(SCOPE)
    [result] = daemon.store.results(control="LOG-05", scope=SCOPE, verdict="error")
    assert result.reason == (
        "cannot judge enabledServices: Service Usage API not enabled, so which services are enabled is not known")


@pytest.mark.parametrize(("how", "reason"), [
    ({"status": 403, "reason": "SERVICE_DISABLED"}, "Access Approval is not enabled: Access Approval API not enabled"),
    ({"status": 404}, "Access Approval is not enabled: the project has no Access Approval settings (never configured)"),
], ids=["api-disabled", "never-configured"])  # fmt: skip
def test_access_approval_off_or_never_configured_fails(
    standin: StandIn, make_daemon: MakeDaemon, how: dict[str, object], reason: str
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    standin.add_fault(Fault(method=METHODS[Kind.ACCESS_APPROVAL_SETTINGS], project=SCOPE, **how))  # type: ignore[arg-type]
    daemon.run_scope(SCOPE)
    [result] = daemon.store.results(control="LOG-06", scope=SCOPE, verdict="fail")
    assert result.reason == reason
