"""A deterministic synthetic organisation for the scale benchmark, in the stand-in's scenario format.

One organisation, 24 folders (4 under the organisation, 5 below each of them) and N
projects spread over the 20 leaf folders, each project holding about 600 resources of
every kind the collectors read: firewalls, networks, subnetworks, instances, disks,
snapshots, resource policies, addresses, log sinks and logs-based metrics, plus its IAM
policy, two Cloud SQL instances (a primary with a backup run, and its read replica), and a
few buckets, service accounts (with their keys), effective organisation policies, a KMS
key ring, an API key and an Essential Contact on top (`DATA_MIX`). Resources sit in the
few zones a real estate uses (`ZONES`), so a collector listing zone by zone lists only
those. The same `projects` and `per_project` always give the same document (no randomness,
no clock): figures from two runs describe one estate.

Built from plain dict literals, sharing the nested objects every resource of a kind has
alike (nothing mutates a scenario document: the stand-in copies it when it loads it), so
1,000 × 600 resources take seconds. A small share of resources is planted to fail (one
open SSH rule in 20, one disk in 10 without a snapshot schedule), so controls have
failures to report as in a real estate.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from typing import Any

from benchmarks import synthetic_monitoring
from checks.kinds import ORG_CONSTRAINTS

ORG_NUMBER = 424200000001
NOW = "2026-11-25T12:00:00Z"
BASE = "https://www.googleapis.com/compute/v1/projects/"
#: the zones in use, by region; every zonal resource sits in one of them
ZONES: Mapping[str, tuple[str, ...]] = {
    "europe-west1": ("europe-west1-b", "europe-west1-c", "europe-west1-d"),
    "europe-west4": ("europe-west4-a", "europe-west4-b"),
    "us-central1": ("us-central1-a", "us-central1-b", "us-central1-f"),
}
ZONE_LIST: tuple[str, ...] = tuple(zone for zones in ZONES.values() for zone in zones)
REGION_LIST: tuple[str, ...] = tuple(ZONES)
TOP_FOLDERS = 4
SUBFOLDERS = 5  # below each top folder: 4 + 4 × 5 = 24 folders

#: resources per project at the default size, by (group, kind); they add up to 600
DEFAULT_MIX: Mapping[tuple[str, str], int] = {
    ("compute", "firewalls"): 178,
    ("compute", "networks"): 4,
    ("compute", "subnetworks"): 24,
    ("compute", "instances"): 120,
    ("compute", "disks"): 150,
    ("compute", "snapshots"): 80,
    ("compute", "resourcePolicies"): 12,
    ("compute", "addresses"): 20,
    ("compute", "firewallPolicies"): 1,  # global network firewall policies
    ("compute", "regionFirewallPolicies"): 1,
    ("logging", "sinks"): 5,
    ("logging", "metrics"): 5,
}
#: Cloud SQL instances per project, beside the 600 (like its IAM policy): a primary, then its read replica
SQL_INSTANCES = 2
#: the second catalogue's resources per project, on top of the 600 (which, like the naive
#: collector, count Compute and Logging only): few, as in a real project
DATA_MIX: Mapping[tuple[str, str], int] = {
    # BigQuery datasets and tables, and a Dataproc cluster (`_analytics`)
    ("bigquery", "datasets"): 2,
    ("bigquery", "tables"): 4,  # two in each dataset
    ("dataproc", "clusters"): 1,  # in europe-west1, the one region the benchmark's config allows
    ("storage", "buckets"): 4,
    ("iam", "serviceAccounts"): 2,
    ("orgPolicy", "effectivePolicies"): len(ORG_CONSTRAINTS),  # one per constraint the collector reads
    # the networks controls of issue 13: a load balancer's backend service, a public zone, a DNS policy
    ("compute", "backendServices"): 1,
    ("dns", "managedZones"): 1,
    ("dns", "policies"): 1,
    **synthetic_monitoring.MIX,  # alert policies, enabled services, Access Approval settings
    # the identity catalogue's: a key ring with one key, an API key, a project contact
    ("kms", "keyRings"): 1,
    ("apiKeys", "keys"): 1,
    ("essentialContacts", "contacts"): 1,
}
#: the CMEK keys in each synthetic key ring (`_identity_parts`)
KEYS_PER_RING = 1
#: the scenario groups holding a project's listed kinds
GROUPS = tuple(dict.fromkeys(group for group, _ in (*DEFAULT_MIX, *DATA_MIX)))

_LOG_CONFIG = {"enable": True, "metadata": "INCLUDE_ALL_METADATA"}
_SCHEDULING = {"onHostMaintenance": "MIGRATE", "automaticRestart": True, "preemptible": False}
_SHIELDED = {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True}
_SA_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_IMAGE = BASE + "debian-cloud/global/images/debian-12-bookworm-v20250113"
_AUDIT_ALL = [
    {"service": "allServices", "auditLogConfigs": [{"logType": t} for t in ("ADMIN_READ", "DATA_READ", "DATA_WRITE")]}
]
_METRIC_FILTERS = (
    'protoPayload.methodName="SetIamPolicy"',
    'resource.type="gce_firewall_rule" AND protoPayload.methodName:"compute.firewalls."',
    'resource.type="gce_network" AND protoPayload.methodName:"compute.networks."',
    'resource.type="gce_route" AND protoPayload.methodName:"compute.routes."',
    'protoPayload.methodName="google.logging.v2.ConfigServiceV2.UpdateSink"',
)


def scaled_mix(per_project: int) -> dict[tuple[str, str], int]:
    """`DEFAULT_MIX` scaled to about `per_project` resources, at least one of every kind."""
    total = sum(DEFAULT_MIX.values())
    return {key: max(1, round(count * per_project / total)) for key, count in DEFAULT_MIX.items()}


def project_id(n: int) -> str:
    return f"synth-{n:04d}"


def project_number(n: int) -> str:
    return str(800000000000 + n)


def folder_numbers() -> list[tuple[str, str]]:
    """(folder name, parent name) of the 24 folders, parents first."""
    org = f"organizations/{ORG_NUMBER}"
    folders = [(f"folders/{3000 + t}", org) for t in range(TOP_FOLDERS)]
    for t in range(TOP_FOLDERS):
        folders += [(f"folders/{3100 + t * 10 + s}", f"folders/{3000 + t}") for s in range(SUBFOLDERS)]
    return folders


def leaf_folders() -> list[str]:
    return [name for name, parent in folder_numbers() if parent.startswith("folders/")]


def _etag(text: str) -> str:
    """A valid base64 etag, distinct per `text`."""
    return base64.b64encode(text.encode()).decode()


def _policy(etag: str, members: Iterator[tuple[str, str]]) -> dict[str, Any]:
    return {"version": 3, "etag": etag, "bindings": [{"role": r, "members": [m]} for r, m in members]}


def _node_sink(parent: str, n: int) -> dict[str, Any]:
    return {
        "name": f"archive-{n}",
        # the organisation's log archive: the first project's locked Logging bucket (LOG-04 reads it once a sweep)
        "destination": f"logging.googleapis.com/projects/{project_id(0)}/locations/europe-west1/buckets/logs",
        "includeChildren": True,
        "writerIdentity": f"serviceAccount:service-{n}@gcp-sa-logging.iam.gserviceaccount.com",
        "createTime": "2023-03-14T10:21:07.493210771Z",
        "updateTime": "2023-03-14T10:21:07.493210771Z",
    }


def organization() -> dict[str, Any]:
    return {
        "name": f"organizations/{ORG_NUMBER}",
        "displayName": "synthetic.example",
        "directoryCustomerId": "C0synth01",
        "state": "ACTIVE",
        "createTime": "2019-02-11T09:12:44.213Z",
        "updateTime": "2019-02-11T09:12:44.213Z",
        "etag": "BwXhqDmzIu0=",
        "iamPolicy": {
            **_policy(
                "BwaBy8CLUjA=", iter([("roles/resourcemanager.organizationAdmin", "group:admins@synth.example")])
            ),
            "auditConfigs": _AUDIT_ALL,
        },
        "logging": {"sinks": [_node_sink("organization", 0)]},
    }


def folders() -> list[dict[str, Any]]:
    found = []
    for i, (name, parent) in enumerate(folder_numbers()):
        number = int(name.removeprefix("folders/"))
        found.append(
            {
                "name": name,
                "parent": parent,
                "displayName": f"folder-{number}",
                "state": "ACTIVE",
                "createTime": "2021-05-03T08:00:12.318Z",
                "updateTime": "2021-05-03T08:00:12.318Z",
                "iamPolicy": _policy(
                    _etag(f"folder-{i}"),
                    iter([("roles/resourcemanager.folderViewer", f"group:team-{i}@synth.example")]),
                ),
                "logging": {"sinks": [_node_sink(name, number)]},
            }
        )
    return found


class _Ids:
    """Unique uint64 ids as strings: one counter per project, no randomness."""

    def __init__(self, n: int) -> None:
        self._next = 10**18 + n * 10**6

    def __call__(self) -> str:
        self._next += 1
        return str(self._next)


def project(n: int, mix: Mapping[tuple[str, str], int] = DEFAULT_MIX) -> dict[str, Any]:
    """Project `n` of the estate: its resource, IAM policy and every kind's resources."""
    pid = project_id(n)
    base = BASE + pid
    ids = _Ids(n)
    sa = f"app@{pid}.iam.gserviceaccount.com"
    leaves = leaf_folders()
    nets = [f"{base}/global/networks/net-{i}" for i in range(mix["compute", "networks"])]

    def zone(i: int) -> str:
        return ZONE_LIST[i % len(ZONE_LIST)]

    def region_of(zone_name: str) -> str:
        return zone_name.rsplit("-", 1)[0]

    def region(i: int) -> str:
        return REGION_LIST[i % len(REGION_LIST)]

    subnets = [
        (f"{base}/regions/{region(i)}/subnetworks/sub-{i}", region(i), nets[i % len(nets)])
        for i in range(mix["compute", "subnetworks"])
    ]
    policies = [
        f"{base}/regions/{region(i)}/resourcePolicies/daily-{i}" for i in range(mix["compute", "resourcePolicies"])
    ]

    firewalls = []
    for i in range(mix["compute", "firewalls"]):
        open_ssh = i % 20 == 7
        ingress = i % 4 != 3
        rule: dict[str, Any] = {
            "kind": "compute#firewall",
            "id": ids(),
            "creationTimestamp": "2024-02-05T00:45:10.332-08:00",
            "name": f"fw-{i:04d}",
            "description": "synthetic rule",
            "network": nets[i % len(nets)],
            "priority": 1000 + i,
            "direction": "INGRESS" if ingress else "EGRESS",
            "logConfig": _LOG_CONFIG,
            "disabled": False,
            "selfLink": f"{base}/global/firewalls/fw-{i:04d}",
        }
        if ingress:
            rule["sourceRanges"] = ["0.0.0.0/0"] if open_ssh else [f"10.{i % 250}.0.0/16"]
            rule["targetTags"] = [f"tier-{i % 7}"]
            rule["allowed"] = [{"IPProtocol": "tcp", "ports": ["22" if open_ssh else str(8000 + i % 1000)]}]
        else:
            rule["destinationRanges"] = [f"10.{i % 250}.0.0/16"]
            rule["denied"] = [{"IPProtocol": "all"}]
        firewalls.append(rule)

    networks = [
        {
            "kind": "compute#network",
            "id": ids(),
            "creationTimestamp": "2024-02-05T00:44:12.507-08:00",
            "name": f"net-{i}",
            "selfLink": url,
            "autoCreateSubnetworks": False,
            "subnetworks": [s for s, _, net in subnets if net == url],
            "routingConfig": {"routingMode": "REGIONAL"},
            "mtu": 1460,
        }
        for i, url in enumerate(nets)
    ]

    subnetworks = [
        {
            "kind": "compute#subnetwork",
            "id": ids(),
            "creationTimestamp": "2024-02-05T00:44:50.928-08:00",
            "name": f"sub-{i}",
            "network": net,
            "ipCidrRange": f"10.{i % 250}.{i // 250}.0/24",
            "gatewayAddress": f"10.{i % 250}.{i // 250}.1",
            "region": f"{base}/regions/{where}",
            "selfLink": url,
            "privateIpGoogleAccess": True,
            "stackType": "IPV4_ONLY",
            "purpose": "PRIVATE",
            "fingerprint": "ygcCWxZfoiQ=",
            "logConfig": {"enable": i % 12 != 5, "aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 1.0,
                          "metadata": "INCLUDE_ALL_METADATA"},
        }
        for i, (url, where, net) in enumerate(subnets)
    ]

    disk_count = mix["compute", "disks"]
    disks = []
    for i in range(disk_count):
        where = zone(i)
        disk: dict[str, Any] = {
            "kind": "compute#disk",
            "id": ids(),
            "creationTimestamp": "2024-02-05T01:02:11.452-08:00",
            "name": f"disk-{i:04d}",
            "sizeGb": "20",
            "zone": f"{base}/zones/{where}",
            "status": "READY",
            "selfLink": f"{base}/zones/{where}/disks/disk-{i:04d}",
            "sourceImage": _IMAGE,
            "type": f"{base}/zones/{where}/diskTypes/pd-balanced",
            "labels": {"env": "prod"},
            "architecture": "X86_64",
        }
        if i % 10 != 3:
            disk["resourcePolicies"] = [p for p in policies if f"/regions/{region_of(where)}/" in p][:1]
        disks.append(disk)

    instances = []
    for i in range(mix["compute", "instances"]):
        where = zone(i)  # instance i boots from disk i, in the same zone
        sub_url, _, net = next(((u, r, n) for u, r, n in subnets if r == region_of(where)), subnets[0])
        instances.append(
            {
                "kind": "compute#instance",
                "id": ids(),
                "creationTimestamp": "2024-02-05T01:02:11.446-08:00",
                "name": f"vm-{i:04d}",
                "machineType": f"{base}/zones/{where}/machineTypes/n2-standard-2",
                "status": "RUNNING",
                "zone": f"{base}/zones/{where}",
                "canIpForward": False,
                "networkInterfaces": [
                    {
                        "kind": "compute#networkInterface",
                        "name": "nic0",
                        "network": net,
                        "subnetwork": sub_url,
                        "networkIP": f"10.{i % 250}.0.{10 + i // 250}",
                        "stackType": "IPV4_ONLY",
                    }
                ],
                "disks": [
                    {
                        "kind": "compute#attachedDisk",
                        "type": "PERSISTENT",
                        "mode": "READ_WRITE",
                        "source": f"{base}/zones/{where}/disks/disk-{i % disk_count:04d}",
                        "deviceName": "persistent-disk-0",
                        "index": 0,
                        "boot": True,
                        "autoDelete": True,
                        "interface": "SCSI",
                        "diskSizeGb": "20",
                    }
                ],
                "serviceAccounts": [{"email": sa, "scopes": _SA_SCOPES}],
                "selfLink": f"{base}/zones/{where}/instances/vm-{i:04d}",
                "scheduling": _SCHEDULING,
                "shieldedInstanceConfig": _SHIELDED,
                "labels": {"env": "prod", "tier": f"tier-{i % 7}"},
                "deletionProtection": True,
                "lastStartTimestamp": "2026-11-03T05:12:40.118-08:00",
            }
        )

    snapshots = []
    for i in range(mix["compute", "snapshots"]):
        where = zone(i)
        snapshots.append(
            {
                "kind": "compute#snapshot",
                "id": ids(),
                "creationTimestamp": f"2026-11-24T{(i % 24):02d}:00:07.514-08:00",
                "name": f"snap-{i:04d}",
                "status": "READY",
                "sourceDisk": f"{base}/zones/{where}/disks/disk-{i % disk_count:04d}",
                "diskSizeGb": "20",
                "storageBytes": "1573912576",
                "storageBytesStatus": "UP_TO_DATE",
                "storageLocations": [region_of(where)],
                "snapshotType": "STANDARD",
                "autoCreated": True,
                "architecture": "X86_64",
                "selfLink": f"{base}/global/snapshots/snap-{i:04d}",
            }
        )

    resource_policies = [
        {
            "kind": "compute#resourcePolicy",
            "id": ids(),
            "creationTimestamp": "2024-02-05T00:58:33.746-08:00",
            "name": f"daily-{i}",
            "region": f"{base}/regions/{region(i)}",
            "status": "READY",
            "selfLink": url,
            "snapshotSchedulePolicy": {
                "schedule": {"dailySchedule": {"daysInCycle": 1, "startTime": "02:00"}},
                "retentionPolicy": {"maxRetentionDays": 30, "onSourceDiskDelete": "KEEP_AUTO_SNAPSHOTS"},
                "snapshotProperties": {"storageLocations": [region(i)], "guestFlush": True},
            },
        }
        for i, url in enumerate(policies)
    ]

    addresses = []
    for i in range(mix["compute", "addresses"]):
        address: dict[str, Any] = {
            "kind": "compute#address",
            "id": ids(),
            "creationTimestamp": "2024-02-05T01:03:50.384-08:00",
            "name": f"ip-{i:03d}",
            "status": "RESERVED",
        }
        if i % 5 == 4:  # a global address: no region
            address |= {
                "address": f"34.120.{i}.1",
                "addressType": "EXTERNAL",
                "selfLink": f"{base}/global/addresses/ip-{i:03d}",
            }
        else:
            where = region(i)
            address |= {
                "address": f"10.{i}.0.5",
                "addressType": "INTERNAL",
                "purpose": "GCE_ENDPOINT",
                "region": f"{base}/regions/{where}",
                "selfLink": f"{base}/regions/{where}/addresses/ip-{i:03d}",
            }
        addresses.append(address)

    def network_policy(i: int, where: str | None) -> dict[str, Any]:
        """A network firewall policy of net-{i}: a logged deny from a threat list (it shadows nothing)."""
        name = f"{'region-' if where else ''}policy-{i}"
        rule = {"kind": "compute#firewallPolicyRule", "priority": 100, "direction": "INGRESS", "action": "deny",
                "enableLogging": True, "match": {"srcThreatIntelligences": ["iplist-known-malicious-ips"],
                                                 "layer4Configs": [{"ipProtocol": "all"}]}}  # fmt: skip
        policy: dict[str, Any] = {
            "kind": "compute#firewallPolicy",
            "id": ids(),
            "creationTimestamp": "2024-02-05T00:45:02.118-08:00",
            "name": name,
            "rules": [rule],
            "associations": [{"name": f"net-{i}", "attachmentTarget": nets[i % len(nets)]}],
            "selfLink": f"{base}/{f'regions/{where}' if where else 'global'}/firewallPolicies/{name}",
        }
        if where:
            policy["region"] = f"{base}/regions/{where}"
        return policy

    network_policies = [network_policy(i, None) for i in range(mix["compute", "firewallPolicies"])]
    region_policies = [network_policy(i, region(i)) for i in range(mix["compute", "regionFirewallPolicies"])]

    log_bucket = f"projects/{pid}/locations/europe-west1/buckets/logs"
    sinks = [
        {
            "name": f"sink-{i}",
            "destination": f"logging.googleapis.com/{log_bucket}",  # all to one: LOG-04 reads it once a run
            "writerIdentity": f"serviceAccount:service-{project_number(n)}@gcp-sa-logging.iam.gserviceaccount.com",
            "createTime": "2024-02-05T08:30:42.551827015Z",
            "updateTime": "2024-02-05T08:30:42.551827015Z",
        }
        for i in range(mix["logging", "sinks"])
    ]
    metrics = [
        {
            "name": f"metric-{i}",
            "filter": _METRIC_FILTERS[i % len(_METRIC_FILTERS)],
            "metricDescriptor": {
                "name": f"projects/{pid}/metricDescriptors/logging.googleapis.com/user/metric-{i}",
                "type": f"logging.googleapis.com/user/metric-{i}",
                "metricKind": "DELTA",
                "valueType": "INT64",
                "unit": "1",
            },
            "createTime": "2024-02-05T09:10:01.201337Z",
            "updateTime": "2024-02-05T09:10:01.201337Z",
        }
        for i in range(mix["logging", "metrics"])
    ]

    return {
        "projectId": pid,
        "name": f"projects/{project_number(n)}",
        "parent": leaves[n % len(leaves)],
        "displayName": f"Synthetic {n}",
        "state": "ACTIVE",
        "labels": {"env": ("prod", "staging", "dev")[n % 3], "team": f"team-{n % 17}"},
        "createTime": "2024-02-05T08:30:41.009Z",
        "updateTime": "2026-01-12T16:05:03.338Z",
        "iamPolicy": {
            **_policy(
                _etag(f"project-{n}"),
                iter(
                    [
                        ("roles/compute.viewer", f"group:eng-{n % 17}@synth.example"),
                        ("roles/logging.viewer", "group:auditors@synth.example"),
                        (
                            "roles/editor" if n % 25 == 3 else "roles/compute.osLogin",
                            f"group:oncall-{n % 5}@synth.example",
                        ),
                        ("roles/logging.logWriter", f"serviceAccount:{sa}"),
                    ]
                ),
            ),
            "auditConfigs": _AUDIT_ALL,
        },
        "compute": {
            "firewalls": firewalls,
            "networks": networks,
            "subnetworks": subnetworks,
            "instances": instances,
            "disks": disks,
            "snapshots": snapshots,
            "resourcePolicies": resource_policies,
            "addresses": addresses,
            "firewallPolicies": network_policies,
            "regionFirewallPolicies": region_policies,
            "backendServices": _backend_services(n, base),
        },
        # the sinks' destination, locked (LOG-04), beside the 600 like the second catalogue's resources
        "logging": {
            "sinks": sinks,
            "metrics": metrics,
            "buckets": [{"name": log_bucket, "retentionDays": 400, "locked": True}],
        },
        "sql": _sql(pid, SQL_INSTANCES),
        **_data_parts(n, pid),
        "dns": _dns(n, pid, nets),
        **synthetic_monitoring.parts(pid, project_number(n)),
        **_identity_parts(n, pid),
    }


