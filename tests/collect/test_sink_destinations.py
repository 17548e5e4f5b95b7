"""The sinkDestinations kind over the real clients and the stand-in serving the demo: the destination
of each sink LOG-02 counts, and only those; an ancestor's destination once per sweep; a destination
that cannot be read recorded on its entry, the others still read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checks.snapshot import Kind, Snapshot
from monitor.collect import GcpClients, collect_snapshot, make_clients
from monitor.collect.sweepreads import SweepReads
from monitor.demo import DEMO_SCENARIO
from monitor.standin import Fault, StandIn, load_scenario
from tests.collect.conftest import NOW, Recorder, fast

SHOP, CLEAN = "shop-prod", "ledger-clean"
SHOP_LOGS = "projects/shop-prod/locations/europe-west1/buckets/shop-all-logs"
ARCHIVE = "example-be-prod-log-archive"


@pytest.fixture(scope="module")
def demo() -> Iterator[StandIn]:
    with StandIn(load_scenario(DEMO_SCENARIO)) as standin:
        yield standin


@pytest.fixture
def standin(demo: StandIn) -> Iterator[StandIn]:
    demo.reset()
    yield demo
    demo.reset()


@pytest.fixture(scope="module")
def clients(demo: StandIn) -> GcpClients:
    return make_clients(demo.url)


def destinations(clients: GcpClients, scope: str, sweep: SweepReads | None = None) -> Snapshot:
    kinds = [Kind.SINK_DESTINATIONS]
    return collect_snapshot(scope, kinds, clients, settings=fast(), observer=Recorder(), now=NOW, sweep=sweep).snapshot


def test_only_the_counted_sinks_destinations_are_read(standin: StandIn, clients: GcpClients) -> None:
    snapshot = destinations(clients, SHOP)

    own, inherited = snapshot.get(Kind.SINK_DESTINATIONS)
    assert (own["sink"], own["logBucket"]["name"], "locked" in own["logBucket"]) == (
        "projects/shop-prod/sinks/shop-all-logs", SHOP_LOGS, False
    )
    assert inherited["sink"] == "folders/5501/sinks/prod-log-archive"
    assert inherited["bucket"]["retentionPolicy"]["isLocked"] is True  # held by ledger-clean: names are global
    # _Required and _Default are filtered: their buckets are never asked for
    assert [r.path for r in standin.requests_for("logging.projects.locations.buckets.get")] == [f"/v2/{SHOP_LOGS}"]
    assert [r.path for r in standin.requests_for("storage.buckets.get")] == [f"/storage/v1/b/{ARCHIVE}"]


def test_an_ancestors_destination_is_read_once_per_sweep(standin: StandIn, clients: GcpClients) -> None:
    sweep = SweepReads(ttl=600)
    shop, clean = destinations(clients, SHOP, sweep), destinations(clients, CLEAN, sweep)

    assert shop.get(Kind.SINK_DESTINATIONS)[1] == clean.get(Kind.SINK_DESTINATIONS)[1]
    assert len(standin.requests_for("storage.buckets.get")) == 1  # judged once, at folders/5501
    assert len(standin.requests_for("logging.projects.locations.buckets.get")) == 2  # each project's own


def test_a_destination_that_cannot_be_read_is_recorded_naming_its_project(
    standin: StandIn, clients: GcpClients
) -> None:
    standin.add_fault(Fault(method="logging.projects.locations.buckets.get", project=SHOP, status=403))

    snapshot = destinations(clients, SHOP)

    assert snapshot.kinds[Kind.SINK_DESTINATIONS].ok
    own, inherited = snapshot.get(Kind.SINK_DESTINATIONS)
    assert "logBucket" not in own and own["error"].startswith(f"Logging bucket {SHOP_LOGS} (project shop-prod) ")
    assert "HTTP 403" in own["error"] and inherited["bucket"]["name"] == ARCHIVE


def test_a_bucket_gone_is_recorded_too(standin: StandIn, clients: GcpClients) -> None:
    standin.add_fault(Fault(method="storage.buckets.get", status=404))

    (_, inherited) = destinations(clients, SHOP).get(Kind.SINK_DESTINATIONS)

    assert inherited["error"].startswith(f"bucket {ARCHIVE} cannot be read: storage.buckets.get")
    assert "404" in inherited["error"]


def test_a_failed_sinks_listing_fails_the_kind(standin: StandIn, clients: GcpClients) -> None:
    standin.add_fault(Fault(method="logging.projects.sinks.list", project=SHOP, status=403))

    snapshot = destinations(clients, SHOP)

    error = snapshot.kinds[Kind.SINK_DESTINATIONS].error
    assert error is not None and "logging.projects.sinks.list" in error


def test_a_denied_bucket_says_where_the_role_is_missing(standin: StandIn, clients: GcpClients) -> None:
    """Bucket names are global: a 403 cannot name the bucket's project, so the entry says where to grant."""
    standin.add_fault(Fault(method="storage.buckets.get", status=403))

    (_, inherited) = destinations(clients, SHOP).get(Kind.SINK_DESTINATIONS)

    assert "HTTP 403" in inherited["error"]
    assert inherited["error"].endswith("(in another project? the role must be granted on the bucket's project too)")
