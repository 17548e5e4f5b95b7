"""The second catalogue's parts (Cloud SQL, Cloud Storage, IAM keys, organisation policies,
firewall policies) added to the minimal scenario: what the new clients read from the stand-in.

Every resource is in its API's REST shape, so the stand-in validates it against the
discovery documents when it loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MINIMAL = Path(__file__).parent / "standin" / "data" / "scenario-minimal.json"
PROJECT = "example-shop"
NUMBER = "731234567890"
ORGANIZATION = "organizations/4242"
FOLDER = "folders/5501"
COMPUTE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/"
ACCOUNT = f"deployer@{PROJECT}.iam.gserviceaccount.com"


def bucket(name: str, location: str, location_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "storage#bucket",
        "id": name,
        "name": name,
        "projectNumber": NUMBER,
        "location": location,
        "locationType": location_type,
        "storageClass": "STANDARD",
        "timeCreated": "2025-01-15T09:30:00.000Z",
        "updated": "2025-01-15T09:30:00.000Z",
        "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True}, "publicAccessPrevention": "enforced"},
        **extra,
    }


def backup_run(run_id: str, start: str) -> dict[str, Any]:
    return {
        "kind": "sql#backupRun",
        "id": run_id,
        "instance": "shop-db",
        "status": "SUCCESSFUL",
        "type": "AUTOMATED",
        "location": "europe-west1",
        "enqueuedTime": start,
        "startTime": start,
        "endTime": start,
    }


def firewall_policy(ident: str, short_name: str, parent: str, port: str) -> dict[str, Any]:
    """A hierarchical policy allowing tcp:`port` from anywhere, associated with its parent."""
    return {
        "kind": "compute#firewallPolicy",
        "id": ident,
        "name": ident,
        "shortName": short_name,
        "parent": parent,
        "rules": [
            {
                "kind": "compute#firewallPolicyRule",
                "priority": 1000,
                "direction": "INGRESS",
                "action": "allow",
                "match": {"srcIpRanges": ["0.0.0.0/0"], "layer4Configs": [{"ipProtocol": "tcp", "ports": [port]}]},
            }
        ],
        "associations": [{"name": f"{short_name}-assoc", "attachmentTarget": parent}],
    }


def document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(MINIMAL.read_text())
    doc["organization"]["firewallPolicies"] = [firewall_policy("101", "org-baseline", ORGANIZATION, "22")]
    doc["folders"][0]["firewallPolicies"] = [
        firewall_policy("201", "prod-web", FOLDER, "443"),
        firewall_policy("202", "prod-admin", FOLDER, "3389"),
    ]
    shop = doc["projects"][0]
    shop["compute"]["firewallPolicies"] = [
        {
            "kind": "compute#firewallPolicy",
            "id": "301",
            "name": "shop-network-policy",
            "rules": [
                {
                    "kind": "compute#firewallPolicyRule",
                    "priority": 100,
                    "direction": "INGRESS",
                    "action": "deny",
                    "match": {"srcIpRanges": ["0.0.0.0/0"], "layer4Configs": [{"ipProtocol": "all"}]},
                }
            ],
            "selfLink": COMPUTE + "global/firewallPolicies/shop-network-policy",
            "associations": [{"name": "prod-vpc", "attachmentTarget": COMPUTE + "global/networks/prod-vpc"}],
        }
    ]
    shop["compute"]["regionFirewallPolicies"] = [
        {
            "kind": "compute#firewallPolicy",
            "id": "302",
            "name": "shop-regional-policy",
            "region": COMPUTE + "regions/europe-west1",
            "selfLink": COMPUTE + "regions/europe-west1/firewallPolicies/shop-regional-policy",
        }
    ]
    shop["storage"] = {
        "buckets": [
            bucket(
                "shop-invoices",
                "EUROPE-WEST1",
                "region",
                retentionPolicy={
                    "retentionPeriod": "31536000",
                    "effectiveTime": "2025-01-15T09:30:00.000Z",
                    "isLocked": True,
                },
                iamPolicy={
                    "version": 1,
                    "etag": "CAI=",
                    "bindings": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}],
                },
            ),
            bucket("shop-logs", "EU", "multi-region"),
            bucket("shop-backups", "EUR4", "dual-region"),
        ]
    }
    shop["sql"] = {
        "instances": [
            {
                "kind": "sql#instance",
                "name": "shop-db",
                "project": PROJECT,
                "databaseVersion": "POSTGRES_15",
                "region": "europe-west1",
                "instanceType": "CLOUD_SQL_INSTANCE",
                "state": "RUNNABLE",
                "settings": {
                    "kind": "sql#settings",
                    "tier": "db-custom-2-7680",
                    "backupConfiguration": {
                        "kind": "sql#backupConfiguration",
                        "enabled": True,
                        "pointInTimeRecoveryEnabled": True,
                        "location": "europe-west1",
                        "startTime": "02:00",
                    },
                    "ipConfiguration": {"ipv4Enabled": False},
                },
            },
            {
                "kind": "sql#instance",
                "name": "shop-db-replica",
                "project": PROJECT,
                "databaseVersion": "POSTGRES_15",
                "region": "europe-west1",
                "instanceType": "READ_REPLICA_INSTANCE",
                "masterInstanceName": f"{PROJECT}:shop-db",
                "state": "RUNNABLE",
            },
        ],
        "backupRuns": [
            backup_run("1732500000000", "2026-11-24T02:00:00.000Z"),
            backup_run("1732586400000", "2026-11-25T02:00:00.000Z"),
        ],
    }
    shop["iam"] = {
        "serviceAccounts": [
            {
                "name": f"projects/{PROJECT}/serviceAccounts/{ACCOUNT}",
                "projectId": PROJECT,
                "uniqueId": "112233445566778899001",
                "email": ACCOUNT,
                "displayName": "Deployer",
                "keys": [
                    {
                        "name": f"projects/{PROJECT}/serviceAccounts/{ACCOUNT}/keys/0123abcd",
                        "keyType": "USER_MANAGED",
                        "keyAlgorithm": "KEY_ALG_RSA_2048",
                        "keyOrigin": "GOOGLE_PROVIDED",
                        "validAfterTime": "2025-01-01T00:00:00Z",
                        "validBeforeTime": "9999-12-31T23:59:59Z",
                    },
                    {
                        "name": f"projects/{PROJECT}/serviceAccounts/{ACCOUNT}/keys/4567ef01",
                        "keyType": "SYSTEM_MANAGED",
                        "keyAlgorithm": "KEY_ALG_RSA_2048",
                        "validAfterTime": "2026-11-01T00:00:00Z",
                        "validBeforeTime": "2026-11-17T00:00:00Z",
                    },
                ],
            },
            {
                "name": f"projects/{PROJECT}/serviceAccounts/reader@{PROJECT}.iam.gserviceaccount.com",
                "projectId": PROJECT,
                "uniqueId": "112233445566778899002",
                "email": f"reader@{PROJECT}.iam.gserviceaccount.com",
                "disabled": True,
            },
        ]
    }
    shop["orgPolicy"] = {
        "effectivePolicies": [
            {
                "name": f"projects/{NUMBER}/policies/gcp.resourceLocations",
                "spec": {"rules": [{"values": {"allowedValues": ["in:europe-west1-locations"]}}]},
            },
            {"name": f"projects/{NUMBER}/policies/compute.requireOsLogin", "spec": {"rules": [{"enforce": True}]}},
        ]
    }
    return doc