def _backend_services(n: int, base: str, mix: Mapping[tuple[str, str], int] = DATA_MIX) -> list[dict[str, Any]]:
    """Global external Application Load Balancer backend services; planted: logging off in one project of 8."""
    return [
        {
            "kind": "compute#backendService",
            "id": f"7{n:09d}{i:04d}",
            "name": f"web-{i}",
            "selfLink": f"{base}/global/backendServices/web-{i}",
            "protocol": "HTTPS",
            "loadBalancingScheme": "EXTERNAL_MANAGED",
            "logConfig": {"enable": not (i == 0 and n % 8 == 2), "sampleRate": 1.0},
        }
        for i in range(mix["compute", "backendServices"])
    ]


def _dns(n: int, pid: str, nets: list[str], mix: Mapping[tuple[str, str], int] = DATA_MIX) -> dict[str, Any]:
    """Signed public zones and a logging DNS policy over every network; planted: DNSSEC off in one project
    of 10, the policy not logging in one of 10 (another one)."""
    specs = [
        {"keyType": "keySigning", "algorithm": "rsasha256", "keyLength": 2048},
        {"keyType": "zoneSigning", "algorithm": "rsasha256", "keyLength": 1024},
    ]
    zones = [
        {
            "kind": "dns#managedZone",
            "id": f"8{n:09d}{i:04d}",
            "name": f"zone-{i}",
            "dnsName": f"z{i}.{pid}.synth.example.",
            "visibility": "public",
            "dnssecConfig": {"state": "off" if i == 0 and n % 10 == 6 else "on", "defaultKeySpecs": specs},
        }
        for i in range(mix["dns", "managedZones"])
    ]
    policies = [
        {
            "kind": "dns#policy",
            "id": f"9{n:09d}{i:04d}",
            "name": f"dns-logging-{i}",
            "enableLogging": not (i == 0 and n % 10 == 3),
            "networks": [{"kind": "dns#policyNetwork", "networkUrl": url} for url in nets],
        }
        for i in range(mix["dns", "policies"])
    ]
    return {"managedZones": zones, "policies": policies}


