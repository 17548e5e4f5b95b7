"""The networks kinds of issue 13 fail closed, end to end: a fault on a kind's listing turns
exactly the controls reading that kind into `error`, naming the call, while every other control
keeps its verdict and the other scope stays as it was.

Real clients, collectors, daemon and stand-in serving the demo (shop-prod holds a backend
service, Cloud DNS zones and policies).
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
ENABLED = [c for c in default_registry() if not c.meta.id.startswith("DRIFT-")]  # config_for leaves DRIFT off
KINDS = (Kind.BACKEND_SERVICES, Kind.MANAGED_ZONES, Kind.DNS_POLICIES)

MakeDaemon = Callable[..., tuple[Daemon, StuckCalls]]


def statuses(daemon: Daemon, scope: str) -> dict[str, str]:
    return {s.control: s.status.value for s in daemon.store.states() if s.scope == scope and s.status is not None}


def readers(kind: Kind) -> set[str]:
    return {c.meta.id for c in ENABLED if kind in c.meta.kinds}


FAULTS = [
    pytest.param(kind, Fault(method=kind.spec.method, project=SCOPE, **fault), cause, id=f"{kind}-{name}")
    for kind in KINDS
    for name, fault, cause in (
        ("403", {"status": 403}, "HTTP 403"),
        ("500", {"status": 500}, "HTTP 500"),
        ("malformed", {"kind": "malformed"}, "malformed"),
        ("hostile", {"kind": "hostile", "mode": "empty-object"}, kind.spec.method),
    )
]


@pytest.mark.parametrize(("kind", "fault", "cause"), FAULTS)
def test_a_fault_on_a_networks_kind_turns_exactly_its_controls_to_error(
    standin: StandIn, make_daemon: MakeDaemon, kind: Kind, fault: Fault, cause: str
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE, OTHER]))
    daemon.run_scope(SCOPE)
    daemon.run_scope(OTHER)
    clean, other = statuses(daemon, SCOPE), statuses(daemon, OTHER)
    reading = readers(kind)
    assert reading and "error" not in clean.values() and set(reading) <= set(clean)

    standin.add_fault(fault)
    daemon.run_scope(SCOPE)
    daemon.run_scope(OTHER)
    got = statuses(daemon, SCOPE)
    assert {c for c, s in got.items() if s == "error"} == reading
    assert {c: s for c, s in got.items() if c not in reading} == {c: s for c, s in clean.items() if c not in reading}
    for control in reading:
        [result] = daemon.store.results(control=control, scope=SCOPE, verdict="error")
        assert f"{kind}:" in result.reason and kind.spec.method in result.reason, result.reason
        assert cause in result.reason, result.reason
    assert statuses(daemon, OTHER) == other


def test_a_disabled_cloud_dns_api_means_no_zone_and_no_policy_not_error(
    standin: StandIn, make_daemon: MakeDaemon
) -> None:
    """Both Cloud DNS listings answer SERVICE_DISABLED: there is no zone to judge, and no DNS policy,
    so the zone controls pass with nothing to judge and prod-vpc's queries are not logged (a fail)."""
    daemon, _ = make_daemon(config_for([SCOPE]))
    daemon.run_scope(SCOPE)
    assert {c: s for c, s in statuses(daemon, SCOPE).items() if c in ("FW-15", "LOG-10")} == {
        "FW-15": "fail", "LOG-10": "pass"
    }  # the demo's planted unsigned zone; prod-vpc's logging policy
    for kind in (Kind.MANAGED_ZONES, Kind.DNS_POLICIES):
        standin.add_fault(Fault(method=kind.spec.method, project=SCOPE, status=403, reason="SERVICE_DISABLED"))
    daemon.run_scope(SCOPE)
    got = statuses(daemon, SCOPE)
    assert "error" not in got.values()
    assert (got["FW-15"], got["FW-16"], got["FW-17"], got["LOG-10"]) == ("pass", "pass", "pass", "fail")
    [result] = daemon.store.results(control="LOG-10", scope=SCOPE, verdict="fail")
    assert result.reason == "network prod-vpc is bound to no DNS server policy, so its queries are not logged"
    assert daemon.store.results(control="FW-15", scope=SCOPE) == []  # passes are counted, not listed
