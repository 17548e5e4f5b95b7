"""The bundled demo organisation: valid, internally consistent, and planted as its comments say.

`monitor/demo/demo-org.yaml` is what SREs and auditors see first. These tests hold it to
the scenario contract (README, "The local GCP stand-in and scenario files"), to its own cross-references, and to
its promise: a planted failure for every control, every out-of-region location planted
on purpose, and one project (`ledger-clean`) that passes everything.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from checks.model import Area
from checks.params import REQUIRED_CONSTRAINTS
from monitor.demo import DEMO_CONFIG, DEMO_SCENARIO
from tests.checks.catalogue import ids

REPO = Path(__file__).resolve().parents[2]
COMPUTE = "https://www.googleapis.com/compute/v1/projects/"
# Public image projects: the only other projects a demo resource may point into.
PUBLIC_PROJECTS = ("debian-cloud", "windows-cloud", "deeplearning-platform-release")
ALLOWED_REGION = "europe-west1"
KINDS = {
    "firewalls": "compute#firewall",
    "networks": "compute#network",
    "subnetworks": "compute#subnetwork",
    "instances": "compute#instance",
    "disks": "compute#disk",
    "snapshots": "compute#snapshot",
    "resourcePolicies": "compute#resourcePolicy",
    "addresses": "compute#address",
    "firewallPolicies": "compute#firewallPolicy",
    "regionFirewallPolicies": "compute#firewallPolicy",
    "backendServices": "compute#backendService",
}
CLEAN = "ledger-clean"
ORG_DOMAIN = "example.be"

# Every control of the catalogue that judges a snapshot (DRIFT needs an approved baseline).
CATALOGUE = ids(*(area for area in Area if area is not Area.DRIFT))

# Every location outside europe-west1, planted for the REG controls: (project, resource
# path under projects/P/) -> its locations outside the allowed region ("" = none given).
PLANTED_ELSEWHERE = {
    ("shop-staging", "regions/us-central1/subnetworks/default"): {"us-central1"},
    ("shop-staging", "global/snapshots/staging-web-1-europe-west1-b-20261125040031-x7c2v9lp"): {"eu"},
    ("shop-staging", "regions/europe-west1/resourcePolicies/staging-daily-eu"): {"eu"},
    ("data-platform", "zones/europe-west4-a/instances/trainer-1"): {"europe-west4"},
    ("data-platform", "zones/europe-west4-a/disks/trainer-1"): {"europe-west4"},
    ("data-platform", "regions/europe-west4/subnetworks/data-europe-west4"): {"europe-west4"},
    ("data-platform", "regions/europe-west4/addresses/trainer-nat-ip"): {"europe-west4"},
    ("data-platform", "regions/europe-west4/resourcePolicies/ml-daily"): {"europe-west4", ""},
}
# Deliberately dangling references, each explained by a comment in the YAML.
DANGLING_POLICIES = {
    ("data-platform", "zones/europe-west1-b/disks/etl-1-data"): {
        COMPUTE + "data-platform/regions/europe-west1/resourcePolicies/legacy-daily"
    },
}
ORPHANED_SNAPSHOTS = {("data-platform", "global/snapshots/etl-1-data-pre-restore-test")}

ORG_POLICY = "//orgpolicy.googleapis.com/projects/{}/policies/{}"
CI_KEY = ("//iam.googleapis.com/projects/shop-prod/serviceAccounts/ci-deployer@shop-prod.iam.gserviceaccount.com/"
          "keys/3f1c9a0b7e2d4c6a8b1e0f2d3c4b5a6978e1d2c3")  # fmt: skip
# The hierarchical firewall policy of folders/5502 (non-prod), as results name it.
NONPROD_POLICY = "locations/global/firewallPolicies/550200117"

# What `controlwatch check` must find, per control. Per-resource controls: (scope, path
# of the failing resource under projects/P/). Per-scope and per-grant controls (IAM,
# LOG), whose results name the project: the failing scopes. Resources outside Compute (buckets,
# keys, organisation policies) by their full name.
WEB_1 = ("shop-prod", "zones/europe-west1-b/instances/web-1")
APP_1 = ("shop-prod", "zones/europe-west1-c/instances/app-1")
BASTION = ("shop-prod", "zones/europe-west1-d/instances/bastion-old")
STAGING_WEB = ("shop-staging", "zones/europe-west1-b/instances/staging-web-1")
WIN_JUMP = ("shop-staging", "zones/europe-west1-c/instances/win-jump-1")
ETL = ("data-platform", "zones/europe-west1-b/instances/etl-1")
TRAINER = ("data-platform", "zones/europe-west4-a/instances/trainer-1")
# The identity catalogue's planted keys (full resource names, as the results name them).
SHOP_KEY = "//cloudkms.googleapis.com/projects/shop-prod/locations/europe-west1/keyRings/shop-keys/cryptoKeys/{}"
API_KEY = "//apikeys.googleapis.com/projects/{}/locations/global/keys/{}"
STOREFRONT_KEY = API_KEY.format("482913570164", "0e4f7a21-9c3b-4d8e-a6f5-2b1c0d9e8f7a")
PARTNER_KEY = API_KEY.format("604135792386", "7b3d9c55-1e2f-4a6b-8c7d-9e0f1a2b3c4d")
#: times that are schedules, ahead of `now` by nature (a KMS key's next rotation)
SCHEDULED = frozenset({"nextRotationTime"})
FAILING: dict[str, set[tuple[str, str]] | set[str]] = {
    "FW-01": {
        ("shop-staging", "global/firewalls/default-allow-ssh"),
        ("shop-staging", "global/firewalls/allow-any-from-internet"),
        ("shop-staging", NONPROD_POLICY),  # a folder's policy, no VPC rule involved
    },
    "FW-02": {
        ("shop-staging", "global/firewalls/default-allow-rdp"),
        ("shop-staging", "global/firewalls/allow-rdp-udp-v6"),
        ("shop-staging", "global/firewalls/allow-any-from-internet"),
    },
    "FW-03": {
        ("data-platform", "global/firewalls/allow-mysql-redis-debug"),
        ("shop-staging", "global/firewalls/allow-any-from-internet"),
    },
    "FW-04": {("shop-staging", "global/firewalls/allow-any-from-internet")},
    "FW-05": {
        ("shop-prod", "global/firewalls/allow-web-alt"),
        ("shop-staging", "global/firewalls/default-allow-ssh"),
        ("shop-staging", "global/firewalls/default-allow-rdp"),
        ("shop-staging", "global/firewalls/default-allow-icmp"),
        ("shop-staging", "global/firewalls/allow-rdp-udp-v6"),
        ("shop-staging", "global/firewalls/allow-any-from-internet"),
        ("data-platform", "global/firewalls/allow-mysql-redis-debug"),
        ("data-platform", "global/firewalls/allow-kafka-partner"),
        ("shop-staging", NONPROD_POLICY),
    },
    "FW-06": {
        ("shop-prod", "global/firewalls/allow-health-checks"),
        ("shop-staging", "global/firewalls/default-allow-internal"),
        ("shop-staging", "global/firewalls/default-allow-ssh"),
        ("shop-staging", "global/firewalls/default-allow-rdp"),
        ("shop-staging", "global/firewalls/default-allow-icmp"),
        ("data-platform", "global/firewalls/allow-internal-data"),
        ("shop-staging", NONPROD_POLICY),
    },
    "FW-07": {
        ("shop-staging", "global/networks/default"),
        ("shop-staging", "global/firewalls/default-allow-internal"),
        ("shop-staging", "global/firewalls/default-allow-ssh"),
        ("shop-staging", "global/firewalls/default-allow-rdp"),
        ("shop-staging", "global/firewalls/default-allow-icmp"),
    },
    "FW-08": {
        ("shop-staging", "global/networks/default"),
        ("shop-staging", "global/networks/staging-vpc"),
        ("shop-staging", "global/networks/legacy-net"),
        ("data-platform", "global/networks/data-vpc"),
    },
    "FW-09": {
        ("shop-prod", "zones/europe-west1-b/instances/web-1"),
        ("shop-prod", "zones/europe-west1-d/instances/bastion-old"),
        ("shop-staging", "zones/europe-west1-b/instances/staging-web-1"),
        ("shop-staging", "zones/europe-west1-c/instances/win-jump-1"),
    },
    "FW-10": {
        ("shop-staging", "regions/europe-west1/subnetworks/default"),
        ("shop-staging", "regions/us-central1/subnetworks/default"),
        ("shop-staging", "regions/europe-west1/subnetworks/staging-europe-west1"),
        ("data-platform", "regions/europe-west4/subnetworks/data-europe-west4"),
        ("shop-prod", "regions/europe-west1/subnetworks/prod-europe-west1"),
        ("data-platform", "regions/europe-west1/subnetworks/data-europe-west1"),
    },
    "IAM-01": {"shop-prod", "shop-staging", "data-platform"},
    "IAM-02": {"shop-prod", "data-platform"},
    "IAM-03": {"shop-staging", "data-platform"},
    "IAM-04": {"data-platform"},
    "IAM-05": {"data-platform"},
    "IAM-06": {"shop-prod", "shop-staging"},
    "IAM-07": {"data-platform"},
    "BKP-01": {
        ("shop-prod", "zones/europe-west1-d/disks/bastion-old"),
        ("shop-staging", "zones/europe-west1-c/disks/win-jump-1"),
        ("data-platform", "zones/europe-west4-a/disks/trainer-1"),
        ("data-platform", "zones/europe-west1-b/disks/etl-1-data"),
    },
    "BKP-02": {
        ("shop-prod", "zones/europe-west1-c/disks/app-1"),
        ("shop-prod", "zones/europe-west1-d/disks/bastion-old"),
        ("shop-staging", "zones/europe-west1-c/disks/win-jump-1"),
        ("data-platform", "zones/europe-west4-a/disks/trainer-1"),
        ("data-platform", "zones/europe-west1-b/disks/etl-1-data"),
    },
    "BKP-03": {("shop-staging", "zones/europe-west1-b/disks/staging-web-1")},
    "BKP-04": {("shop-prod", "zones/europe-west1-c/disks/app-1")},
    "REG-01": {("data-platform", "zones/europe-west4-a/instances/trainer-1")},
    "REG-02": {("data-platform", "zones/europe-west4-a/disks/trainer-1")},
    "REG-03": {
        ("shop-staging", "regions/us-central1/subnetworks/default"),
        ("data-platform", "regions/europe-west4/subnetworks/data-europe-west4"),
    },
    "REG-04": {("data-platform", "regions/europe-west4/addresses/trainer-nat-ip")},
    "REG-05": {("shop-staging", "global/snapshots/staging-web-1-europe-west1-b-20261125040031-x7c2v9lp")},
    "REG-06": {
        ("shop-staging", "regions/europe-west1/resourcePolicies/staging-daily-eu"),
        ("data-platform", "regions/europe-west4/resourcePolicies/ml-daily"),
    },
    "BKP-05": {("data-platform", "instances/legacy-reporting")},
    "BKP-06": {("data-platform", "instances/analytics-mysql"), ("data-platform", "instances/legacy-reporting")},
    "BKP-07": {("shop-prod", "instances/shop-db"), ("data-platform", "instances/legacy-reporting")},
    "BKP-08": {("data-platform", "instances/analytics-mysql")},
    "FW-11": {("data-platform", "instances/analytics-mysql")},
    "FW-12": {("data-platform", "instances/analytics-mysql")},
    "DATA-01": {("data-platform", "instances/analytics-mysql")},
    "REG-07": {("data-platform", "instances/analytics-mysql")},
    **{c: {("data-platform", "instances/analytics-mysql")} for c in ("DATA-10", "DATA-11")},
    **{c: {("data-platform", "instances/legacy-reporting")} for c in ("DATA-12", "DATA-13", "DATA-14", "DATA-15",
                                                                       "DATA-16", "DATA-17", "DATA-19")},
    "DATA-18": {("shop-prod", "instances/shop-db")},
    **{f"DATA-{n}": {("data-platform", "instances/bi-mssql")} for n in range(20, 27)},
    "FW-13": {("shop-prod", "//storage.googleapis.com/example-be-shop-press-kit")},
    "DATA-02": {("shop-prod", "//storage.googleapis.com/example-be-shop-exports")},
    "DATA-03": {("shop-prod", "//storage.googleapis.com/example-be-shop-press-kit")},
    "REG-08": {
        ("shop-prod", "//storage.googleapis.com/example-be-shop-exports"),
        ("data-platform", "//storage.googleapis.com/example-be-data-lake"),
    },
    "DATA-40": {("data-platform", "//bigquery.googleapis.com/projects/data-platform/datasets/marketing_exports")},
    "DATA-41": {("data-platform", "//bigquery.googleapis.com/projects/data-platform/datasets/scratch/tables/tmp_join")},
    "DATA-42": {("data-platform", "//bigquery.googleapis.com/projects/data-platform/datasets/scratch")},
    "DATA-43": {
        ("data-platform", "//dataproc.googleapis.com/projects/data-platform/regions/europe-west1/clusters/etl-spark")
    },
    "IAM-08": {("shop-prod", CI_KEY)},
    "IAM-09": {("shop-prod", CI_KEY)},
    "ORG-01": {(p, ORG_POLICY.format(p, "gcp.resourceLocations")) for p in ("shop-staging", "data-platform")},
    "ORG-02": {("shop-staging", ORG_POLICY.format("shop-staging", "iam.allowedPolicyMemberDomains"))},
    "ORG-03": {
        ("shop-prod", ORG_POLICY.format("shop-prod", "compute.requireOsLogin")),
        ("shop-prod", ORG_POLICY.format("shop-prod", "storage.publicAccessPrevention")),
        *(("shop-staging", ORG_POLICY.format("shop-staging", c)) for c in REQUIRED_CONSTRAINTS),
    },
    "LOG-01": {"data-platform"},
    "LOG-02": {"shop-staging", "data-platform"},
    "LOG-03": {"shop-prod", "shop-staging", "data-platform"},
    "LOG-04": {("shop-prod", "//logging.googleapis.com/projects/shop-prod/sinks/shop-all-logs")},
    "LOG-05": {"shop-staging"},
    "LOG-06": {"data-platform"},
    # the VM controls (checks/vm.py): instances by project and zone
    "VM-01": {WEB_1, APP_1, BASTION, STAGING_WEB, WIN_JUMP, TRAINER},
    "VM-02": {APP_1, BASTION, STAGING_WEB, WIN_JUMP, TRAINER},
    "VM-03": {BASTION, WIN_JUMP},
    "VM-04": {BASTION, STAGING_WEB, WIN_JUMP},
    "VM-05": {STAGING_WEB},
    "VM-06": {ETL},
    "VM-07": {APP_1},
    "VM-08": {BASTION, WIN_JUMP, TRAINER},
    "VM-09": {ETL},
    "IAM-10": {("shop-prod", SHOP_KEY.format("invoice-signing"))},
    "IAM-11": {("shop-prod", SHOP_KEY.format("exports-cmek"))},
    "IAM-12": {("shop-prod", STOREFRONT_KEY), ("data-platform", PARTNER_KEY)},
    "IAM-13": {("data-platform", PARTNER_KEY)},
    "IAM-14": {("data-platform", PARTNER_KEY)},
    "IAM-15": {("data-platform", PARTNER_KEY)},
    "IAM-16": {"data-platform"},
}
# The networks controls of issue 13.
FAILING.update({
    "FW-14": {("shop-staging", "global/networks/legacy-net")},
    "LOG-11": {("shop-prod", "global/backendServices/shop-web-backend")},
    "FW-15": {("shop-prod", "//dns.googleapis.com/projects/shop-prod/managedZones/promo")},
    "FW-16": {("shop-prod", "//dns.googleapis.com/projects/shop-prod/managedZones/shop-legacy")},
    "FW-17": {("data-platform", "//dns.googleapis.com/projects/data-platform/managedZones/data-zone")},
    "LOG-10": {
        ("shop-staging", "global/networks/default"),
        ("shop-staging", "global/networks/staging-vpc"),
        ("shop-staging", "global/networks/legacy-net"),
        ("data-platform", "global/networks/data-vpc"),
    },
})
EXCEPTED = {("FW-09", "shop-prod", "zones/europe-west1-b/instances/web-1")}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded = yaml.safe_load(DEMO_SCENARIO.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _projects(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["projectId"]: p for p in doc["projects"]}


def _compute(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(projectId, kind, resource) for every Compute resource."""
    for pid, project in _projects(doc).items():
        for kind, items in project.get("compute", {}).items():
            for item in items:
                yield pid, kind, item