def _identity_parts(n: int, pid: str) -> dict[str, Any]:
    """A key ring with one CMEK key, one restricted API key, and a contact for every category.

    Planted: a key without rotation in one project of 10, a key without API restriction in one
    of 20 (every API key fails IAM-12: CIS wants none, and a real estate has some).
    """
    number = project_number(n)
    ring = f"projects/{pid}/locations/europe-west1/keyRings/ring-0"
    rotation = {} if n % 10 == 3 else {"rotationPeriod": "7776000s", "nextRotationTime": "2026-12-20T00:00:00Z"}
    key = {"name": f"{ring}/cryptoKeys/cmek-0", "purpose": "ENCRYPT_DECRYPT", "createTime": "2024-02-05T08:31:12Z",
           **rotation, "iamPolicy": {"version": 1, "etag": "ACAB"}}  # fmt: skip
    targets = [] if n % 20 == 7 else [{"service": "maps-backend.googleapis.com"}]
    uid = f"00000000-0000-4000-8000-{n:012d}"
    api_key = {
        "name": f"projects/{number}/locations/global/keys/{uid}",
        "uid": uid,
        "displayName": "maps",
        "createTime": "2026-11-01T00:00:00Z",
        "restrictions": {"browserKeyRestrictions": {"allowedReferrers": [f"https://{pid}.example.com/*"]},
                         **({"apiTargets": targets} if targets else {})},
    }  # fmt: skip
    contact = {"name": f"projects/{number}/contacts/1", "email": f"ops@{pid}.example.com",
               "notificationCategorySubscriptions": ["ALL"], "validationState": "VALID"}  # fmt: skip
    return {
        "kms": {"keyRings": [{"name": ring, "createTime": "2024-02-05T08:31:00Z", "cryptoKeys": [key],
                              "iamPolicy": {"version": 1, "etag": "ACAB"}}]},
        "apiKeys": {"keys": [api_key]},
        "essentialContacts": {"contacts": [contact]},
    }  # fmt: skip


