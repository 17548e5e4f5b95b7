"""Per-zone and per-region Compute listings: what a collector going zone by zone reads."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from google.api_core import exceptions

from monitor.standin import StandIn
from tests.standin.conftest import SHOP


def names(pager: Any) -> list[str]:
    return [item.name for item in pager]


def test_each_zone_and_region_lists_only_its_own_resources(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    kw = client_kwargs
    instances = compute_v1.InstancesClient(**kw)
    assert names(instances.list(project=SHOP, zone="europe-west1-b")) == ["web-1"]
    assert names(instances.list(project=SHOP, zone="europe-west4-a")) == ["db-1"]
    assert names(instances.list(project=SHOP, zone="us-central1-a")) == []
    assert names(compute_v1.DisksClient(**kw).list(project=SHOP, zone="europe-west1-b")) == ["web-1"]
    assert names(compute_v1.RegionDisksClient(**kw).list(project=SHOP, region="europe-west1")) == ["shared-data"]
    assert names(compute_v1.AddressesClient(**kw).list(project=SHOP, region="europe-west1")) == ["web-ip"]
    policies = compute_v1.ResourcePoliciesClient(**kw).list(project=SHOP, region="europe-west1")
    assert names(policies) == ["daily-backup"]
    assert names(compute_v1.SubnetworksClient(**kw).list(project=SHOP, region="europe-west4")) == []
    listed = [r.method for r in standin.requests]
    assert "compute.regionDisks.list" in listed and listed.count("compute.instances.list") == 3


def test_a_zone_listing_pages_and_an_unknown_project_is_a_404(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    client = compute_v1.InstancesClient(**client_kwargs)
    pager = client.list(request=compute_v1.ListInstancesRequest(project=SHOP, zone="europe-west1-b", max_results=1))
    assert names(pager) == ["web-1"]
    with pytest.raises(exceptions.NotFound):
        names(client.list(project="no-such-project", zone="europe-west1-b"))
