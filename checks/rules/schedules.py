"""Snapshot schedules, read from the Compute REST shape: which resource policies a disk's
`resourcePolicies` URLs name, how long a schedule keeps its snapshots, and how often it runs.

- A URL names a policy by its full path, `projects/P/regions/R/resourcePolicies/N` (host and
  API version ignored; a relative `regions/R/resourcePolicies/N` is in the scope's project):
  a policy of the same name in another region or project is another policy.
- A policy is a snapshot schedule when it has a `snapshotSchedulePolicy`; the others
  (`instanceSchedulePolicy`, `groupPlacementPolicy`, ...) protect nothing.
- How often a schedule runs: `hourlySchedule.hoursInCycle` hours, `dailySchedule.daysInCycle`
  days, or, for a `weeklySchedule`, the longest time between two consecutive runs of its
  `dayOfWeeks[]`, each `day` at its `startTime` (`HH:MM`, UTC), wrapping round the week: so
  MONDAY 00:00 and TUESDAY 23:00 leave a 143-hour gap, not 6 days. Hourly cycles are taken
  as running continuously. The `duration` window, within which Google starts each run, is
  not added to the gap: a run that starts late shows in the snapshot's age (BKP-02).
Data that cannot be read raises `Unjudgeable` (the controls report `error`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from checks.kernel import JSON, Unjudgeable
from checks.names import last_segment

PolicyKey = tuple[str, str, str]  # (project, region, name)

_POLICY = re.compile(r"(?:^|/)projects/([^/]+)/regions/([^/]+)/resourcePolicies/([^/?#]+)/?$")
_RELATIVE = re.compile(r"^regions/([^/]+)/resourcePolicies/([^/?#]+)/?$")
_START = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_WEEK = 7 * 24 * 60  # minutes
_KINDS = ("hourlySchedule", "dailySchedule", "weeklySchedule")
KEEP = "KEEP_AUTO_SNAPSHOTS"


def policy_key(url: object, scope: str) -> PolicyKey | None:
    """(project, region, name) named by a resource policy URL; None when it names none."""
    if not isinstance(url, str):
        return None
    match = _POLICY.search(url)
    if match:
        return (match[1], match[2], match[3])
    relative = _RELATIVE.match(url)
    return (scope, relative[1], relative[2]) if relative else None


def policy_index(policies: Iterable[JSON], scope: str) -> dict[PolicyKey, JSON]:
    """The collected policies by full path (from `selfLink`, else `region` and `name`)."""
    index: dict[PolicyKey, JSON] = {}
    for policy in policies:
        key = policy_key(policy.get("selfLink"), scope)
        if key is None and isinstance(policy.get("region"), str) and policy.get("name"):
            key = (scope, last_segment(policy["region"]), str(policy["name"]))
        if key is not None:
            index[key] = policy
    return index


def is_schedule(policy: JSON) -> bool:
    return policy.get("snapshotSchedulePolicy") is not None


def policy_types(policy: JSON) -> str:
    """What a policy is, by its `*Policy` fields: `instanceSchedulePolicy`, or "no policy field"."""
    kinds = sorted(key for key, value in policy.items() if key.endswith("Policy") and value is not None)
    return ", ".join(kinds) or "no policy field"


@dataclass(frozen=True, slots=True)
class Attachment:
    """One entry of a disk's `resourcePolicies`, and the policy it names (None: dangling)."""

    index: int
    url: str
    key: PolicyKey | None  # None: not a resource policy URL
    policy: JSON | None

    @property
    def field(self) -> str:
        return f"resourcePolicies[{self.index}]"

    @property
    def name(self) -> str:
        return self.key[2] if self.key else last_segment(self.url)

    @property
    def path(self) -> str:
        return f"projects/{self.key[0]}/regions/{self.key[1]}/resourcePolicies/{self.key[2]}" if self.key else self.url


def attachments(disk: JSON, index: dict[PolicyKey, JSON], scope: str) -> list[Attachment]:
    """The disk's `resourcePolicies` entries, each resolved against the collected policies."""
    urls = disk.get("resourcePolicies")
    if urls is None:
        return []
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise Unjudgeable("resourcePolicies", f"{urls!r} is not a list of URLs")
    found = []
    for i, url in enumerate(urls):
        key = policy_key(url, scope)
        found.append(Attachment(i, url, key, index.get(key) if key else None))
    return found


def attached_schedules(disk: JSON, index: dict[PolicyKey, JSON], scope: str) -> list[tuple[str, JSON]]:
    """(name, policy) of every snapshot schedule attached to the disk, whatever its status."""
    return [
        (item.name, item.policy)
        for item in attachments(disk, index, scope)
        if item.policy is not None and is_schedule(item.policy)
    ]


