"""BigQuery and Dataproc fail closed, end to end: a fault on any route a kind reads (a listing, or a
dataset's or table's get) turns exactly the controls reading that kind into `error`, naming the
call, while every other control keeps its verdict and the other scope stays green. A disabled
API is no resource to judge, never an error.

Real clients (BigQuery's JSON client, Dataproc's GAPIC client over REST), collectors, daemon
and the stand-in serving the demo, where data-platform holds datasets, tables and clusters with
one planted failure per control, and ledger-clean a dataset and table that pass.
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

SCOPE, OTHER = "data-platform", "ledger-clean"
ENABLED = [c for c in default_registry() if not c.meta.id.startswith("DRIFT-")]  # config_for leaves DRIFT off
PLANTED = {"DATA-40", "DATA-41", "DATA-42", "DATA-43"}

MakeDaemon = Callable[..., tuple[Daemon, StuckCalls]]


def statuses(daemon: Daemon, scope: str) -> dict[str, str]:
    return {s.control: s.status.value for s in daemon.store.states() if s.scope == scope and s.status is not None}


def reading(*kinds: Kind) -> set[str]:
    return {c.meta.id for c in ENABLED if set(kinds) & set(c.meta.kinds)}


def test_the_new_kinds_are_read_by_exactly_their_controls() -> None:
    assert reading(Kind.BIGQUERY_DATASETS) == {"DATA-40", "DATA-42"}
    assert reading(Kind.BIGQUERY_TABLES) == {"DATA-41"}
    assert reading(Kind.DATAPROC_CLUSTERS) == {"DATA-43"}


DATASETS, TABLES, CLUSTERS = Kind.BIGQUERY_DATASETS, Kind.BIGQUERY_TABLES, Kind.DATAPROC_CLUSTERS
FAULTS = [
    # the datasets listing is shared by both BigQuery kinds: both fail
    pytest.param(Fault(method="bigquery.datasets.list", project=SCOPE, status=500), (DATASETS, TABLES), "HTTP 500",
                 id="datasets-list-500"),
    pytest.param(Fault(method="bigquery.datasets.list", project=SCOPE, kind="malformed"), (DATASETS, TABLES),
                 "malformed", id="datasets-list-malformed"),
    pytest.param(Fault(method="bigquery.datasets.get", project=SCOPE, status=403), (DATASETS,), "HTTP 403",
                 id="dataset-get-403"),
    pytest.param(Fault(method="bigquery.datasets.get", project=SCOPE, kind="hostile", mode="empty-object"),
                 (DATASETS,), "bigquery.datasets.get", id="dataset-get-hostile"),
    pytest.param(Fault(method="bigquery.tables.list", project=SCOPE, status=503), (TABLES,), "HTTP 503",
                 id="tables-list-503"),
    pytest.param(Fault(method="bigquery.tables.get", project=SCOPE, kind="drop"), (TABLES,), "connection failed",
                 id="table-get-dropped"),
    pytest.param(Fault(method="bigquery.tables.get", project=SCOPE, kind="hostile", mode="empty-object"),
                 (TABLES,), "bigquery.tables.get", id="table-get-hostile"),
    pytest.param(Fault(method="dataproc.projects.regions.clusters.list", project=SCOPE, status=403), (CLUSTERS,),
                 "HTTP 403", id="clusters-403"),
    pytest.param(Fault(method="dataproc.projects.regions.clusters.list", project=SCOPE, kind="malformed"),
                 (CLUSTERS,), "malformed", id="clusters-malformed"),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "kinds", "cause"), FAULTS)
def test_a_fault_turns_exactly_the_controls_of_its_kinds_to_error(
    standin: StandIn, make_daemon: MakeDaemon, fault: Fault, kinds: tuple[Kind, ...], cause: str
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE, OTHER]))
    daemon.run_scope(SCOPE)
    clean = statuses(daemon, SCOPE)
    assert {clean[c] for c in PLANTED} == {"fail"}

    standin.add_fault(fault)
    daemon.run_scope(SCOPE)
    daemon.run_scope(OTHER)
    got = statuses(daemon, SCOPE)
    broken = reading(*kinds)
    assert {c for c, s in got.items() if s == "error"} == broken
    assert {c: s for c, s in got.items() if c not in broken} == {c: s for c, s in clean.items() if c not in broken}
    for control in broken:
        [result] = daemon.store.results(control=control, scope=SCOPE, verdict="error")
        assert fault.method in result.reason and cause in result.reason, result.reason
        assert any(f"{kind}:" in result.reason for kind in kinds), result.reason
    assert set(statuses(daemon, OTHER).values()) == {"pass"}


@pytest.mark.parametrize(
    ("methods", "controls"),
    [
        (("bigquery.datasets.list", "bigquery.datasets.get", "bigquery.tables.list", "bigquery.tables.get"),
         {"DATA-40", "DATA-41", "DATA-42"}),
        (("dataproc.projects.regions.clusters.list",), {"DATA-43"}),
    ],
    ids=["bigquery", "dataproc"],
)  # fmt: skip
def test_a_disabled_api_means_nothing_to_judge_not_error(
    standin: StandIn, make_daemon: MakeDaemon, methods: tuple[str, ...], controls: set[str]
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    for method in methods:
        standin.add_fault(Fault(method=method, project=SCOPE, status=403, reason="SERVICE_DISABLED"))
    daemon.run_scope(SCOPE)
    got = statuses(daemon, SCOPE)
    assert {got[c] for c in controls} == {"pass"}
    assert all(daemon.store.results(control=c, scope=SCOPE) == [] for c in controls)  # passes counted, not listed