def _effective_policy(number: str, constraint: str, planted: bool) -> dict[str, Any]:
    rule: dict[str, Any]
    if constraint == "gcp.resourceLocations":
        rule = {"values": {"allowedValues": ["in:europe-west1-locations"]}}
    elif constraint == "iam.allowedPolicyMemberDomains":
        rule = {"values": {"allowedValues": ["C0synth01"]}}
    else:
        rule = {"enforce": not planted}
    return {"name": f"projects/{number}/policies/{constraint}", "spec": {"rules": [rule]}}


def _data_parts(n: int, pid: str, mix: Mapping[tuple[str, str], int] = DATA_MIX) -> dict[str, Any]:
    """Buckets, service accounts with their keys, and effective organisation policies.

    Planted: one bucket in the EU multi-region in one project of 10, an old user-managed key
    in one of 20, OS Login not enforced in one of 4.
    """
    number = project_number(n)
    buckets = [
        {
            "kind": "storage#bucket",
            "id": f"{pid}-data-{i}",
            "name": f"{pid}-data-{i}",
            "projectNumber": number,
            "location": "EU" if i == 0 and n % 10 == 4 else "EUROPE-WEST1",
            "storageClass": "STANDARD",
            "timeCreated": "2024-02-05T08:31:12.118Z",
            "updated": "2024-02-05T08:31:12.118Z",
            "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True}, "publicAccessPrevention": "enforced"},
        }
        for i in range(mix["storage", "buckets"])
    ]
    accounts = []
    for i in range(mix["iam", "serviceAccounts"]):
        email = f"svc-{i}@{pid}.iam.gserviceaccount.com"
        name = f"projects/{pid}/serviceAccounts/{email}"
        keys: list[dict[str, Any]] = [
            {"name": f"{name}/keys/s{n:06d}{i}", "keyType": "SYSTEM_MANAGED", "validAfterTime": "2026-11-20T00:00:00Z"}
        ]
        if i == 0 and n % 20 == 9:
            keys.append({"name": f"{name}/keys/u{n:06d}{i}", "keyType": "USER_MANAGED", "keyOrigin": "GOOGLE_PROVIDED",
                         "validAfterTime": "2025-01-10T00:00:00Z"})  # fmt: skip
        accounts.append({"name": name, "projectId": pid, "uniqueId": f"1{n:09d}{i:04d}", "email": email, "keys": keys})
    count = mix["orgPolicy", "effectivePolicies"]
    policies = [
        _effective_policy(number, c, c == "compute.requireOsLogin" and n % 4 == 1) for c in ORG_CONSTRAINTS[:count]
    ]
    return {
        "storage": {"buckets": buckets},
        "iam": {"serviceAccounts": accounts},
        "orgPolicy": {"effectivePolicies": policies},
        **_analytics(n, pid, mix),
    }


