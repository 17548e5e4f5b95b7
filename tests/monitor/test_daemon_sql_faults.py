"""Cloud SQL fails closed, end to end: a fault on either SQL Admin route (the instance listing, or
a primary's backup runs) turns exactly the Cloud SQL controls into `error`, naming the call,
while every other control keeps its verdict and the other scope stays green.

Real clients (the discovery client for `sqladmin`), collectors, daemon and stand-in serving the
demo, where shop-prod holds a primary (shop-db, whose runs are read) and its read replica.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checks import default_registry
from checks.snapshot import Kind
from monitor.collect import StuckCalls
from monitor.daemon import Daemon
from monitor.standin import Fault, StandIn
from tests.checks.catalogue import CLOUD_SQL as SECOND_CATALOGUE
from tests.checks.catalogue import SQL_FLAGS
from tests.monitor.conftest import config_for

SCOPE, OTHER = "shop-prod", "ledger-clean"
ENABLED = [c for c in default_registry() if not c.meta.id.startswith("DRIFT-")]  # config_for leaves DRIFT off
READS_SQL = {c.meta.id for c in ENABLED if Kind.SQL_INSTANCES in c.meta.kinds}
CLOUD_SQL = (*SECOND_CATALOGUE, *SQL_FLAGS)  # every control reading Cloud SQL instances

MakeDaemon = Callable[..., tuple[Daemon, StuckCalls]]


def statuses(daemon: Daemon, scope: str) -> dict[str, str]:
    return {s.control: s.status.value for s in daemon.store.states() if s.scope == scope and s.status is not None}


def test_the_cloud_sql_controls_are_exactly_those_reading_the_sql_kind() -> None:
    assert READS_SQL == set(CLOUD_SQL)


FAULTS = [
    pytest.param(Fault(method="sql.instances.list", project=SCOPE, status=403), "HTTP 403", id="instances-403"),
    pytest.param(Fault(method="sql.instances.list", project=SCOPE, status=500), "HTTP 500", id="instances-500"),
    pytest.param(Fault(method="sql.instances.list", project=SCOPE, kind="malformed"), "malformed",
                 id="instances-malformed"),  # fmt: skip
    pytest.param(Fault(method="sql.instances.list", project=SCOPE, kind="drop"), "connection failed",
                 id="instances-dropped"),  # fmt: skip
    pytest.param(Fault(method="sql.backupRuns.list", project=SCOPE, status=403), "HTTP 403", id="backup-runs-403"),
    pytest.param(Fault(method="sql.backupRuns.list", project=SCOPE, status=503), "HTTP 503", id="backup-runs-503"),
    pytest.param(Fault(method="sql.backupRuns.list", project=SCOPE, kind="hostile", mode="empty-object"),
                 "sql.backupRuns.list", id="backup-runs-hostile"),  # fmt: skip
]


@pytest.mark.parametrize(("fault", "cause"), FAULTS)
def test_a_sqladmin_fault_turns_exactly_the_cloud_sql_controls_to_error(
    standin: StandIn, make_daemon: MakeDaemon, fault: Fault, cause: str
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE, OTHER]))
    daemon.run_scope(SCOPE)
    clean = statuses(daemon, SCOPE)
    assert "error" not in clean.values() and clean["BKP-07"] == "fail"  # shop-db's planted stale backup

    standin.add_fault(fault)
    daemon.run_scope(SCOPE)
    daemon.run_scope(OTHER)
    got = statuses(daemon, SCOPE)
    assert {c for c, s in got.items() if s == "error"} == set(CLOUD_SQL)
    others = {c: s for c, s in clean.items() if c not in CLOUD_SQL}
    assert {c: s for c, s in got.items() if c not in CLOUD_SQL} == others
    for control in CLOUD_SQL:
        [result] = daemon.store.results(control=control, scope=SCOPE, verdict="error")
        assert f"{Kind.SQL_INSTANCES}:" in result.reason and fault.method in result.reason, result.reason
        assert cause in result.reason, result.reason
    assert set(statuses(daemon, OTHER).values()) == {"pass"}


def test_a_disabled_sqladmin_api_means_no_instances_not_error(standin: StandIn, make_daemon: MakeDaemon) -> None:
    """Both SQL Admin routes answer SERVICE_DISABLED: the API is off, so there is no instance to judge."""
    daemon, _ = make_daemon(config_for([SCOPE]))
    for method in ("sql.instances.list", "sql.backupRuns.list"):
        standin.add_fault(Fault(method=method, project=SCOPE, status=403, reason="SERVICE_DISABLED"))
    daemon.run_scope(SCOPE)
    got = statuses(daemon, SCOPE)
    assert {got[c] for c in CLOUD_SQL} == {"pass"}
    assert daemon.store.results(control="BKP-07", scope=SCOPE) == []  # passes are counted, not listed
