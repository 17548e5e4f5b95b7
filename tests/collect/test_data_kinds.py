"""The second catalogue's kinds through the real clients and the stand-in: what each collects, how
each fails closed, and the hierarchical firewall policies read once per ancestor per sweep.

The estate is the minimal scenario (tests/standin/data/scenario-minimal.json), which holds a
resource of every kind; the hierarchy estate (tests/collect/hierarchy.py) adds a folder above
the shop's and more projects below them.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from checks.kinds import ORG_CONSTRAINTS
from checks.snapshot import Kind, Snapshot
from monitor.collect import GcpClients, collect_snapshot, make_clients
from monitor.collect.calls import CallFailed
from monitor.collect.cloudsql import refuse_partial
from monitor.collect.sweepreads import SweepReads
from monitor.commands.common import load_scenario_file
from monitor.standin import Fault, StandIn
from tests.collect.conftest import MINIMAL, NOW, PROJECT, Recorder, fast
from tests.collect.hierarchy import ORG

DATA_KINDS = (
    Kind.SQL_INSTANCES,
    Kind.BUCKETS,
    Kind.SERVICE_ACCOUNT_KEYS,
    Kind.ORG_POLICIES,
    Kind.FIREWALL_POLICIES,
    Kind.NETWORK_FIREWALL_POLICIES,
    Kind.REGION_NETWORK_FIREWALL_POLICIES,
)
SHOP_FOLDER = "folders/5501"


def _collect(clients: GcpClients, recorder: Recorder, *kinds: str, scope: str = PROJECT, **settings: Any) -> Snapshot:
    wanted = kinds or DATA_KINDS
    return collect_snapshot(scope, wanted, clients, settings=fast(**settings), observer=recorder, now=NOW).snapshot


def _shop(scenario: dict[str, Any]) -> dict[str, Any]:
    shop: dict[str, Any] = scenario["projects"][0]
    assert shop["projectId"] == PROJECT
    return shop


def test_each_data_kind_holds_the_scenarios_resources_with_what_it_reads_per_resource(
    standin: StandIn, clients: GcpClients, recorder: Recorder, scenario: dict[str, Any]
) -> None:
    snapshot = _collect(clients, recorder)
    shop = _shop(scenario)

    assert snapshot.failed_kinds(DATA_KINDS) == {}
    primary, replica = snapshot.get(Kind.SQL_INSTANCES)
    assert [r["id"] for r in primary["backupRuns"]] == ["1732586400000", "1732500000000"]  # newest first
    assert {k: v for k, v in primary.items() if k != "backupRuns"} == shop["sql"]["instances"][0]
    assert replica == shop["sql"]["instances"][1]  # a replica's backups are its primary's: none read
    assert [r.query.get("instance") for r in standin.requests_for("sql.backupRuns.list")] == [None]
    assert standin.requests_for("sql.backupRuns.list")[0].path.endswith("/instances/shop-db/backupRuns")

    buckets = {b["name"]: b for b in snapshot.get(Kind.BUCKETS)}
    assert buckets["shop-invoices"]["iamPolicy"]["bindings"] == [
        {"role": "roles/storage.objectViewer", "members": ["allUsers"]}
    ]
    assert buckets["shop-invoices"]["retentionPolicy"]["isLocked"] is True  # every field, as REST sends it
    assert {b["role"] for b in buckets["shop-logs"]["iamPolicy"]["bindings"]} == {
        "roles/storage.legacyBucketOwner",
        "roles/storage.legacyBucketReader",
    }
    asked = standin.requests_for("storage.buckets.getIamPolicy")
    assert len(asked) == 3 and {r.query["optionsRequestedPolicyVersion"] for r in asked} == {"3"}

    deployer, reader = snapshot.get(Kind.SERVICE_ACCOUNT_KEYS)
    assert deployer["keys"] == shop["iam"]["serviceAccounts"][0]["keys"]  # system-managed keys too
    assert reader["disabled"] is True and reader["keys"] == []

    policies = snapshot.get(Kind.ORG_POLICIES)
    assert [p["name"].rsplit("/", 1)[-1] for p in policies] == list(ORG_CONSTRAINTS)
    assert policies[0]["spec"]["rules"] == [{"values": {"allowedValues": ["in:europe-west1-locations"]}}]

    hierarchical = snapshot.get(Kind.FIREWALL_POLICIES)
    assert [(p["parent"], p["policy"]["shortName"]) for p in hierarchical] == [
        (SHOP_FOLDER, "prod-web"),
        (SHOP_FOLDER, "prod-admin"),
        (ORG, "org-baseline"),
    ]  # nearest first; within an ancestor as Compute lists them (by name: the policy's id)
    assert hierarchical[-1]["policy"] == scenario["organization"]["firewallPolicies"][0]
    assert list(snapshot.get(Kind.NETWORK_FIREWALL_POLICIES)) == shop["compute"]["firewallPolicies"]
    # the aggregated listing holds both: the regional kind keeps those with a region
    assert list(snapshot.get(Kind.REGION_NETWORK_FIREWALL_POLICIES)) == shop["compute"]["regionFirewallPolicies"]
    assert {code for _, _, code in recorder.requests} == {"200"}


# (kind, a method its collection calls): a fault on any one of them turns exactly that kind to error
ROUTES = [
    (Kind.SQL_INSTANCES, "sql.instances.list"),
    (Kind.SQL_INSTANCES, "sql.backupRuns.list"),
    (Kind.BUCKETS, "storage.buckets.list"),
    (Kind.BUCKETS, "storage.buckets.getIamPolicy"),
    (Kind.SERVICE_ACCOUNT_KEYS, "iam.projects.serviceAccounts.list"),
    (Kind.SERVICE_ACCOUNT_KEYS, "iam.projects.serviceAccounts.keys.list"),
    (Kind.ORG_POLICIES, "orgpolicy.projects.policies.getEffectivePolicy"),
    (Kind.FIREWALL_POLICIES, "compute.firewallPolicies.list"),
    (Kind.NETWORK_FIREWALL_POLICIES, "compute.networkFirewallPolicies.list"),
    (Kind.REGION_NETWORK_FIREWALL_POLICIES, "compute.networkFirewallPolicies.aggregatedList"),
]


@pytest.mark.parametrize(("kind", "method"), ROUTES, ids=[m for _, m in ROUTES])
@pytest.mark.parametrize("status", [403, 500])
def test_a_fault_on_any_route_fails_exactly_its_kind(
    standin: StandIn, clients: GcpClients, recorder: Recorder, kind: str, method: str, status: int
) -> None:
    standin.add_fault(Fault(method=method, status=status))

    snapshot = _collect(clients, recorder, *Kind.ALL)

    assert set(snapshot.failed_kinds(Kind.ALL)) == {kind}
    error = str(snapshot.kinds[kind].error)
    assert method in error and f"HTTP {status}" in error, error
    if status == 500:  # retried by the table, then given up
        assert "gave up after 3 attempts" in error and recorder.reasons().count("500") == 2


@pytest.mark.parametrize(
    ("method", "kind", "service"),
    [
        ("sql.backupRuns.list", Kind.SQL_INSTANCES, "sqladmin"),
        ("iam.projects.serviceAccounts.keys.list", Kind.SERVICE_ACCOUNT_KEYS, "iam"),
        ("storage.buckets.getIamPolicy", Kind.BUCKETS, "storage"),
    ],
)
def test_a_429_is_retried_past_the_quota_window_as_for_every_api(
    standin: StandIn, clients: GcpClients, recorder: Recorder, method: str, kind: str, service: str
) -> None:
    """The discovery clients raise googleapiclient's HttpError: the same row of the retry table."""
    standin.add_fault(Fault(method=method, status=429, times=1))

    snapshot = _collect(clients, recorder, kind)

    assert snapshot.kinds[kind].ok, snapshot.kinds[kind].error
    assert recorder.codes(method)[:2] == ["429", "200"] and recorder.retries == [(service, "429")]