def _object(parent: JSON, key: str, field: str) -> JSON:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise Unjudgeable(field, "absent" if value is None else f"{value!r} is not an object")
    return value


def _count(parent: JSON, key: str, field: str) -> int:
    value = parent.get(key)
    if isinstance(value, str) and value.isdigit():  # int32, but tolerate the int64 string form
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unjudgeable(field, "absent" if value is None else f"{value!r} is not a whole number")
    if value < 1:
        raise Unjudgeable(field, f"{value} is not a positive number")
    return value


def retention(policy: JSON) -> tuple[int, str | None]:
    """`retentionPolicy.maxRetentionDays` and `onSourceDiskDelete` (None when absent)."""
    schedule = _object(policy, "snapshotSchedulePolicy", "snapshotSchedulePolicy")
    kept = _object(schedule, "retentionPolicy", "retentionPolicy")
    days = _count(kept, "maxRetentionDays", "retentionPolicy.maxRetentionDays")
    on_delete = kept.get("onSourceDiskDelete")
    if on_delete is not None and not isinstance(on_delete, str):
        raise Unjudgeable("retentionPolicy.onSourceDiskDelete", f"{on_delete!r} is not a string")
    return days, on_delete


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often a schedule runs: its longest gap between two runs, described."""

    gap: timedelta
    how: str  # "every 6 hours (hourlySchedule.hoursInCycle 6)"
    where: str = ""  # for weekly schedules: " (from FRIDAY 02:00 to MONDAY 02:00)"


def cadence(policy: JSON) -> Cadence:
    """The longest gap between runs of a snapshot schedule; raises Unjudgeable if unreadable."""
    schedule = _object(_object(policy, "snapshotSchedulePolicy", "snapshotSchedulePolicy"), "schedule", "schedule")
    present = [kind for kind in _KINDS if schedule.get(kind) is not None]
    if len(present) != 1:
        what = "none" if not present else "several (" + ", ".join(present) + ")"
        raise Unjudgeable("schedule", f"has {what} of {', '.join(_KINDS)}")
    (kind,) = present
    body = _object(schedule, kind, f"schedule.{kind}")
    if kind == "hourlySchedule":
        hours = _count(body, "hoursInCycle", "hourlySchedule.hoursInCycle")
        return Cadence(timedelta(hours=hours), f"every {_plural(hours, 'hour')} (hourlySchedule.hoursInCycle {hours})")
    if kind == "dailySchedule":
        days = _count(body, "daysInCycle", "dailySchedule.daysInCycle")
        return Cadence(timedelta(days=days), f"every {_plural(days, 'day')} (dailySchedule.daysInCycle {days})")
    return _weekly(body)


def _weekly(body: JSON) -> Cadence:
    entries = body.get("dayOfWeeks")
    if not isinstance(entries, list) or not entries:
        raise Unjudgeable("weeklySchedule.dayOfWeeks", "absent" if entries is None else f"{entries!r} lists no day")
    runs: set[int] = set()  # minutes since MONDAY 00:00 UTC
    for i, entry in enumerate(entries):
        field = f"weeklySchedule.dayOfWeeks[{i}]"
        if not isinstance(entry, dict):
            raise Unjudgeable(field, f"{entry!r} is not an object")
        day, start = entry.get("day"), entry.get("startTime")
        if day not in DAYS:
            raise Unjudgeable(f"{field}.day", f"{day!r} is not a day of the week")
        clock = _START.match(start) if isinstance(start, str) else None
        if clock is None:
            raise Unjudgeable(f"{field}.startTime", f"{start!r} is not HH:MM")
        runs.add(DAYS.index(str(day)) * 24 * 60 + int(clock[1]) * 60 + int(clock[2]))
    ordered = sorted(runs)
    # Each run to the next, and the last round the week to the first (one run: a whole week).
    gaps = [(ordered[i], ordered[(i + 1) % len(ordered)]) for i in range(len(ordered))]
    start, end = max(gaps, key=lambda pair: (pair[1] - pair[0]) % _WEEK or _WEEK)
    minutes = (end - start) % _WEEK or _WEEK
    days = ", ".join(_when(run) for run in ordered)
    next_ = "the next " if minutes == _WEEK else ""
    return Cadence(
        timedelta(minutes=minutes),
        f"weekly on {days} (weeklySchedule.dayOfWeeks)",
        f" (from {_when(start)} to {next_}{_when(end)})",
    )


def _when(minute_of_week: int) -> str:
    day, minute = divmod(minute_of_week, 24 * 60)
    return f"{DAYS[day]} {minute // 60:02d}:{minute % 60:02d}"


def _plural(count: int, unit: str) -> str:
    return unit if count == 1 else f"{count} {unit}s"
