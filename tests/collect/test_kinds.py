"""Every kind through the real clients and the stand-in: same JSON out as the scenario put in."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from checks.kinds import LIST_SHAPES, Holder, Shape
from checks.snapshot import Kind
from monitor.collect import KINDS, GcpClients, collect_snapshot
from monitor.standin import StandIn
from monitor.standin.parts import PARTS
from tests.collect.conftest import EXTRA_FIREWALLS, NOW, PROJECT, Recorder, fast

# Every listing of a project: its resources come back exactly as its scenario part holds them.
LISTINGS = tuple(kind for kind in Kind if kind.spec.holder is Holder.PROJECT and kind.spec.shape in LIST_SHAPES)


def _by_link(resources: Any) -> list[dict[str, Any]]:
    return sorted(resources, key=lambda r: str(r["selfLink"]))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_every_kind_round_trips_the_scenario_json(
    standin: StandIn, clients: GcpClients, recorder: Recorder, scenario: dict[str, Any]
) -> None:
    collection = collect_snapshot(PROJECT, Kind.ALL, clients, settings=fast(), observer=recorder, now=NOW)

    snapshot = collection.snapshot
    assert set(snapshot.kinds) == set(Kind.ALL)
    assert not collection.deadline_exceeded and collection.abandoned == 0
    source = scenario["projects"][0]
    for kind in LISTINGS:
        expected = source[kind.spec.group][kind.spec.key]
        assert expected, f"the test scenario should hold {kind}"
        if kind.spec.shape is Shape.PARENT:  # listed in the order the parent holds them
            assert list(snapshot.get(kind)) == expected, kind
        else:  # Compute lists by name, and aggregated lists by scope
            assert _by_link(snapshot.get(kind)) == _by_link(expected), kind
    assert {Kind.FIREWALLS, Kind.ADDRESSES, Kind.SINKS, Kind.LOG_METRICS} <= set(LISTINGS)

    (project,) = snapshot.get(Kind.PROJECT)
    parts = PARTS[Holder.PROJECT].keys
    expected_project = {k: v for k, v in source.items() if k not in parts}
    # google.protobuf writes Timestamps in their shortest exact form ("...:00Z" for
    # "...:00.000Z"): the same instant, so compare timestamps as instants, the rest as is.
    assert _instant(project.pop("createTime")) == _instant(expected_project.pop("createTime"))
    assert project == expected_project
    assert list(snapshot.get(Kind.IAM_POLICY)) == [source["iamPolicy"]]
    assert list(snapshot.get(Kind.SINKS)) == source["logging"]["sinks"]
    assert list(snapshot.get(Kind.LOG_METRICS)) == source["logging"]["metrics"]
    assert [a["resource"]["name"] for a in snapshot.get(Kind.ANCESTRY)] == ["folders/5501", "organizations/4242"]
    assert snapshot.get(Kind.ANCESTOR_SINKS) == ()  # the minimal scenario has none up the tree


def test_round_trip_keeps_the_rest_spelling(standin: StandIn, clients: GcpClients, recorder: Recorder) -> None:
    snapshot = collect_snapshot(
        PROJECT, [Kind.FIREWALLS, Kind.DISKS, Kind.INSTANCES], clients, settings=fast(), observer=recorder, now=NOW
    ).snapshot

    rule = snapshot.get(Kind.FIREWALLS)[0]
    assert rule["allowed"][0]["IPProtocol"] == "tcp" and "sourceRanges" in rule and rule["priority"] == 1000
    disk = snapshot.get(Kind.DISKS)[0]
    assert disk["sizeGb"] == "20"  # int64 stays a string, as REST writes it
    assert snapshot.get(Kind.INSTANCES)[0]["status"] == "RUNNING"  # enums as names


def test_one_request_per_kind_and_each_kind_observed(standin: StandIn, clients: GcpClients, recorder: Recorder) -> None:
    collect_snapshot(PROJECT, [*Kind.ALL, *Kind.ALL], clients, settings=fast(), observer=recorder, now=NOW)

    # one request per (method, resource): the ancestry walks share the project and folder reads
    # (hierarchical firewall policies are listed by parent: the same path, another `parentId`)
    per_call = Counter((r.method, r.path, r.query.get("parentId")) for r in standin.requests)
    assert set(per_call.values()) == {1}
    seen = Counter(method for method, _, _ in per_call.elements())
    assert {spec.method for spec in KINDS.values()} <= set(seen)
    assert sorted(kind for kind, _ in recorder.collections) == sorted(Kind.ALL)
    assert Counter(m for _, m, code in recorder.requests if code == "200") == seen
    assert recorder.retries == []


def test_each_page_is_one_observed_call(standin: StandIn, clients: GcpClients, recorder: Recorder) -> None:
    firewalls = 2 + EXTRA_FIREWALLS
    collection = collect_snapshot(
        PROJECT,
        [Kind.FIREWALLS, Kind.INSTANCES, Kind.ADDRESSES],
        clients,
        settings=fast(page_size=2),
        observer=recorder,
        now=NOW,
    )

    snapshot = collection.snapshot
    assert len(snapshot.get(Kind.FIREWALLS)) == firewalls
    assert len({r["name"] for r in snapshot.get(Kind.FIREWALLS)}) == firewalls
    pages = standin.requests_for("compute.firewalls.list")
    assert [r.query.get("pageToken") for r in pages] == [None, "2", "4"]
    assert all(r.query.get("maxResults") == "2" for r in pages)
    assert recorder.codes("compute.firewalls.list") == ["200"] * 3

    # aggregated: 2 instances in two zones on pages of one; regional + global addresses
    standin_pages = standin.requests_for("compute.instances.aggregatedList")
    snapshot_zones = sorted(r["zone"].rsplit("/", 1)[1] for r in snapshot.get(Kind.INSTANCES))
    assert snapshot_zones == ["europe-west1-b", "europe-west1-c"]
    assert len(standin_pages) == 1  # two on one page of 2
    names = sorted(r["name"] for r in snapshot.get(Kind.ADDRESSES))
    assert names == ["lb-ip", "web-ip"]


def test_aggregated_paging_flattens_every_scope(standin: StandIn, clients: GcpClients, recorder: Recorder) -> None:
    snapshot = collect_snapshot(
        PROJECT, [Kind.INSTANCES], clients, settings=fast(page_size=1), observer=recorder, now=NOW
    ).snapshot

    assert sorted(r["name"] for r in snapshot.get(Kind.INSTANCES)) == ["web-1", "web-2"]
    assert len(standin.requests_for("compute.instances.aggregatedList")) == 2
    assert recorder.codes("compute.instances.aggregatedList") == ["200", "200"]