def _analytics(n: int, pid: str, mix: Mapping[tuple[str, str], int]) -> dict[str, Any]:
    """BigQuery datasets (each with its tables, spread evenly) and Dataproc clusters, all on a project key.

    Planted: one table in 10 projects without a key (DATA-41).
    """
    key = f"projects/{pid}/locations/europe-west1/keyRings/data/cryptoKeys/analytics"
    count = mix["bigquery", "datasets"]
    datasets = [
        {
            "kind": "bigquery#dataset",
            "id": f"{pid}:ds_{i}",
            "datasetReference": {"projectId": pid, "datasetId": f"ds_{i}"},
            "location": "europe-west1",
            "type": "DEFAULT",
            "defaultEncryptionConfiguration": {"kmsKeyName": key},
            "access": [{"role": "OWNER", "specialGroup": "projectOwners"}],
        }
        for i in range(count)
    ]
    tables = []
    for i in range(mix["bigquery", "tables"]):
        dataset = f"ds_{i % count}"
        table: dict[str, Any] = {
            "kind": "bigquery#table",
            "id": f"{pid}:{dataset}.t_{i}",
            "tableReference": {"projectId": pid, "datasetId": dataset, "tableId": f"t_{i}"},
            "type": "TABLE",
            "location": "europe-west1",
        }
        if not (i == 0 and n % 10 == 7):
            table["encryptionConfiguration"] = {"kmsKeyName": key}
        tables.append(table)
    clusters = [
        {
            "projectId": pid,
            "clusterName": f"etl-{i}",
            "config": {"encryptionConfig": {"gcePdKmsKeyName": key}},
            "labels": {"goog-dataproc-location": "europe-west1"},
            "status": {"state": "RUNNING"},
        }
        for i in range(mix["dataproc", "clusters"])
    ]
    return {"bigquery": {"datasets": datasets, "tables": tables}, "dataproc": {"clusters": clusters}}