def _path(pid: str, url: str) -> str:
    prefix = COMPUTE + pid + "/"
    assert url.startswith(prefix), f"{url} is not a URL of project {pid}"
    return url[len(prefix) :]


def _region(location: str) -> str:
    """europe-west1-b -> europe-west1; regions and multi-regions unchanged."""
    return re.sub(r"-[a-z]$", "", location)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --- format -------------------------------------------------------------------------------------


def test_the_demo_paths_ship_with_the_package() -> None:
    assert DEMO_SCENARIO.name == "demo-org.yaml" and DEMO_SCENARIO.is_file()
    assert DEMO_CONFIG.name == "demo-config.yaml" and DEMO_CONFIG.is_file()


def test_it_parses_as_a_scenario_with_an_organisation_folders_and_projects(doc: dict[str, Any]) -> None:
    assert set(doc) == {"now", "organization", "folders", "projects"}
    assert doc["now"] == "2026-11-25T12:00:00Z"
    assert doc["organization"]["name"] == "organizations/4242"
    assert {f["name"] for f in doc["folders"]} == {"folders/5501", "folders/5502"}
    projects = _projects(doc)
    assert len(projects) >= 4 and CLEAN in projects
    for pid, project in projects.items():
        assert project["state"] == "ACTIVE", pid
        assert {"compute", "logging", "iamPolicy", "labels", "createTime"} <= set(project), pid
        assert project["iamPolicy"]["version"] == 3, pid


