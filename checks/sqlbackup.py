"""Cloud SQL backup controls (BKP-05 to BKP-08): one result per instance.

A database's backups are judged where they are taken: on the primary. Replicas (read
replicas, read-pool nodes, legacy failover replicas) pass all four with "replica: backups
are taken on the primary". BKP-05 asks for automated backups, BKP-06 for point-in-time
recovery (binary logs on MySQL, `pointInTimeRecoveryEnabled` on PostgreSQL and SQL Server),
BKP-07 for a successful backup run no older than `backup.rpo_hours` (measured against
`snapshot.now`: the run's time, never the wall clock), BKP-08 for at least
`backup.min_retention_days` retained backups (one automated backup a day: a count is days).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from checks.backup import age_text
from checks.kernel import JSON, Judge, Judgement, Unjudgeable, parse_time
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.rules.cloudsql import (
    RUNS,
    backup_configuration,
    boolean,
    engine,
    engine_name,
    is_replica,
    per_instance,
    replica_note,
    shown,
)
from checks.snapshot import Kind, Snapshot

_UNIT = "Cloud SQL instance"
_KINDS = (Kind.SQL_INSTANCES,)
_REFS = References(soc2=("A1.2",))
_BACKUP = "settings.backupConfiguration"
#: retained backups when `backupRetentionSettings` (or its count) is absent: the API default
DEFAULT_RETAINED = 7
_COUNT_UNITS = frozenset({"COUNT", "RETENTION_UNIT_UNSPECIFIED"})
# How BKP-05..BKP-08 treat replicas (their `logic=` starts with it).
_REPLICAS = (
    "Every instance gets one result. A replica (`instanceType` READ_REPLICA_INSTANCE or READ_POOL_INSTANCE, or "
    "any instance naming its primary in `masterInstanceName`) passes as `replica: backups are taken on the "
    "primary`, whatever else it holds; a primary is judged."
)
_SETTINGS_UNKNOWN = " `settings` or `settings.backupConfiguration` is not an object"


def _primaries(snapshot: Snapshot, judge: Judge[JSON]) -> Iterator[Finding]:
    """One finding per instance: replicas pass, primaries are judged."""

    def each(instance: JSON, who: str) -> Judgement | None:
        if is_replica(instance):
            return Judgement(Verdict.PASS, f"{who}: {replica_note(instance)}")
        return judge(instance, who)

    return per_instance(snapshot.get(Kind.SQL_INSTANCES), snapshot.scope, each)


# --- BKP-05 -----------------------------------------------------------------------------------


def _automated(instance: JSON, who: str) -> Judgement:
    value = boolean(backup_configuration(instance), "enabled", f"{_BACKUP}.enabled")
    if value:
        return Judgement(Verdict.PASS, f"{who} takes automated backups ({_BACKUP}.enabled: true)")
    return Judgement(Verdict.FAIL, f"{who} takes no automated backups ({_BACKUP}.enabled: {shown(value)})")


@control(
    id="BKP-05", title="Cloud SQL automated backups are on", area=Area.BKP, severity=Severity.HIGH, kinds=_KINDS,
    unit=_UNIT, references=References(cis=(("4.0", "6.7"), ("5.0", "6.8")), soc2=("A1.2",)),
    rationale="Without automated backups a Cloud SQL instance has nothing to restore after a dropped table, "
    "a bad migration or a deleted instance: on-demand backups exist only when someone remembers to take "
    "them, and deleting the instance deletes them too.",
    remediation="Turn automated backups on, stored in the allowed region: `gcloud sql instances patch INSTANCE "
    "--backup-start-time=02:00 --backup-location=europe-west1`.",
    holds="Every primary Cloud SQL instance takes automated backups.",
    logic=_REPLICAS
    + " A primary passes when `settings.backupConfiguration.enabled` is true, and fails when it is false or "
    "absent, or when the instance has no `backupConfiguration` or no `settings` (no backups configured). "
    "Whether a backup actually ran is BKP-07's question.",
    unknown="An `error`, naming the field, for a primary whose" + _SETTINGS_UNKNOWN
    + ", or whose `enabled` is present but not a boolean; a listing that failed makes the whole control "
    "`error`.",
)
def bkp05_sql_backups(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a primary instance whose `settings.backupConfiguration.enabled` is not true."""
    return _primaries(snapshot, _automated)


# --- BKP-06 -----------------------------------------------------------------------------------


def _point_in_time(instance: JSON, who: str) -> Judgement:
    prefix = engine(instance)
    key = "binaryLogEnabled" if prefix == "MYSQL" else "pointInTimeRecoveryEnabled"
    value = boolean(backup_configuration(instance), key, f"{_BACKUP}.{key}")
    on = f"{engine_name(prefix)} ({instance['databaseVersion']}): {_BACKUP}.{key}: {shown(value)}"
    if value:
        return Judgement(Verdict.PASS, f"{who} can recover to a point in time, {on}")
    return Judgement(Verdict.FAIL, f"{who} cannot recover to a point in time, {on}")


