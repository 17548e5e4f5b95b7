"""VM-01..VM-09 on instances in the compute v1 JSON shape, with the project's common instance
metadata (the computeProject kind) where a key may be inherited; one row per case.

Each row: the instance's own fields (merged over a compliant e2 VM), the project's metadata
items (None: the project has no `commonInstanceMetadata` at all), the verdict (None: no
result, out of scope), the subject and the reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks import default_registry, vm
from checks.model import Area, Finding, Verdict
from checks.params import Params
from checks.registry import Control
from tests.builders import make_snapshot
from tests.checks.catalogue import ids

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
ANY = "…"
DEFAULT_SA = "482913570164-compute@developer.gserviceaccount.com"
OTHER_DEFAULT_SA = "111-compute@developer.gserviceaccount.com"
OWN_SA = "web@shop-prod.iam.gserviceaccount.com"
FULL = "https://www.googleapis.com/auth/cloud-platform"
NARROW = ["https://www.googleapis.com/auth/devstorage.read_only", "https://www.googleapis.com/auth/logging.write"]
ZONE = "https://www.googleapis.com/compute/v1/projects/shop-prod/zones/europe-west1-b"
NAME = "//compute.googleapis.com/projects/shop-prod/zones/europe-west1-b/instances/vm"
GKE = {"name": "gke-pool-1-abcd", "labels": {"goog-gke-node": ""}}
OS_LOGIN_ON = [{"key": "enable-oslogin", "value": "TRUE"}]
Items = list[dict[str, Any]] | None


def disk(name: str = "vm", key: Any = None, kind: str = "PERSISTENT") -> dict[str, Any]:
    found: dict[str, Any] = {"kind": "compute#attachedDisk", "type": kind, "deviceName": name,
                             "source": f"{ZONE}/disks/{name}", "boot": name == "vm"}  # fmt: skip
    if key is not None:
        found["diskEncryptionKey"] = key
    return found


CMEK = {"kmsKeyName": "projects/k/locations/europe-west1/keyRings/r/cryptoKeys/disks/cryptoKeyVersions/1"}
CSEK = {"sha256": "SPgBI2lzXUJiOfwSd+ryG3cNF8MmOQ7hoM3cJ9yCXTQ="}


def instance(**fields: Any) -> dict[str, Any]:
    """A compliant VM (own account, OS Login, keys blocked, shielded, CMEK disk), with `fields` over it."""
    base: dict[str, Any] = {
        "kind": "compute#instance", "name": "vm", "zone": ZONE,
        "machineType": f"{ZONE}/machineTypes/e2-standard-2",
        "serviceAccounts": [{"email": OWN_SA, "scopes": [FULL]}],
        "metadata": {"kind": "compute#metadata", "items": [{"key": "block-project-ssh-keys", "value": "TRUE"}]},
        "canIpForward": False, "disks": [disk(key=CMEK)],
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True},
        "labels": {"role": "web"},
    }  # fmt: skip
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ABSENT}


ABSENT: Any = object()


def meta(*pairs: tuple[str, Any]) -> dict[str, Any]:
    return {"kind": "compute#metadata", "items": [{"key": k, "value": v} for k, v in pairs]}


def judge(control: Control, vm_: dict[str, Any], items: Items = OS_LOGIN_ON, params: dict[str, Any] | None = None,
          project: dict[str, Any] | None = None) -> list[Finding]:  # fmt: skip
    if project is None:
        project = {"kind": "compute#project", "name": "shop-prod"}
        if items is not None:
            project["commonInstanceMetadata"] = {"kind": "compute#metadata", "fingerprint": "x=", "items": items}
    snapshot = make_snapshot({"compute": {"instances": [vm_]}, "computeProject": project})
    return list(control(snapshot, Params.model_validate(params or {})))


Row = tuple[dict[str, Any], Items, Verdict | None, str, str]


def run(control: Control, row: Row, params: dict[str, Any] | None = None) -> None:
    fields, items, verdict, subject, reason = row
    found = judge(control, instance(**fields), items, params)
    if verdict is None:
        assert found == [], found
        return
    (result,) = found
    assert (result.verdict, result.subject) == (verdict, subject), result.reason
    assert reason == ANY or result.reason == reason, result.reason
    assert result.resource == NAME.replace("/vm", f"/{fields.get('name', 'vm')}")


# --- VM-01 ---------------------------------------------------------------------------------------

VM01: dict[str, Row] = {
    "own-account": ({}, None, PASS, OWN_SA, f"instance vm runs as {OWN_SA}"),
    "default-account": ({"serviceAccounts": [{"email": DEFAULT_SA, "scopes": NARROW}]}, None, FAIL, DEFAULT_SA,
                        f"instance vm runs as the default Compute Engine service account {DEFAULT_SA}"),
    "another-projects-default": ({"serviceAccounts": [{"email": OTHER_DEFAULT_SA}]}, None, FAIL, OTHER_DEFAULT_SA,
                                 ANY),
    "lookalike-is-not-default": ({"serviceAccounts": [{"email": "x-compute@developer.gserviceaccount.com"}]}, None,
                                 PASS, "x-compute@developer.gserviceaccount.com", ANY),
    "no-account": ({"serviceAccounts": ABSENT}, None, PASS, "", "instance vm runs as no service account"),
    "empty-list": ({"serviceAccounts": []}, None, PASS, "", "instance vm runs as no service account"),
    "gke-node-out-of-scope": ({**GKE, "serviceAccounts": [{"email": DEFAULT_SA}]}, None, None, "", ""),
    "gke-name-without-label-judged": ({"name": "gke-lookalike", "serviceAccounts": [{"email": DEFAULT_SA}]}, None,
                                      FAIL, DEFAULT_SA, ANY),
    "accounts-not-a-list": ({"serviceAccounts": {"email": DEFAULT_SA}}, None, ERROR, "serviceAccounts",
                            f"instance vm: cannot judge serviceAccounts: {{'email': '{DEFAULT_SA}'}} is not a list"),
    "no-email": ({"serviceAccounts": [{"scopes": [FULL]}]}, None, ERROR, "serviceAccounts[0].email", ANY),
    "scopes-not-a-list": ({"serviceAccounts": [{"email": OWN_SA, "scopes": FULL}]}, None, ERROR,
                          "serviceAccounts[0].scopes", ANY),
}  # fmt: skip


@pytest.mark.parametrize("row", list(VM01.values()), ids=list(VM01))
def test_vm01(row: Row) -> None:
    run(vm.vm01_default_service_account, row)


# --- VM-02 ---------------------------------------------------------------------------------------

VM02: dict[str, Row] = {
    "default-full-access": ({"serviceAccounts": [{"email": DEFAULT_SA, "scopes": [FULL]}]}, None, FAIL, DEFAULT_SA,
                            f"instance vm runs as the default service account {DEFAULT_SA} with full access to all "
                            "Cloud APIs (scope cloud-platform)"),
    "default-narrow": ({"serviceAccounts": [{"email": DEFAULT_SA, "scopes": NARROW}]}, None, PASS, DEFAULT_SA,
                       f"instance vm runs as the default service account {DEFAULT_SA} with 2 narrower scope(s), "
                       "not cloud-platform"),
    "default-no-scopes": ({"serviceAccounts": [{"email": DEFAULT_SA}]}, None, PASS, DEFAULT_SA, ANY),
    "own-account-full-access": ({}, None, PASS, OWN_SA, f"instance vm runs as {OWN_SA}, not a default service account"),
    "no-account": ({"serviceAccounts": ABSENT}, None, PASS, "", "instance vm runs as no service account"),
    "gke-node-out-of-scope": ({**GKE, "serviceAccounts": [{"email": DEFAULT_SA, "scopes": [FULL]}]}, None, None,
                              "", ""),
    "scopes-unreadable": ({"serviceAccounts": [{"email": DEFAULT_SA, "scopes": [FULL, 7]}]}, None, ERROR,
                          "serviceAccounts[0].scopes", ANY),
}  # fmt: skip


@pytest.mark.parametrize("row", list(VM02.values()), ids=list(VM02))
def test_vm02(row: Row) -> None:
    run(vm.vm02_full_api_access, row)


# --- VM-03 ---------------------------------------------------------------------------------------

VM03: dict[str, Row] = {
    "blocked": ({}, None, PASS, "", "instance vm blocks project-wide SSH keys (block-project-ssh-keys=TRUE)"),
    "blocked-lowercase": ({"metadata": meta(("block-project-ssh-keys", "true"))}, None, PASS, "", ANY),
    "blocked-one": ({"metadata": meta(("block-project-ssh-keys", "1"))}, None, PASS, "", ANY),
    "not-blocked-os-login-project": ({"metadata": ABSENT}, OS_LOGIN_ON, PASS, "",
                                     "instance vm does not block project-wide SSH keys (block-project-ssh-keys not "
                                     "set), but OS Login is on (project metadata enable-oslogin=TRUE): metadata SSH "
                                     "keys are ignored"),
    "not-blocked-no-os-login": ({"metadata": meta(("block-project-ssh-keys", "FALSE"))}, [], FAIL, "",
                                "instance vm accepts project-wide SSH keys: block-project-ssh-keys=FALSE, and OS "
                                "Login is off (enable-oslogin set neither on the instance nor in project metadata "
                                "(default False))"),
    "os-login-turned-off-on-instance": ({"metadata": meta(("enable-oslogin", "FALSE"))}, OS_LOGIN_ON, FAIL, "",
                                        "instance vm accepts project-wide SSH keys: block-project-ssh-keys not set, "
                                        "and OS Login is off (instance metadata enable-oslogin=FALSE)"),
    "blocked-needs-no-project": ({}, None, PASS, "", ANY),  # the project's metadata unreadable: not needed
    "project-metadata-absent": ({"metadata": ABSENT}, None, ERROR, "project commonInstanceMetadata",
                                "instance vm: cannot judge project commonInstanceMetadata: enable-oslogin is not set "
                                "on the instance and absent from the project Compute returned"),
    "block-value-unreadable": ({"metadata": meta(("block-project-ssh-keys", "maybe"))}, OS_LOGIN_ON, ERROR,
                               "metadata block-project-ssh-keys",
                               "instance vm: cannot judge metadata block-project-ssh-keys: 'maybe' is neither TRUE "
                               "nor FALSE"),
    "metadata-not-an-object": ({"metadata": ["block-project-ssh-keys"]}, OS_LOGIN_ON, ERROR, "metadata", ANY),
    "items-not-a-list": ({"metadata": {"items": {"key": "a"}}}, OS_LOGIN_ON, ERROR, "metadata.items", ANY),
    "key-twice": ({"metadata": meta(("block-project-ssh-keys", "TRUE"), ("block-project-ssh-keys", "FALSE"))},
                  OS_LOGIN_ON, ERROR, "metadata.items[1]", ANY),
    "value-missing": ({"metadata": {"items": [{"key": "block-project-ssh-keys"}]}}, OS_LOGIN_ON, ERROR,
                      "metadata.items[0].value", ANY),
}  # fmt: skip


@pytest.mark.parametrize("row", list(VM03.values()), ids=list(VM03))
def test_vm03(row: Row) -> None:
    run(vm.vm03_project_ssh_keys, row)


# --- VM-04 ---------------------------------------------------------------------------------------

VM04: dict[str, Row] = {
    "project-on": ({}, OS_LOGIN_ON, PASS, "", "instance vm has OS Login on (project metadata enable-oslogin=TRUE)"),
    "project-on-lowercase": ({}, [{"key": "enable-oslogin", "value": "true"}], PASS, "", ANY),
    "instance-overrides-off": ({"metadata": meta(("enable-oslogin", "FALSE"))}, OS_LOGIN_ON, FAIL, "",
                               "instance vm has OS Login off (instance metadata enable-oslogin=FALSE)"),
    "instance-overrides-on": ({"metadata": meta(("enable-oslogin", "True"))}, [{"key": "enable-oslogin",
                              "value": "FALSE"}], PASS, "", "instance vm has OS Login on (instance metadata "
                              "enable-oslogin=True)"),
    "instance-on-project-unreadable": ({"metadata": meta(("enable-oslogin", "TRUE"))}, None, PASS, "", ANY),
    "project-off": ({}, [{"key": "enable-oslogin", "value": "0"}], FAIL, "",
                    "instance vm has OS Login off (project metadata enable-oslogin=0)"),
    "set-nowhere": ({}, [], FAIL, "", "instance vm has OS Login off (enable-oslogin set neither on the instance "
                    "nor in project metadata (default False))"),
    "project-items-absent": ({}, ABSENT, FAIL, "", ANY),  # metadata with a fingerprint only: nothing set
    "project-metadata-absent": ({}, None, ERROR, "project commonInstanceMetadata", ANY),
    "project-value-unreadable": ({}, [{"key": "enable-oslogin", "value": "yes please"}], ERROR,
                                 "project metadata enable-oslogin", ANY),
    "instance-value-unreadable": ({"metadata": meta(("enable-oslogin", ""))}, OS_LOGIN_ON, ERROR,
                                  "metadata enable-oslogin", ANY),
    "gke-node-out-of-scope": ({**GKE, "metadata": meta(("enable-oslogin", "FALSE"))}, OS_LOGIN_ON, None, "", ""),
}  # fmt: skip


@pytest.mark.parametrize("row", list(VM04.values()), ids=list(VM04))
def test_vm04(row: Row) -> None:
    fields, items, *rest = row
    if items is ABSENT:  # commonInstanceMetadata without `items`, as Compute writes an empty one
        project = {"kind": "compute#project", "name": "p", "commonInstanceMetadata": {"fingerprint": "x="}}
        (found,) = judge(vm.vm04_os_login, instance(**fields), project=project)
        assert found.verdict is FAIL and "set neither" in found.reason
        return
    run(vm.vm04_os_login, row)


# --- VM-05 ---------------------------------------------------------------------------------------

SERIAL_ON = [{"key": "serial-port-enable", "value": "TRUE"}]
VM05: dict[str, Row] = {
    "off-by-default": ({}, [], PASS, "", "instance vm has the interactive serial console off (serial-port-enable "
                       "set neither on the instance nor in project metadata (default False))"),
    "instance-on": ({"metadata": meta(("serial-port-enable", "1"))}, [], FAIL, "",
                    "instance vm accepts interactive serial console connections (instance metadata "
                    "serial-port-enable=1)"),
    "project-on": ({}, SERIAL_ON, FAIL, "", "instance vm accepts interactive serial console connections (project "
                   "metadata serial-port-enable=TRUE)"),
    "instance-off-overrides-project": ({"metadata": meta(("serial-port-enable", "false"))}, SERIAL_ON, PASS, "",
                                       "instance vm has the interactive serial console off (instance metadata "
                                       "serial-port-enable=false)"),
    "project-off": ({}, [{"key": "serial-port-enable", "value": "FALSE"}], PASS, "", ANY),
    "project-unreadable": ({}, None, ERROR, "project commonInstanceMetadata", ANY),
    "instance-value-unreadable": ({"metadata": meta(("serial-port-enable", "on"))}, [], ERROR,
                                  "metadata serial-port-enable", ANY),
    "gke-node-judged": ({**GKE, "metadata": meta(("serial-port-enable", "TRUE"))}, [], FAIL, "", ANY),
}  # fmt: skip


@pytest.mark.parametrize("row", list(VM05.values()), ids=list(VM05))
def test_vm05(row: Row) -> None:
    run(vm.vm05_serial_port, row)


# --- VM-06 ---------------------------------------------------------------------------------------

VM06: dict[str, Row] = {
    "off": ({}, None, PASS, "", "instance vm does not forward IP packets (canIpForward: false)"),
    "absent-is-off": ({"canIpForward": ABSENT}, None, PASS, "",
                      "instance vm does not forward IP packets (canIpForward absent: false)"),
    "on": ({"canIpForward": True}, None, FAIL, "", "instance vm forwards IP packets (canIpForward: true)"),
    "not-a-boolean": ({"canIpForward": "true"}, None, ERROR, "canIpForward",
                      "instance vm: cannot judge canIpForward: 'true' is not true or false"),
    "gke-node-out-of-scope": ({**GKE, "canIpForward": True}, None, None, "", ""),
}  # fmt: skip


@pytest.mark.parametrize("row", list(VM06.values()), ids=list(VM06))
def test_vm06(row: Row) -> None:
    run(vm.vm06_ip_forwarding, row)


# --- VM-07 ---------------------------------------------------------------------------------------

KMS = CMEK["kmsKeyName"]
VM07: dict[str, Row] = {
    "cmek": ({}, None, PASS, "", f"instance vm has every persistent disk under a customer key (vm: CMEK {KMS})"),
    "csek": ({"disks": [disk(key=CSEK)]}, None, PASS, "",
             "instance vm has every persistent disk under a customer key (vm: CSEK)"),
    "google-managed": ({"disks": [disk()]}, None, FAIL, "vm",
                       "instance vm has disk(s) encrypted with Google's default key only, no customer key: vm"),
    "empty-key-object": ({"disks": [disk(key={})]}, None, FAIL, "vm", ANY),
    "one-of-two-plain": ({"disks": [disk(key=CSEK), disk("data")]}, None, FAIL, "data", ANY),
    "local-ssd-ignored": ({"disks": [disk(key=CMEK), disk("ssd", kind="SCRATCH")]}, None, PASS, "", ANY),
    "only-scratch": ({"disks": [disk("ssd", kind="SCRATCH")]}, None, None, "", ""),
    "disks-absent": ({"disks": ABSENT}, None, ERROR, "disks", "instance vm: cannot judge disks: absent"),
    "disk-not-an-object": ({"disks": ["vm"]}, None, ERROR, "disks[0]", ANY),
    "key-not-an-object": ({"disks": [disk(key="k")]}, None, ERROR, "disks[0].diskEncryptionKey", ANY),
    "kms-name-not-a-string": ({"disks": [disk(key={"kmsKeyName": 7})]}, None, ERROR,
                              "disks[0].diskEncryptionKey.kmsKeyName", ANY),
}  # fmt: skip


@pytest.mark.parametrize("row", list(VM07.values()), ids=list(VM07))
def test_vm07(row: Row) -> None:
    run(vm.vm07_customer_keys, row)


def test_vm07_judges_only_the_critical_selector() -> None:
    selector = {"compute": {"critical_selector": {"tier": "critical"}}}
    plain = [disk()]
    assert judge(vm.vm07_customer_keys, instance(disks=plain), params=selector) == []
    (found,) = judge(vm.vm07_customer_keys, instance(disks=plain, labels={"tier": "critical"}), params=selector)
    assert found.verdict is FAIL
    (broken,) = judge(vm.vm07_customer_keys, instance(disks=plain, labels=["tier"]), params=selector)
    assert broken.verdict is ERROR and broken.subject == "labels"


# --- VM-08 ---------------------------------------------------------------------------------------

SHIELD = {"enableSecureBoot": False, "enableVtpm": True, "enableIntegrityMonitoring": True}
VM08: dict[str, Row] = {
    "shielded": ({}, None, PASS, "", "instance vm is a Shielded VM with vTPM and integrity monitoring on (secure "
                 "boot on)"),
    "secure-boot-optional": ({"shieldedInstanceConfig": SHIELD}, None, PASS, "", ANY),
    "not-shielded": ({"shieldedInstanceConfig": ABSENT}, None, FAIL, "",
                     "instance vm is not a Shielded VM (no shieldedInstanceConfig)"),
    "vtpm-off": ({"shieldedInstanceConfig": {**SHIELD, "enableVtpm": False}}, None, FAIL, "enableVtpm",
                 "instance vm is a Shielded VM with enableVtpm false"),
    "both-off": ({"shieldedInstanceConfig": {**SHIELD, "enableVtpm": False, "enableIntegrityMonitoring": False}},
                 None, FAIL, "enableVtpm, enableIntegrityMonitoring", ANY),
    "monitoring-absent": ({"shieldedInstanceConfig": {"enableVtpm": True}}, None, ERROR,
                          "shieldedInstanceConfig.enableIntegrityMonitoring",
                          "instance vm: cannot judge shieldedInstanceConfig.enableIntegrityMonitoring: absent"),
    "config-not-an-object": ({"shieldedInstanceConfig": True}, None, ERROR, "shieldedInstanceConfig", ANY),
}  # fmt: skip


@pytest.mark.parametrize("row", list(VM08.values()), ids=list(VM08))
def test_vm08(row: Row) -> None:
    run(vm.vm08_shielded_vm, row)


# --- VM-09 ---------------------------------------------------------------------------------------

N2D = f"{ZONE}/machineTypes/n2d-standard-2"
FAMILIES = "n2d, c2d, c3d, c3"
VM09: dict[str, Row] = {
    "e2-out-of-scope": ({}, None, None, "", ""),
    "n2d-not-confidential": ({"machineType": N2D}, None, FAIL, "",
                             f"instance vm (n2d family) runs without Confidential Computing "
                             f"(compute.confidential_families: {FAMILIES})"),
    "c3-not-confidential": ({"machineType": f"{ZONE}/machineTypes/c3-standard-4"}, None, FAIL, "", ANY),
    "n2d-flag-false": ({"machineType": N2D, "confidentialInstanceConfig": {"enableConfidentialCompute": False}},
                       None, FAIL, "", ANY),
    "n2d-confidential": ({"machineType": N2D, "confidentialInstanceConfig": {"enableConfidentialCompute": True}},
                         None, PASS, "", "instance vm is a Confidential VM (enableConfidentialCompute: true)"),
    "tdx-by-type": ({"machineType": f"{ZONE}/machineTypes/c3-standard-4",
                     "confidentialInstanceConfig": {"confidentialInstanceType": "TDX"}}, None, PASS, "",
                    "instance vm is a Confidential VM (confidentialInstanceType TDX)"),
    "unspecified-type-falls-back-to-flag": ({"machineType": N2D, "confidentialInstanceConfig": {
        "confidentialInstanceType": "CONFIDENTIAL_INSTANCE_TYPE_UNSPECIFIED"}}, None, FAIL, "", ANY),
    "unknown-type": ({"confidentialInstanceConfig": {"confidentialInstanceType": "QUANTUM"}}, None, ERROR,
                     "confidentialInstanceConfig.confidentialInstanceType", ANY),
    "flag-not-a-boolean": ({"machineType": N2D, "confidentialInstanceConfig": {"enableConfidentialCompute": "yes"}},
                           None, ERROR, "confidentialInstanceConfig.enableConfidentialCompute", ANY),
    "machine-type-absent": ({"machineType": ABSENT}, None, ERROR, "machineType", ANY),
}  # fmt: skip


@pytest.mark.parametrize("row", list(VM09.values()), ids=list(VM09))
def test_vm09(row: Row) -> None:
    run(vm.vm09_confidential, row)


def test_vm09_families_are_a_parameter() -> None:
    only_e2 = {"compute": {"confidential_families": ["e2"]}}
    (found,) = judge(vm.vm09_confidential, instance(), params=only_e2)
    assert found.verdict is FAIL and "(e2 family)" in found.reason
    assert judge(vm.vm09_confidential, instance(machineType=N2D), params=only_e2) == []
    with pytest.raises(ValueError, match="is not a machine family"):
        Params.model_validate({"compute": {"confidential_families": ["N2D-standard"]}})


# --- the area ------------------------------------------------------------------------------------


def test_the_area_is_the_catalogues_and_every_definition_is_filled() -> None:
    area = [c for c in default_registry() if c.meta.area is Area.VM]
    assert [c.meta.id for c in area] == ids(Area.VM)
    for item in area:
        meta = item.meta
        assert meta.holds and meta.logic and meta.unknown.startswith("error"), meta.id
        assert meta.unit == "instance" and meta.references.sha and meta.references.soc2, meta.id


def test_a_compliant_vm_passes_every_control() -> None:
    confidential = instance(machineType=N2D, confidentialInstanceConfig={"enableConfidentialCompute": True})
    for item in default_registry():
        if item.meta.area is Area.VM:
            found = judge(item, confidential)
            assert [f.verdict for f in found] == [PASS], (item.meta.id, found)