def test_the_stand_in_accepts_it() -> None:
    from monitor.standin.scenario import load_scenario

    scenario = load_scenario(DEMO_SCENARIO)
    assert set(scenario.projects) == {"shop-prod", "shop-staging", "data-platform", CLEAN}
    assert scenario.now.isoformat() == "2026-11-25T12:00:00+00:00"


def _unscheduled(value: Any) -> Any:
    """`value` without the schedule fields (`SCHEDULED`), which point into the future."""
    if isinstance(value, dict):
        return {k: _unscheduled(v) for k, v in value.items() if k not in SCHEDULED}
    if isinstance(value, list):
        return [_unscheduled(item) for item in value]
    return value


def test_every_timestamp_is_rfc3339_and_not_after_now(doc: dict[str, Any]) -> None:
    now = datetime.fromisoformat(doc["now"])
    stamps = [s for s in _strings(_unscheduled(doc)) if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)", s)]
    assert len(stamps) > 100
    for stamp in stamps:
        assert datetime.fromisoformat(stamp) <= now, stamp


# --- consistency ----------------------------------------------------------------------------------


def test_ids_and_self_links_are_unique(doc: dict[str, Any]) -> None:
    ids = Counter(r["id"] for _, _, r in _compute(doc))
    links = Counter(r["selfLink"] for _, _, r in _compute(doc))
    numbers = Counter(p["name"] for p in doc["projects"])
    assert [i for i, n in ids.items() if n > 1] == []
    assert [s for s, n in links.items() if n > 1] == []
    assert [s for s, n in numbers.items() if n > 1] == []
    for value in ids:
        assert re.fullmatch(r"[1-9]\d{0,18}", value) and int(value) < 2**63, value


