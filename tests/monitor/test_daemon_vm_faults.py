"""The Compute project read fails closed, end to end: a fault on `compute.projects.get` turns exactly
the VM controls reading the project's common instance metadata (VM-03, VM-04, VM-05) into `error`,
naming the call, while every other control keeps its verdict and the other scope stays green.

Real clients, collectors, daemon and stand-in serving the demo, where shop-prod's project metadata
turns OS Login on and bastion-old turns it off for itself.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checks import default_registry
from checks.model import Area
from checks.snapshot import Kind
from monitor.collect import StuckCalls
from monitor.daemon import Daemon
from monitor.standin import Fault, StandIn
from tests.checks.catalogue import ids
from tests.monitor.conftest import config_for

SCOPE, OTHER = "shop-prod", "ledger-clean"
METHOD = "compute.projects.get"
ENABLED = [c for c in default_registry() if not c.meta.id.startswith("DRIFT-")]  # config_for leaves DRIFT off
READS_PROJECT = {c.meta.id for c in ENABLED if Kind.COMPUTE_PROJECT in c.meta.kinds}

MakeDaemon = Callable[..., tuple[Daemon, StuckCalls]]


def statuses(daemon: Daemon, scope: str) -> dict[str, str]:
    return {s.control: s.status.value for s in daemon.store.states() if s.scope == scope and s.status is not None}


def test_the_controls_reading_the_compute_project_are_the_metadata_ones() -> None:
    assert READS_PROJECT == {"VM-03", "VM-04", "VM-05"}
    assert READS_PROJECT < set(ids(Area.VM))


FAULTS = [
    pytest.param(Fault(method=METHOD, project=SCOPE, status=403), "HTTP 403", id="403"),
    pytest.param(Fault(method=METHOD, project=SCOPE, status=500), "HTTP 500", id="500"),
    pytest.param(Fault(method=METHOD, project=SCOPE, kind="malformed"), "malformed", id="malformed"),
    pytest.param(Fault(method=METHOD, project=SCOPE, kind="drop"), "connection failed", id="dropped"),
    pytest.param(Fault(method=METHOD, project=SCOPE, kind="hostile", mode="empty-object"), METHOD, id="hostile"),
    # Compute answers the instance listing of the same run: a SERVICE_DISABLED here is contradicted, an error.
    pytest.param(Fault(method=METHOD, project=SCOPE, status=403, reason="SERVICE_DISABLED"), "SERVICE_DISABLED",
                 id="contradicted-disabled"),  # fmt: skip
]


@pytest.mark.parametrize(("fault", "cause"), FAULTS)
def test_a_compute_project_fault_turns_exactly_the_metadata_controls_to_error(
    standin: StandIn, make_daemon: MakeDaemon, fault: Fault, cause: str
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE, OTHER]))
    daemon.run_scope(SCOPE)
    clean = statuses(daemon, SCOPE)
    assert "error" not in clean.values() and clean["VM-04"] == "fail"  # bastion-old turns OS Login off

    standin.add_fault(fault)
    daemon.run_scope(SCOPE)
    daemon.run_scope(OTHER)
    got = statuses(daemon, SCOPE)
    assert {c for c, s in got.items() if s == "error"} == READS_PROJECT
    others = {c: s for c, s in clean.items() if c not in READS_PROJECT}
    assert {c: s for c, s in got.items() if c not in READS_PROJECT} == others
    for control in READS_PROJECT:
        [result] = daemon.store.results(control=control, scope=SCOPE, verdict="error")
        assert f"{Kind.COMPUTE_PROJECT}:" in result.reason and METHOD in result.reason, result.reason
        assert cause in result.reason, result.reason
    assert set(statuses(daemon, OTHER).values()) == {"pass"}


def test_a_disabled_compute_api_means_no_instances_not_error(standin: StandIn, make_daemon: MakeDaemon) -> None:
    """Every route about the project answers SERVICE_DISABLED (a Compute one too, were it answered,
    would contradict the others): the API is off, so there is no VM to judge and no metadata to read."""
    daemon, _ = make_daemon(config_for([SCOPE]))
    standin.add_fault(Fault(method="*", project=SCOPE, status=403, reason="SERVICE_DISABLED"))
    daemon.run_scope(SCOPE)
    got = statuses(daemon, SCOPE)
    assert {got[c] for c in ids(Area.VM)} == {"pass"}
    assert daemon.store.results(control="VM-01", scope=SCOPE) == []  # passes are counted, not listed
