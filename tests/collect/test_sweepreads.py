"""The ancestors are read once per sweep interval and shared by every run below them.

Fifty projects under two folders, collected by eight runs at once against the stand-in:
each folder's and the organisation's `get`, `getIamPolicy` and sinks are requested once,
again once the interval has passed or after `clear()` (SIGHUP), and a failed read is kept
for 30 s so a storm of runs does not ask again.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from checks.snapshot import Kind, Snapshot
from monitor.collect import GcpClients, collect_snapshot, make_clients
from monitor.collect.sweepreads import FAILURE_TTL, SweepReads
from monitor.standin import Fault, StandIn, load_scenario
from tests.collect.conftest import NOW, Recorder, fast
from tests.collect.hierarchy import FOLDER_POLICY, FOLDER_SINKS, ORG, ORG_POLICY, ORG_SINK
from tests.estate import project

FOLDERS = ("folders/81", "folders/82")
PROJECTS = [f"team-{n:02d}" for n in range(50)]
INTERVAL = 900.0
ANCESTOR_READS = {
    "cloudresourcemanager.folders.get": 2,
    "cloudresourcemanager.folders.getIamPolicy": 2,
    "logging.folders.sinks.list": 2,
    "cloudresourcemanager.organizations.get": 1,
    "cloudresourcemanager.organizations.getIamPolicy": 1,
    "logging.organizations.sinks.list": 1,
}


def estate() -> dict[str, Any]:
    return {
        "now": NOW.isoformat().replace("+00:00", "Z"),
        "organization": {
            "name": ORG,
            "displayName": "example.be",
            "state": "ACTIVE",
            "iamPolicy": copy.deepcopy(ORG_POLICY),
            "logging": {"sinks": [dict(ORG_SINK)]},
        },
        "folders": [
            {
                "name": name,
                "parent": ORG,
                "displayName": name.replace("/", "-"),
                "state": "ACTIVE",
                "iamPolicy": copy.deepcopy(FOLDER_POLICY),
                "logging": {"sinks": copy.deepcopy(FOLDER_SINKS)},
            }
            for name in FOLDERS
        ],
        "projects": [project(p, FOLDERS[n % 2]) for n, p in enumerate(PROJECTS)],
    }


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[StandIn, GcpClients]]:
    with StandIn(load_scenario(estate())) as standin:
        yield standin, make_clients(standin.url)


@pytest.fixture
def standin(served: tuple[StandIn, GcpClients]) -> Iterator[StandIn]:
    served[0].reset()
    yield served[0]
    served[0].reset()


def sweep(clients: GcpClients, reads: SweepReads, projects: list[str]) -> list[Snapshot]:
    """One run per project, eight at once, as the daemon's pool runs them."""

    def run(scope: str) -> Snapshot:
        kinds = (Kind.PROJECT, Kind.ANCESTRY, Kind.ANCESTOR_SINKS)
        collection = collect_snapshot(scope, kinds, clients, settings=fast(), observer=Recorder(), now=NOW, sweep=reads)
        return collection.snapshot

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(run, projects))


def ancestor_requests(standin: StandIn) -> dict[str, int]:
    return {method: len(standin.requests_for(method)) for method in ANCESTOR_READS}


def test_each_ancestor_is_read_once_per_interval_for_fifty_projects(
    standin: StandIn, served: tuple[StandIn, GcpClients]
) -> None:
    clock = Clock()
    reads = SweepReads(ttl=INTERVAL, clock=clock)
    snapshots = sweep(served[1], reads, PROJECTS)

    assert ancestor_requests(standin) == ANCESTOR_READS
    assert len(standin.requests_for("cloudresourcemanager.projects.get")) == len(PROJECTS)  # each project its own
    for snapshot in snapshots:
        folder, org = snapshot.get(Kind.ANCESTRY)
        assert folder["iamPolicy"]["bindings"] == FOLDER_POLICY["bindings"]
        assert org["resource"]["name"] == ORG and org["iamPolicy"]["bindings"] == ORG_POLICY["bindings"]
        sinks = snapshot.get(Kind.ANCESTOR_SINKS)
        assert [s["sink"]["name"] for s in sinks] == [*(s["name"] for s in FOLDER_SINKS), ORG_SINK["name"]]
    # Every run got its own copy: one run changing what it read changes no other's.
    snapshots[0].get(Kind.ANCESTRY)[0]["iamPolicy"]["bindings"].clear()
    assert snapshots[1].get(Kind.ANCESTRY)[0]["iamPolicy"]["bindings"] == FOLDER_POLICY["bindings"]

    clock.now += INTERVAL - 1  # within the interval: nothing is read again
    sweep(served[1], reads, PROJECTS[:10])
    assert ancestor_requests(standin) == ANCESTOR_READS

    clock.now += 2  # the next sweep: each ancestor once more
    sweep(served[1], reads, PROJECTS[:10])
    assert ancestor_requests(standin) == {method: 2 * n for method, n in ANCESTOR_READS.items()}

    reads.clear()  # SIGHUP
    sweep(served[1], reads, PROJECTS[:10])
    assert ancestor_requests(standin) == {method: 3 * n for method, n in ANCESTOR_READS.items()}


def test_a_failed_ancestor_read_is_kept_for_thirty_seconds_not_asked_again_by_every_run(
    standin: StandIn, served: tuple[StandIn, GcpClients]
) -> None:
    clock = Clock()
    reads = SweepReads(ttl=INTERVAL, clock=clock)
    method = "cloudresourcemanager.folders.getIamPolicy"
    fault = standin.add_fault(Fault(method=method, status=403))

    for snapshot in sweep(served[1], reads, PROJECTS):
        assert str(snapshot.kinds[Kind.ANCESTRY].error).startswith("ancestor folders/8")  # fails closed, named
        assert snapshot.kinds[Kind.ANCESTOR_SINKS].error is None  # the other reads are not touched
    assert len(standin.requests_for(method)) == 2  # once per folder, not once per project

    standin.faults.remove(fault)
    clock.now += FAILURE_TTL - 1  # still the kept failure: no request
    [snapshot] = sweep(served[1], reads, PROJECTS[:1])
    assert snapshot.kinds[Kind.ANCESTRY].error is not None
    assert len(standin.requests_for(method)) == 2

    clock.now += 2  # past it: read again, and judged
    [snapshot] = sweep(served[1], reads, PROJECTS[:1])
    assert snapshot.kinds[Kind.ANCESTRY].error is None
    assert len(standin.requests_for(method)) == 3


def test_without_sweep_reads_every_run_reads_its_ancestors(
    standin: StandIn, served: tuple[StandIn, GcpClients]
) -> None:
    def run(scope: str) -> None:
        collect_snapshot(scope, (Kind.ANCESTRY,), served[1], settings=fast(), observer=Recorder(), now=NOW)

    for scope in PROJECTS[:4]:
        run(scope)
    assert len(standin.requests_for("cloudresourcemanager.organizations.get")) == 4
