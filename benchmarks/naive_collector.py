"""The yardstick for the scale benchmark: a naive sequential collector, timed.

What someone would write in an afternoon with the same official client libraries the
daemon uses: one project after the other, each kind listed the simple way (zone by zone
and region by region, over only the zones and regions in use, rather than aggregated),
every ancestor read again for every project, every page fetched by iterating the pager,
messages turned into REST JSON with `to_dict`. No controls are judged: it only reads. If
the daemon, which also judges and records, is not well ahead of this, its concurrency
and sharing buy nothing. Run alone:
`python -m benchmarks.naive_collector URL PROJECT…` (zones and regions of the synthetic org).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class NaiveSweep:
    """What one naive sweep read and how long it took."""

    projects: int = 0
    resources: int = 0
    calls: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


class NaiveCollector:
    """The clients, built once against `endpoint` with anonymous credentials (the stand-in)."""

    def __init__(self, endpoint: str, zones: Sequence[str], regions: Sequence[str]) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import compute_v1, resourcemanager_v3
        from google.cloud import logging as cloud_logging

        anonymous: Any = AnonymousCredentials
        credentials = anonymous()
        options = {"api_endpoint": endpoint}
        self.zones, self.regions = tuple(zones), tuple(regions)
        self.compute = compute_v1

        def make(cls: Any, **extra: Any) -> Any:
            return cls(credentials=credentials, client_options=options, **extra)

        self.global_lists = {
            "firewalls": make(compute_v1.FirewallsClient),
            "networks": make(compute_v1.NetworksClient),
            "snapshots": make(compute_v1.SnapshotsClient),
            "globalAddresses": make(compute_v1.GlobalAddressesClient),
            "networkFirewallPolicies": make(compute_v1.NetworkFirewallPoliciesClient),
        }
        self.zonal_lists = {"instances": make(compute_v1.InstancesClient), "disks": make(compute_v1.DisksClient)}
        self.regional_lists = {
            "subnetworks": make(compute_v1.SubnetworksClient),
            "regionDisks": make(compute_v1.RegionDisksClient),
            "resourcePolicies": make(compute_v1.ResourcePoliciesClient),
            "addresses": make(compute_v1.AddressesClient),
            "regionNetworkFirewallPolicies": make(compute_v1.RegionNetworkFirewallPoliciesClient),
        }
        self.firewall_policies = make(compute_v1.FirewallPoliciesClient)
        self.projects = make(resourcemanager_v3.ProjectsClient, transport="rest")
        self.folders = make(resourcemanager_v3.FoldersClient, transport="rest")
        self.organizations = make(resourcemanager_v3.OrganizationsClient, transport="rest")
        self.logging = make(cloud_logging.Client, _use_grpc=False, project="naive-unused")

    def _messages(self, pager: Any) -> int:
        """Iterate every page (the library fetches them) and convert each item as the daemon does."""
        count = 0
        for item in pager:
            type(item).to_dict(item)
            count += 1
        return count

    def project(self, project_id: str, sweep: NaiveSweep) -> None:
        """Every kind of one project, then its ancestors, read one call after the other."""
        from google.iam.v1 import iam_policy_pb2, options_pb2
        from google.protobuf import json_format

        policy_request = iam_policy_pb2.GetIamPolicyRequest(
            resource=f"projects/{project_id}", options=options_pb2.GetPolicyOptions(requested_policy_version=3)
        )
        found = self.projects.get_project(name=f"projects/{project_id}")
        json_format.MessageToDict(self.projects.get_iam_policy(request=policy_request))
        sweep.calls += 2
        for client in self.global_lists.values():
            sweep.resources += self._messages(client.list(project=project_id))
            sweep.calls += 1
        for client in self.zonal_lists.values():
            for zone in self.zones:
                sweep.resources += self._messages(client.list(project=project_id, zone=zone))
                sweep.calls += 1
        for client in self.regional_lists.values():
            for region in self.regions:
                sweep.resources += self._messages(client.list(project=project_id, region=region))
                sweep.calls += 1
        sweep.resources += sum(1 for _ in self.logging.list_sinks(parent=f"projects/{project_id}"))
        sweep.resources += sum(1 for _ in self.logging.metrics_api.list_metrics(project_id))
        sweep.calls += 2
        parent = found.parent
        for _ in range(12):  # folders nest at most 10 deep
            if parent.startswith("folders/"):
                node = self.folders.get_folder(name=parent)
                client: Any = self.folders
                up = node.parent
            elif parent.startswith("organizations/"):
                self.organizations.get_organization(name=parent)
                client, up = self.organizations, ""
            else:
                break
            request = iam_policy_pb2.GetIamPolicyRequest(
                resource=parent, options=options_pb2.GetPolicyOptions(requested_policy_version=3)
            )
            json_format.MessageToDict(client.get_iam_policy(request=request))
            sum(1 for _ in self.logging.list_sinks(parent=parent))
            self._messages(self.firewall_policies.list(request={"parent_id": parent}))
            sweep.calls += 4
            parent = up

    def sweep(self, project_ids: Sequence[str], budget: float = 1800.0) -> NaiveSweep:
        """Every project in turn; a project that fails is noted and the sweep goes on; stops at `budget` s."""
        found = NaiveSweep()
        start = time.perf_counter()
        for project_id in project_ids:
            if time.perf_counter() - start > budget:
                found.errors.append(
                    f"stopped after {budget:.0f}s, {found.projects} of {len(project_ids)} projects read"
                )
                break
            try:
                self.project(project_id, found)
            except Exception as exc:  # noqa: BLE001 - a yardstick reports, it does not stop
                found.errors.append(f"{project_id}: {type(exc).__name__}: {exc}"[:300])
            found.projects += 1
        found.seconds = time.perf_counter() - start
        return found


def main(argv: Sequence[str]) -> int:
    from benchmarks.synthetic_org import REGION_LIST, ZONE_LIST

    if len(argv) < 2:
        print("usage: python -m benchmarks.naive_collector URL PROJECT…", file=sys.stderr)
        return 2
    result = NaiveCollector(argv[0], ZONE_LIST, REGION_LIST).sweep(argv[1:])
    print(f"naive sweep: {result.projects} projects, {result.resources} resources, {result.calls} calls, "
          f"{result.seconds:.2f}s, {len(result.errors)} errors")  # fmt: skip
    for error in result.errors[:5]:
        print("  " + error)
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
