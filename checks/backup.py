"""Backup controls (BKP-01 to BKP-04), as the README's controls table states them: one result per in-scope disk.

In scope: disks whose `labels` hold every equality of `backup.disk_selector` (empty: every
disk). BKP-01 asks for a READY snapshot schedule among the disk's `resourcePolicies` (URLs
matched by full path, see `checks.rules.schedules`); BKP-02 for a READY snapshot of this very disk
no older than `backup.rpo_hours`; BKP-03 and BKP-04 judge every snapshot schedule attached
to the disk (whatever its status: BKP-01 judges readiness), and pass a disk with none
"no schedule attached (see BKP-01)".

A snapshot is of a disk when its `sourceDiskId` equals the disk's `id`; only a snapshot
without `sourceDiskId` is matched by its `sourceDisk` URL (full path). A snapshot whose
`sourceDisk` names the disk but whose `sourceDiskId` differs is of an earlier disk of the
same name: not a backup of this one. Ages are measured against `snapshot.now`; a
`creationTimestamp` after it counts as age 0, and the reason says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from checks.kernel import JSON, Judge, Judgement, Unjudgeable, parse_time, per_resource, read_each
from checks.model import Area, Finding, Severity, Verdict
from checks.names import last_segment
from checks.params import Params
from checks.registry import References, control
from checks.rules.schedules import (
    KEEP,
    Attachment,
    attached_schedules,
    attachments,
    cadence,
    is_schedule,
    policy_index,
    policy_types,
    retention,
)
from checks.snapshot import Kind, Snapshot

_DISK = re.compile(r"(?:^|/)projects/([^/]+)/(zones|regions)/([^/]+)/disks/([^/?#]+)/?$")
_RELATIVE_DISK = re.compile(r"^(zones|regions)/([^/]+)/disks/([^/?#]+)/?$")
_NO_SCHEDULE = "no schedule attached (see BKP-01)"
# The disks BKP-01..BKP-04 judge, and how a disk's `resourcePolicies` URLs resolve (their `logic=` starts with it).
_IN_SCOPE = (
    "In scope: disks whose `labels` hold every key and exact value of `backup.disk_selector` (empty by default: "
    "every disk); other disks get no result."
)
_ATTACHED = (
    " The disk's `resourcePolicies[]` URLs name a resource policy by its full path "
    "`projects/P/regions/R/resourcePolicies/N` (host and API version ignored; a relative "
    "`regions/R/resourcePolicies/N` is in the scope's project; a policy of the same name in another region or "
    "project is another policy), resolved against the collected resource policies."
)
_SCHEDULES = (
    " The schedules judged are the attached policies that have a `snapshotSchedulePolicy`, whatever their "
    "`status` (readiness is BKP-01's); a dangling URL or another kind of policy is not one, and a disk without "
    "any passes as `no schedule attached (see BKP-01)`. The disk fails when any schedule fails (the reason names "
    "each), is `error` when none fails but one cannot be read, and passes otherwise."
)
_DISK_UNKNOWN = (
    "An `error`, naming the field, for a disk whose `labels` is not an object while `backup.disk_selector` is "
    "set, or whose `resourcePolicies` is not a list of strings"
)


# --- disks in scope --------------------------------------------------------------------------


def _in_scope(disk: JSON, selector: dict[str, str]) -> bool:
    if not selector:
        return True
    labels = disk.get("labels") or {}
    if not isinstance(labels, dict):
        raise Unjudgeable("labels", f"{labels!r} is not an object: cannot match backup.disk_selector")
    return all(labels.get(key) == value for key, value in selector.items())


def _per_disk(snapshot: Snapshot, params: Params, judge: Judge[JSON]) -> Iterator[Finding]:
    """One finding per in-scope disk; data that cannot be read gives `error`, never a pass."""
    selector = params.backup.disk_selector

    def in_scope(disk: JSON, who: str) -> Judgement | None:
        return judge(disk, who) if _in_scope(disk, selector) else None

    return per_resource(snapshot.get(Kind.DISKS), snapshot.scope, "disks", "disk", in_scope)


def _num(value: float) -> str:
    return f"{value:g}"


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


# --- BKP-01 -----------------------------------------------------------------------------------


def _why_not(item: Attachment) -> str:
    """Why one attached resource policy is not a READY snapshot schedule."""
    if item.key is None:
        return f"{item.field} {item.url!r} is not a resource policy URL"
    if item.policy is None:
        return f"{item.field} {item.name} is dangling: there is no resource policy {item.path}"
    if not is_schedule(item.policy):
        has = policy_types(item.policy)
        return f"{item.field} {item.name} is not a snapshot schedule (no snapshotSchedulePolicy; has {has})"
    status = item.policy.get("status")
    return f"{item.field} {item.name} is a snapshot schedule with " + (f"status: {status}" if status else "no status")


@control(
    id="BKP-01", title="Every in-scope disk has a snapshot schedule", area=Area.BKP, severity=Severity.HIGH,
    kinds=(Kind.DISKS, Kind.RESOURCE_POLICIES), params=("backup.disk_selector",), unit="disk",
    references=References(soc2=("A1.2", "CC9.1")),
    rationale="A disk without a snapshot schedule is backed up only when someone remembers to: after a "
    "deleted disk, a ransomware encryption or a bad migration there is nothing recent to restore. An "
    "attached schedule that was deleted (a dangling URL), is not a snapshot schedule, or is not READY "
    "takes no snapshots either.",
    remediation="Attach a READY snapshot schedule to the disk: `gcloud compute disks add-resource-policies "
    "DISK --resource-policies=POLICY --zone=ZONE` (create one first if needed: `gcloud compute "
    "resource-policies create snapshot-schedule POLICY --region=europe-west1 --daily-schedule "
    "--start-time=02:00 --max-retention-days=14 --storage-location=europe-west1`).",
    holds="Every in-scope disk has a READY snapshot schedule attached.",
    logic=_IN_SCOPE + _ATTACHED
    + " The disk passes when one of them names a collected policy with a `snapshotSchedulePolicy` and "
    "`status: READY`. It fails when `resourcePolicies` is absent or empty, or when none does, the reason "
    "saying why for each: a URL that names no resource policy, a dangling one (no such policy collected: "
    "deleted, or in a project not collected), a policy that is not a snapshot schedule (an "
    "`instanceSchedulePolicy`, ...), or a schedule whose `status` is not READY (CREATING, EXPIRED, "
    "DELETING, ...). Whether the schedule took snapshots is BKP-02's question.",
    unknown=_DISK_UNKNOWN
    + ", and for a disk with no READY schedule where an attached snapshot schedule has no `status` at all; "
    "a listing that failed makes the whole control `error`.",
)
def bkp01_schedule(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an in-scope disk none of whose `resourcePolicies` URLs names a collected resource
    policy with a `snapshotSchedulePolicy` and `status: READY`; the reason says why each does not."""
    index = policy_index(snapshot.get(Kind.RESOURCE_POLICIES), snapshot.scope)

    def judge(disk: JSON, who: str) -> Judgement:
        attached = attachments(disk, index, snapshot.scope)
        if not attached:
            state = "resourcePolicies absent" if disk.get("resourcePolicies") is None else "resourcePolicies: []"
            return Judgement(Verdict.FAIL, f"{who} has no resource policy attached ({state})")
        for item in attached:
            if item.policy is not None and is_schedule(item.policy) and item.policy.get("status") == "READY":
                reason = f"{who} has snapshot schedule {item.name} ({item.field}, status: READY)"
                return Judgement(Verdict.PASS, reason, item.name)
        subject = ", ".join(item.name for item in attached)
        reasons = "; ".join(_why_not(item) for item in attached)
        unknown = [i for i in attached if i.policy is not None and is_schedule(i.policy) and not i.policy.get("status")]
        if unknown:
            return Judgement(Verdict.ERROR, f"{who}: cannot judge status of snapshot schedule: {reasons}", subject)
        return Judgement(Verdict.FAIL, f"{who} has no READY snapshot schedule attached: {reasons}", subject)

    return _per_disk(snapshot, params, judge)