def test_kinds_locations_and_urls_are_consistent(doc: dict[str, Any]) -> None:
    for pid, kind, resource in _compute(doc):
        name = f"{pid} {kind} {resource['name']}"
        assert resource["kind"] == KINDS[kind], name
        link = _path(pid, resource["selfLink"])
        if "zone" in resource:
            assert link.startswith(_path(pid, resource["zone"]) + "/"), name
        elif "region" in resource:
            assert link.startswith(_path(pid, resource["region"]) + "/"), name
        else:
            assert link.startswith("global/"), name
        assert link.endswith("/" + resource["name"]), name
        for url in _strings(resource):
            if url.startswith(COMPUTE) and not url.startswith(tuple(COMPUTE + p for p in PUBLIC_PROJECTS)):
                _path(pid, url)  # every reference stays inside its own project


def test_every_reference_names_a_resource_of_the_project(doc: dict[str, Any]) -> None:
    for pid, project in _projects(doc).items():
        compute = project["compute"]
        links = {kind: {r["selfLink"] for r in items} for kind, items in compute.items()}
        for rule in compute["firewalls"]:
            assert rule["network"] in links["networks"], (pid, rule["name"])
        for network in compute["networks"]:
            members = {s["selfLink"] for s in compute["subnetworks"] if s["network"] == network["selfLink"]}
            assert set(network.get("subnetworks", [])) == members, (pid, network["name"])
        for subnet in compute["subnetworks"]:
            assert subnet["network"] in links["networks"], (pid, subnet["name"])
        for vm in compute["instances"]:
            for nic in vm["networkInterfaces"]:
                assert nic["network"] in links["networks"], (pid, vm["name"])
                assert nic["subnetwork"] in links["subnetworks"], (pid, vm["name"])
                subnet = next(s for s in compute["subnetworks"] if s["selfLink"] == nic["subnetwork"])
                assert _region(_path(pid, vm["zone"]).split("/")[1]) == _path(pid, subnet["region"]).split("/")[1]
            for attached in vm["disks"]:
                disk = next(d for d in compute["disks"] if d["selfLink"] == attached["source"])
                assert vm["selfLink"] in disk.get("users", []), (pid, vm["name"], disk["name"])
        for disk in compute["disks"]:
            for user in disk.get("users", []):
                assert user in links["instances"], (pid, disk["name"])
            dangling = set(disk.get("resourcePolicies", [])) - links["resourcePolicies"]
            key = (pid, _path(pid, disk["selfLink"]))
            assert dangling == DANGLING_POLICIES.get(key, set()), key
        for address in compute["addresses"]:
            for user in address.get("users", []):
                if "/instances/" in user:
                    assert user in links["instances"], (pid, address["name"])