def _sql(pid: str, count: int) -> dict[str, Any]:
    """`count` Cloud SQL instances in europe-west1: a primary (with one fresh backup run), then read replicas."""
    backup = {"enabled": True, "location": "europe-west1", "pointInTimeRecoveryEnabled": True}
    ip = {"ipv4Enabled": False, "privateNetwork": f"projects/{pid}/global/networks/net-0", "sslMode": "ENCRYPTED_ONLY"}
    instances = [
        {
            "kind": "sql#instance",
            "name": f"db-{i}",
            "project": pid,
            "databaseVersion": "POSTGRES_15",
            "region": "europe-west1",
            "gceZone": ZONES["europe-west1"][i % 3],
            "state": "RUNNABLE",
            **(
                {"instanceType": "READ_REPLICA_INSTANCE", "masterInstanceName": f"{pid}:db-0"}
                if i
                else {"instanceType": "CLOUD_SQL_INSTANCE"}
            ),
            "settings": {"tier": "db-custom-2-7680", "backupConfiguration": backup, "ipConfiguration": ip},
        }
        for i in range(count)
    ]
    run = {
        "kind": "sql#backupRun",
        "id": "1795572000000",
        "instance": "db-0",
        "status": "SUCCESSFUL",
        "type": "AUTOMATED",
        "location": "europe-west1",
        "startTime": "2026-11-25T02:00:00.000Z",
        "endTime": "2026-11-25T02:05:00.000Z",
    }
    return {"instances": instances, "backupRuns": [run]}