def test_a_disabled_api_is_a_note_unless_the_same_api_answered(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    standin.add_fault(Fault(method="sql.instances.list", status=403, reason="SERVICE_DISABLED"))
    standin.add_fault(Fault(method="iam.projects.serviceAccounts.keys.list", status=403, reason="SERVICE_DISABLED"))

    snapshot = _collect(clients, recorder, Kind.SQL_INSTANCES, Kind.SERVICE_ACCOUNT_KEYS)

    sql = snapshot.kinds[Kind.SQL_INSTANCES]
    assert sql.ok and sql.resources == () and sql.note == "Cloud SQL Admin API not enabled"
    keys = snapshot.kinds[Kind.SERVICE_ACCOUNT_KEYS]  # the accounts were listed: a contradiction
    assert not keys.ok and "SERVICE_DISABLED" in str(keys.error) and "contradictory" in str(keys.error)


@pytest.mark.parametrize(
    ("method", "kind"),
    [
        ("orgpolicy.projects.policies.getEffectivePolicy", Kind.ORG_POLICIES),
        ("compute.firewallPolicies.list", Kind.FIREWALL_POLICIES),
    ],
)
def test_a_disabled_api_says_nothing_about_policies_in_force(
    standin: StandIn, clients: GcpClients, recorder: Recorder, method: str, kind: str
) -> None:
    standin.add_fault(Fault(method=method, status=403, reason="SERVICE_DISABLED"))

    data = _collect(clients, recorder, kind).kinds[kind]

    assert not data.ok and "not enabled" in str(data.error), data


def test_a_sql_listing_missing_a_region_is_refused_not_read_as_fewer_instances() -> None:
    """The stand-in's regions are always reachable: the page check itself, on Cloud SQL's warning shape."""
    down = {"items": [], "warnings": [{"code": "REGION_UNREACHABLE", "message": "down", "region": "europe-west1"}]}
    with pytest.raises(CallFailed, match="sql.instances.list: partial listing, unreachable: europe-west1"):
        refuse_partial(down, "sql.instances.list")
    refuse_partial({"items": [], "warnings": [{"code": "MAX_RESULTS_EXCEEDS_LIMIT", "message": "capped"}]}, "m")
    refuse_partial({"items": []}, "m")


# --- hierarchical firewall policies: once per organisation and folder per sweep ------------------


def _sweep(clients: GcpClients, scopes: list[str], sweep: SweepReads | None) -> dict[str, Snapshot]:
    """One run per scope, all at once (as the scheduler starts them), sharing `sweep`."""
    found: dict[str, Snapshot] = {}

    def run(scope: str) -> None:
        found[scope] = collect_snapshot(
            scope, [Kind.FIREWALL_POLICIES], clients, settings=fast(), observer=Recorder(), now=NOW, sweep=sweep
        ).snapshot

    threads = [threading.Thread(target=run, args=(scope,)) for scope in scopes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return found


def test_hierarchical_policies_are_listed_once_per_ancestor_per_sweep_and_shared(
    hierarchy: StandIn, hierarchy_clients: GcpClients
) -> None:
    # example-shop and no-logging sit in folders/5501 < folders/55 < the organisation; org-child
    # directly under the organisation.
    scopes = ["example-shop", "no-logging", "org-child"]

    found = _sweep(hierarchy_clients, scopes, SweepReads(ttl=600))

    listed = Counter(r.query["parentId"] for r in hierarchy.requests_for("compute.firewallPolicies.list"))
    assert listed == {SHOP_FOLDER: 1, "folders/55": 1, ORG: 1}
    parents = {scope: [p["parent"] for p in found[scope].get(Kind.FIREWALL_POLICIES)] for scope in scopes}
    assert parents == {
        "example-shop": [SHOP_FOLDER, SHOP_FOLDER, ORG],
        "no-logging": [SHOP_FOLDER, SHOP_FOLDER, ORG],
        "org-child": [ORG],
    }
    assert found["example-shop"].get(Kind.FIREWALL_POLICIES) == found["no-logging"].get(Kind.FIREWALL_POLICIES)
    # the whole chain, folders/55 (no policy of its own) included: what places an association
    assert found["example-shop"].get(Kind.FIREWALL_POLICIES)[0]["ancestors"] == [SHOP_FOLDER, "folders/55", ORG]


def test_without_a_sweep_each_run_lists_its_ancestors_itself(hierarchy: StandIn, hierarchy_clients: GcpClients) -> None:
    _sweep(hierarchy_clients, ["example-shop", "no-logging"], None)

    listed = Counter(r.query["parentId"] for r in hierarchy.requests_for("compute.firewallPolicies.list"))
    assert listed == {SHOP_FOLDER: 2, "folders/55": 2, ORG: 2}


def test_a_failed_ancestor_listing_fails_every_scope_below_it_and_only_those(
    hierarchy: StandIn, hierarchy_clients: GcpClients
) -> None:
    hierarchy.add_fault(Fault(method="compute.firewallPolicies.list", status=403, times=1))
    # the first lister of any ancestor gets the 403: run one scope first so which ancestor fails is known
    first = _sweep(hierarchy_clients, ["no-logging"], sweep := SweepReads(ttl=600))
    rest = _sweep(hierarchy_clients, ["example-shop", "org-child"], sweep)

    error = str(first["no-logging"].kinds[Kind.FIREWALL_POLICIES].error)
    assert f"ancestor {SHOP_FOLDER}" in error and "HTTP 403" in error
    assert f"ancestor {SHOP_FOLDER}" in str(rest["example-shop"].kinds[Kind.FIREWALL_POLICIES].error)
    assert rest["org-child"].kinds[Kind.FIREWALL_POLICIES].ok  # not below the folder that failed
    listed = Counter(r.query["parentId"] for r in hierarchy.requests_for("compute.firewallPolicies.list"))
    assert listed[SHOP_FOLDER] == 1  # the failure is kept for the sweep's other runs, not asked again


# --- offline: a scenario file through the stand-in, as `check --scenario` reads it ------------------


def test_a_scenario_file_is_collected_offline_through_the_same_path(tmp_path: Path, recorder: Recorder) -> None:
    path = tmp_path / "estate.json"
    path.write_text(MINIMAL.read_text())

    with StandIn(load_scenario_file(path)) as standin:
        snapshot = _collect(make_clients(standin.url), recorder)

    source = _shop(json.loads(MINIMAL.read_text()))
    assert snapshot.failed_kinds(DATA_KINDS) == {}
    assert [b["name"] for b in snapshot.get(Kind.BUCKETS)] == sorted(b["name"] for b in source["storage"]["buckets"])
    assert len(snapshot.get(Kind.ORG_POLICIES)) == len(ORG_CONSTRAINTS)
    assert [p["policy"]["shortName"] for p in snapshot.get(Kind.FIREWALL_POLICIES)][-1] == "org-baseline"


# --- an answer of the wrong shape is refused, discovery clients included -----------------------------


def _hostile_cases() -> list[tuple[str, str, str]]:
    """Every route × answer mode that is wrong for it: a single policy has no list of items, and
    IAM's answer when there is nothing to list is `{}` itself."""
    return [
        (kind, method, mode)
        for kind, method in ROUTES
        for mode in ("empty-object", "empty-items", "html")
        if not (mode == "empty-items" and not method.endswith(".list"))
        and not (mode == "empty-object" and method.startswith("iam."))
    ]


@pytest.mark.parametrize(("kind", "method", "mode"), _hostile_cases(), ids=lambda v: str(v))
def test_a_hostile_answer_on_any_route_is_refused_never_read_as_nothing(
    standin: StandIn, clients: GcpClients, recorder: Recorder, kind: str, method: str, mode: str
) -> None:
    standin.add_fault(Fault(method=method, kind="hostile", mode=mode))

    data = _collect(clients, recorder, kind).kinds[kind]

    assert not data.ok and data.resources == (), (mode, data)
    if mode != "html":  # the envelope check names what is wrong with the answer
        assert f"{method}: malformed response body" in str(data.error), data.error


def test_per_resource_reads_are_cut_by_the_run_deadline_like_any_call(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    """Three buckets, each policy read slow: the run's deadline ends the kind, not the reads' count."""
    standin.add_fault(Fault(method="storage.buckets.getIamPolicy", kind="latency", delay=0.6))

    collection = collect_snapshot(
        PROJECT,
        [Kind.BUCKETS, Kind.SQL_INSTANCES],
        clients,
        settings=fast(run_deadline=1.0, call_timeout=2.0),
        observer=recorder,
        now=NOW,
    )

    buckets = collection.snapshot.kinds[Kind.BUCKETS]
    assert not buckets.ok and "deadline exceeded" in str(buckets.error), buckets
    assert collection.deadline_exceeded and collection.snapshot.kinds[Kind.SQL_INSTANCES].ok
    assert len(standin.requests_for("storage.buckets.getIamPolicy")) < 3