def test_snapshots_are_of_the_disks_they_name(doc: dict[str, Any]) -> None:
    for pid, project in _projects(doc).items():
        compute = project["compute"]
        disks = {d["id"]: d for d in compute["disks"]}
        policies = {p["id"]: p for p in compute["resourcePolicies"]}
        for snap in compute["snapshots"]:
            key = (pid, _path(pid, snap["selfLink"]))
            disk = disks.get(snap["sourceDiskId"])
            if key in ORPHANED_SNAPSHOTS:
                assert disk is None, key
                continue
            assert disk is not None, f"{key}: sourceDiskId matches no disk"
            assert snap["sourceDisk"] == disk["selfLink"], key
            if "sourceSnapshotSchedulePolicyId" in snap:
                policy = policies[snap["sourceSnapshotSchedulePolicyId"]]
                assert snap["sourceSnapshotSchedulePolicy"] == policy["selfLink"], key
                assert policy["selfLink"] in disk.get("resourcePolicies", []), key


def test_the_hierarchy_and_default_service_accounts_fit(doc: dict[str, Any]) -> None:
    nodes = {doc["organization"]["name"]} | {f["name"] for f in doc["folders"]}
    for folder in doc["folders"]:
        assert folder["parent"] == doc["organization"]["name"]
    for pid, project in _projects(doc).items():
        assert project["parent"] in nodes, pid
        number = project["name"].removeprefix("projects/")
        for text in _strings(project):
            found = re.search(r"(\d+)-compute@developer\.gserviceaccount\.com", text)
            assert found is None or found.group(1) == number, (pid, text)


