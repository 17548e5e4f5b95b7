"""REG-01 to REG-06, the location rules behind them, and their metadata; one row per case in
the Compute REST shape. `region.allowed` is [europe-west1] unless a row says otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from checks import default_registry, region
from checks.model import Area, Finding, Verdict
from checks.params import Params
from checks.registry import Control
from checks.rules.locations import classify, region_of
from tests.builders import make_snapshot
from tests.checks.catalogue import ids

PROJECT = "https://www.googleapis.com/compute/v1/projects/shop-prod/"
NAME = "//compute.googleapis.com/projects/shop-prod/"
PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
# The REG controls of the `region` module; the area's others (on other resources) are tested with their module.
REG_IDS = [c.meta.id for c in default_registry() if c in vars(region).values()]
ANY = "…"
BE = "region.allowed (europe-west1)"


def zone(name: str) -> str:
    return PROJECT + f"zones/{name}"


def regn(name: str) -> str:
    return PROJECT + f"regions/{name}"


def only(control: Control, compute: dict[str, Any], allowed: list[str] | None = None) -> Finding:
    params = Params.model_validate({"region": {"allowed": allowed}} if allowed else {})
    (found,) = list(control(make_snapshot({"compute": compute}), params))
    return found


def check(found: Finding, verdict: Verdict, subject: str, reason: str) -> None:
    assert (found.verdict, found.subject) == (verdict, subject), found.reason
    assert reason == ANY or found.reason == reason


# --- the location rules -------------------------------------------------------------------------

REGIONS = {
    "zone": ("europe-west1-b", "europe-west1", "zone"),
    "zone-url": (zone("us-central1-a"), "us-central1", "zone"),
    "long-zone": ("northamerica-northeast1-c", "northamerica-northeast1", "zone"),
    "region": ("europe-west4", "europe-west4", "region"),
    "region-url": (regn("europe-west1"), "europe-west1", "region"),
    "multi-eu": ("eu", "eu", "multi-region"),
    "multi-EU": ("EU", "EU", "multi-region"),
    "multi-us": ("us", "us", "multi-region"),
    "multi-asia": ("asia", "asia", "multi-region"),
    "dual-eur4": ("eur4", "eur4", "dual-region"),
    "dual-nam4": ("nam4", "nam4", "dual-region"),
    "dual-asia1": ("asia1", "asia1", "dual-region"),
}


@pytest.mark.parametrize(("location", "expected", "kind"), REGIONS.values(), ids=REGIONS.keys())
def test_region_of_a_location(location: str, expected: str, kind: str) -> None:
    assert region_of(location) == expected
    assert classify(expected if kind != "zone" else location.rsplit("/", 1)[-1]) == kind


# --- REG-01 instances ---------------------------------------------------------------------------

REG01: dict[str, tuple[Any, list[str] | None, Verdict, str, str]] = {
    "belgium": (zone("europe-west1-b"), None, PASS, "europe-west1-b",
                f"instance vm is located only within {BE}: zone europe-west1-b (region europe-west1)"),
    "netherlands": (zone("europe-west4-a"), None, FAIL, "europe-west4-a",
                    f"instance vm is located outside {BE}: zone europe-west4-a (region europe-west4)"),
    "netherlands-allowed": (zone("europe-west4-a"), ["europe-west1", "europe-west4"], PASS, "europe-west4-a",
                            "instance vm is located only within region.allowed (europe-west1, europe-west4): zone "
                            "europe-west4-a (region europe-west4)"),
    "eu-does-not-admit-its-regions": (zone("europe-west1-b"), ["eu"], FAIL, "europe-west1-b", ANY),
    "bare-zone-name": ("europe-west1-c", None, PASS, "europe-west1-c", ANY),
    "zone-absent": (None, None, ERROR, "zone", "instance vm: cannot judge zone: absent"),
    "not-a-zone": (regn("europe-west1"), None, ERROR, "zone",
                   "instance vm: cannot judge zone: 'europe-west1' is not a zone (REGION-x, e.g. europe-west1-b)"),
    "not-text": (42, None, ERROR, "zone", "instance vm: cannot judge zone: 42 is not a location"),
}  # fmt: skip


@pytest.mark.parametrize(("where", "allowed", "verdict", "subject", "reason"), REG01.values(), ids=REG01.keys())
def test_reg01_instances(where: Any, allowed: list[str] | None, verdict: Verdict, subject: str, reason: str) -> None:
    vm = {"name": "vm", "selfLink": PROJECT + "zones/europe-west1-b/instances/vm", "zone": where}
    found = only(region.reg01_instances, {"instances": [{k: v for k, v in vm.items() if v is not None}]}, allowed)
    assert found.resource == NAME + "zones/europe-west1-b/instances/vm"
    check(found, verdict, subject, reason)


# --- REG-02 disks -------------------------------------------------------------------------------

REGIONAL = {"region": regn("europe-west1"), "replicaZones": [zone("europe-west1-b"), zone("europe-west1-c")]}
REG02: dict[str, tuple[dict[str, Any], list[str] | None, Verdict, str, str]] = {
    "zonal": ({"zone": zone("europe-west1-d")}, None, PASS, "europe-west1-d", ANY),
    "zonal-elsewhere": ({"zone": zone("europe-west4-a")}, None, FAIL, "europe-west4-a",
                        f"disk d is located outside {BE}: zone europe-west4-a (region europe-west4)"),
    "regional-replicas-in": (REGIONAL, None, PASS, "europe-west1, europe-west1-b, europe-west1-c",
                             f"disk d is located only within {BE}: region europe-west1, replicaZones[0] europe-west1-b "
                             "(region europe-west1), replicaZones[1] europe-west1-c (region europe-west1)"),
    "regional-replica-out": ({**REGIONAL, "replicaZones": [zone("europe-west1-b"), zone("europe-west4-a")]}, None,
                             FAIL, "europe-west4-a",
                             f"disk d is located outside {BE}: replicaZones[1] europe-west4-a (region europe-west4); "
                             "allowed: region europe-west1, replicaZones[0] europe-west1-b (region europe-west1)"),
    "regional-region-out": ({"region": regn("europe-west4"), "replicaZones": [zone("europe-west4-a")]}, None, FAIL,
                            "europe-west4, europe-west4-a", ANY),
    "regional-both-allowed": ({**REGIONAL, "replicaZones": [zone("europe-west1-b"), zone("europe-west4-a")]},
                              ["europe-west1", "europe-west4"], PASS, "europe-west1, europe-west1-b, europe-west4-a",
                              ANY),
    "regional-without-replicas": ({"region": regn("europe-west1")}, None, PASS, "europe-west1", ANY),
    "no-location": ({}, None, ERROR, "zone", "disk d: cannot judge zone: absent, and no region either"),
    "replicas-not-a-list": ({**REGIONAL, "replicaZones": zone("europe-west1-b")}, None, ERROR, "replicaZones", ANY),
    "replica-not-a-zone": ({**REGIONAL, "replicaZones": [regn("europe-west1")]}, None, ERROR, "replicaZones[0]", ANY),
}  # fmt: skip


@pytest.mark.parametrize(("fields", "allowed", "verdict", "subject", "reason"), REG02.values(), ids=REG02.keys())
def test_reg02_disks(fields: dict[str, Any], allowed: list[str] | None, verdict: Verdict, subject: str,
                     reason: str) -> None:  # fmt: skip
    found = only(region.reg02_disks, {"disks": [{"name": "d", "id": "1", **fields}]}, allowed)
    check(found, verdict, subject, reason)


# --- REG-03 subnetworks -------------------------------------------------------------------------


def subnet(name: str, where: str | None, network: str = "default") -> dict[str, Any]:
    sub = {"name": name, "network": PROJECT + f"global/networks/{network}", "region": where,
           "selfLink": PROJECT + f"regions/{(where or 'x').rsplit('/', 1)[-1]}/subnetworks/{name}"}  # fmt: skip
    return {k: v for k, v in sub.items() if v is not None}


REG03: dict[str, tuple[dict[str, Any], list[str] | None, Verdict, str, str]] = {
    "belgium": (subnet("s", regn("europe-west1"), "vpc"), None, PASS, "europe-west1",
                f"subnetwork s is located only within {BE}: region europe-west1"),
    "auto-mode-elsewhere": (subnet("default", regn("us-central1")), None, FAIL, "us-central1",
                            f"subnetwork default is located outside {BE}: region us-central1"),
    "allowed-by-params": (subnet("s", regn("us-central1")), ["europe-west1", "us-central1"], PASS, "us-central1", ANY),
    "region-absent": (subnet("s", None), None, ERROR, "region", "subnetwork s: cannot judge region: absent"),
}  # fmt: skip


@pytest.mark.parametrize(("sub", "allowed", "verdict", "subject", "reason"), REG03.values(), ids=REG03.keys())
def test_reg03_subnetworks(sub: dict[str, Any], allowed: list[str] | None, verdict: Verdict, subject: str,
                           reason: str) -> None:  # fmt: skip
    network = {"name": "default", "autoCreateSubnetworks": True, "selfLink": PROJECT + "global/networks/default"}
    check(only(region.reg03_subnetworks, {"subnetworks": [sub], "networks": [network]}, allowed), verdict, subject,
          reason)  # fmt: skip


def test_reg03_an_auto_mode_network_fails_in_every_other_region() -> None:
    subs = [subnet("default", regn(name)) for name in ("europe-west1", "us-central1", "asia-east1")]
    found = list(region.reg03_subnetworks(make_snapshot({"compute": {"subnetworks": subs}}), Params()))
    assert [(f.resource, f.verdict) for f in found] == [
        (NAME + "regions/europe-west1/subnetworks/default", PASS),
        (NAME + "regions/us-central1/subnetworks/default", FAIL),
        (NAME + "regions/asia-east1/subnetworks/default", FAIL),
    ]


# --- REG-04 addresses ---------------------------------------------------------------------------

REG04: dict[str, tuple[dict[str, Any], list[str] | None, Verdict, str, str, str]] = {
    "regional": ({"region": regn("europe-west1"), "selfLink": regn("europe-west1") + "/addresses/a"}, None, PASS,
                 "europe-west1", f"address a is located only within {BE}: region europe-west1",
                 "regions/europe-west1/addresses/a"),
    "regional-elsewhere": ({"region": regn("europe-west4"), "selfLink": regn("europe-west4") + "/addresses/a"}, None,
                           FAIL, "europe-west4", f"address a is located outside {BE}: region europe-west4",
                           "regions/europe-west4/addresses/a"),
    "global": ({"selfLink": PROJECT + "global/addresses/a"}, None, PASS, "global",
               "address a: global address, not region-bound (region absent)", "global/addresses/a"),
    "global-under-narrow-allowed": ({"selfLink": PROJECT + "global/addresses/a"}, ["europe-west4"], PASS, "global",
                                    ANY, "global/addresses/a"),
    "global-scope-region": ({"region": PROJECT + "global", "selfLink": PROJECT + "global/addresses/a"}, None, PASS,
                            "global", "address a: global address, not region-bound (region global)",
                            "global/addresses/a"),
    "neither-region-nor-link": ({}, None, ERROR, "selfLink", "address a: cannot judge selfLink: and region are "
                                "both absent: whether the address is global or regional is unknown",
                                "global/addresses/a"),
    "region-lost": ({"selfLink": regn("europe-west4") + "/addresses/a"}, None, ERROR, "region",
                    "address a: cannot judge region: absent, but its selfLink is regional "
                    f"({regn('europe-west4')}/addresses/a)", "regions/europe-west4/addresses/a"),
}  # fmt: skip


@pytest.mark.parametrize(("fields", "allowed", "verdict", "subject", "reason", "path"), REG04.values(),
                         ids=REG04.keys())  # fmt: skip
def test_reg04_addresses(fields: dict[str, Any], allowed: list[str] | None, verdict: Verdict, subject: str,
                         reason: str, path: str) -> None:  # fmt: skip
    found = only(region.reg04_addresses, {"addresses": [{"name": "a", "address": "34.1.2.3", **fields}]}, allowed)
    assert found.resource == NAME + path
    check(found, verdict, subject, reason)


# --- REG-05 snapshots ---------------------------------------------------------------------------

REG05: dict[str, tuple[Any, list[str] | None, Verdict, str, str]] = {
    "belgium": (["europe-west1"], None, PASS, "europe-west1",
                f"snapshot s is located only within {BE}: storageLocations[0] europe-west1"),
    "multi-region-eu": (["eu"], None, FAIL, "eu", f"snapshot s is located outside {BE}: storageLocations[0] eu "
                                                  "(a multi-region)"),
    "eu-listed": (["eu"], ["europe-west1", "eu"], PASS, "eu",
                  "snapshot s is located only within region.allowed (europe-west1, eu): storageLocations[0] eu "
                  "(a multi-region)"),
    "EU-is-eu": (["EU"], ["eu"], PASS, "EU", ANY),  # compared case-insensitively, as REG-08 compares
    "dual-region": (["eur4"], None, FAIL, "eur4", f"snapshot s is located outside {BE}: storageLocations[0] eur4 "
                                                  "(a dual-region)"),
    "dual-region-listed": (["eur4"], ["eur4"], PASS, "eur4", ANY),
    "all-must-be-allowed": (["europe-west1", "us"], None, FAIL, "us",
                            f"snapshot s is located outside {BE}: storageLocations[1] us (a multi-region); allowed: "
                            "storageLocations[0] europe-west1"),
    "other-region": (["europe-west4"], None, FAIL, "europe-west4", ANY),
    "absent": (None, None, ERROR, "storageLocations",
               "snapshot s: cannot judge storageLocations: none listed (Google always fills it): where it is stored "
               "is unknown"),
    "empty": ([], None, ERROR, "storageLocations", ANY),
    "not-text": ([7], None, ERROR, "storageLocations[0]", "snapshot s: cannot judge storageLocations[0]: 7 is not a "
                                                          "location"),
}  # fmt: skip


@pytest.mark.parametrize(("stored", "allowed", "verdict", "subject", "reason"), REG05.values(), ids=REG05.keys())
def test_reg05_snapshots(stored: Any, allowed: list[str] | None, verdict: Verdict, subject: str, reason: str) -> None:
    snap = {"name": "s", "status": "READY", "selfLink": PROJECT + "global/snapshots/s", "storageLocations": stored}
    found = only(region.reg05_snapshots, {"snapshots": [{k: v for k, v in snap.items() if v is not None}]}, allowed)
    assert found.resource == NAME + "global/snapshots/s"
    check(found, verdict, subject, reason)


# --- REG-06 snapshot schedules ------------------------------------------------------------------

STORAGE = "snapshotSchedulePolicy.snapshotProperties.storageLocations"
NO_STORAGE = (f"no storage location ({STORAGE} absent or empty: Google then stores its snapshots in a "
              "multi-region)")  # fmt: skip
REG06: dict[str, tuple[str | None, Any, list[str] | None, Verdict, str, str]] = {
    "belgium": ("europe-west1", {"storageLocations": ["europe-west1"]}, None, PASS, "europe-west1",
                f"snapshot schedule p is located only within {BE}: region europe-west1, {STORAGE}[0] europe-west1"),
    "stores-in-eu": ("europe-west1", {"storageLocations": ["eu"]}, None, FAIL, "eu",
                     f"snapshot schedule p is located outside {BE}: {STORAGE}[0] eu (a multi-region); allowed: "
                     "region europe-west1"),
    "eu-listed": ("europe-west1", {"storageLocations": ["eu"]}, ["europe-west1", "eu"], PASS, "europe-west1, eu", ANY),
    "no-storage-location": ("europe-west1", {"guestFlush": False}, None, FAIL, "no storage location",
                            f"snapshot schedule p is located outside {BE}: {NO_STORAGE}; allowed: region europe-west1"),
    "empty-storage-locations": ("europe-west1", {"storageLocations": []}, None, FAIL, "no storage location", ANY),
    "no-snapshot-properties": ("europe-west1", None, None, FAIL, "no storage location", ANY),
    "elsewhere-and-no-storage": ("europe-west4", {}, None, FAIL, "europe-west4, no storage location",
                                 f"snapshot schedule p is located outside {BE}: region europe-west4; {NO_STORAGE}"),
    "region-elsewhere": ("europe-west4", {"storageLocations": ["europe-west1"]}, None, FAIL, "europe-west4", ANY),
    "region-absent": (None, {"storageLocations": ["europe-west1"]}, None, ERROR, "region",
                      "snapshot schedule p: cannot judge region: absent"),
    "properties-not-an-object": ("europe-west1", ["eu"], None, ERROR, "snapshotSchedulePolicy.snapshotProperties",
                                 ANY),
}  # fmt: skip


@pytest.mark.parametrize(("where", "properties", "allowed", "verdict", "subject", "reason"), REG06.values(),
                         ids=REG06.keys())  # fmt: skip
def test_reg06_snapshot_schedules(where: str | None, properties: Any, allowed: list[str] | None, verdict: Verdict,
                                  subject: str, reason: str) -> None:  # fmt: skip
    schedule: dict[str, Any] = {"schedule": {"dailySchedule": {"daysInCycle": 1, "startTime": "02:00"}},
                                "retentionPolicy": {"maxRetentionDays": 14}}  # fmt: skip
    if properties is not None:
        schedule["snapshotProperties"] = properties
    policy = {"name": "p", "status": "READY", "snapshotSchedulePolicy": schedule,
              "selfLink": PROJECT + "regions/europe-west1/resourcePolicies/p"}  # fmt: skip
    if where:
        policy["region"] = regn(where)
    found = only(region.reg06_snapshot_schedules, {"resourcePolicies": [policy]}, allowed)
    assert found.resource == NAME + "regions/europe-west1/resourcePolicies/p"
    check(found, verdict, subject, reason)


def test_reg06_other_resource_policies_get_no_result() -> None:
    others = [{"name": "start-stop", "region": regn("us-central1"), "instanceSchedulePolicy": {"timeZone": "UTC"}},
              {"name": "spread", "region": regn("us-central1"), "groupPlacementPolicy": {"availabilityDomainCount": 2}}]
    assert list(region.reg06_snapshot_schedules(make_snapshot({"compute": {"resourcePolicies": others}}),
                                                Params())) == []  # fmt: skip


# --- nothing in scope, metadata -------------------------------------------------------------------


@pytest.mark.parametrize("control_id", REG_IDS)
def test_nothing_in_scope_gives_no_findings(control_id: str) -> None:
    kinds = ("instances", "disks", "subnetworks", "addresses", "snapshots", "resourcePolicies", "networks")
    empty: dict[str, list[Any]] = {kind: [] for kind in kinds}
    assert list(default_registry().get(control_id)(make_snapshot({"compute": empty}), Params())) == []


def test_registry_holds_every_reg_control() -> None:
    assert [c for c in default_registry().ids() if c.startswith("REG-")] == ids(Area.REG)
    assert set(REG_IDS) < set(ids(Area.REG))


UNITS = {"REG-01": ("instance", ("instances",)), "REG-02": ("disk", ("disks",)),
         "REG-03": ("subnetwork", ("subnetworks",)), "REG-04": ("address", ("addresses",)),
         "REG-05": ("snapshot", ("snapshots",)), "REG-06": ("snapshot schedule", ("resourcePolicies",))}  # fmt: skip


@pytest.mark.parametrize("control_id", REG_IDS)
def test_metadata_is_complete(control_id: str) -> None:
    control = default_registry().get(control_id)
    meta = control.meta
    assert meta.area is Area.REG and meta.severity.value == "high"
    assert (meta.unit, meta.kinds) == UNITS[control_id]
    assert meta.title and meta.title[0].isupper()
    assert len(meta.rationale) > 100 and "gcloud " in meta.remediation
    assert meta.references.soc2 == ("C1.1", "CC6.7")
    assert meta.params == ("region.allowed",)
    assert region.__doc__ and control.func.__doc__
    assert control in vars(region).values()
