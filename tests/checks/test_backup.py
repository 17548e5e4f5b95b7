"""BKP-01 to BKP-04 and their metadata, one row per case in the Compute REST shape.

`now` is 2026-11-25T12:00:00Z (tests.builders.NOW); the defaults are backup.rpo_hours 24
and backup.min_retention_days 7.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks import backup, default_registry
from checks.model import Area, Finding, Verdict
from checks.params import Params
from checks.registry import Control
from monitor.run.runner import run_control
from tests.builders import make_snapshot
from tests.checks.catalogue import compute_ids, ids

PROJECT = "https://www.googleapis.com/compute/v1/projects/shop-prod/"
POLICIES = PROJECT + "regions/europe-west1/resourcePolicies/"
DISK = "//compute.googleapis.com/projects/shop-prod/zones/europe-west1-b/disks/d1"
PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
BKP_IDS = compute_ids(Area.BKP)  # the Cloud SQL ones: tests/checks/test_cloudsql.py
ANY = "…"  # a row that checks verdict and subject only


def disk(name: str = "d1", **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "kind": "compute#disk",
        "id": "100",
        "name": name,
        "zone": PROJECT + "zones/europe-west1-b",
        "selfLink": PROJECT + f"zones/europe-west1-b/disks/{name}",
        "labels": {"env": "prod"},
        "resourcePolicies": [POLICIES + "daily"],
    }
    raw.update(fields)
    return {key: value for key, value in raw.items() if value is not None}


DAILY = {"dailySchedule": {"daysInCycle": 1, "startTime": "02:00", "duration": "PT14400S"}}
KEEP14 = {"maxRetentionDays": 14, "onSourceDiskDelete": "KEEP_AUTO_SNAPSHOTS"}


def policy(name: str = "daily", schedule: Any = DAILY, retention: Any = KEEP14, **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "kind": "compute#resourcePolicy",
        "name": name,
        "region": PROJECT + "regions/europe-west1",
        "status": "READY",
        "selfLink": POLICIES + name,
        "snapshotSchedulePolicy": {
            "schedule": schedule,
            "retentionPolicy": retention,
            "snapshotProperties": {"storageLocations": ["europe-west1"]},
        },
    }
    raw.update(fields)
    return {key: value for key, value in raw.items() if value is not None}


def weekly(*days: tuple[str, str]) -> dict[str, Any]:
    return {"weeklySchedule": {"dayOfWeeks": [{"day": d, "startTime": t, "duration": "PT14400S"} for d, t in days]}}


def snap(name: str = "s1", created: str | None = "2026-11-25T02:00:00Z", **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "kind": "compute#snapshot",
        "name": name,
        "status": "READY",
        "sourceDisk": PROJECT + "zones/europe-west1-b/disks/d1",
        "sourceDiskId": "100",
        "creationTimestamp": created,
        "storageLocations": ["europe-west1"],
        "selfLink": PROJECT + f"global/snapshots/{name}",
    }
    raw.update(fields)
    return {key: value for key, value in raw.items() if value is not None}


def findings(control: Control, compute: dict[str, Any], params: dict[str, Any] | None = None) -> list[Finding]:
    return list(control(make_snapshot({"compute": compute}), Params.model_validate(params or {})))


def only(control: Control, compute: dict[str, Any], params: dict[str, Any] | None = None) -> Finding:
    (found,) = findings(control, compute, params)
    return found


def check(found: Finding, verdict: Verdict, subject: str, reason: str) -> None:
    assert (found.verdict, found.subject) == (verdict, subject), found.reason
    assert reason == ANY or found.reason == reason


# --- BKP-01 -----------------------------------------------------------------------------------

NO_READY = "disk d1 has no READY snapshot schedule attached: "
BKP01: dict[str, tuple[dict[str, Any], list[dict[str, Any]], Verdict, str, str]] = {
    "ready-schedule": ({}, [policy()], PASS, "daily",
                       "disk d1 has snapshot schedule daily (resourcePolicies[0], status: READY)"),
    "policies-absent": ({"resourcePolicies": None}, [policy()], FAIL, "",
                        "disk d1 has no resource policy attached (resourcePolicies absent)"),
    "policies-empty": ({"resourcePolicies": []}, [policy()], FAIL, "",
                       "disk d1 has no resource policy attached (resourcePolicies: [])"),
    "dangling": ({"resourcePolicies": [POLICIES + "legacy"]}, [policy()], FAIL, "legacy",
                 NO_READY + "resourcePolicies[0] legacy is dangling: there is no resource policy "
                 "projects/shop-prod/regions/europe-west1/resourcePolicies/legacy"),
    "same-name-other-region": ({"resourcePolicies": [PROJECT + "regions/europe-west4/resourcePolicies/daily"]},
                               [policy()], FAIL, "daily",
                               NO_READY + "resourcePolicies[0] daily is dangling: there is no resource policy "
                               "projects/shop-prod/regions/europe-west4/resourcePolicies/daily"),
    "same-name-other-project": ({"resourcePolicies": [POLICIES.replace("shop-prod", "other") + "daily"]},
                                [policy()], FAIL, "daily", ANY),
    "instance-schedule": ({"resourcePolicies": [POLICIES + "start-stop"]},
                          [policy("start-stop", snapshotSchedulePolicy=None,
                                  instanceSchedulePolicy={"timeZone": "UTC"})], FAIL, "start-stop",
                          NO_READY + "resourcePolicies[0] start-stop is not a snapshot schedule (no "
                          "snapshotSchedulePolicy; has instanceSchedulePolicy)"),
    "creating": ({}, [policy(status="CREATING")], FAIL, "daily",
                 NO_READY + "resourcePolicies[0] daily is a snapshot schedule with status: CREATING"),
    "expired": ({}, [policy(status="EXPIRED")], FAIL, "daily", ANY),
    "status-absent": ({}, [policy(status=None)], ERROR, "daily",
                      "disk d1: cannot judge status of snapshot schedule: resourcePolicies[0] daily is a "
                      "snapshot schedule with no status"),
    "dangling-then-ready": ({"resourcePolicies": [POLICIES + "legacy", POLICIES + "daily"]}, [policy()], PASS,
                            "daily", "disk d1 has snapshot schedule daily (resourcePolicies[1], status: READY)"),
    "two-problems": ({"resourcePolicies": [POLICIES + "legacy", POLICIES + "daily"]}, [policy(status="DELETING")],
                     FAIL, "legacy, daily",
                     NO_READY + "resourcePolicies[0] legacy is dangling: there is no resource policy projects/"
                     "shop-prod/regions/europe-west1/resourcePolicies/legacy; resourcePolicies[1] daily is a "
                     "snapshot schedule with status: DELETING"),
    "relative-url": ({"resourcePolicies": ["regions/europe-west1/resourcePolicies/daily"]}, [policy()], PASS,
                     "daily", ANY),
    "other-host": ({"resourcePolicies": ["https://compute.googleapis.com/compute/v1/projects/shop-prod/regions/"
                                         "europe-west1/resourcePolicies/daily"]}, [policy()], PASS, "daily", ANY),
    "policy-without-selflink": ({}, [policy(selfLink=None)], PASS, "daily", ANY),
    "not-a-url": ({"resourcePolicies": ["daily"]}, [policy()], FAIL, "daily",
                  NO_READY + "resourcePolicies[0] 'daily' is not a resource policy URL"),
    "unreadable-list": ({"resourcePolicies": POLICIES + "daily"}, [policy()], ERROR, "resourcePolicies", ANY),
}  # fmt: skip


@pytest.mark.parametrize(("fields", "policies", "verdict", "subject", "reason"), BKP01.values(), ids=BKP01.keys())
def test_bkp01_schedule(
    fields: dict[str, Any], policies: list[dict[str, Any]], verdict: Verdict, subject: str, reason: str
) -> None:
    found = only(backup.bkp01_schedule, {"disks": [disk(**fields)], "resourcePolicies": policies})
    assert found.resource == DISK
    check(found, verdict, subject, reason)


def test_bkp01_regional_disk_is_named_by_its_region() -> None:
    regional = disk("r1", zone=None, region=PROJECT + "regions/europe-west1",
                    selfLink=PROJECT + "regions/europe-west1/disks/r1")  # fmt: skip
    found = only(backup.bkp01_schedule, {"disks": [regional], "resourcePolicies": [policy()]})
    assert found.resource == "//compute.googleapis.com/projects/shop-prod/regions/europe-west1/disks/r1"
    assert found.verdict is PASS


# --- BKP-02 -----------------------------------------------------------------------------------

FRESH = "disk d1: newest READY snapshot s1 (sourceDiskId 100) is 10h old (creationTimestamp 2026-11-25T02:00:00Z)"
OTHER_ZONE = PROJECT + "zones/europe-west1-c/disks/d1"
BKP02: dict[str, tuple[list[dict[str, Any]], dict[str, Any], Verdict, str, str]] = {
    "fresh": ([snap()], {}, PASS, "s1", FRESH + " ≤ backup.rpo_hours 24"),
    "stale": ([snap(created="2026-11-22T02:00:00Z")], {}, FAIL, "s1",
              "disk d1: newest READY snapshot s1 (sourceDiskId 100) is 3d10h old (creationTimestamp "
              "2026-11-22T02:00:00Z) > backup.rpo_hours 24"),
    "stale-passes-larger-rpo": ([snap(created="2026-11-22T02:00:00Z")], {"rpo_hours": 96}, PASS, "s1", ANY),
    "fresh-fails-smaller-rpo": ([snap()], {"rpo_hours": 4}, FAIL, "s1", FRESH + " > backup.rpo_hours 4"),
    "fractional-rpo": ([snap(created="2026-11-25T11:15:00Z")], {"rpo_hours": 0.5}, FAIL, "s1", ANY),
    "exactly-the-rpo": ([snap(created="2026-11-24T12:00:00Z")], {}, PASS, "s1", ANY),
    "a-second-over": ([snap(created="2026-11-24T11:59:59Z")], {}, FAIL, "s1",
                      "disk d1: newest READY snapshot s1 (sourceDiskId 100) is 1d1s old (creationTimestamp "
                      "2026-11-24T11:59:59Z) > backup.rpo_hours 24"),
    "pacific-offset": ([snap(created="2026-11-24T18:00:07.514-08:00")], {}, PASS, "s1",
                       "disk d1: newest READY snapshot s1 (sourceDiskId 100) is 9h59m52s old (creationTimestamp "
                       "2026-11-25T02:00:07Z) ≤ backup.rpo_hours 24"),
    "nanoseconds": ([snap(created="2026-11-25T02:00:00.123456789Z")], {}, PASS, "s1", ANY),
    "newest-wins": ([snap("old", created="2026-11-20T02:00:00Z"), snap(),
                     snap("older", created="2026-11-01T00:00:00Z")], {}, PASS, "s1", ANY),
    "none": ([], {}, FAIL, "", "disk d1 has no snapshot of its own (none with sourceDiskId 100)"),
    "recreated-disk": ([snap("pre-restore", sourceDiskId="99")], {}, FAIL, "",
                       "disk d1 has no snapshot of its own (none with sourceDiskId 100); snapshot pre-restore names "
                       "it in sourceDisk but is of an earlier disk of the same name (sourceDiskId 99, not id 100)"),
    "recreated-disk-and-own": ([snap("pre-restore", sourceDiskId="99"), snap()], {}, PASS, "s1",
                               FRESH + " ≤ backup.rpo_hours 24"),
    "other-disk": ([snap(sourceDiskId="7", sourceDisk=PROJECT + "zones/europe-west1-b/disks/d2")], {}, FAIL, "",
                   "disk d1 has no snapshot of its own (none with sourceDiskId 100)"),
    "id-wins-over-url": ([snap(sourceDisk=OTHER_ZONE)], {}, PASS, "s1", ANY),
    "source-disk-fallback": ([snap(sourceDiskId=None)], {}, PASS, "s1",
                             "disk d1: newest READY snapshot s1 (sourceDisk, no sourceDiskId) is 10h old "
                             "(creationTimestamp 2026-11-25T02:00:00Z) ≤ backup.rpo_hours 24"),
    "fallback-empty-id": ([snap(sourceDiskId="")], {}, PASS, "s1", ANY),
    "fallback-other-zone": ([snap(sourceDiskId=None, sourceDisk=OTHER_ZONE)], {}, FAIL, "", ANY),
    "fallback-relative-url": ([snap(sourceDiskId=None, sourceDisk="zones/europe-west1-b/disks/d1")], {}, PASS,
                              "s1", ANY),
    "creating": ([snap(status="CREATING")], {}, FAIL, "",
                 "disk d1 has no READY snapshot with a creationTimestamp; snapshot s1 is not counted: status: "
                 "CREATING"),
    "failed-newer-ready-older": ([snap("new", status="FAILED", created="2026-11-25T10:00:00Z"),
                                  snap(created="2026-11-23T02:00:00Z")], {}, FAIL, "s1",
                                 "disk d1: newest READY snapshot s1 (sourceDiskId 100) is 2d10h old (creationTimestamp "
                                 "2026-11-23T02:00:00Z) > backup.rpo_hours 24; snapshot new is not counted: status: "
                                 "FAILED"),
    "status-absent": ([snap(status=None)], {}, FAIL, "",
                      "disk d1 has no READY snapshot with a creationTimestamp; snapshot s1 is not counted: no status"),
    "no-creation-timestamp": ([snap(created=None)], {}, FAIL, "",
                              "disk d1 has no READY snapshot with a creationTimestamp; snapshot s1 is not counted: "
                              "no creationTimestamp"),
    "unreadable-timestamp": ([snap(created="yesterday")], {}, ERROR, "",
                             "disk d1: cannot judge its newest backup: snapshot s1 has an unreadable "
                             "creationTimestamp 'yesterday'"),
    "naive-timestamp": ([snap(created="2026-11-25T02:00:00")], {}, ERROR, "", ANY),
    "unreadable-and-stale": ([snap("x", created="2026-13-01T00:00:00Z"), snap(created="2026-11-20T00:00:00Z")], {},
                             ERROR, "s1", ANY),
    "unreadable-and-fresh": ([snap("x", created="garbage"), snap()], {}, PASS, "s1", ANY),
    "future": ([snap(created="2026-11-25T14:30:00Z")], {}, PASS, "s1",
               "disk d1: newest READY snapshot s1 (sourceDiskId 100) is 0s old (creationTimestamp "
               "2026-11-25T14:30:00Z, 2h30m after now: counted as age 0) ≤ backup.rpo_hours 24"),
}  # fmt: skip


@pytest.mark.parametrize(("snaps", "params", "verdict", "subject", "reason"), BKP02.values(), ids=BKP02.keys())
def test_bkp02_recent_backup(
    snaps: list[dict[str, Any]], params: dict[str, Any], verdict: Verdict, subject: str, reason: str
) -> None:
    found = only(backup.bkp02_recent_backup, {"disks": [disk()], "snapshots": snaps}, {"backup": params})
    assert found.resource == DISK
    check(found, verdict, subject, reason)


def test_bkp02_disk_without_id_cannot_be_judged() -> None:
    found = only(backup.bkp02_recent_backup, {"disks": [disk(id=None)], "snapshots": [snap()]})
    assert (found.verdict, found.subject) == (ERROR, "id")
    assert found.reason.startswith("disk d1: cannot judge id: absent")


def test_bkp02_numeric_ids_match_their_string_form() -> None:
    found = only(backup.bkp02_recent_backup, {"disks": [disk(id=100)], "snapshots": [snap()]})
    assert found.verdict is PASS


def test_bkp02_each_disk_gets_its_own_snapshots() -> None:
    disks = [disk(), disk("d2", id="200")]
    snaps = [snap(), snap("s2", created="2026-11-01T00:00:00Z", sourceDiskId="200",
                          sourceDisk=PROJECT + "zones/europe-west1-b/disks/d2")]  # fmt: skip
    found = findings(backup.bkp02_recent_backup, {"disks": disks, "snapshots": snaps})
    assert [(f.resource.rsplit("/", 1)[-1], f.verdict, f.subject) for f in found] == [
        ("d1", PASS, "s1"),
        ("d2", FAIL, "s2"),
    ]


# --- BKP-03 -----------------------------------------------------------------------------------

KEPT = "also after the disk is deleted (onSourceDiskDelete: KEEP_AUTO_SNAPSHOTS)"
BKP03: dict[str, tuple[list[dict[str, Any]], dict[str, Any], Verdict, str, str]] = {
    "fourteen-days-keep": ([policy()], {}, PASS, "daily",
                           "disk d1: schedule daily keeps snapshots 14 days (retentionPolicy.maxRetentionDays 14 "
                           f"≥ backup.min_retention_days 7), {KEPT}"),
    "exactly-the-minimum": ([policy(retention={"maxRetentionDays": 7})], {}, PASS, "daily",
                            "disk d1: schedule daily keeps snapshots 7 days (retentionPolicy.maxRetentionDays 7 ≥ "
                            "backup.min_retention_days 7), also after the disk is deleted (onSourceDiskDelete "
                            "absent: the API default keeps them)"),
    "too-short": ([policy(retention={"maxRetentionDays": 3, "onSourceDiskDelete": "KEEP_AUTO_SNAPSHOTS"})], {},
                  FAIL, "daily",
                  "disk d1: schedule daily keeps snapshots 3 days (retentionPolicy.maxRetentionDays 3 < "
                  "backup.min_retention_days 7)"),
    "apply-retention": ([policy(retention={"maxRetentionDays": 14, "onSourceDiskDelete": "APPLY_RETENTION_POLICY"})],
                        {}, FAIL, "daily",
                        "disk d1: schedule daily lets them expire after the disk is deleted (onSourceDiskDelete: "
                        "APPLY_RETENTION_POLICY, not KEEP_AUTO_SNAPSHOTS)"),
    "both": ([policy(retention={"maxRetentionDays": 3, "onSourceDiskDelete": "APPLY_RETENTION_POLICY"})], {},
             FAIL, "daily",
             "disk d1: schedule daily keeps snapshots 3 days (retentionPolicy.maxRetentionDays 3 < "
             "backup.min_retention_days 7) and lets them expire after the disk is deleted (onSourceDiskDelete: "
             "APPLY_RETENTION_POLICY, not KEEP_AUTO_SNAPSHOTS)"),
    "unspecified-value": ([policy(retention={"maxRetentionDays": 14,
                                             "onSourceDiskDelete": "UNSPECIFIED_ON_SOURCE_DISK_DELETE"})], {},
                          FAIL, "daily", ANY),
    "larger-minimum": ([policy()], {"min_retention_days": 30}, FAIL, "daily",
                       "disk d1: schedule daily keeps snapshots 14 days (retentionPolicy.maxRetentionDays 14 < "
                       "backup.min_retention_days 30)"),
    "smaller-minimum": ([policy(retention={"maxRetentionDays": 3})], {"min_retention_days": 3}, PASS, "daily", ANY),
    "no-schedule": ([], {}, PASS, "", "disk d1: no schedule attached (see BKP-01)"),
    "only-instance-schedule": ([policy(snapshotSchedulePolicy=None, instanceSchedulePolicy={})], {}, PASS, "",
                               "disk d1: no schedule attached (see BKP-01)"),
    "not-ready-is-still-judged": ([policy(status="CREATING", retention={"maxRetentionDays": 1})], {}, FAIL,
                                  "daily", ANY),
    "days-absent": ([policy(retention={"onSourceDiskDelete": "KEEP_AUTO_SNAPSHOTS"})], {}, ERROR, "daily",
                    "disk d1: schedule daily: cannot judge retentionPolicy.maxRetentionDays: absent"),
    "retention-absent": ([policy(retention=None)], {}, ERROR, "daily",
                         "disk d1: schedule daily: cannot judge retentionPolicy: absent"),
    "days-text": ([policy(retention={"maxRetentionDays": "fourteen"})], {}, ERROR, "daily", ANY),
    "days-bool": ([policy(retention={"maxRetentionDays": True})], {}, ERROR, "daily", ANY),
    "days-int64-string": ([policy(retention={"maxRetentionDays": "14"})], {}, PASS, "daily", ANY),
}  # fmt: skip


@pytest.mark.parametrize(("policies", "params", "verdict", "subject", "reason"), BKP03.values(), ids=BKP03.keys())
def test_bkp03_retention(
    policies: list[dict[str, Any]], params: dict[str, Any], verdict: Verdict, subject: str, reason: str
) -> None:
    compute = {"disks": [disk()], "resourcePolicies": policies}
    check(only(backup.bkp03_retention, compute, {"backup": params}), verdict, subject, reason)


def test_bkp03_several_schedules_every_one_must_hold() -> None:
    urls = [POLICIES + "good", POLICIES + "short", POLICIES + "broken"]
    policies = [policy("good"), policy("short", retention={"maxRetentionDays": 2}), policy("broken", retention=[])]
    found = only(backup.bkp03_retention, {"disks": [disk(resourcePolicies=urls)], "resourcePolicies": policies})
    assert (found.verdict, found.subject) == (FAIL, "short, broken")
    assert "schedule broken: cannot judge retentionPolicy: [] is not an object" in found.reason
    found = only(backup.bkp03_retention, {"disks": [disk(resourcePolicies=[urls[0], urls[2]])],
                                          "resourcePolicies": policies})  # fmt: skip
    assert (found.verdict, found.subject) == (ERROR, "broken")


def test_bkp03_dangling_url_is_no_schedule() -> None:
    found = only(backup.bkp03_retention, {"disks": [disk(resourcePolicies=[POLICIES + "gone"])],
                                          "resourcePolicies": []})  # fmt: skip
    check(found, PASS, "", "disk d1: no schedule attached (see BKP-01)")


# --- BKP-04 -----------------------------------------------------------------------------------

EVERY_DAY = [(day, "02:00") for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")]
MWF = weekly(("MONDAY", "02:00"), ("WEDNESDAY", "02:00"), ("FRIDAY", "02:00"))
BKP04: dict[str, tuple[Any, dict[str, Any], Verdict, str]] = {
    "hourly-6": ({"hourlySchedule": {"hoursInCycle": 6, "startTime": "00:00"}}, {}, PASS,
                 "disk d1: schedule daily runs every 6 hours (hourlySchedule.hoursInCycle 6): longest gap 6h ≤ "
                 "backup.rpo_hours 24"),
    "hourly-1": ({"hourlySchedule": {"hoursInCycle": 1, "startTime": "00:00"}}, {}, PASS,
                 "disk d1: schedule daily runs every hour (hourlySchedule.hoursInCycle 1): longest gap 1h ≤ "
                 "backup.rpo_hours 24"),
    "hourly-over-a-small-rpo": ({"hourlySchedule": {"hoursInCycle": 6}}, {"rpo_hours": 4}, FAIL,
                                "disk d1: schedule daily runs every 6 hours (hourlySchedule.hoursInCycle 6): longest "
                                "gap 6h > backup.rpo_hours 4"),
    "daily": (DAILY, {}, PASS,
              "disk d1: schedule daily runs every day (dailySchedule.daysInCycle 1): longest gap 24h ≤ "
              "backup.rpo_hours 24"),
    "daily-over-a-small-rpo": (DAILY, {"rpo_hours": 12}, FAIL, ANY),
    "every-two-days": ({"dailySchedule": {"daysInCycle": 2, "startTime": "02:00"}}, {}, FAIL,
                       "disk d1: schedule daily runs every 2 days (dailySchedule.daysInCycle 2): longest gap 48h > "
                       "backup.rpo_hours 24"),
    "weekly-one-day": (weekly(("SUNDAY", "02:00")), {}, FAIL,
                       "disk d1: schedule daily runs weekly on SUNDAY 02:00 (weeklySchedule.dayOfWeeks): longest gap "
                       "168h > backup.rpo_hours 24 (from SUNDAY 02:00 to the next SUNDAY 02:00)"),
    "weekly-one-day-weekly-rpo": (weekly(("SUNDAY", "02:00")), {"rpo_hours": 168}, PASS, ANY),
    "weekly-every-day": (weekly(*EVERY_DAY), {}, PASS, ANY),
    "weekly-several-days-wraps": (MWF, {}, FAIL,
                                  "disk d1: schedule daily runs weekly on MONDAY 02:00, WEDNESDAY 02:00, FRIDAY 02:00 "
                                  "(weeklySchedule.dayOfWeeks): longest gap 72h > backup.rpo_hours 24 (from FRIDAY "
                                  "02:00 to MONDAY 02:00)"),
    "weekly-several-days-rpo-72": (MWF, {"rpo_hours": 72}, PASS, ANY),
    "weekly-listed-out-of-order": (weekly(("FRIDAY", "02:00"), ("MONDAY", "02:00"), ("WEDNESDAY", "02:00")),
                                   {"rpo_hours": 72}, PASS, ANY),
    "weekly-start-times-matter": (weekly(("MONDAY", "00:00"), ("TUESDAY", "23:00"), *EVERY_DAY[2:]), {}, FAIL,
                                  "disk d1: schedule daily runs weekly on MONDAY 00:00, TUESDAY 23:00, WEDNESDAY "
                                  "02:00, THURSDAY 02:00, FRIDAY 02:00, SATURDAY 02:00, SUNDAY 02:00 "
                                  "(weeklySchedule.dayOfWeeks): longest gap 47h > backup.rpo_hours 24 (from MONDAY "
                                  "00:00 to TUESDAY 23:00)"),
    "weekly-half-hours": (weekly(*EVERY_DAY[:6], ("SUNDAY", "02:30")), {}, FAIL,
                          "disk d1: schedule daily runs weekly on MONDAY 02:00, TUESDAY 02:00, WEDNESDAY 02:00, "
                          "THURSDAY 02:00, FRIDAY 02:00, SATURDAY 02:00, SUNDAY 02:30 (weeklySchedule.dayOfWeeks): "
                          "longest gap 24.5h > backup.rpo_hours 24 (from SATURDAY 02:00 to SUNDAY 02:30)"),
    "weekly-start-absent": ({"weeklySchedule": {"dayOfWeeks": [{"day": "MONDAY"}]}}, {}, ERROR,
                            "disk d1: schedule daily: cannot judge weeklySchedule.dayOfWeeks[0].startTime: None is "
                            "not HH:MM"),
    "weekly-bad-day": (weekly(("FUNDAY", "02:00")), {}, ERROR,
                       "disk d1: schedule daily: cannot judge weeklySchedule.dayOfWeeks[0].day: 'FUNDAY' is not a "
                       "day of the week"),
    "weekly-no-days": ({"weeklySchedule": {"dayOfWeeks": []}}, {}, ERROR, ANY),
    "weekly-bad-time": (weekly(("MONDAY", "2am")), {}, ERROR, ANY),
    "no-kind": ({}, {}, ERROR,
                "disk d1: schedule daily: cannot judge schedule: has none of hourlySchedule, dailySchedule, "
                "weeklySchedule"),
    "two-kinds": ({**DAILY, "hourlySchedule": {"hoursInCycle": 6}}, {}, ERROR,
                  "disk d1: schedule daily: cannot judge schedule: has several (hourlySchedule, dailySchedule) of "
                  "hourlySchedule, dailySchedule, weeklySchedule"),
    "schedule-absent": (None, {}, ERROR, "disk d1: schedule daily: cannot judge schedule: absent"),
    "hours-zero": ({"hourlySchedule": {"hoursInCycle": 0}}, {}, ERROR,
                   "disk d1: schedule daily: cannot judge hourlySchedule.hoursInCycle: 0 is not a positive number"),
    "days-absent": ({"dailySchedule": {"startTime": "02:00"}}, {}, ERROR,
                    "disk d1: schedule daily: cannot judge dailySchedule.daysInCycle: absent"),
}  # fmt: skip


@pytest.mark.parametrize(("schedule", "params", "verdict", "reason"), BKP04.values(), ids=BKP04.keys())
def test_bkp04_frequency(schedule: Any, params: dict[str, Any], verdict: Verdict, reason: str) -> None:
    compute = {"disks": [disk()], "resourcePolicies": [policy(schedule=schedule)]}
    check(only(backup.bkp04_frequency, compute, {"backup": params}), verdict, "daily", reason)


def test_bkp04_no_schedule_attached_passes() -> None:
    found = only(backup.bkp04_frequency, {"disks": [disk(resourcePolicies=None)], "resourcePolicies": [policy()]})
    check(found, PASS, "", "disk d1: no schedule attached (see BKP-01)")


# --- disk_selector (every BKP control), kinds, metadata -----------------------------------------

SELECTOR: dict[str, tuple[dict[str, str], Any, bool]] = {
    "empty-selects-all": ({}, {"env": "dev"}, True),
    "empty-selects-unlabelled": ({}, None, True),
    "match": ({"env": "prod"}, {"env": "prod", "team": "shop"}, True),
    "mismatch": ({"env": "prod"}, {"env": "dev"}, False),
    "unlabelled": ({"env": "prod"}, None, False),
    "all-must-hold": ({"env": "prod", "backup": "yes"}, {"env": "prod"}, False),
    "all-hold": ({"env": "prod", "backup": "yes"}, {"env": "prod", "backup": "yes"}, True),
    "value-is-exact": ({"env": "prod"}, {"env": "Prod"}, False),
}


@pytest.mark.parametrize("control_id", BKP_IDS)
@pytest.mark.parametrize(("selector", "labels", "judged"), SELECTOR.values(), ids=SELECTOR.keys())
def test_disk_selector_picks_the_disks(control_id: str, selector: dict[str, str], labels: Any, judged: bool) -> None:
    compute = {"disks": [disk(labels=labels)], "resourcePolicies": [policy()], "snapshots": [snap()]}
    found = findings(default_registry().get(control_id), compute, {"backup": {"disk_selector": selector}})
    assert [f.resource for f in found] == ([DISK] if judged else [])


@pytest.mark.parametrize("control_id", BKP_IDS)
def test_unreadable_labels_under_a_selector_are_an_error(control_id: str) -> None:
    compute = {"disks": [disk(labels=["env=prod"])], "resourcePolicies": [policy()], "snapshots": [snap()]}
    (found,) = findings(default_registry().get(control_id), compute, {"backup": {"disk_selector": {"env": "prod"}}})
    assert (found.verdict, found.subject) == (ERROR, "labels")


@pytest.mark.parametrize("control_id", BKP_IDS)
def test_nothing_in_scope_gives_no_findings(control_id: str) -> None:
    compute: dict[str, list[Any]] = {"disks": [], "resourcePolicies": [policy()], "snapshots": [snap()]}
    assert findings(default_registry().get(control_id), compute) == []


@pytest.mark.parametrize("control_id", BKP_IDS)
def test_a_failed_kind_is_an_error(control_id: str) -> None:
    control = default_registry().get(control_id)
    compute = {"disks": [disk()], "resourcePolicies": [policy()], "snapshots": [snap()]}
    snapshot = make_snapshot({"compute": compute}, errors={control.meta.kinds[-1]: "403 Forbidden"})
    (result,) = run_control(control, snapshot, Params())
    assert result.verdict is ERROR and "403 Forbidden" in result.reason


def test_registry_holds_every_bkp_control() -> None:
    assert [c for c in default_registry().ids() if c.startswith("BKP-")] == ids(Area.BKP)


PARAMS = {
    "BKP-01": ("backup.disk_selector",),
    "BKP-02": ("backup.rpo_hours", "backup.disk_selector"),
    "BKP-03": ("backup.min_retention_days", "backup.disk_selector"),
    "BKP-04": ("backup.rpo_hours", "backup.disk_selector"),
}


@pytest.mark.parametrize("control_id", BKP_IDS)
def test_metadata_is_complete(control_id: str) -> None:
    control = default_registry().get(control_id)
    meta = control.meta
    assert meta.area is Area.BKP and meta.unit == "disk"
    assert meta.title and meta.title[0].isupper()
    assert len(meta.rationale) > 100 and "gcloud " in meta.remediation
    assert meta.params == PARAMS[control_id]
    for dotted in meta.params:
        area, key = dotted.split(".")
        assert key in type(getattr(Params(), area)).model_fields
    assert backup.__doc__ and control.func.__doc__
    assert control in vars(backup).values()


def test_references_follow_the_catalogue() -> None:
    refs = {c.meta.id: (c.meta.severity.value, c.meta.references.cis_text(), c.meta.references.soc2,
                        c.meta.references.sha, c.meta.kinds)
            for c in default_registry() if c.meta.id in BKP_IDS}  # fmt: skip
    assert refs == {
        "BKP-01": ("high", "", ("A1.2", "CC9.1"), "", ("disks", "resourcePolicies")),
        "BKP-02": ("high", "", ("A1.2",), "", ("disks", "snapshots")),
        "BKP-03": ("medium", "", ("A1.2",), "", ("disks", "resourcePolicies")),
        "BKP-04": ("medium", "", ("A1.2",), "", ("disks", "resourcePolicies")),
    }
