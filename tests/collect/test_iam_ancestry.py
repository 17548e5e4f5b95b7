"""The IAM policy and ancestry kinds through the real Resource Manager client and the stand-in.

One stand-in for the module on a hierarchy scenario: organisation 4242 > folders/55 >
folders/5501 > example-shop, plus projects under the organisation, without a parent, in
a folder cycle, and thirteen folders deep.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
import yaml

from checks.snapshot import Kind
from monitor.collect import GcpClients, StuckCalls, collect_snapshot, make_clients
from monitor.standin import Fault, StandIn, load_scenario
from tests.collect.conftest import NOW, PROJECT, Recorder, fast
from tests.collect.hierarchy import (
    CONDITION,
    FOLDER_POLICY,
    ORG,
    ORG_POLICY,
    ROLE,
    collect,
    permission_of,
)


def _folder(document: dict[str, Any], name: str) -> dict[str, Any]:
    found = next(f for f in document["folders"] if f["name"] == name)
    return {k: v for k, v in found.items() if k not in ("iamPolicy", "logging", "firewallPolicies")}


def test_the_project_policy_round_trips_at_version_3(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder, document: dict[str, Any]
) -> None:
    snapshot = collect(hierarchy_clients, recorder, PROJECT, Kind.IAM_POLICY)

    (policy,) = snapshot.get(Kind.IAM_POLICY)
    assert policy == document["projects"][0]["iamPolicy"]
    assert policy["version"] == 3 and policy["etag"] == "BwYR"
    assert policy["bindings"][1]["condition"] == CONDITION  # not hidden as roles/…_withcond_…
    assert policy["auditConfigs"][0]["auditLogConfigs"][1] == {"logType": "DATA_READ"}  # enums as names
    (request,) = hierarchy.requests_for("cloudresourcemanager.projects.getIamPolicy")
    assert request.body == {"options": {"requestedPolicyVersion": 3}}
    assert recorder.codes("cloudresourcemanager.projects.getIamPolicy") == ["200"]


def test_ancestry_is_nearest_first_with_each_policy(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder, document: dict[str, Any]
) -> None:
    snapshot = collect(hierarchy_clients, recorder, PROJECT, Kind.ANCESTRY)

    chain = snapshot.get(Kind.ANCESTRY)
    assert [a["resource"]["name"] for a in chain] == ["folders/5501", "folders/55", ORG]
    assert chain[0] == {"resource": _folder(document, "folders/5501"), "iamPolicy": {"version": 1, "etag": "ACAB"}}
    assert chain[1] == {"resource": _folder(document, "folders/55"), "iamPolicy": FOLDER_POLICY}
    assert chain[2]["resource"] == {"name": ORG, "displayName": "example.be"}
    assert chain[2]["iamPolicy"] == ORG_POLICY  # conditional binding and exemptions intact
    for body in (r.body for r in hierarchy.requests if r.method and r.method.endswith("getIamPolicy")):
        assert body == {"options": {"requestedPolicyVersion": 3}}
    observed = Counter(m for _, m, code in recorder.requests if code == "200")
    assert observed == Counter(
        {
            "cloudresourcemanager.projects.get": 1,
            "cloudresourcemanager.folders.get": 2,
            "cloudresourcemanager.folders.getIamPolicy": 2,
            "cloudresourcemanager.organizations.get": 1,
            "cloudresourcemanager.organizations.getIamPolicy": 1,
        }
    )


@pytest.mark.parametrize(("scope", "expected"), [("org-child", [ORG]), ("orphan", [])])
def test_short_chains(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder, scope: str, expected: list[str]
) -> None:
    snapshot = collect(hierarchy_clients, recorder, scope, Kind.ANCESTRY, Kind.ANCESTOR_SINKS)

    assert [a["resource"]["name"] for a in snapshot.get(Kind.ANCESTRY)] == expected
    assert [s["parent"] for s in snapshot.get(Kind.ANCESTOR_SINKS)] == expected


@pytest.mark.parametrize(
    ("scope", "reason"),
    [
        ("loop", "a cycle (projects/loop -> folders/71 -> folders/72 -> folders/71)"),
        ("deep", "more than 12 levels above the project, at folders/601"),
    ],
)
def test_a_cycle_or_an_endless_chain_is_an_error_not_a_hang(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder, scope: str, reason: str
) -> None:
    snapshot = collect(hierarchy_clients, recorder, scope, Kind.ANCESTRY, Kind.ANCESTOR_SINKS)

    for kind in (Kind.ANCESTRY, Kind.ANCESTOR_SINKS):
        assert reason in str(snapshot.kinds[kind].error)
    assert len(hierarchy.requests_for("cloudresourcemanager.folders.get")) <= 12


def test_a_denied_ancestor_policy_fails_ancestry_naming_it(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    hierarchy.add_fault(Fault(method="cloudresourcemanager.organizations.getIamPolicy", status=403))

    snapshot = collect(hierarchy_clients, recorder, PROJECT, Kind.ANCESTRY, Kind.ANCESTOR_SINKS, Kind.IAM_POLICY)

    error = str(snapshot.kinds[Kind.ANCESTRY].error)
    assert error.startswith(f"ancestor {ORG}: cloudresourcemanager.organizations.getIamPolicy: HTTP 403")
    assert f"//cloudresourcemanager.googleapis.com/{ORG}" in error and snapshot.kinds[Kind.ANCESTRY].resources == ()
    assert snapshot.kinds[Kind.ANCESTOR_SINKS].ok and snapshot.kinds[Kind.IAM_POLICY].ok  # they never ask for it
    assert recorder.codes("cloudresourcemanager.organizations.getIamPolicy") == ["403"] and recorder.retries == []


def test_an_unreadable_folder_fails_both_walks_with_one_request(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    hierarchy.add_fault(Fault(method="cloudresourcemanager.folders.get", status=403))

    snapshot = collect(hierarchy_clients, recorder, PROJECT, Kind.ANCESTRY, Kind.ANCESTOR_SINKS)

    for kind in (Kind.ANCESTRY, Kind.ANCESTOR_SINKS):
        assert str(snapshot.kinds[kind].error).startswith("ancestor folders/5501: cloudresourcemanager.folders.get:")
    assert len(hierarchy.requests_for("cloudresourcemanager.folders.get")) == 1  # the walks share the read


@pytest.mark.parametrize(
    ("method", "kind"),
    [
        ("cloudresourcemanager.projects.getIamPolicy", Kind.IAM_POLICY),
        ("cloudresourcemanager.folders.getIamPolicy", Kind.ANCESTRY),
        ("cloudresourcemanager.projects.get", Kind.ANCESTRY),
    ],
)
def test_a_disabled_resource_manager_is_an_error_here_not_an_empty_kind(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder, method: str, kind: str
) -> None:
    hierarchy.add_fault(Fault(method=method, status=403, reason="SERVICE_DISABLED"))

    data = collect(hierarchy_clients, recorder, PROJECT, kind).kinds[kind]

    assert not data.ok and "Cloud Resource Manager API not enabled, so it cannot be read" in str(data.error)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault(method="cloudresourcemanager.projects.getIamPolicy", status=404), "HTTP 404"),
        (Fault(method="cloudresourcemanager.projects.getIamPolicy", kind="malformed"), "malformed response body"),
    ],
)
def test_iam_policy_faults_are_errors_with_their_cause(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder, fault: Fault, expected: str
) -> None:
    hierarchy.add_fault(fault)

    data = collect(hierarchy_clients, recorder, PROJECT, Kind.IAM_POLICY).kinds[Kind.IAM_POLICY]

    assert not data.ok and data.error is not None
    assert data.error.startswith(f"project projects/{PROJECT}: cloudresourcemanager.projects.getIamPolicy:")
    assert expected in data.error


def test_a_passing_503_on_an_ancestor_is_retried(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    hierarchy.add_fault(Fault(method="cloudresourcemanager.organizations.get", status=503, times=1))

    snapshot = collect(hierarchy_clients, recorder, PROJECT, Kind.ANCESTRY)

    assert len(snapshot.get(Kind.ANCESTRY)) == 3
    assert recorder.codes("cloudresourcemanager.organizations.get") == ["503", "200"]
    assert recorder.retries == [("cloudresourcemanager", "503")]


def test_one_request_per_resource_and_listing_per_collection(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    kinds = (Kind.PROJECT, Kind.IAM_POLICY, Kind.ANCESTRY, Kind.SINKS, Kind.ANCESTOR_SINKS, Kind.LOG_METRICS)
    collection = collect_snapshot(
        PROJECT, [*kinds, *kinds], hierarchy_clients, settings=fast(), observer=recorder, now=NOW
    )

    assert all(collection.snapshot.kinds[k].ok for k in kinds)
    per_call = Counter((r.method, r.path) for r in hierarchy.requests)
    assert set(per_call.values()) == {1}
    assert Counter(method for method, _ in per_call) == Counter(
        {
            "cloudresourcemanager.projects.get": 1,  # shared by the project kind and both walks
            "cloudresourcemanager.projects.getIamPolicy": 1,
            "cloudresourcemanager.folders.get": 2,
            "cloudresourcemanager.folders.getIamPolicy": 2,
            "cloudresourcemanager.organizations.get": 1,
            "cloudresourcemanager.organizations.getIamPolicy": 1,
            "logging.projects.sinks.list": 1,
            "logging.projects.metrics.list": 1,
            "logging.folders.sinks.list": 2,
            "logging.organizations.sinks.list": 1,
        }
    )
    assert sorted(kind for kind, _ in recorder.collections) == sorted(kinds)
    assert len(recorder.requests) == sum(per_call.values())  # every request observed once


def test_the_reader_role_grants_every_call_the_collectors_make(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    role = yaml.safe_load(ROLE.read_text())

    snapshot = collect(hierarchy_clients, recorder, PROJECT, *Kind.ALL)

    assert all(data.ok for data in snapshot.kinds.values()), snapshot.failed_kinds(Kind.ALL)
    needed = {permission_of(method) for _, method, _ in recorder.requests}
    assert {"resourcemanager.organizations.getIamPolicy", "logging.sinks.list", "logging.logMetrics.list"} <= needed
    assert needed <= set(role["includedPermissions"])


def test_kinds_waiting_on_a_stuck_shared_read_are_cut_at_the_deadline(
    document: dict[str, Any], recorder: Recorder
) -> None:
    standin = StandIn(load_scenario(document))  # its own: stopping it is what ends the drip
    standin.start()
    stuck = StuckCalls()
    try:
        standin.add_fault(Fault(method="cloudresourcemanager.projects.get", kind="drip", delay=0.1))
        kinds = [Kind.PROJECT, Kind.ANCESTRY, Kind.ANCESTOR_SINKS]
        started = time.monotonic()
        collection = collect_snapshot(
            PROJECT,
            kinds,
            make_clients(standin.url),
            settings=fast(call_timeout=1.0, run_deadline=1.0),
            observer=recorder,
            now=NOW,
            stuck=stuck,
        )
        took = time.monotonic() - started

        assert took < 2.0 and collection.deadline_exceeded
        # cut by the run, or (a waiter noticing the deadline first) by their own wait
        for kind in kinds:
            assert "deadline exceeded" in str(collection.snapshot.kinds[kind].error)
        assert len(standin.requests_for("cloudresourcemanager.projects.get")) == 1  # the others only waited
    finally:
        standin.stop()
    assert stuck.wait_idle(PROJECT, timeout=5.0)
