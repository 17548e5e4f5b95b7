"""The hierarchy estate shared by the IAM, ancestry and Logging collector tests: organisation
4242 > folders/55 > folders/5501 > example-shop, plus projects under the organisation, without
a parent, in a folder cycle, and thirteen folders deep."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from checks.snapshot import Snapshot
from monitor.collect import GcpClients, collect_snapshot
from tests.collect.conftest import MINIMAL, NOW, Recorder, fast

ORG = "organizations/4242"
CONDITION = {"title": "until-2027", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}
ORG_POLICY = {
    "version": 3,
    "etag": "BwYT",
    "bindings": [
        {"role": "roles/resourcemanager.organizationAdmin", "members": ["group:admins@example.be"]},
        {"role": "roles/owner", "members": ["user:bob@example.be"], "condition": CONDITION},
    ],
    "auditConfigs": [
        {
            "service": "allServices",
            "auditLogConfigs": [
                {"logType": "ADMIN_READ"},
                {"logType": "DATA_READ", "exemptedMembers": ["user:ci@example.be"]},
            ],
        }
    ],
}
FOLDER_POLICY = {"version": 1, "etag": "BwYU", "bindings": [{"role": "roles/viewer", "members": ["domain:example.be"]}]}
ORG_SINK = {
    "name": "org-audit",
    "destination": "pubsub.googleapis.com/projects/sec-siem/topics/audit",
    "filter": 'logName:"cloudaudit.googleapis.com"',
    "includeChildren": True,
    "writerIdentity": "serviceAccount:o4242-123456@gcp-sa-logging.iam.gserviceaccount.com",
}
FOLDER_SINKS = [
    {
        "name": "prod-archive",
        "destination": "storage.googleapis.com/example-prod-archive",
        "includeChildren": True,
        "exclusions": [{"name": "no-debug", "filter": "severity<INFO", "disabled": False}],
    },
    {"name": "prod-local", "destination": "storage.googleapis.com/example-prod-local", "includeChildren": False},
]
PROJECT_SINKS = [
    {
        "name": "disabled-bq",
        "destination": "bigquery.googleapis.com/projects/example-shop/datasets/all_logs",
        "disabled": True,
        "exclusions": [{"name": "skip-gke", "filter": "resource.type=k8s_container"}],
        "bigqueryOptions": {"usePartitionedTables": True},
        "description": "turned off to save cost",
    },
]
#: LOG-04's destinations: the minimal project's all-to-archive sink writes to a bucket held by another
#: project (org-child); log-archive's sink to a Logging bucket of its own
LOG_ARCHIVE = "log-archive"
LOG_BUCKET = f"projects/{LOG_ARCHIVE}/locations/europe-west1/buckets/audit"
LOG_BUCKET_SINK = {"name": "all-to-log-bucket", "destination": f"logging.googleapis.com/{LOG_BUCKET}"}
ARCHIVE_BUCKET = {
    "kind": "storage#bucket",
    "id": "example-audit-archive",
    "name": "example-audit-archive",
    "projectNumber": "801",
    "location": "EUROPE-WEST1",
    "retentionPolicy": {"retentionPeriod": "34560000", "isLocked": True},
}
FIREWALL_METRIC = {
    "name": "firewall-changes",
    "description": "CIS 2.7",
    "filter": 'resource.type="gce_firewall_rule" AND (protoPayload.methodName:"compute.firewalls.patch" OR '
    'protoPayload.methodName:"compute.firewalls.insert" OR protoPayload.methodName:"compute.firewalls.delete")',
    "metricDescriptor": {"metricKind": "DELTA", "valueType": "INT64", "unit": "1"},
}
DEEP = 13  # one more folder than the walk allows
ROLE = Path(__file__).resolve().parents[2] / "deploy" / "iam" / "controlwatch-reader-role.yaml"


def _project(project_id: str, number: int, parent: str | None, **parts: Any) -> dict[str, Any]:
    project: dict[str, Any] = {"projectId": project_id, "name": f"projects/{number}", **parts}
    if parent:
        project["parent"] = parent
    return project


def hierarchy_document() -> dict[str, Any]:
    """The minimal scenario with a two-folder chain, policies and sinks up the tree, and odd projects."""
    doc: dict[str, Any] = json.loads(MINIMAL.read_text())
    doc["organization"].update(iamPolicy=copy.deepcopy(ORG_POLICY), logging={"sinks": [dict(ORG_SINK)]})
    doc["folders"][0]["parent"] = "folders/55"  # folders/5501, the shop's parent, now below folders/55
    doc["folders"].append(
        {
            "name": "folders/55",
            "parent": ORG,
            "displayName": "prod-root",
            "iamPolicy": copy.deepcopy(FOLDER_POLICY),
            "logging": {"sinks": copy.deepcopy(FOLDER_SINKS)},
        }
    )
    shop = doc["projects"][0]
    shop["logging"]["sinks"].extend(copy.deepcopy(PROJECT_SINKS))
    shop["logging"]["metrics"].append(copy.deepcopy(FIREWALL_METRIC))
    doc["folders"] += [
        {"name": "folders/71", "parent": "folders/72", "displayName": "loop-a"},
        {"name": "folders/72", "parent": "folders/71", "displayName": "loop-b"},
    ]
    doc["folders"] += [
        {"name": f"folders/{600 + i}", "parent": f"folders/{599 + i}" if i > 1 else ORG, "displayName": f"deep-{i}"}
        for i in range(1, DEEP + 1)
    ]
    doc["projects"] += [
        _project("org-child", 801, ORG, logging={}, storage={"buckets": [dict(ARCHIVE_BUCKET)]}),
        _project("no-logging", 802, "folders/5501"),
        _project("orphan", 803, None, logging={}),
        _project("loop", 804, "folders/71", logging={}),
        _project("deep", 805, f"folders/{600 + DEEP}", logging={}),
        _project(
            LOG_ARCHIVE,
            806,
            ORG,
            logging={"sinks": [dict(LOG_BUCKET_SINK)], "buckets": [{"name": LOG_BUCKET, "retentionDays": 400}]},
        ),
    ]
    return doc


def collect(clients: GcpClients, recorder: Recorder, scope: str, *kinds: str, **settings: Any) -> Snapshot:
    return collect_snapshot(scope, kinds, clients, settings=fast(**settings), observer=recorder, now=NOW).snapshot


#: the second catalogue's methods whose permission is not spelled like the method id
_PERMISSIONS = {
    "bigquery.datasets.list": "bigquery.datasets.get",
    "dataproc.projects.regions.clusters.list": "dataproc.clusters.list",
    "sql.instances.list": "cloudsql.instances.list",
    "sql.backupRuns.list": "cloudsql.backupRuns.list",
    "iam.projects.serviceAccounts.list": "iam.serviceAccounts.list",
    "iam.projects.serviceAccounts.keys.list": "iam.serviceAccountKeys.list",
    "orgpolicy.projects.policies.getEffectivePolicy": "orgpolicy.policy.get",
    # the third catalogue's logging and monitoring reads
    "monitoring.projects.alertPolicies.list": "monitoring.alertPolicies.list",
    "accessapproval.projects.getAccessApprovalSettings": "accessapproval.settings.get",
    # the identity catalogue's (Cloud KMS, API Keys, Essential Contacts: `compute` needs `list`)
    "cloudkms.projects.locations.list": "cloudkms.locations.list",
    "cloudkms.projects.locations.keyRings.list": "cloudkms.keyRings.list",
    "cloudkms.projects.locations.keyRings.getIamPolicy": "cloudkms.keyRings.getIamPolicy",
    "cloudkms.projects.locations.keyRings.cryptoKeys.list": "cloudkms.cryptoKeys.list",
    "cloudkms.projects.locations.keyRings.cryptoKeys.getIamPolicy": "cloudkms.cryptoKeys.getIamPolicy",
    "apikeys.projects.locations.keys.list": "apikeys.keys.list",
    "essentialcontacts.projects.contacts.compute": "essentialcontacts.contacts.list",
}


def permission_of(method: str) -> str:
    """The IAM permission an API method id needs (for the methods the collectors call)."""
    if method in _PERMISSIONS:
        return _PERMISSIONS[method]
    service, rest = method.split(".", 1)
    if service == "cloudresourcemanager":
        return f"resourcemanager.{rest}"
    if service == "logging":
        collection = rest.rsplit(".", 2)[-2]
        collection = {"metrics": "logMetrics"}.get(collection, collection)
        return f"logging.{collection}.{rest.rsplit('.', 1)[1]}"
    return method.replace(".aggregatedList", ".list")