def test_every_location_outside_europe_west1_is_planted(doc: dict[str, Any]) -> None:
    found: dict[tuple[str, str], set[str]] = {}
    for pid, _, resource in _compute(doc):
        locations = [resource[f].rsplit("/", 1)[-1] for f in ("zone", "region") if f in resource]
        locations += [z.rsplit("/", 1)[-1] for z in resource.get("replicaZones", [])]
        locations += resource.get("storageLocations", [])
        if "snapshotSchedulePolicy" in resource:
            stored = resource["snapshotSchedulePolicy"].get("snapshotProperties", {}).get("storageLocations")
            locations += stored or [""]
        outside = {_region(loc) for loc in locations if _region(loc) != ALLOWED_REGION}
        if outside:
            found[(pid, _path(pid, resource["selfLink"]))] = outside
    assert found == PLANTED_ELSEWHERE


# Cloud SQL instances with a location outside europe-west1, by (project, instance) ("" = backups on
# without a backup location: kept in a multi-region).
PLANTED_SQL_ELSEWHERE = {("data-platform", "analytics-mysql"): {""}}


def test_every_cloud_sql_location_outside_europe_west1_is_planted(doc: dict[str, Any]) -> None:
    found: dict[tuple[str, str], set[str]] = {}
    for pid, project in _projects(doc).items():
        for db in project.get("sql", {}).get("instances", []):
            locations = [db[f] for f in ("region", "gceZone", "secondaryGceZone") if f in db]
            backup = db.get("settings", {}).get("backupConfiguration", {})
            if backup.get("enabled") and "masterInstanceName" not in db:
                locations.append(backup.get("location", ""))
            outside = {_region(loc) for loc in locations if _region(loc) != ALLOWED_REGION}
            if outside:
                found[(pid, db["name"])] = outside
    assert found == PLANTED_SQL_ELSEWHERE