@control(
    id="BKP-06", title="Cloud SQL can recover to a point in time", area=Area.BKP, severity=Severity.HIGH,
    kinds=_KINDS, unit=_UNIT, references=_REFS,
    rationale="A daily backup alone loses up to a day of orders, invoices or ledger entries. Point-in-time "
    "recovery (binary logs on MySQL, write-ahead logs on PostgreSQL, transaction logs on SQL Server) "
    "restores to the minute before the damage, which is what the recovery point objective promises.",
    remediation="Turn it on: MySQL `gcloud sql instances patch INSTANCE --enable-bin-log`; PostgreSQL and "
    "SQL Server `gcloud sql instances patch INSTANCE --enable-point-in-time-recovery`.",
    holds="Every primary Cloud SQL instance can be restored to a point in time.",
    logic=_REPLICAS
    + " The engine is the prefix of `databaseVersion`: on MySQL (`MYSQL_*`) "
    "`settings.backupConfiguration.binaryLogEnabled` decides, on PostgreSQL (`POSTGRES_*`) and SQL "
    "Server (`SQLSERVER_*`) `settings.backupConfiguration.pointInTimeRecoveryEnabled`; true passes, "
    "false or absent fails, and the other engine's flag does not count. Whether automated backups are on "
    "is BKP-05's question.",
    unknown="An `error`, naming the field, for a primary whose `databaseVersion` is absent or names no known "
    "engine (MYSQL_*, POSTGRES_*, SQLSERVER_*), whose" + _SETTINGS_UNKNOWN
    + ", or whose deciding flag is present but not a boolean; a listing that failed makes the whole "
    "control `error`.",
)
def bkp06_sql_point_in_time(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a primary instance without point-in-time recovery: MySQL (`databaseVersion` MYSQL_*)
    reads `binaryLogEnabled`, PostgreSQL and SQL Server `pointInTimeRecoveryEnabled`."""
    return _primaries(snapshot, _point_in_time)


# --- BKP-07 -----------------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment.utcoffset() == timedelta(0) else moment.isoformat()


def _recent(instance: JSON, who: str, now: datetime, rpo: float) -> Judgement:
    runs = instance.get(RUNS)
    if not isinstance(runs, list):
        raise Unjudgeable(RUNS, "not read: the instance's backup runs are unknown" if runs is None else
                          f"{runs!r} is not a list")  # fmt: skip
    dated: list[tuple[datetime, str]] = []
    notes: list[str] = []
    unreadable: list[str] = []
    others = 0
    for index, run in enumerate(runs):
        if not isinstance(run, dict):
            raise Unjudgeable(f"{RUNS}[{index}]", f"{run!r} is not a BackupRun")
        ident, end = str(run.get("id", index)), run.get("endTime")
        if run.get("status") != "SUCCESSFUL":
            others += 1
        elif end is None or end == "":
            notes.append(f"successful run {ident} is not counted: no endTime")
        elif (moment := parse_time(end)) is None:
            unreadable.append(f"run {ident} has an unreadable endTime {end!r}")
        else:
            dated.append((moment, ident))
    limit = f"backup.rpo_hours {rpo:g}"
    if others:
        notes.append(f"{others} run{'s' if others > 1 else ''} not SUCCESSFUL")
    extra = "".join(f"; {note}" for note in notes)
    if not dated:
        if unreadable:
            raise Unjudgeable(RUNS, "; ".join(unreadable) + extra)
        return Judgement(Verdict.FAIL, f"{who} has no successful backup run ({len(runs)} listed){extra}")
    moment, ident = max(dated)
    age, future = now - moment, ""
    if age < timedelta(0):
        age, future = timedelta(0), f", {age_text(moment - now)} after now: counted as age 0"
    newest = f"newest successful backup run {ident} ended {age_text(age)} ago (endTime {_when(moment)}{future})"
    if age <= timedelta(hours=rpo):
        return Judgement(Verdict.PASS, f"{who}: {newest} ≤ {limit}", ident)
    if unreadable:
        return Judgement(Verdict.ERROR, f"{who}: cannot judge: {newest} > {limit}, but {'; '.join(unreadable)}", ident)
    return Judgement(Verdict.FAIL, f"{who}: {newest} > {limit}{extra}", ident)


@control(
    id="BKP-07", title="Cloud SQL has a recent backup", area=Area.BKP, severity=Severity.HIGH, kinds=_KINDS,
    params=("backup.rpo_hours",), unit=_UNIT, references=_REFS,
    rationale="Backups that are switched on still fail: a maintenance window, a full disk, a quota, an "
    "instance stopped for weeks. The only proof that the recovery point objective holds is a backup run "
    "that succeeded, and ended no longer ago than the RPO.",
    remediation="Take a backup now and find why the automated ones did not: `gcloud sql backups create "
    "--instance=INSTANCE --location=europe-west1`, then `gcloud sql backups list --instance=INSTANCE` "
    "for the failed runs and their errors.",
    holds="Every primary Cloud SQL instance has a successful backup run that ended no longer ago than "
    "`backup.rpo_hours`.",
    logic=_REPLICAS
    + " A primary's backup runs are those the collector lists for it under `backupRuns`, automated and "
    "on-demand alike. Only runs with `status: SUCCESSFUL` and an `endTime` count; runs in any other "
    "status, and successful ones without `endTime`, are noted in the reason. The newest counted "
    "`endTime` is aged against the run's time (`now` of the snapshot, never the wall clock; an `endTime` "
    "after it counts as age 0): the instance passes when that age is at most `backup.rpo_hours` (default "
    "24), and fails when it is older or when no run counts.",
    unknown="An `error`, naming the field, for a primary whose `backupRuns` is absent (its runs were not read, "
    "so they are unknown) or not a list, or holds a run that is not an object; and an `error` when a "
    "successful run's `endTime` is not an RFC 3339 time with its offset, unless another counted run is "
    "within `backup.rpo_hours`. A listing that failed makes the whole control `error`.",
)
def bkp07_sql_recent_backup(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a primary instance whose newest SUCCESSFUL backup run ended longer than
    `backup.rpo_hours` before the run's time, or that has none; a run without `endTime` does not count."""
    now, rpo = snapshot.now, params.backup.rpo_hours
    return _primaries(snapshot, lambda instance, who: _recent(instance, who, now, rpo))


# --- BKP-08 -----------------------------------------------------------------------------------


def retained_backups(instance: JSON) -> tuple[int, str]:
    """How many automated backups the instance keeps, and where that number comes from."""
    where = f"{_BACKUP}.backupRetentionSettings"
    retention = backup_configuration(instance).get("backupRetentionSettings")
    if retention is None:
        return DEFAULT_RETAINED, f"{where} absent: the API default, {DEFAULT_RETAINED}"
    if not isinstance(retention, dict):
        raise Unjudgeable(where, f"{retention!r} is not an object")
    unit = retention.get("retentionUnit")
    if unit is not None and unit not in _COUNT_UNITS:
        raise Unjudgeable(f"{where}.retentionUnit", f"{unit!r} is not COUNT: the number cannot be read as backups")
    count = retention.get("retainedBackups")
    if count is None:
        return DEFAULT_RETAINED, f"{where}.retainedBackups absent: the API default, {DEFAULT_RETAINED}"
    if isinstance(count, str) and count.isdigit():
        count = int(count)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise Unjudgeable(f"{where}.retainedBackups", f"{count!r} is not a number of backups")
    return count, f"{where}.retainedBackups {count}"


@control(
    id="BKP-08", title="Cloud SQL keeps backups long enough", area=Area.BKP, severity=Severity.MEDIUM,
    kinds=_KINDS, params=("backup.min_retention_days",), unit=_UNIT, references=_REFS,
    rationale="Damage is often found days after it happens: corrupted rows, a slow ransomware, a bad "
    "deploy. Cloud SQL keeps a number of automated backups, one a day; keeping fewer than the agreed "
    "retention means the last good copy is already gone when it is needed.",
    remediation="Keep more automated backups: `gcloud sql instances patch INSTANCE --retained-backups-count=14`.",
    holds="Every primary Cloud SQL instance keeps at least `backup.min_retention_days` days of automated "
    "backups.",
    logic=_REPLICAS
    + " The number kept is `settings.backupConfiguration.backupRetentionSettings.retainedBackups` (a whole "
    "number, or its string form), read as days since automated backups are taken once a day; with the "
    "settings or the count absent it is the API default, 7. The primary passes when that number is at "
    "least `backup.min_retention_days` (default 7) and fails below it. Whether backups are on is "
    "BKP-05's question (an instance with backups off is judged by its retention setting all the same), "
    "and `transactionLogRetentionDays` is not read.",
    unknown="An `error`, naming the field, for a primary whose" + _SETTINGS_UNKNOWN
    + ", whose `backupRetentionSettings` is not an object, whose `retentionUnit` is present and neither "
    "COUNT nor RETENTION_UNIT_UNSPECIFIED (the number could not be read as backups), or whose "
    "`retainedBackups` is a boolean, text that is not a whole number, or negative; a listing that failed "
    "makes the whole control `error`.",
)
def bkp08_sql_retention(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a primary instance retaining fewer automated backups (one a day, so days) than
    `backup.min_retention_days`; absent retention settings are the API default, 7."""
    minimum = params.backup.min_retention_days

    def judge(instance: JSON, who: str) -> Judgement:
        count, where = retained_backups(instance)
        days = "1 day" if count == 1 else f"{count} days"
        if count >= minimum:
            return Judgement(Verdict.PASS, f"{who} keeps {days} of backups ({where} ≥ backup.min_retention_days "
                             f"{minimum})")  # fmt: skip
        return Judgement(Verdict.FAIL, f"{who} keeps {days} of backups ({where} < backup.min_retention_days "
                         f"{minimum})")  # fmt: skip

    return _primaries(snapshot, judge)
