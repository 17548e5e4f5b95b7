"""The Cloud DNS kinds (managed zones, DNS server policies) through the real discovery client and the
stand-in: what the scenario holds is what is collected, one request a page, and a project without
the Cloud DNS API has none of either, with a note, not an error."""

from __future__ import annotations

from typing import Any

import pytest

from checks.snapshot import Kind
from monitor.collect import GcpClients, collect_snapshot
from monitor.standin import Fault, StandIn
from tests.collect.conftest import NO_COMPUTE, NOW, PROJECT, Recorder, fast

DNS_KINDS = (Kind.MANAGED_ZONES, Kind.DNS_POLICIES)


def test_the_dns_kinds_hold_the_scenarios_zones_and_policies(
    standin: StandIn, clients: GcpClients, recorder: Recorder, scenario: dict[str, Any]
) -> None:
    snapshot = collect_snapshot(PROJECT, DNS_KINDS, clients, settings=fast(), observer=recorder, now=NOW).snapshot
    dns = scenario["projects"][0]["dns"]
    assert snapshot.failed_kinds(DNS_KINDS) == {}
    assert list(snapshot.get(Kind.MANAGED_ZONES)) == dns["managedZones"]
    assert list(snapshot.get(Kind.DNS_POLICIES)) == dns["policies"]
    (zone,) = snapshot.get(Kind.MANAGED_ZONES)
    assert [s["keyType"] for s in zone["dnssecConfig"]["defaultKeySpecs"]] == ["keySigning", "zoneSigning"]
    paths = sorted(r.path for r in standin.requests)
    assert paths == [f"/dns/v1/projects/{PROJECT}/managedZones", f"/dns/v1/projects/{PROJECT}/policies"]


def test_each_page_is_one_request(
    standin: StandIn, clients: GcpClients, recorder: Recorder, scenario: dict[str, Any]
) -> None:
    zone = scenario["projects"][0]["dns"]["managedZones"][0]
    more = [{**zone, "name": f"zone-{n}", "id": str(900 + n), "dnsName": f"z{n}.example-shop.com."} for n in range(2)]
    standin.load({**scenario, "projects": [{**scenario["projects"][0], "dns": {
        "managedZones": [zone, *more], "policies": scenario["projects"][0]["dns"]["policies"]}},
        *scenario["projects"][1:]]})  # fmt: skip
    snapshot = collect_snapshot(
        PROJECT, [Kind.MANAGED_ZONES], clients, settings=fast(page_size=1), observer=recorder, now=NOW
    ).snapshot
    assert sorted(z["name"] for z in snapshot.get(Kind.MANAGED_ZONES)) == ["example-shop-public", "zone-0", "zone-1"]
    assert [r.query.get("maxResults") for r in standin.requests] == ["1", "1", "1"]


def test_a_project_without_the_cloud_dns_api_has_no_zone_and_no_policy(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    snapshot = collect_snapshot(NO_COMPUTE, DNS_KINDS, clients, settings=fast(), observer=recorder, now=NOW).snapshot
    assert snapshot.failed_kinds(DNS_KINDS) == {}
    for kind in DNS_KINDS:
        assert snapshot.get(kind) == ()
        assert snapshot.note(kind) == "Cloud DNS API not enabled"


@pytest.mark.parametrize("kind", DNS_KINDS, ids=str)
@pytest.mark.parametrize(
    ("fault", "cause"),
    [({"status": 403}, "HTTP 403"), ({"status": 500}, "HTTP 500"), ({"kind": "hostile", "mode": "empty-object"}, "")],
    ids=["denied", "server-error", "hostile"],
)
def test_a_failed_listing_fails_its_kind_never_reads_as_empty(
    standin: StandIn, clients: GcpClients, recorder: Recorder, kind: Kind, fault: dict[str, Any], cause: str
) -> None:
    standin.add_fault(Fault(method=kind.spec.method, project=PROJECT, **fault))
    snapshot = collect_snapshot(PROJECT, DNS_KINDS, clients, settings=fast(), observer=recorder, now=NOW).snapshot
    failed = snapshot.failed_kinds(DNS_KINDS)
    assert set(failed) == {kind} and kind.spec.method in failed[kind] and cause in failed[kind]