# --- BKP-02 -----------------------------------------------------------------------------------


def _disk_key(url: object, scope: str) -> tuple[str, str, str, str] | None:
    """(project, zones|regions, location, name) named by a disk URL or relative path."""
    if not isinstance(url, str):
        return None
    match = _DISK.search(url)
    if match:
        return (match[1], match[2], match[3], match[4])
    relative = _RELATIVE_DISK.match(url)
    return (scope, relative[1], relative[2], relative[3]) if relative else None


def _own_key(disk: JSON, scope: str) -> tuple[str, str, str, str] | None:
    key = _disk_key(disk.get("selfLink"), scope)
    for field in ("zone", "region"):
        if key is None and isinstance(disk.get(field), str) and disk.get("name"):
            key = (scope, field + "s", last_segment(str(disk[field])), str(disk["name"]))
    return key


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def age_text(age: timedelta) -> str:
    """`3d9h59m39s`, `9h`, `0s`: whole seconds, zero parts left out."""
    seconds = int(age.total_seconds())
    days, rest = divmod(seconds, 86400)
    parts = [(days, "d"), (rest // 3600, "h"), (rest % 3600 // 60, "m"), (rest % 60, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


class _SnapshotsByDisk:
    """The scope's snapshots indexed once by `sourceDiskId` and by the disk their `sourceDisk`
    names, so each disk reads only the few that may be its own (not every snapshot, each URL
    parsed again, for every disk)."""

    def __init__(self, snapshots: tuple[JSON, ...], scope: str) -> None:
        self.scope = scope
        self._by_id: dict[str, list[int]] = {}
        self._by_key: dict[tuple[str, str, str, str], list[int]] = {}
        self._keyed: list[tuple[JSON, tuple[str, str, str, str] | None]] = []
        for position, snap in enumerate(snapshots):
            key = _disk_key(snap.get("sourceDisk"), scope)
            self._keyed.append((snap, key))
            source_id = snap.get("sourceDiskId")
            if source_id is not None and source_id != "":
                self._by_id.setdefault(str(source_id), []).append(position)
            if key is not None:
                self._by_key.setdefault(key, []).append(position)

    def candidates(self, disk_id: str, key: tuple[str, str, str, str] | None) -> list[tuple[JSON, bool]]:
        """The snapshots naming this disk by id or by URL, in listing order, each with whether its URL names it."""
        positions = set(self._by_id.get(disk_id, ()))
        if key is not None:
            positions.update(self._by_key.get(key, ()))
        return [(self._keyed[p][0], key is not None and self._keyed[p][1] == key) for p in sorted(positions)]


def _judge_freshness(disk: JSON, who: str, snapshots: _SnapshotsByDisk, now: datetime, rpo: float) -> Judgement:
    disk_id = disk.get("id")
    if not isinstance(disk_id, str | int) or isinstance(disk_id, bool) or str(disk_id) == "":
        raise Unjudgeable("id", "absent: its snapshots cannot be told from those of an earlier disk of the same name")
    disk_id, key = str(disk_id), _own_key(disk, snapshots.scope)
    mine: list[tuple[JSON, str]] = []
    notes: list[str] = []
    for snap, by_url in snapshots.candidates(disk_id, key):
        source_id, name = snap.get("sourceDiskId"), snap.get("name", "?")
        if source_id is not None and source_id != "":
            if str(source_id) == disk_id:
                mine.append((snap, f"sourceDiskId {disk_id}"))
            elif by_url:
                notes.append(f"snapshot {name} names it in sourceDisk but is of an earlier disk of the same name "
                             f"(sourceDiskId {source_id}, not id {disk_id})")  # fmt: skip
        elif by_url:
            mine.append((snap, "sourceDisk, no sourceDiskId"))
    dated: list[tuple[datetime, JSON, str]] = []
    unreadable: list[str] = []
    for snap, how in mine:
        name, status, stamp = snap.get("name", "?"), snap.get("status"), snap.get("creationTimestamp")
        if status != "READY":
            notes.append(f"snapshot {name} is not counted: " + (f"status: {status}" if status else "no status"))
        elif stamp is None or stamp == "":
            notes.append(f"snapshot {name} is not counted: no creationTimestamp")
        elif (when := parse_time(stamp)) is None:
            unreadable.append(f"snapshot {name} has an unreadable creationTimestamp {stamp!r}")
        else:
            dated.append((when, snap, how))
    limit = f"backup.rpo_hours {_num(rpo)}"
    extra = "".join(f"; {note}" for note in notes)
    if not dated:
        if unreadable:
            return Judgement(Verdict.ERROR, f"{who}: cannot judge its newest backup: {'; '.join(unreadable)}{extra}")
        if not mine:
            reason = f"{who} has no snapshot of its own (none with sourceDiskId {disk_id}){extra}"
            return Judgement(Verdict.FAIL, reason)
        return Judgement(Verdict.FAIL, f"{who} has no READY snapshot with a creationTimestamp{extra}")
    when, snap, how = max(dated, key=lambda item: item[0])
    name, age = str(snap.get("name", "?")), now - when
    future = ""
    if age < timedelta(0):
        future = f", {age_text(-age)} after now: counted as age 0"
        age = timedelta(0)
    newest = (f"newest READY snapshot {name} ({how}) is {age_text(age)} old "
              f"(creationTimestamp {_utc(when)}{future})")  # fmt: skip
    if age <= timedelta(hours=rpo):
        return Judgement(Verdict.PASS, f"{who}: {newest} ≤ {limit}", name)
    if unreadable:
        reason = f"{who}: cannot judge: {newest} > {limit}, but {'; '.join(unreadable)}{extra}"
        return Judgement(Verdict.ERROR, reason, name)
    return Judgement(Verdict.FAIL, f"{who}: {newest} > {limit}{extra}", name)


@control(
    id="BKP-02", title="Every in-scope disk has a recent backup", area=Area.BKP, severity=Severity.HIGH,
    kinds=(Kind.DISKS, Kind.SNAPSHOTS), params=("backup.rpo_hours", "backup.disk_selector"), unit="disk",
    references=References(soc2=("A1.2",)),
    rationale="A schedule is a promise; the snapshot is the backup. Schedules fail silently (a quota, a "
    "detached policy, a disk recreated under the same name), so the only proof that the recovery point "
    "objective holds is a READY snapshot of this very disk, no older than the RPO, taken from it rather "
    "than from a predecessor that happened to share its name.",
    remediation="Take a snapshot now and find why the schedule did not: `gcloud compute snapshots create "
    "SNAPSHOT --source-disk=DISK --source-disk-zone=ZONE --storage-location=europe-west1`, then check "
    "the schedule with `gcloud compute disks describe DISK --zone=ZONE --format='value(resourcePolicies)'`.",
    holds="Every in-scope disk has a READY snapshot of itself no older than `backup.rpo_hours`.",
    logic=_IN_SCOPE
    + " A snapshot is the disk's own when its `sourceDiskId` equals the disk's `id`; only a snapshot "
    "without `sourceDiskId` (absent or empty) is matched by its `sourceDisk` URL against the disk's full "
    "path (from its `selfLink`, else its `zone` or `region` and `name`; a relative path is in the "
    "scope's project). A snapshot whose `sourceDisk` names the disk but whose `sourceDiskId` differs is "
    "of an earlier disk of the same name: noted, not counted. Of its own snapshots only those with "
    "`status: READY` and a `creationTimestamp` count (the others are noted). The newest by "
    "`creationTimestamp` is aged against the run's time (`now` of the snapshot, never the wall clock; a "
    "timestamp after it counts as age 0, and the reason says so): the disk passes when that age is at "
    "most `backup.rpo_hours` (default 24), and fails when it is older or when no snapshot counts. Where "
    "the snapshot is stored is REG-05's question.",
    unknown="An `error`, naming the field, for a disk whose `id` is absent, empty or neither a string nor a "
    "number (its snapshots could not be told from an earlier disk's), or whose `labels` is not an object "
    "while `backup.disk_selector` is set; and an `error` when a READY snapshot of its own has a "
    "`creationTimestamp` that is not an RFC 3339 time with its offset, unless another counted snapshot "
    "is within `backup.rpo_hours`. A listing that failed makes the whole control `error`.",
)
def bkp02_recent_backup(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an in-scope disk whose newest READY snapshot of itself (by `sourceDiskId`, or
    `sourceDisk` when no id is given) is older than `backup.rpo_hours`, or that has none."""
    snapshots = _SnapshotsByDisk(snapshot.get(Kind.SNAPSHOTS), snapshot.scope)
    rpo = params.backup.rpo_hours
    return _per_disk(snapshot, params, lambda disk, who: _judge_freshness(disk, who, snapshots, snapshot.now, rpo))


# --- BKP-03 and BKP-04: the attached schedules -------------------------------------------------


def _per_schedule(
    snapshot: Snapshot, params: Params, judge: Callable[[str, JSON], tuple[bool, str]]
) -> Iterator[Finding]:
    """One finding per in-scope disk from `judge(name, policy) -> (holds, reason)` on each attached
    schedule: fail if any does not hold; error if one cannot be read and none fails."""
    index = policy_index(snapshot.get(Kind.RESOURCE_POLICIES), snapshot.scope)

    def per_disk(disk: JSON, who: str) -> Judgement:
        schedules = attached_schedules(disk, index, snapshot.scope)
        if not schedules:
            return Judgement(Verdict.PASS, f"{who}: {_NO_SCHEDULE}")
        held: list[tuple[str, str]] = []
        failed: list[tuple[str, str]] = []
        broken: list[tuple[str, str]] = []
        for (name, _), judged in read_each(schedules, lambda schedule: judge(*schedule)):
            if isinstance(judged, Unjudgeable):
                broken.append((name, judged.reason(f"schedule {name}")))
            else:
                holds, reason = judged
                (held if holds else failed).append((name, f"schedule {name} {reason}"))
        if failed:
            verdict, shown = Verdict.FAIL, failed + broken
        elif broken:
            verdict, shown = Verdict.ERROR, broken
        else:
            verdict, shown = Verdict.PASS, held
        reason = f"{who}: " + "; ".join(why for _, why in shown)
        return Judgement(verdict, reason, ", ".join(name for name, _ in shown))

    return _per_disk(snapshot, params, per_disk)


@control(
    id="BKP-03", title="Snapshot schedules keep backups long enough", area=Area.BKP, severity=Severity.MEDIUM,
    kinds=(Kind.DISKS, Kind.RESOURCE_POLICIES), params=("backup.min_retention_days", "backup.disk_selector"),
    unit="disk", references=References(soc2=("A1.2",)),
    rationale="Damage is often found days after it happens: corrupted data, a slow ransomware, a bad "
    "deploy. Snapshots kept for too short a time are already rotated out by then, and with "
    "APPLY_RETENTION_POLICY the scheduled snapshots also age away after the disk is deleted, which is "
    "exactly when they are needed most.",
    remediation="Create a schedule that keeps snapshots at least `backup.min_retention_days` days and "
    "keeps them when the disk is deleted, and attach it instead: `gcloud compute resource-policies create "
    "snapshot-schedule POLICY --region=REGION --daily-schedule --start-time=02:00 --max-retention-days=14 "
    "--on-source-disk-delete=keep-auto-snapshots`, then `gcloud compute disks remove-resource-policies "
    "DISK --resource-policies=OLD --zone=ZONE` and `gcloud compute disks add-resource-policies DISK "
    "--resource-policies=POLICY --zone=ZONE`.",
    holds="Every snapshot schedule attached to an in-scope disk keeps snapshots at least "
    "`backup.min_retention_days` days, and keeps them after the disk is deleted.",
    logic=_IN_SCOPE + _ATTACHED + _SCHEDULES
    + " A schedule holds when its `snapshotSchedulePolicy.retentionPolicy.maxRetentionDays` (a whole "
    "number, or its string form) is at least `backup.min_retention_days` (default 7) and its "
    "`retentionPolicy.onSourceDiskDelete` is absent (the API default keeps the snapshots) or "
    "KEEP_AUTO_SNAPSHOTS; any other value (APPLY_RETENTION_POLICY, UNSPECIFIED_ON_SOURCE_DISK_DELETE, "
    "...) fails, as does a shorter retention.",
    unknown=_DISK_UNKNOWN
    + "; for a disk whose attached schedules do not fail, also when one has `snapshotSchedulePolicy` or "
    "`retentionPolicy` absent or not an object, `maxRetentionDays` absent, not a whole number or below "
    "1, or `onSourceDiskDelete` not a string. A listing that failed makes the whole control `error`.",
)
def bkp03_retention(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an in-scope disk with an attached schedule keeping snapshots fewer than
    `backup.min_retention_days` days, or with `onSourceDiskDelete` other than absent or KEEP_AUTO_SNAPSHOTS."""
    minimum = params.backup.min_retention_days

    def judge(name: str, policy: JSON) -> tuple[bool, str]:
        days, on_delete = retention(policy)
        bad = []
        if days < minimum:
            bad.append(f"keeps snapshots {_days(days)} (retentionPolicy.maxRetentionDays {days} "
                       f"< backup.min_retention_days {minimum})")  # fmt: skip
        if on_delete not in (None, KEEP):
            bad.append(f"lets them expire after the disk is deleted (onSourceDiskDelete: {on_delete}, "
                       f"not {KEEP})")  # fmt: skip
        if bad:
            return False, " and ".join(bad)
        kept = f"onSourceDiskDelete: {KEEP}" if on_delete else "onSourceDiskDelete absent: the API default keeps them"
        return True, (f"keeps snapshots {_days(days)} (retentionPolicy.maxRetentionDays {days} ≥ "
                      f"backup.min_retention_days {minimum}), also after the disk is deleted ({kept})")  # fmt: skip

    return _per_schedule(snapshot, params, judge)


@control(
    id="BKP-04", title="Schedules run at least as often as the RPO", area=Area.BKP, severity=Severity.MEDIUM,
    kinds=(Kind.DISKS, Kind.RESOURCE_POLICIES), params=("backup.rpo_hours", "backup.disk_selector"), unit="disk",
    references=References(soc2=("A1.2",)),
    rationale="A schedule that runs less often than the recovery point objective guarantees that, just "
    "before its next run, the newest backup is already older than the business agreed to lose: a weekly "
    "schedule under a 24-hour RPO breaks the promise six days out of seven, even when every run succeeds.",
    remediation="Attach a schedule whose period fits the RPO instead: `gcloud compute resource-policies "
    "create snapshot-schedule POLICY --region=REGION --hourly-schedule=6 --start-time=00:00 "
    "--max-retention-days=14`, then `gcloud compute disks remove-resource-policies DISK "
    "--resource-policies=OLD --zone=ZONE` and `gcloud compute disks add-resource-policies DISK "
    "--resource-policies=POLICY --zone=ZONE`.",
    holds="Every snapshot schedule attached to an in-scope disk runs at least once every `backup.rpo_hours`.",
    logic=_IN_SCOPE + _ATTACHED + _SCHEDULES
    + " A schedule holds when its longest gap between runs is at most `backup.rpo_hours` (default 24). The "
    "gap is read from `snapshotSchedulePolicy.schedule`, which must hold exactly one of: "
    "`hourlySchedule.hoursInCycle` hours (taken as running round the clock), `dailySchedule.daysInCycle` "
    "days, or a `weeklySchedule`, whose gap is the longest time between two consecutive runs of its "
    "`dayOfWeeks[]`, each `day` at its `startTime` (`HH:MM`, UTC), wrapping round the week (one run a "
    "week is a 168-hour gap). The `duration` window within which Google starts a run is not added: a "
    "late run shows in the snapshot's age (BKP-02).",
    unknown=_DISK_UNKNOWN
    + "; for a disk whose attached schedules do not fail, also when one has `snapshotSchedulePolicy` or "
    "`schedule` absent or not an object, none or several of `hourlySchedule`, `dailySchedule` and "
    "`weeklySchedule`, `hoursInCycle` or `daysInCycle` absent, not a whole number or below 1, or "
    "`dayOfWeeks` absent, empty or holding an entry that is not an object, whose `day` is not a day of "
    "the week or whose `startTime` is not `HH:MM`. A listing that failed makes the whole control "
    "`error`.",
)
def bkp04_frequency(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an in-scope disk with an attached schedule whose longest gap between runs (hours in
    cycle, days in cycle, or between consecutive weekly days at their start times) exceeds
    `backup.rpo_hours`; an unreadable schedule is an error."""
    rpo = params.backup.rpo_hours

    def judge(name: str, policy: JSON) -> tuple[bool, str]:
        runs = cadence(policy)
        hours = runs.gap / timedelta(hours=1)
        holds = hours <= rpo
        sign = "≤" if holds else ">"
        return holds, f"runs {runs.how}: longest gap {_num(hours)}h {sign} backup.rpo_hours {_num(rpo)}{runs.where}"

    return _per_schedule(snapshot, params, judge)
