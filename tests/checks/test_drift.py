"""DRIFT-01 to DRIFT-03 and their metadata: one row per case, the approved and the live estate
both written in the APIs' REST shape (the baseline is the normalised state of `before`)."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from checks import default_registry, drift
from checks.driftstate import STATE_VERSION, kinds_for, watched_state
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import Control, Registry
from monitor.run.runner import run_control
from tests.builders import make_snapshot
from tests.checks.catalogue import ids

PROJECT = "https://www.googleapis.com/compute/v1/projects/shop-prod/"
POLICIES = PROJECT + "regions/europe-west1/resourcePolicies/"
FW = "//compute.googleapis.com/projects/shop-prod/global/firewalls/"
IAM = "//cloudresourcemanager.googleapis.com/projects/shop-prod"
DISK = "//compute.googleapis.com/projects/shop-prod/zones/europe-west1-b/disks/"
PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
APPROVED = "(since the baseline approved by alice@example.be at 2026-11-20T09:00:00Z)"
MATCHES = "matches the baseline approved by alice@example.be at 2026-11-20T09:00:00Z"
DRIFT_IDS = ids(Area.DRIFT)


def rule(name: str, **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "kind": "compute#firewall",
        "id": "4159219812360945358",
        "creationTimestamp": "2023-01-19T16:40:02.771-08:00",
        "name": name,
        "network": PROJECT + "global/networks/prod-vpc",
        "priority": 1000,
        "direction": "INGRESS",
        "sourceRanges": ["10.0.0.0/8"],
        "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
        "targetTags": ["bastion"],
        "logConfig": {"enable": True},
        "disabled": False,
        "selfLink": PROJECT + f"global/firewalls/{name}",
    }
    raw.update(fields)
    return {key: value for key, value in raw.items() if value is not None}


def policy(*bindings: dict[str, Any], etag: str = "BwYR") -> dict[str, Any]:
    return {"version": 3, "etag": etag, "bindings": list(bindings)}


def disk(name: str, *schedules: str) -> dict[str, Any]:
    return {
        "kind": "compute#disk",
        "id": "2481902741389227442",
        "name": name,
        "zone": PROJECT + "zones/europe-west1-b",
        "selfLink": PROJECT + f"zones/europe-west1-b/disks/{name}",
        "labelFingerprint": "gN7bopnn6WA=",
        **({"resourcePolicies": [POLICIES + s for s in schedules]} if schedules else {}),
    }


def schedule(name: str, days: int = 14, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "compute#resourcePolicy",
        "id": "5273545062346380941",
        "name": name,
        "region": PROJECT + "regions/europe-west1",
        "status": "READY",
        "selfLink": POLICIES + name,
        "snapshotSchedulePolicy": {
            "schedule": {"dailySchedule": {"daysInCycle": 1, "startTime": "03:00", "duration": "PT14400S"}},
            "retentionPolicy": {"maxRetentionDays": days, "onSourceDiskDelete": "KEEP_AUTO_SNAPSHOTS"},
            "snapshotProperties": {"storageLocations": ["europe-west1"], "guestFlush": False},
        },
        **fields,
    }


def collected(project: dict[str, Any]) -> dict[str, Any]:
    """`project` with its network firewall policy kinds collected (none) where Compute is: DRIFT-01 reads them."""
    if "compute" not in project:
        return project
    return {**project, "compute": {"firewallPolicies": [], "regionFirewallPolicies": [], **project["compute"]}}


def baseline_of(project: dict[str, Any], controls: list[str] = DRIFT_IDS) -> dict[str, Any]:
    """The document `BaselineStore.get` gives, for the state of `project` (see checks.drift)."""
    snapshot = make_snapshot(collected(project))
    states = watched_state(snapshot, [c for c in controls if not snapshot.failed_kinds(kinds_for([c]))])
    return {
        "schema_version": 1,
        "scope": "shop-prod",
        "approved_by": "alice@example.be",
        "approved_at": "2026-11-20T09:00:00Z",
        "controls": {
            control: {"approval": 1, "approved_by": "alice@example.be", "approved_at": "2026-11-20T09:00:00Z",
                      "state_version": STATE_VERSION, "digest": "sha256:x", "state": state}
            for control, state in states.items()
        },
    }


def judge(control: Control, before: dict[str, Any], after: dict[str, Any]) -> list[Finding]:
    snapshot = replace(make_snapshot(collected(after)), baseline=baseline_of(before))
    return list(control(snapshot, Params()))


Expect = tuple[Verdict, str, str, str]  # verdict, resource, subject, reason


def check(findings: list[Finding], expected: list[Expect]) -> None:
    got = [(f.verdict, f.resource, f.subject, f.reason) for f in findings]
    assert got == expected


# --- DRIFT-01 ---------------------------------------------------------------------------------

SSH = [rule("allow-ssh")]
SSH_SAME: Expect = (PASS, FW + "allow-ssh", "", f"firewall allow-ssh {MATCHES}")
DRIFT01: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]], list[Expect]]] = {
    "unchanged": (SSH, SSH, [SSH_SAME]),
    "added-rule": (SSH, [*SSH, rule("allow-rdp", allowed=[{"IPProtocol": "tcp", "ports": ["3389"]}],
                                    sourceRanges=["0.0.0.0/0"], targetTags=None, logConfig=None)], [
        (FAIL, FW + "allow-rdp", "added",
         "firewall allow-rdp added (allowed ['tcp:3389'], denied [], destinationRanges [], direction 'INGRESS', "
         "disabled False, logConfig.enable False, network 'prod-vpc', priority 1000, sourceRanges ['0.0.0.0/0'], "
         f"sourceServiceAccounts [], sourceTags [], targetServiceAccounts [], targetTags []) {APPROVED}"),
        SSH_SAME]),
    "removed-rule": ([*SSH, rule("deny-telnet", allowed=None, denied=[{"IPProtocol": "6", "ports": ["23"]}])], SSH, [
        SSH_SAME,
        (FAIL, FW + "deny-telnet", "removed",
         "firewall deny-telnet removed (allowed [], denied ['tcp:23'], destinationRanges [], direction 'INGRESS', "
         "disabled False, logConfig.enable True, network 'prod-vpc', priority 1000, sourceRanges ['10.0.0.0/8'], "
         f"sourceServiceAccounts [], sourceTags [], targetServiceAccounts [], targetTags ['bastion']) {APPROVED}")]),
    "changed-source-ranges": (SSH, [rule("allow-ssh", sourceRanges=["0.0.0.0/0"], fingerprint="new=")], [
        (FAIL, FW + "allow-ssh", "changed",
         f"firewall allow-ssh changed: sourceRanges ['10.0.0.0/8'] → ['0.0.0.0/0'] {APPROVED}")]),
    "changed-several-fields": (SSH, [rule("allow-ssh", priority=900, disabled=True, logConfig={"enable": False},
                                          allowed=[{"IPProtocol": "tcp", "ports": ["22", "2222"]}])], [
        (FAIL, FW + "allow-ssh", "changed",
         "firewall allow-ssh changed: allowed ['tcp:22'] → ['tcp:22', 'tcp:2222']; disabled False → True; "
         f"logConfig.enable True → False; priority 1000 → 900 {APPROVED}")]),
    "reorder-only": (
        [rule("r", sourceRanges=["10.0.0.0/8", "192.168.0.0/16"], targetTags=["a", "b"],
              allowed=[{"IPProtocol": "tcp", "ports": ["443", "80"]}, {"IPProtocol": "udp"}])],
        [rule("r", sourceRanges=["192.168.0.0/16", "10.0.0.0/8"], targetTags=["b", "a"],
              allowed=[{"IPProtocol": "UDP"}, {"IPProtocol": "6", "ports": ["80", "443", "443"]}])],
        [(PASS, FW + "r", "", f"firewall r {MATCHES}")]),
    "new-fingerprint-id-timestamp": (SSH, [rule("allow-ssh", id="1", fingerprint="Zm9v", kind=None,
                                                creationTimestamp="2026-11-25T01:00:00.000-08:00",
                                                selfLink=PROJECT.replace("www.googleapis.com", "compute.googleapis.com")
                                                + "global/firewalls/allow-ssh")], [SSH_SAME]),
    "defaults-filled": (SSH, [rule("allow-ssh", priority=None, direction=None, disabled=None,
                                   logConfig={"enable": True}, network="global/networks/prod-vpc")], [SSH_SAME]),
    "priority-absent-vs-1000": ([rule("r", priority=None, logConfig=None)], [rule("r", logConfig={"enable": False})],
                                [(PASS, FW + "r", "", f"firewall r {MATCHES}")]),
    "equivalent-ports": ([rule("r", allowed=[{"IPProtocol": "tcp", "ports": ["0-65535"]}])],
                         [rule("r", allowed=[{"IPProtocol": "tcp"}])], [(PASS, FW + "r", "", f"firewall r {MATCHES}")]),
    "nothing-either-side": ([], [], []),
}  # fmt: skip


@pytest.mark.parametrize(("before", "after", "expected"), DRIFT01.values(), ids=DRIFT01.keys())
def test_drift01_firewalls(before: list[dict[str, Any]], after: list[dict[str, Any]], expected: list[Expect]) -> None:
    check(judge(drift.drift01_firewalls, {"compute": {"firewalls": before}}, {"compute": {"firewalls": after}}),
          expected)


# --- DRIFT-02 ---------------------------------------------------------------------------------

OWNERS = {"role": "roles/owner", "members": ["group:admins@example.be"]}
OWNER_SAME: Expect = (PASS, IAM, "", f"grant roles/owner group:admins@example.be {MATCHES}")
UNTIL = "request.time < timestamp('2027-01-01T00:00:00Z')"
BREAKGLASS = {"role": "roles/owner", "members": ["user:oncall@example.be"],
              "condition": {"title": "breakglass", "expression": UNTIL}}
DRIFT02: dict[str, tuple[dict[str, Any], dict[str, Any], list[Expect]]] = {
    "unchanged-new-etag": (policy(OWNERS), policy(OWNERS, etag="BwZZ"), [OWNER_SAME]),
    "binding-added": (policy(OWNERS), policy(OWNERS, {"role": "roles/editor", "members": ["user:eve@gmail.com"]}), [
        (FAIL, IAM, "added",
         f"grant roles/editor user:eve@gmail.com added (member 'user:eve@gmail.com', role 'roles/editor') {APPROVED}"),
        OWNER_SAME]),
    "member-added-to-binding": (policy(OWNERS), policy({**OWNERS, "members": [*OWNERS["members"], "user:eve@x.be"]}), [
        OWNER_SAME,
        (FAIL, IAM, "added",
         f"grant roles/owner user:eve@x.be added (member 'user:eve@x.be', role 'roles/owner') {APPROVED}")]),
    "binding-removed": (policy(OWNERS, {"role": "roles/viewer", "members": ["group:devs@example.be"]}),
                        policy(OWNERS), [
        OWNER_SAME,
        (FAIL, IAM, "removed", "grant roles/viewer group:devs@example.be removed "
         f"(member 'group:devs@example.be', role 'roles/viewer') {APPROVED}")]),
    "member-case-and-order": (
        policy(OWNERS, {"role": "roles/viewer", "members": ["user:Bob@Example.be", "group:devs@example.be"]}),
        policy({"role": "roles/viewer", "members": ["group:DEVS@example.be", "user:bob@example.be"]}, OWNERS,
               etag="BwZZ"),
        [OWNER_SAME,
         (PASS, IAM, "", f"grant roles/viewer group:devs@example.be {MATCHES}"),
         (PASS, IAM, "", f"grant roles/viewer user:bob@example.be {MATCHES}")]),
    "conditional-unchanged": (policy(BREAKGLASS), policy(BREAKGLASS),
                              [(PASS, IAM, "", f"grant roles/owner user:oncall@example.be if breakglass {MATCHES}")]),
    "condition-widened": (policy(BREAKGLASS), policy({**BREAKGLASS, "condition": {"title": "breakglass",
                                                                               "expression": "true"}}), [
        (FAIL, IAM, "changed", "grant roles/owner user:oncall@example.be if breakglass changed: "
         f"condition.expression \"{UNTIL}\" → 'true' {APPROVED}")]),
    "condition-dropped": (policy(BREAKGLASS), policy({k: v for k, v in BREAKGLASS.items() if k != "condition"}), [
        (FAIL, IAM, "added",
         f"grant roles/owner user:oncall@example.be added (member 'user:oncall@example.be', role 'roles/owner') "
         f"{APPROVED}"),
        (FAIL, IAM, "removed", "grant roles/owner user:oncall@example.be if breakglass removed (condition.expression "
         f"\"{UNTIL}\", condition.title 'breakglass', member 'user:oncall@example.be', role 'roles/owner') "
         f"{APPROVED}")]),
}  # fmt: skip


@pytest.mark.parametrize(("before", "after", "expected"), DRIFT02.values(), ids=DRIFT02.keys())
def test_drift02_grants(before: dict[str, Any], after: dict[str, Any], expected: list[Expect]) -> None:
    check(judge(drift.drift02_grants, {"iamPolicy": before}, {"iamPolicy": after}), expected)


def test_drift02_two_policies_is_an_error() -> None:
    snapshot = replace(make_snapshot({"iamPolicy": policy(OWNERS)}), baseline=baseline_of({"iamPolicy": policy()}))
    snapshot = replace(snapshot, kinds={**snapshot.kinds, "iamPolicy": replace(snapshot.kinds["iamPolicy"],
                                                                               resources=(policy(), policy()))})
    [found] = drift.drift02_grants(snapshot, Params())
    assert (found.verdict, found.reason) == (ERROR, "cannot judge: expected one IAM policy, got 2")


# --- DRIFT-03 ---------------------------------------------------------------------------------

WEB_SAME: Expect = (PASS, DISK + "web-1", "", f"disk europe-west1-b/web-1 {MATCHES}")
DAILY = [schedule("daily")]
DRIFT03: dict[str, tuple[dict[str, Any], dict[str, Any], list[Expect]]] = {
    "unchanged": ({"disks": [disk("web-1", "daily")], "resourcePolicies": DAILY},
                  {"disks": [disk("web-1", "daily")], "resourcePolicies": [schedule("daily", id="9", status="READY")]},
                  [WEB_SAME]),
    "schedule-detached": ({"disks": [disk("web-1", "daily")], "resourcePolicies": DAILY},
                          {"disks": [disk("web-1")], "resourcePolicies": DAILY}, [
        (FAIL, DISK + "web-1", "changed", "disk europe-west1-b/web-1 changed: schedules.daily {cycle: 'every day at "
         "03:00', onSourceDiskDelete: 'KEEP_AUTO_SNAPSHOTS', retentionDays: 14, storageLocations: ['europe-west1']} "
         "→ (absent) " + APPROVED)]),
    "retention-changed": ({"disks": [disk("web-1", "daily")], "resourcePolicies": DAILY},
                          {"disks": [disk("web-1", "daily")], "resourcePolicies": [schedule("daily", days=3)]}, [
        (FAIL, DISK + "web-1", "changed",
         f"disk europe-west1-b/web-1 changed: schedules.daily.retentionDays 14 → 3 {APPROVED}")]),
    "on-delete-default": ({"disks": [disk("web-1", "daily")], "resourcePolicies": DAILY},
                          {"disks": [disk("web-1", "daily")], "resourcePolicies": [schedule(
                              "daily", snapshotSchedulePolicy={**DAILY[0]["snapshotSchedulePolicy"],
                                                               "retentionPolicy": {"maxRetentionDays": "14"}})]},
                          [WEB_SAME]),
    "schedule-swapped": ({"disks": [disk("web-1", "daily")], "resourcePolicies": DAILY},
                         {"disks": [disk("web-1", "weekly")], "resourcePolicies": [*DAILY, schedule("weekly")]}, [
        (FAIL, DISK + "web-1", "changed", "disk europe-west1-b/web-1 changed: schedules.daily {cycle: 'every day at "
         "03:00', onSourceDiskDelete: 'KEEP_AUTO_SNAPSHOTS', retentionDays: 14, storageLocations: ['europe-west1']} "
         "→ (absent); schedules.weekly (absent) → {cycle: 'every day at 03:00', onSourceDiskDelete: "
         "'KEEP_AUTO_SNAPSHOTS', retentionDays: 14, storageLocations: ['europe-west1']} " + APPROVED)]),
    "disk-added-without-schedule": ({"disks": [disk("web-1", "daily")], "resourcePolicies": DAILY},
                                    {"disks": [disk("web-1", "daily"), disk("scratch")], "resourcePolicies": DAILY}, [
        (FAIL, DISK + "scratch", "added", f"disk europe-west1-b/scratch added (schedules {{}}) {APPROVED}"),
        WEB_SAME]),
}  # fmt: skip


@pytest.mark.parametrize(("before", "after", "expected"), DRIFT03.values(), ids=DRIFT03.keys())
def test_drift03_schedules(before: dict[str, Any], after: dict[str, Any], expected: list[Expect]) -> None:
    check(judge(drift.drift03_schedules, {"compute": before}, {"compute": after}), expected)


def test_drift03_regional_disk_resource() -> None:
    regional = {**disk("db"), "zone": None, "region": PROJECT + "regions/europe-west1"}
    del regional["zone"]
    compute = {"disks": [regional], "resourcePolicies": []}
    [found] = judge(drift.drift03_schedules, {"compute": compute}, {"compute": compute})
    assert found.resource == "//compute.googleapis.com/projects/shop-prod/regions/europe-west1/disks/db"
    assert found.reason == f"disk europe-west1/db {MATCHES}"


# --- no or unusable baseline ------------------------------------------------------------------

PROJECT_FRAGMENT = {"compute": {"firewalls": SSH, "disks": [], "resourcePolicies": []}, "iamPolicy": policy(OWNERS)}


@pytest.mark.parametrize("control", [drift.drift01_firewalls, drift.drift02_grants, drift.drift03_schedules])
def test_no_baseline_is_one_error(control: Control) -> None:
    [found] = control(make_snapshot(PROJECT_FRAGMENT), Params())
    cid = control.meta.id
    assert (found.verdict, found.resource, found.subject) == (ERROR, IAM, "")
    assert found.reason == (
        f"no approved baseline for {cid} in scope shop-prod: review the live state with `controlwatch baseline "
        f"diff --scope shop-prod`, then approve it with `controlwatch baseline approve --scope shop-prod "
        f"--control {cid}`"
    )


def test_baseline_without_this_control_is_no_baseline() -> None:
    doc = baseline_of(PROJECT_FRAGMENT, ["DRIFT-02"])
    snapshot = replace(make_snapshot(PROJECT_FRAGMENT), baseline=doc)
    [found] = drift.drift01_firewalls(snapshot, Params())
    assert found.verdict is ERROR and found.reason.startswith("no approved baseline for DRIFT-01")
    assert [f.verdict for f in drift.drift02_grants(snapshot, Params())] == [PASS]


def test_baseline_of_another_state_version_or_shape_is_an_error() -> None:
    doc = baseline_of(PROJECT_FRAGMENT)
    old = copy.deepcopy(doc)
    old["controls"]["DRIFT-01"]["state_version"] = STATE_VERSION + 1
    [found] = drift.drift01_firewalls(replace(make_snapshot(PROJECT_FRAGMENT), baseline=old), Params())
    assert found.verdict is ERROR
    assert found.reason == (
        "cannot judge: the baseline approved by alice@example.be at 2026-11-20T09:00:00Z for DRIFT-01 is unreadable "
        f"(it was stored with state version {STATE_VERSION + 1}, this controlwatch compares version {STATE_VERSION}): "
        "review and re-approve it"
    )
    broken = copy.deepcopy(doc)
    broken["controls"]["DRIFT-01"]["state"] = {"grants": {}}
    [found] = drift.drift01_firewalls(replace(make_snapshot(PROJECT_FRAGMENT), baseline=broken), Params())
    assert found.verdict is ERROR and "it holds no firewalls object" in found.reason


def test_failed_kind_is_an_error_through_the_runner() -> None:
    snapshot = replace(make_snapshot(PROJECT_FRAGMENT, errors={"firewalls": "compute.firewalls.list: 500"}),
                       baseline=baseline_of(PROJECT_FRAGMENT))
    [result] = run_control(drift.drift01_firewalls, snapshot, Params())
    assert result.verdict is ERROR and "compute.firewalls.list: 500" in result.reason


# --- metadata ---------------------------------------------------------------------------------


@pytest.mark.parametrize("control", [drift.drift01_firewalls, drift.drift02_grants, drift.drift03_schedules])
def test_metadata(control: Control) -> None:
    meta = control.meta
    assert meta.area is Area.DRIFT and meta.severity is Severity.HIGH
    assert meta.references.soc2 == ("CC8.1", "CC7.1") and meta.references.cis == () and meta.references.sha == ""
    assert f"controlwatch baseline approve --scope PROJECT --control {meta.id}" in meta.remediation
    assert "revert" in meta.remediation and meta.rationale and meta.params == ()
    assert meta.unit == {"DRIFT-01": "firewall rule or network firewall policy", "DRIFT-02": "grant",
                         "DRIFT-03": "disk"}[meta.id]  # fmt: skip


def test_drift_controls_fit_the_registry() -> None:
    # The lead adds `drift` to checks.default_registry(); the ids must not collide with any other.
    controls = [drift.drift01_firewalls, drift.drift02_grants, drift.drift03_schedules]
    others = [c for c in default_registry() if c.meta.area is not Area.DRIFT]
    registry = Registry([*others, *controls])
    assert [i for i in registry.ids() if i.startswith("DRIFT")] == DRIFT_IDS and len(registry) == len(others) + 3


# --- DRIFT-01 over the project's network firewall policies --------------------------------------

POLICY_BASE = "https://www.googleapis.com/compute/v1/projects/shop-prod/"


def network_policy(
    *rules: dict[str, Any], name: str = "prod-policy", region: str = "", **fields: Any
) -> dict[str, Any]:
    where = f"regions/{region}" if region else "global"
    found: dict[str, Any] = {
        "kind": "compute#firewallPolicy", "id": "7310", "name": name, "fingerprint": "abc=",
        "rules": list(rules), "selfLink": f"{POLICY_BASE}{where}/firewallPolicies/{name}",
        "associations": [{"name": "vpc", "attachmentTarget": POLICY_BASE + "global/networks/vpc"}], **fields,
    }  # fmt: skip
    if region:
        found["region"] = POLICY_BASE + where
    return found


def policy_rule(priority: int = 100, src: tuple[str, ...] = ("0.0.0.0/0",), **fields: Any) -> dict[str, Any]:
    return {"kind": "compute#firewallPolicyRule", "priority": priority, "direction": "INGRESS", "action": "deny",
            "ruleTupleCount": 2, "match": {"srcIpRanges": list(src), "layer4Configs": [{"ipProtocol": "tcp",
            "ports": ["22"]}]}, **fields}  # fmt: skip


GLOBAL_POLICY = "//compute.googleapis.com/projects/shop-prod/global/firewallPolicies/prod-policy"
REGIONAL_POLICY = "//compute.googleapis.com/projects/shop-prod/regions/europe-west1/firewallPolicies/west"
POLICY_DRIFT: dict[str, tuple[dict[str, Any], dict[str, Any], Verdict, str, str, str]] = {
    "unchanged": (
        {"firewallPolicies": [network_policy(policy_rule())]}, {"firewallPolicies": [network_policy(policy_rule())]},
        PASS, GLOBAL_POLICY, "", "firewall global/firewallPolicies/prod-policy matches the baseline"),
    "no-op-rewrite": (
        {"firewallPolicies": [network_policy(policy_rule(src=("10.0.0.0/8", "0.0.0.0/0")))]},
        {"firewallPolicies": [network_policy(policy_rule(src=("0.0.0.0/0", "10.0.0.0/8"), ruleTupleCount=9),
                                             id="9999", fingerprint="xyz=")]},
        PASS, GLOBAL_POLICY, "", "…matches…"),
    "rule-widened": (
        {"firewallPolicies": [network_policy(policy_rule(action="allow", src=("10.0.0.0/8",)))]},
        {"firewallPolicies": [network_policy(policy_rule(action="allow"))]},
        FAIL, GLOBAL_POLICY, "changed",
        "firewall global/firewallPolicies/prod-policy changed: rules.100.srcIpRanges ['10.0.0.0/8'] → ['0.0.0.0/0']"),
    "logging-turned-off": (
        {"firewallPolicies": [network_policy(policy_rule(enableLogging=True))]},
        {"firewallPolicies": [network_policy(policy_rule())]},
        FAIL, GLOBAL_POLICY, "changed", "…rules.100.enableLogging True → False…"),
    "detached": (
        {"firewallPolicies": [network_policy(policy_rule())]},
        {"firewallPolicies": [network_policy(policy_rule(), associations=[])]},
        FAIL, GLOBAL_POLICY, "changed", "…associations ['vpc'] → []…"),
    "regional-added": (
        {}, {"regionFirewallPolicies": [network_policy(policy_rule(), name="west", region="europe-west1")]},
        FAIL, REGIONAL_POLICY, "added", "firewall regions/europe-west1/firewallPolicies/west added (…"),
    "removed": (
        {"firewallPolicies": [network_policy(policy_rule())]}, {}, FAIL, GLOBAL_POLICY, "removed", "…removed…"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "verdict", "resource", "subject", "reason"), POLICY_DRIFT.values(), ids=POLICY_DRIFT.keys()
)
def test_drift01_covers_the_network_firewall_policies(
    before: dict[str, Any], after: dict[str, Any], verdict: Verdict, resource: str, subject: str, reason: str
) -> None:
    def project(policies: dict[str, Any]) -> dict[str, Any]:
        return {"compute": {"firewalls": [], "firewallPolicies": [], "regionFirewallPolicies": [], **policies}}

    (found,) = judge(drift.drift01_firewalls, project(before), project(after))
    assert (found.verdict, found.resource, found.subject) == (verdict, resource, subject), found.reason
    for part in reason.split("…"):
        assert part in found.reason, found.reason
