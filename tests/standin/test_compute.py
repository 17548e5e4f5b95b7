"""Compute routes through the real google-cloud-compute client."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
import requests
from google.api_core import exceptions

from monitor.standin import StandIn
from tests.standin.conftest import SHOP


def test_firewalls_page_through_several_pages(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    client = compute_v1.FirewallsClient(**client_kwargs)
    pager = client.list(request=compute_v1.ListFirewallsRequest(project=SHOP, max_results=2))
    names = [rule.name for rule in pager]
    assert names == sorted(["allow-https", "allow-internal", "fw-0", "fw-1", "fw-2", "fw-3", "fw-4"])
    calls = standin.requests_for("compute.firewalls.list")
    assert [c.query.get("pageToken") for c in calls] == [None, "2", "4", "6"]
    assert all(c.query["maxResults"] == "2" and c.status == 200 and c.project == SHOP for c in calls)


def test_firewall_fields_survive_the_client(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    rule = compute_v1.FirewallsClient(**client_kwargs).get(project=SHOP, firewall="allow-https")
    data = compute_v1.Firewall.to_dict(rule)
    assert data["allowed"] == [{"I_p_protocol": "tcp", "ports": ["443"]}]
    assert (rule.priority, rule.direction, rule.source_ranges) == (1000, "INGRESS", ["0.0.0.0/0"])


def test_unknown_firewall_and_unknown_project_are_compute_404s(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    client = compute_v1.FirewallsClient(**client_kwargs)
    with pytest.raises(exceptions.NotFound, match="The resource 'projects/example-shop/global/firewalls/nope' was"):
        client.get(project=SHOP, firewall="nope")
    with pytest.raises(exceptions.NotFound, match="The resource 'projects/ghost' was not found"):
        list(client.list(project="ghost"))


def test_a_project_without_compute_has_the_api_disabled(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    with pytest.raises(exceptions.Forbidden) as caught:
        list(compute_v1.NetworksClient(**client_kwargs).list(project="plain-project"))
    assert caught.value.reason == "SERVICE_DISABLED"
    assert caught.value.metadata["service"] == "compute.googleapis.com"
    assert caught.value.errors[0]["reason"] == "accessNotConfigured"
    assert "Compute Engine API has not been used in project 222222222222" in caught.value.message


def test_an_empty_kind_is_an_empty_list(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    assert list(compute_v1.FirewallsClient(**client_kwargs).list(project="old-project")) == []
    assert list(compute_v1.SnapshotsClient(**client_kwargs).list(project="old-project")) == []


def aggregated(client: Any, field: str, **request: Any) -> dict[str, list[str]]:
    """scope -> names; `-` marks a scope answered with a NO_RESULTS_ON_PAGE warning."""
    seen: dict[str, list[str]] = {}
    for scope, scoped in client.aggregated_list(request={"project": SHOP, **request}):
        names = [r.name for r in getattr(scoped, field)]
        if not names:
            assert scoped.warning.code == "NO_RESULTS_ON_PAGE"
            names = ["-"]
        seen.setdefault(scope, []).extend(names)
    return seen


def test_every_aggregated_kind(standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]) -> None:
    kw = client_kwargs
    assert aggregated(compute_v1.InstancesClient(**kw), "instances") == {
        "zones/europe-west1-b": ["web-1"],
        "zones/europe-west4-a": ["db-1"],
    }
    assert aggregated(compute_v1.DisksClient(**kw), "disks") == {
        "regions/europe-west1": ["shared-data"],
        "regions/europe-west4": ["-"],
        "zones/europe-west1-b": ["web-1"],
        "zones/europe-west4-a": ["-"],
    }
    assert aggregated(compute_v1.SubnetworksClient(**kw), "subnetworks") == {
        "regions/europe-west1": ["prod-europe-west1"],
        "regions/europe-west4": ["-"],
    }
    assert aggregated(compute_v1.ResourcePoliciesClient(**kw), "resource_policies") == {
        "regions/europe-west1": ["daily-backup"],
        "regions/europe-west4": ["-"],
    }
    assert aggregated(compute_v1.AddressesClient(**kw), "addresses") == {
        "global": ["lb-ip"],
        "regions/europe-west1": ["web-ip"],
        "regions/europe-west4": ["-"],
    }


def test_aggregated_lists_page_across_scopes(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    seen = aggregated(compute_v1.InstancesClient(**client_kwargs), "instances", max_results=1)
    # Every page lists every scope; the one without results on that page carries a warning.
    assert seen == {"zones/europe-west1-b": ["web-1", "-"], "zones/europe-west4-a": ["-", "db-1"]}
    tokens = [c.query.get("pageToken") for c in standin.requests_for("compute.instances.aggregatedList")]
    assert tokens == [None, "1"]


def test_regional_and_global_lists(standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]) -> None:
    kw = client_kwargs
    subnets = compute_v1.SubnetworksClient(**kw)
    assert [s.name for s in subnets.list(project=SHOP, region="europe-west1")] == ["prod-europe-west1"]
    assert list(subnets.list(project=SHOP, region="us-central1")) == []
    assert [a.name for a in compute_v1.GlobalAddressesClient(**kw).list(project=SHOP)] == ["lb-ip"]
    assert [n.name for n in compute_v1.NetworksClient(**kw).list(project=SHOP)] == ["prod-vpc"]
    snapshots = list(compute_v1.SnapshotsClient(**kw).list(project=SHOP))
    assert [(s.name, s.storage_bytes) for s in snapshots] == [("web-1-20261125", 1073741824)]


def test_filter_and_order_by(standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]) -> None:
    firewalls = compute_v1.FirewallsClient(**client_kwargs)
    newest = firewalls.list(request={"project": SHOP, "order_by": "creationTimestamp desc", "max_results": 3})
    assert [f.name for f in newest][:3] == ["fw-4", "fw-3", "fw-2"]
    internal = firewalls.list(request={"project": SHOP, "filter": 'name = "allow-internal"'})
    assert [f.name for f in internal] == ["allow-internal"]
    regex = firewalls.list(request={"project": SHOP, "filter": "(name eq fw-[0-1]) (disabled = false)"})
    assert [f.name for f in regex] == ["fw-0", "fw-1"]
    running = aggregated(compute_v1.InstancesClient(**client_kwargs), "instances", filter='status = "RUNNING"')
    assert running == {"zones/europe-west1-b": ["web-1"], "zones/europe-west4-a": ["-"]}
    with pytest.raises(exceptions.BadRequest, match="The stand-in supports terms"):
        list(firewalls.list(request={"project": SHOP, "filter": "name = a OR name = b"}))
    with pytest.raises(exceptions.BadRequest, match="Invalid value for field 'orderBy'"):
        list(firewalls.list(request={"project": SHOP, "order_by": "priority"}))


def test_max_results_is_bounded_as_compute_does(standin: StandIn) -> None:
    url = f"{standin.url}/compute/v1/projects/{SHOP}/global/firewalls"
    assert requests.get(url, params={"maxResults": "0"}, timeout=5).json()["kind"] == "compute#firewallList"
    too_many = requests.get(url, params={"maxResults": "501"}, timeout=5)
    assert too_many.status_code == 400
    assert "Must be less than or equal to 500" in too_many.json()["error"]["message"]
    bad_token = requests.get(url, params={"pageToken": "zzz"}, timeout=5)
    assert bad_token.status_code == 400


def test_list_envelope_is_the_real_shape(standin: StandIn) -> None:
    body = requests.get(f"{standin.url}/compute/v1/projects/{SHOP}/global/networks", timeout=5).json()
    assert body["kind"] == "compute#networkList"
    assert body["id"] == f"projects/{SHOP}/global/networks"
    assert body["selfLink"] == f"https://www.googleapis.com/compute/v1/projects/{SHOP}/global/networks"
    assert "nextPageToken" not in body
    empty = requests.get(f"{standin.url}/compute/v1/projects/old-project/global/firewalls", timeout=5).json()
    assert "items" not in empty


def test_an_undeclared_query_parameter_is_a_400_naming_it(standin: StandIn) -> None:
    url = f"{standin.url}/compute/v1/projects/{SHOP}/global/firewalls"
    answer = requests.get(url, params={"maxResults": "2", "colour": "blue"}, timeout=5)
    assert answer.status_code == 400
    assert 'Unknown name "colour"' in answer.json()["error"]["message"]
    declared = {"filter": "", "orderBy": "name", "prettyPrint": "false", "alt": "json", "fields": "items", "key": "k"}
    assert requests.get(url, params=declared, timeout=5).status_code == 200
    aggregated_url = f"{standin.url}/compute/v1/projects/{SHOP}/aggregated/instances"
    extras = {"includeAllScopes": "true", "serviceProjectNumber": "123"}
    assert requests.get(aggregated_url, params=extras, timeout=5).status_code == 200
    mistyped = requests.get(url, params={"maxResults": "lots"}, timeout=5)
    assert mistyped.status_code == 400 and "maxResults" in mistyped.json()["error"]["message"]


def test_an_unimplemented_method_is_a_501_naming_it(standin: StandIn) -> None:
    answer = requests.get(f"{standin.url}/compute/v1/projects/{SHOP}/global/routes", timeout=5)
    assert answer.status_code == 501
    assert "compute.routes.list" in answer.json()["error"]["message"]
    unknown = requests.get(f"{standin.url}/nothing/here", timeout=5)
    assert unknown.status_code == 404
    assert [r.method for r in standin.requests] == ["compute.routes.list", None]