def organisation(projects: int, per_project: int = 600) -> dict[str, Any]:
    """The whole scenario document: `projects` projects of about `per_project` resources each."""
    if projects < 1 or per_project < len(DEFAULT_MIX):
        raise ValueError(
            f"need at least 1 project and {len(DEFAULT_MIX)} resources each, got {projects} × {per_project}"
        )
    mix = DEFAULT_MIX if per_project == sum(DEFAULT_MIX.values()) else scaled_mix(per_project)
    return {
        "now": NOW,
        "organization": organization(),
        "folders": folders(),
        "projects": [project(n, mix) for n in range(projects)],
    }


def resource_count(document: Mapping[str, Any]) -> int:
    """Resources in the projects' listed kinds (what "about 600 per project" counts)."""
    return sum(len(p[group][key]) for p in document["projects"] for group, key in DEFAULT_MIX)


def zones_in_use(document: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(zones, regions) any resource of the estate sits in: what a per-zone collector must list."""
    zones: set[str] = set()
    regions: set[str] = set()
    for p in document["projects"]:
        for items in p["compute"].values():
            for r in items:
                if "zone" in r:
                    zones.add(r["zone"].rsplit("/", 1)[1])
                if "region" in r:
                    regions.add(r["region"].rsplit("/", 1)[1])
    regions |= {z.rsplit("-", 1)[0] for z in zones}
    return sorted(zones), sorted(regions)