def test_every_control_has_a_planted_failure_named_in_a_comment() -> None:
    text = DEMO_SCENARIO.read_text(encoding="utf-8")
    named = {cid for line in text.splitlines() if "FAIL" in line for cid in re.findall(r"[A-Z]+-\d\d", line)}
    assert sorted(set(CATALOGUE) - named) == []
    assert set(FAILING) == set(CATALOGUE)


# --- the reference project ----------------------------------------------------------------------


def test_ledger_clean_keeps_everything_in_order(doc: dict[str, Any]) -> None:
    """What ledger-clean promises, checked on the data, independent of the controls."""
    project = _projects(doc)[CLEAN]
    compute, logging = project["compute"], project["logging"]
    now = datetime.fromisoformat(doc["now"])
    for rule in compute["firewalls"]:
        assert rule["logConfig"]["enable"] and not rule.get("disabled"), rule["name"]
        if rule["direction"] == "INGRESS":
            assert rule.get("targetTags") or rule.get("targetServiceAccounts"), rule["name"]
            assert all(ipaddress.ip_network(r).prefixlen >= 8 for r in rule["sourceRanges"]), rule["name"]
            if any("22" in a.get("ports", []) for a in rule.get("allowed", [])):
                assert rule["sourceRanges"] == ["35.235.240.0/20"], rule["name"]
    assert any(
        r["direction"] == "EGRESS"
        and r.get("denied") == [{"IPProtocol": "all"}]
        and r["destinationRanges"] == ["0.0.0.0/0"]
        for r in compute["firewalls"]
    )
    assert all(s["stackType"] == "IPV4_ONLY" and s["logConfig"]["enable"] for s in compute["subnetworks"])
    assert [n["name"] for n in compute["networks"]] != ["default"]
    for vm in compute["instances"]:
        assert all("accessConfigs" not in n and "ipv6AccessConfigs" not in n for n in vm["networkInterfaces"])
    policies = {p["selfLink"]: p for p in compute["resourcePolicies"]}
    for disk in compute["disks"]:
        (policy,) = (policies[url] for url in disk["resourcePolicies"])
        schedule = policy["snapshotSchedulePolicy"]
        assert policy["status"] == "READY" and policy["region"].endswith("/regions/europe-west1")
        assert schedule["schedule"]["dailySchedule"]["daysInCycle"] == 1
        assert schedule["retentionPolicy"]["maxRetentionDays"] >= 7
        assert schedule["snapshotProperties"]["storageLocations"] == ["europe-west1"]
        snaps = [s for s in compute["snapshots"] if s["sourceDiskId"] == disk["id"] and s["status"] == "READY"]
        newest = max(datetime.fromisoformat(s["creationTimestamp"]) for s in snaps)
        assert now - newest < timedelta(hours=24), disk["name"]
        assert all(s["storageLocations"] == ["europe-west1"] for s in snaps)
    runs = project["sql"]["backupRuns"]
    for db in project["sql"]["instances"]:
        backup, ip = db["settings"]["backupConfiguration"], db["settings"]["ipConfiguration"]
        assert backup["enabled"] and backup["pointInTimeRecoveryEnabled"] and backup["location"] == ALLOWED_REGION
        assert backup["backupRetentionSettings"]["retainedBackups"] >= 7
        assert ip["ipv4Enabled"] is False and not ip.get("authorizedNetworks"), db["name"]
        assert ip["sslMode"] in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"), db["name"]
        assert {_region(db[f]) for f in ("region", "gceZone", "secondaryGceZone") if f in db} == {ALLOWED_REGION}
        ended = [datetime.fromisoformat(r["endTime"]) for r in runs if r["instance"] == db["name"]]
        assert ended and now - max(ended) < timedelta(hours=24), db["name"]
    for binding in project["iamPolicy"]["bindings"]:
        role = binding["role"]
        assert role not in ("roles/owner", "roles/editor", "roles/viewer") and not role.lower().endswith("admin")
        assert role not in ("roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator")
        assert "condition" not in binding
        for member in binding["members"]:
            assert (
                member.startswith("group:")
                and member.endswith("@" + ORG_DOMAIN)
                or re.fullmatch(r"serviceAccount:[a-z0-9-]+@ledger-clean\.iam\.gserviceaccount\.com", member)
            ), member
    assert all(not c.get("exemptedMembers") for a in project["iamPolicy"]["auditConfigs"] for c in a["auditLogConfigs"])
    assert any(
        not s.get("filter") and not s.get("disabled") and not s.get("exclusions") and s["destination"]
        for s in logging["sinks"]
    )
    # Its exports cannot be deleted early: its own sink's Logging bucket and its folder's archive are locked.
    assert all(bucket["locked"] is True for bucket in logging["buckets"])
    locked = {b["name"] for b in project["storage"]["buckets"] if b.get("retentionPolicy", {}).get("isLocked")}
    assert "example-be-prod-log-archive" in locked
    filters = [re.sub(r"\s+", " ", m["filter"]).lower() for m in logging["metrics"]]
    for tokens in (
        ["gce_firewall_rule", "compute.firewalls.insert", "compute.firewalls.patch", "compute.firewalls.delete"],
        ["bindingdeltas", "roles/owner"],
        ["auditconfigdeltas"],
        ["iam_role", "createrole", "deleterole", "updaterole"],
        ["gce_route", "compute.routes.insert", "compute.routes.delete"],
        ["gce_network", "compute.networks."],
    ):
        assert any(all(t in f for t in tokens) for f in filters), tokens


