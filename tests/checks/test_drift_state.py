"""Normalisation and diff of the drift-watched state (checks.driftstate): what is drift and what
is a no-op rewrite, and how a difference reads."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from checks.driftstate import (
    Change,
    FieldDiff,
    StateError,
    cycle,
    diff,
    disk_state,
    firewall_state,
    grant_state,
    kinds_for,
    member_key,
    watched_state,
)
from checks.model import Area
from tests.builders import make_snapshot
from tests.checks.catalogue import ids

PROJECT = "https://www.googleapis.com/compute/v1/projects/shop-prod/"
RULE: dict[str, Any] = {
    "kind": "compute#firewall",
    "id": "1435523148195494220",
    "creationTimestamp": "2022-02-07T10:12:31.204-08:00",
    "name": "allow-ssh",
    "description": "SSH from the office",
    "network": PROJECT + "global/networks/prod-vpc",
    "priority": 1000,
    "sourceRanges": ["10.0.0.0/8", "192.168.0.0/16"],
    "targetTags": ["bastion", "admin"],
    "allowed": [{"IPProtocol": "tcp", "ports": ["22", "2200-2210"]}, {"IPProtocol": "icmp"}],
    "direction": "INGRESS",
    "logConfig": {"enable": True, "metadata": "INCLUDE_ALL_METADATA"},
    "disabled": False,
    "fingerprint": "/VFWWoAY7dA=",
    "selfLink": PROJECT + "global/firewalls/allow-ssh",
}


def rewritten(rule: dict[str, Any]) -> dict[str, Any]:
    """The same rule as a no-op `gcloud ... update` and a re-read leave it: new id, fingerprint and
    timestamp, lists in another order, protocol numbers, defaults dropped, other metadata."""
    again = copy.deepcopy(rule)
    again.update(
        id="9999999999999999999",
        fingerprint="Zm9vYmFyYmF6",
        creationTimestamp="2026-11-25T03:00:00.000-08:00",
        sourceRanges=list(reversed(rule["sourceRanges"])) + [rule["sourceRanges"][0]],
        targetTags=list(reversed(rule["targetTags"])),
        allowed=[{"IPProtocol": "1"}, {"IPProtocol": "TCP", "ports": ["2200-2210", "22", "2205"]}],
        logConfig={"enable": True, "metadata": "EXCLUDE_ALL_METADATA"},
        selfLink="https://compute.googleapis.com/compute/v1/projects/shop-prod/global/firewalls/allow-ssh",
        description="reworded",
    )
    del again["priority"], again["direction"], again["disabled"], again["kind"]
    return again


def test_no_op_rewrite_is_never_drift() -> None:
    assert firewall_state([RULE]) == firewall_state([rewritten(RULE)])
    assert diff({"firewalls": firewall_state([RULE])}, {"firewalls": firewall_state([rewritten(RULE)])}) == []


def test_the_normalised_rule() -> None:
    assert firewall_state([RULE]) == {
        "allow-ssh": {
            "network": "prod-vpc", "direction": "INGRESS", "priority": 1000, "disabled": False,
            "allowed": ["icmp", "tcp:22", "tcp:2200-2210"], "denied": [],
            "sourceRanges": ["10.0.0.0/8", "192.168.0.0/16"], "destinationRanges": [], "sourceTags": [],
            "targetTags": ["admin", "bastion"], "sourceServiceAccounts": [], "targetServiceAccounts": [],
            "logConfig": {"enable": True},
        }
    }  # fmt: skip


ENTRIES: dict[str, tuple[Any, Any]] = {
    "numbers-named": ([{"IPProtocol": "6", "ports": ["443"]}, {"IPProtocol": "17"}, {"IPProtocol": "132"}],
                      ["tcp:443", "udp", "sctp"]),
    "upper-case": ([{"IPProtocol": "UDP", "ports": ["53"]}], ["udp:53"]),
    "adjacent-merged": ([{"IPProtocol": "tcp", "ports": ["81", "80"]}], ["tcp:80-81"]),
    "every-port-range": ([{"IPProtocol": "tcp", "ports": ["0-65535"]}], ["tcp"]),
    "all-ports-wins": ([{"IPProtocol": "tcp", "ports": ["22"]}, {"IPProtocol": "tcp"}], ["tcp"]),
    "all-protocols-wins": ([{"IPProtocol": "tcp", "ports": ["22"]}, {"IPProtocol": "all"}], ["all"]),
    "unknown-protocol-number": ([{"IPProtocol": "47"}], ["47"]),
    "unreadable-kept": ([{"IPProtocol": "tpc", "ports": ["22"]}], ['{"IPProtocol": "tpc", "ports": ["22"]}']),
    "not-a-list-kept": ("tcp:22", "tcp:22"),
}  # fmt: skip


@pytest.mark.parametrize(("entries", "expected"), ENTRIES.values(), ids=ENTRIES.keys())
def test_allowed_entries(entries: Any, expected: Any) -> None:
    assert firewall_state([{"name": "r", "allowed": entries}])["r"]["allowed"] == expected


def test_default_sources_and_destinations_are_filled() -> None:
    state = firewall_state([
        {"name": "in", "allowed": [{"IPProtocol": "tcp"}]},
        {"name": "tagged", "sourceTags": ["web"], "allowed": [{"IPProtocol": "tcp"}]},
        {"name": "out", "direction": "egress", "denied": [{"IPProtocol": "all"}]},
    ])  # fmt: skip
    assert (state["in"]["sourceRanges"], state["in"]["network"]) == (["0.0.0.0/0"], "default")
    assert state["tagged"]["sourceRanges"] == []
    assert (state["out"]["direction"], state["out"]["destinationRanges"], state["out"]["sourceRanges"]) == (
        "EGRESS", ["0.0.0.0/0"], [])


def test_describe_reads_like_the_issue() -> None:
    before = firewall_state([{**RULE, "sourceRanges": ["10.0.0.0/8"]}])
    after = firewall_state([{**RULE, "sourceRanges": ["0.0.0.0/0"]}])
    [change] = diff({"firewalls": before}, {"firewalls": after})
    assert change == Change("firewalls", "allow-ssh", "changed",
                            (FieldDiff("sourceRanges", ["10.0.0.0/8"], ["0.0.0.0/0"]),))  # fmt: skip
    assert change.describe() == "firewall allow-ssh changed: sourceRanges ['10.0.0.0/8'] → ['0.0.0.0/0']"
    assert change.to_json() == {
        "area": "firewalls", "key": "allow-ssh", "change": "changed",
        "fields": [{"path": "sourceRanges", "before": ["10.0.0.0/8"], "after": ["0.0.0.0/0"]}],
    }  # fmt: skip


def test_diff_orders_by_area_then_key_and_lists_added_fields() -> None:
    base: dict[str, dict[str, Any]] = {"firewalls": {"b": {"priority": 1}}, "grants": {"x": {"role": "r"}}}
    live = {"firewalls": {"a": {"priority": 2}, "b": {"priority": 1}}}
    changes = diff(base, live)
    assert [(c.area, c.key, c.change) for c in changes] == [("firewalls", "a", "added"), ("grants", "x", "removed")]
    assert changes[0].describe() == "firewall a added (priority 2)"
    assert changes[1].fields == (FieldDiff("role", "r", None),)


# --- grants -----------------------------------------------------------------------------------


def test_grant_keys_members_and_conditions() -> None:
    policy = {"version": 3, "etag": "BwYR", "bindings": [
        {"role": "roles/viewer", "members": ["user:Bob@Example.BE", "serviceAccount:CI@p.iam.gserviceaccount.com",
                                             "principal://iam.googleapis.com/Pool/Subject/Ab", "allUsers"]},
        {"role": "roles/owner", "members": ["user:a@x.be"],
         "condition": {"title": "until-2027", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}},
        {"role": "roles/owner", "members": ["user:a@x.be"], "condition": {"expression": "true"}},
        {"role": "roles/editor", "members": []},
    ]}  # fmt: skip
    assert sorted(grant_state([policy])) == [
        "roles/owner user:a@x.be if true",
        "roles/owner user:a@x.be if until-2027",
        "roles/viewer allUsers",
        "roles/viewer principal://iam.googleapis.com/Pool/Subject/Ab",
        "roles/viewer serviceAccount:ci@p.iam.gserviceaccount.com",
        "roles/viewer user:bob@example.be",
    ]
    assert grant_state([policy])["roles/owner user:a@x.be if until-2027"]["condition"] == {
        "title": "until-2027", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}


def test_same_title_different_expressions_get_distinct_keys() -> None:
    policy = {"bindings": [
        {"role": "roles/owner", "members": ["user:a@x.be"], "condition": {"title": "t", "expression": "a"}},
        {"role": "roles/owner", "members": ["user:a@x.be"], "condition": {"title": "t", "expression": "b"}},
    ]}  # fmt: skip
    assert sorted(grant_state([policy])) == ["roles/owner user:a@x.be if t [a]", "roles/owner user:a@x.be if t [b]"]


@pytest.mark.parametrize(("text", "key"), [
    ("group:Admins@Example.be", "group:admins@example.be"),
    ("domain:Example.BE", "domain:example.be"),
    ("deleted:user:Gone@x.be?uid=123", "deleted:user:gone@x.be?uid=123"),
    ("principalSet://iam.googleapis.com/Pool/*", "principalSet://iam.googleapis.com/Pool/*"),
    (" user:a@x.be ", "user:a@x.be"),
])  # fmt: skip
def test_member_key(text: str, key: str) -> None:
    assert member_key(text) == key


def test_grants_need_exactly_one_policy() -> None:
    with pytest.raises(StateError, match="expected one IAM policy, got 0"):
        grant_state([])


def test_a_binding_that_is_not_an_object_makes_the_grants_unknown() -> None:
    policy = {"bindings": [{"role": "roles/viewer", "members": ["user:a@x.be"]}, "roles/owner user:b@x.be"]}
    with pytest.raises(StateError, match=r"bindings\[1\] is not an object"):
        grant_state([policy])


# --- disks and schedules ----------------------------------------------------------------------


@pytest.mark.parametrize(("schedule", "text"), [
    ({"hourlySchedule": {"hoursInCycle": 4, "startTime": "00:00"}}, "every 4 hours from 00:00"),
    ({"dailySchedule": {"daysInCycle": 1, "startTime": "03:00", "duration": "PT4H"}}, "every day at 03:00"),
    ({"dailySchedule": {"daysInCycle": 2}}, "every 2 days"),
    ({"weeklySchedule": {"dayOfWeeks": [{"day": "SUNDAY", "startTime": "02:00"},
                                        {"day": "MONDAY", "startTime": "02:00", "duration": "PT4H"}]}},
     "weekly on MONDAY 02:00, SUNDAY 02:00"),
    ({}, "{}"),
])  # fmt: skip
def test_cycle(schedule: dict[str, Any], text: str) -> None:
    assert cycle(schedule) == text


def test_disk_state_resolves_attachments() -> None:
    policies = PROJECT + "regions/europe-west1/resourcePolicies/"
    disks: list[dict[str, Any]] = [
        {"name": "web-1", "zone": PROJECT + "zones/europe-west1-b",
         "resourcePolicies": [policies + "daily", policies + "gone", policies + "start-stop"]},
        {"name": "db", "region": PROJECT + "regions/europe-west1"},
    ]  # fmt: skip
    found: list[dict[str, Any]] = [
        {"name": "daily", "region": PROJECT + "regions/europe-west1", "labels": {"team": "a"},
         "snapshotSchedulePolicy": {"schedule": {"dailySchedule": {"daysInCycle": 1, "startTime": "03:00"}},
                                    "retentionPolicy": {"maxRetentionDays": "14"},
                                    "snapshotProperties": {"storageLocations": ["EU", "europe-west1"],
                                                           "labels": {"x": "y"}}}},
        {"name": "start-stop", "region": PROJECT + "regions/europe-west1", "instanceSchedulePolicy": {}},
    ]  # fmt: skip
    assert disk_state(disks, found, "shop-prod") == {
        "europe-west1-b/web-1": {"schedules": {
            "daily": {"cycle": "every day at 03:00", "retentionDays": 14, "onSourceDiskDelete": "KEEP_AUTO_SNAPSHOTS",
                      "storageLocations": ["eu", "europe-west1"]},
            "gone": {"unresolved": "projects/shop-prod/regions/europe-west1/resourcePolicies/gone"},
        }},
        "europe-west1/db": {"schedules": {}},
    }  # fmt: skip


# --- the whole state ----------------------------------------------------------------------------


def test_watched_state_is_json_and_per_control() -> None:
    snapshot = make_snapshot({
        "compute": {"firewalls": [RULE], "disks": [], "resourcePolicies": []},
        "iamPolicy": {"version": 3, "bindings": [{"role": "roles/owner", "members": ["user:a@x.be"]}]},
    })  # fmt: skip
    state = watched_state(snapshot)
    assert list(state) == ids(Area.DRIFT)
    assert list(state["DRIFT-02"]) == ["grants"] and list(state["DRIFT-03"]) == ["disks"]
    assert json.loads(json.dumps(state)) == state
    assert watched_state(snapshot, ["DRIFT-01"]) == {"DRIFT-01": state["DRIFT-01"]}
    assert kinds_for(["DRIFT-03", "DRIFT-01"]) == (
        "disks", "firewalls", "networkFirewallPolicies", "regionNetworkFirewallPolicies", "resourcePolicies"
    )
