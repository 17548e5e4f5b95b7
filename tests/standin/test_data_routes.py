"""The second catalogue's routes on the stand-in, over plain HTTP: routed by discovery,
answered from the scenario's new parts, faulted like every other route, refused loudly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from checks.kinds import NEXT_ANSWERS
from monitor.standin import Fault, ScenarioError, StandIn, load_scenario
from tests.datascenario import ACCOUNT, FOLDER, NUMBER, ORGANIZATION, PROJECT, document

#: method id -> (path, query) of one request to it that succeeds on `document()`
ROUTES: dict[str, tuple[str, dict[str, str]]] = {
    "storage.buckets.list": ("/storage/v1/b", {"project": PROJECT}),
    "storage.buckets.getIamPolicy": ("/storage/v1/b/shop-invoices/iam", {}),
    "sql.instances.list": (f"/v1/projects/{PROJECT}/instances", {}),
    "sql.backupRuns.list": (f"/v1/projects/{PROJECT}/instances/shop-db/backupRuns", {}),
    "iam.projects.serviceAccounts.list": (f"/v1/projects/{PROJECT}/serviceAccounts", {}),
    "iam.projects.serviceAccounts.keys.list": (f"/v1/projects/{PROJECT}/serviceAccounts/{ACCOUNT}/keys", {}),
    "orgpolicy.projects.policies.getEffectivePolicy": (
        f"/v2/projects/{PROJECT}/policies/gcp.resourceLocations:getEffectivePolicy",
        {},
    ),
    "compute.firewallPolicies.list": ("/compute/v1/locations/global/firewallPolicies", {"parentId": ORGANIZATION}),
    "compute.firewallPolicies.listAssociations": (
        "/compute/v1/locations/global/firewallPolicies/listAssociations",
        {"targetResource": FOLDER},
    ),
    "compute.firewallPolicies.getAssociation": (
        "/compute/v1/locations/global/firewallPolicies/201/getAssociation",
        {"name": "prod-web-assoc"},
    ),
    "compute.networkFirewallPolicies.list": (f"/compute/v1/projects/{PROJECT}/global/firewallPolicies", {}),
    "compute.networks.getEffectiveFirewalls": (
        f"/compute/v1/projects/{PROJECT}/global/networks/prod-vpc/getEffectiveFirewalls",
        {},
    ),
    "compute.regionNetworkFirewallPolicies.list": (
        f"/compute/v1/projects/{PROJECT}/regions/europe-west1/firewallPolicies",
        {},
    ),
}


@pytest.fixture(scope="module")
def module_standin() -> Iterator[StandIn]:
    standin = StandIn(load_scenario(document()))
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def standin(module_standin: StandIn) -> Iterator[StandIn]:
    module_standin.reset()
    yield module_standin
    module_standin.reset()


def _get(standin: StandIn, method: str, **query: str) -> requests.Response:
    path, base = ROUTES[method]
    return requests.get(standin.url + path, params={**base, **query}, timeout=10)


@pytest.mark.parametrize("method", list(ROUTES))
def test_each_route_answers_from_the_scenario_and_takes_faults(standin: StandIn, method: str) -> None:
    ok = _get(standin, method)
    assert ok.status_code == 200, ok.text
    assert [r.method for r in standin.requests] == [method]  # routed to its own discovery method
    for status in (429, 500, 503):
        standin.add_fault(Fault(method=method, status=status, times=1))
        faulted = _get(standin, method)
        assert faulted.status_code == status and faulted.json()["error"]["code"] == status
    assert _get(standin, method).json() == ok.json()


def test_a_fault_on_buckets_list_can_name_its_project(standin: StandIn) -> None:
    standin.add_fault(Fault(method="storage.buckets.list", project=NUMBER, status=503))
    assert _get(standin, "storage.buckets.list").status_code == 503
    assert standin.requests[0].project == PROJECT


def test_listings_leave_out_what_is_read_by_its_own_call(standin: StandIn) -> None:
    buckets = _get(standin, "storage.buckets.list").json()["items"]
    accounts = _get(standin, "iam.projects.serviceAccounts.list").json()["accounts"]
    assert not any("iamPolicy" in b for b in buckets) and not any("keys" in a for a in accounts)


@pytest.mark.parametrize(
    ("method", "query", "status", "message"),
    [
        ("storage.buckets.list", {"project": ""}, 400, "Required parameter: project"),
        ("compute.firewallPolicies.list", {"parentId": ""}, 400, "Required parameter: parentId"),
        ("compute.firewallPolicies.list", {"parentId": "folders/999"}, 404, "folders/999"),
        ("sql.instances.list", {"filter": "region:europe-west1"}, 400, "does not support 'filter'"),
        ("iam.projects.serviceAccounts.keys.list", {"keyTypes": "OLD"}, 400, "key_types"),
    ],
)
def test_bad_requests_are_refused_naming_the_problem(
    standin: StandIn, method: str, query: dict[str, str], status: int, message: str
) -> None:
    answer = _get(standin, method, **query)
    assert answer.status_code == status and message in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/storage/v1/b/no-such-bucket/iam", "The specified bucket does not exist."),
        (f"/v1/projects/{PROJECT}/instances/no-such-db/backupRuns", "The Cloud SQL instance does not exist."),
        (f"/v1/projects/{PROJECT}/serviceAccounts/nobody@x.iam.gserviceaccount.com/keys", "does not exist"),
        ("/compute/v1/locations/global/firewallPolicies/999/getAssociation", "was not found"),
    ],
)
def test_a_missing_resource_is_404(standin: StandIn, path: str, message: str) -> None:
    answer = requests.get(standin.url + path, timeout=10)
    assert answer.status_code == 404 and message in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("group", "method", "title"),
    [
        ("storage", "storage.buckets.list", "Cloud Storage JSON API"),
        ("sql", "sql.instances.list", "Cloud SQL Admin API"),
        ("iam", "iam.projects.serviceAccounts.list", "Identity and Access Management (IAM) API"),
        ("orgPolicy", "orgpolicy.projects.policies.getEffectivePolicy", "Organization Policy API"),
    ],
)
def test_a_group_left_out_is_the_api_disabled(group: str, method: str, title: str) -> None:
    doc = document()
    del doc["projects"][0][group]
    standin = StandIn(load_scenario(doc))
    standin.start()
    try:
        answer = _get(standin, method)
    finally:
        standin.stop()
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert title in error["message"] and error["details"][0]["reason"] == "SERVICE_DISABLED"


def _problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(doc)
    return [f"{path}: {reason}" for path, reason in caught.value.problems]


def test_nested_and_bare_parts_are_validated_with_their_own_schemas() -> None:
    doc = document()
    shop = doc["projects"][0]
    shop["storage"]["buckets"][0]["iamPolicy"]["bindingz"] = []
    shop["iam"]["serviceAccounts"][0]["keys"][0]["keyType"] = "HOMEMADE"
    shop["iam"]["serviceAccounts"][1]["keys"] = {"not": "a list"}
    doc["organization"]["firewallPolicies"][0]["rules"][0]["priority"] = "high"
    shop["sql"]["instances"][0]["settings"]["backupConfiguration"]["locaton"] = "eu"
    problems = _problems(doc)
    assert "projects[0].iam.serviceAccounts[1].keys: expected a list" in problems
    doc["projects"][0]["iam"]["serviceAccounts"][1]["keys"] = []
    assert _problems(doc) == [
        'organization.firewallPolicies[0].rules[0].priority: expected integer, got string "high"',
        "projects[0].sql.instances[0].settings.backupConfiguration.locaton: unknown field",
        "projects[0].storage.buckets[0].iamPolicy.bindingz: unknown field",
        'projects[0].iam.serviceAccounts[0].keys[0].keyType: "HOMEMADE" is not one of KEY_TYPE_UNSPECIFIED, '
        "USER_MANAGED, SYSTEM_MANAGED",
    ]


def test_shifting_a_scenario_moves_the_nested_and_bare_timestamps_too() -> None:
    scenario = load_scenario(document())
    later = scenario.shift_to(scenario.now + timedelta(days=10))
    shop = later.projects[PROJECT]
    key = shop.parts["iam"]["serviceAccounts"][0]["keys"][0]
    assert key["validAfterTime"] == "2025-01-11T00:00:00Z"
    assert key["validBeforeTime"] == "9999-12-31T23:59:59Z"  # Google's "never" stays never
    assert shop.parts["sql"]["backupRuns"][1]["startTime"] == "2026-12-05T02:00:00.000Z"
    assert shop.parts["storage"]["buckets"][0]["iamPolicy"]["etag"] == "CAI="  # not a time: kept


_LIST_MODES = ("null-list", "renamed-list", "empty-items", "same-token", "endless", "many")


@pytest.mark.parametrize("method", [m for m in ROUTES if NEXT_ANSWERS[m].items])
def test_hostile_list_modes_break_each_listing_by_its_envelope(standin: StandIn, method: str) -> None:
    field = NEXT_ANSWERS[method].items
    for mode in _LIST_MODES:
        standin.add_fault(Fault(method=method, kind="hostile", mode=mode, times=1, count=3 if mode == "many" else None))
        answer = _get(standin, method)
        assert answer.status_code == 200, (mode, answer.text)
        body = answer.json()
        if mode == "null-list":
            assert body[field] is None
        elif mode == "renamed-list":
            assert field not in body
        elif mode == "empty-items":
            assert body[field] and all(item == {} for item in body[field])
        elif mode in ("same-token", "endless"):
            assert body["nextPageToken"].startswith("hostile-")
        else:
            assert len(body[field]) == 3