def test_the_organisation_audits_everything_without_exemptions(doc: dict[str, Any]) -> None:
    (config,) = doc["organization"]["iamPolicy"]["auditConfigs"]
    assert config["service"] == "allServices"
    assert {c["logType"] for c in config["auditLogConfigs"]} == {"ADMIN_READ", "DATA_READ", "DATA_WRITE"}
    assert not any(c.get("exemptedMembers") for c in config["auditLogConfigs"])


# --- the demo configuration -----------------------------------------------------------------------


def test_the_demo_config_loads_and_watches_every_demo_project(doc: dict[str, Any]) -> None:
    from monitor.config.model import load_config

    config = load_config(DEMO_CONFIG)
    assert set(config.scope_ids()) == set(_projects(doc))
    assert config.schedule.interval == timedelta(minutes=1)
    assert config.params.firewall.public_ports == ("tcp:443",)
    (risk,) = config.exceptions
    assert risk.expires.year == 2027 and risk.approver
    links = {
        "//compute.googleapis.com/" + r["selfLink"].removeprefix("https://www.googleapis.com/compute/v1/")
        for _, _, r in _compute(doc)
    }
    assert risk.resource in links


# --- end to end: what `controlwatch check` reports on the demo ---------------------------------------


@pytest.mark.slow
def test_check_reports_exactly_the_planted_failures() -> None:
    """Through the stand-in and the real collectors, for every control registered so far."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "check",
            "--scenario",
            str(DEMO_SCENARIO),
            "--config",
            str(DEMO_CONFIG),
            "--format",
            "json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    results = report["results"]
    assert [r for r in results if r["verdict"] == "error"] == []
    registered = {r["control"] for r in results if not r["control"].startswith("DRIFT-")}
    assert registered, "no control ran"
    assert registered <= set(FAILING), f"plant a failure for {sorted(registered - set(FAILING))} in the demo"
    for control in sorted(registered):
        failed = [r for r in results if r["control"] == control and r["verdict"] == "fail"]
        per_resource = any(isinstance(expected, tuple) for expected in FAILING[control])
        got = {(r["scope"], _result_path(r)) if per_resource else r["scope"] for r in failed}
        assert got == FAILING[control], control
    assert [r for r in results if r["scope"] == CLEAN and r["verdict"] != "pass"] == []
    excepted = {(r["control"], r["scope"], _result_path(r)) for r in results if r["excepted"]}
    assert excepted == {e for e in EXCEPTED if e[0] in registered}


def _result_path(result: dict[str, Any]) -> str:
    """A result's resource as its path under projects/P/ (`global/firewalls/f`, a Cloud SQL `instances/db`),
    a hierarchical firewall policy's (`locations/global/firewallPolicies/ID`); others (buckets, keys,
    policies) by full name."""
    scope, resource = result["scope"], str(result["resource"])
    sql = f"//cloudsql.googleapis.com/projects/{scope}/"
    if resource.startswith(sql):
        return resource.removeprefix(sql)
    if resource.startswith("//compute.googleapis.com/locations/"):
        return resource.removeprefix("//compute.googleapis.com/")
    if not resource.startswith("//compute.googleapis.com/"):
        return resource
    return _path(scope, resource.replace("//compute.googleapis.com/projects/", COMPUTE))
