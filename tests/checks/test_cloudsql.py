"""The Cloud SQL controls (BKP-05..08, FW-11, FW-12, DATA-01, REG-07) and their metadata, one row
per case in the SQL Admin v1 REST shape (DatabaseInstance, BackupRun).

`now` is 2026-11-25T12:00:00Z (tests.builders.NOW); the defaults are backup.rpo_hours 24,
backup.min_retention_days 7 and region.allowed [europe-west1]. The instance `db` of every row
starts as a tidy PostgreSQL primary in Belgium and each row changes what it is about.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from checks import default_registry, sqlaccess, sqlbackup, sqlregion
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import Control
from checks.rules.cloudsql import REPLICA, is_replica
from checks.snapshot import Kind, KindData, Snapshot
from monitor.run.runner import run_control
from tests.builders import NOW, make_snapshot
from tests.checks.catalogue import CLOUD_SQL

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
ANY = "…"  # a row that checks verdict and subject only
RESOURCE = "//cloudsql.googleapis.com/projects/shop-prod/instances/db"
BACKUP = "settings.backupConfiguration"
IP = "settings.ipConfiguration"
DROP = object()  # a field the row removes

BASE: dict[str, Any] = {
    "kind": "sql#instance",
    "name": "db",
    "project": "shop-prod",
    "databaseVersion": "POSTGRES_15",
    "instanceType": "CLOUD_SQL_INSTANCE",
    "state": "RUNNABLE",
    "region": "europe-west1",
    "gceZone": "europe-west1-b",
    "ipAddresses": [{"type": "PRIVATE", "ipAddress": "10.20.0.3"}],
    "settings": {
        "kind": "sql#settings",
        "tier": "db-custom-2-7680",
        "backupConfiguration": {
            "kind": "sql#backupConfiguration",
            "enabled": True,
            "startTime": "02:00",
            "location": "europe-west1",
            "pointInTimeRecoveryEnabled": True,
            "backupRetentionSettings": {"retentionUnit": "COUNT", "retainedBackups": 14},
        },
        "ipConfiguration": {
            "ipv4Enabled": False,
            "privateNetwork": "projects/shop-prod/global/networks/shop-vpc",
            "sslMode": "ENCRYPTED_ONLY",
            "requireSsl": True,
        },
    },
}


def instance(backup: dict[str, Any] | None = None, ip: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """`BASE` with fields set (DROP removes one); `backup` and `ip` update the two settings objects."""
    raw = copy.deepcopy(BASE)
    for part, changes in (("backupConfiguration", backup), ("ipConfiguration", ip)):
        for key, value in (changes or {}).items():
            raw["settings"][part][key] = value
        raw["settings"][part] = {k: v for k, v in raw["settings"][part].items() if v is not DROP}
    raw.update(fields)
    return {key: value for key, value in raw.items() if value is not DROP}


def run(ident: str, end: Any = "2026-11-25T02:10:00Z", status: str = "SUCCESSFUL", **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "kind": "sql#backupRun",
        "id": ident,
        "instance": "db",
        "status": status,
        "type": "AUTOMATED",
        "location": "europe-west1",
        "startTime": "2026-11-25T02:00:00Z",
        "endTime": end,
    }
    raw.update(fields)
    return {key: value for key, value in raw.items() if value is not DROP}


FRESH = [run("1764036000000")]


def findings(control: Control, instances: list[dict[str, Any]], runs: list[dict[str, Any]] | None = None,
             params: dict[str, Any] | None = None, now: Any = NOW) -> list[Finding]:  # fmt: skip
    snapshot = make_snapshot({"sql": {"instances": instances, "backupRuns": FRESH if runs is None else runs}}, now=now)
    return list(control(snapshot, Params.model_validate(params or {})))


def only(control: Control, raw: dict[str, Any], runs: list[dict[str, Any]] | None = None,
         params: dict[str, Any] | None = None) -> Finding:  # fmt: skip
    (found,) = findings(control, [raw], runs, params)
    assert found.resource == RESOURCE
    return found


def check(found: Finding, verdict: Verdict, subject: str, reason: str) -> None:
    assert (found.verdict, found.subject) == (verdict, subject), found.reason
    assert reason == ANY or found.reason == reason


# --- replicas -----------------------------------------------------------------------------------

REPLICAS = {
    "read-replica": {"instanceType": "READ_REPLICA_INSTANCE", "masterInstanceName": "shop-prod:db-main"},
    "read-pool": {"instanceType": "READ_POOL_INSTANCE", "masterInstanceName": "shop-prod:db-main"},
    "legacy-failover": {"instanceType": "CLOUD_SQL_INSTANCE", "masterInstanceName": "shop-prod:db-main"},
}
BACKUP_IDS = ["BKP-05", "BKP-06", "BKP-07", "BKP-08"]


@pytest.mark.parametrize("control_id", BACKUP_IDS)
@pytest.mark.parametrize("fields", REPLICAS.values(), ids=REPLICAS.keys())
def test_replicas_pass_the_backup_controls(control_id: str, fields: dict[str, Any]) -> None:
    """No backups of their own (every backup field absent, no runs read): they are the primary's."""
    replica = instance(**fields)
    replica["settings"]["backupConfiguration"] = {"enabled": False}
    assert is_replica(replica)
    found = only(default_registry().get(control_id), replica, runs=[])
    assert found.verdict is PASS and found.reason.startswith(f"instance db: {REPLICA} ("), found.reason
    assert "shop-prod:db-main" in found.reason


def test_a_primary_is_not_a_replica() -> None:
    assert not is_replica(instance()) and not is_replica(instance(instanceType=DROP))


# --- BKP-05 -------------------------------------------------------------------------------------

BKP05: dict[str, tuple[dict[str, Any], Verdict, str, str]] = {
    "enabled": ({}, PASS, "", f"instance db takes automated backups ({BACKUP}.enabled: true)"),
    "disabled": ({"backup": {"enabled": False}}, FAIL, "",
                 f"instance db takes no automated backups ({BACKUP}.enabled: false)"),
    "enabled-absent": ({"backup": {"enabled": DROP}}, FAIL, "",
                       f"instance db takes no automated backups ({BACKUP}.enabled: absent)"),
    "no-backup-configuration": ({"settings": {"tier": "db-f1-micro"}}, FAIL, "",
                                f"instance db takes no automated backups ({BACKUP}.enabled: absent)"),
    "not-a-boolean": ({"backup": {"enabled": "true"}}, ERROR, f"{BACKUP}.enabled", ANY),
    "configuration-not-an-object": ({"settings": {"backupConfiguration": []}}, ERROR, BACKUP, ANY),
    "settings-not-an-object": ({"settings": "db-f1-micro"}, ERROR, "settings", ANY),
}


@pytest.mark.parametrize(("row", "verdict", "subject", "reason"), BKP05.values(), ids=BKP05.keys())
def test_bkp05(row: dict[str, Any], verdict: Verdict, subject: str, reason: str) -> None:
    check(only(sqlbackup.bkp05_sql_backups, instance(**row)), verdict, subject, reason)


# --- BKP-06 -------------------------------------------------------------------------------------

PITR = f"{BACKUP}.pointInTimeRecoveryEnabled"
BINLOG = f"{BACKUP}.binaryLogEnabled"
BKP06: dict[str, tuple[dict[str, Any], Verdict, str, str]] = {
    "postgres-on": ({}, PASS, "",
                    f"instance db can recover to a point in time, PostgreSQL (POSTGRES_15): {PITR}: true"),
    "postgres-off": ({"backup": {"pointInTimeRecoveryEnabled": False}}, FAIL, "",
                     f"instance db cannot recover to a point in time, PostgreSQL (POSTGRES_15): {PITR}: false"),
    "postgres-absent": ({"backup": {"pointInTimeRecoveryEnabled": DROP}}, FAIL, "",
                        f"instance db cannot recover to a point in time, PostgreSQL (POSTGRES_15): {PITR}: absent"),
    "postgres-binlog-is-not-pitr": ({"backup": {"pointInTimeRecoveryEnabled": DROP, "binaryLogEnabled": True}},
                                    FAIL, "", ANY),
    "mysql-binlog": ({"databaseVersion": "MYSQL_8_0", "backup": {"binaryLogEnabled": True,
                                                                 "pointInTimeRecoveryEnabled": DROP}}, PASS, "",
                     f"instance db can recover to a point in time, MySQL (MYSQL_8_0): {BINLOG}: true"),
    "mysql-pitr-flag-is-not-binlog": ({"databaseVersion": "MYSQL_5_7"}, FAIL, "",
                                      f"instance db cannot recover to a point in time, MySQL (MYSQL_5_7): "
                                      f"{BINLOG}: absent"),
    "sqlserver-on": ({"databaseVersion": "SQLSERVER_2019_STANDARD"}, PASS, "",
                     f"instance db can recover to a point in time, SQL Server (SQLSERVER_2019_STANDARD): {PITR}: true"),
    "sqlserver-binlog-is-not-pitr": ({"databaseVersion": "SQLSERVER_2022_WEB",
                                      "backup": {"pointInTimeRecoveryEnabled": False, "binaryLogEnabled": True}},
                                     FAIL, "", ANY),
    "unknown-engine": ({"databaseVersion": "ORACLE_19"}, ERROR, "databaseVersion",
                       "instance db: cannot judge databaseVersion: 'ORACLE_19' names no known engine "
                       "(MYSQL_*, POSTGRES_*, SQLSERVER_*)"),
    "version-absent": ({"databaseVersion": DROP}, ERROR, "databaseVersion", ANY),
    "flag-not-a-boolean": ({"backup": {"pointInTimeRecoveryEnabled": 1}}, ERROR, PITR, ANY),
}


@pytest.mark.parametrize(("row", "verdict", "subject", "reason"), BKP06.values(), ids=BKP06.keys())
def test_bkp06(row: dict[str, Any], verdict: Verdict, subject: str, reason: str) -> None:
    check(only(sqlbackup.bkp06_sql_point_in_time, instance(**row)), verdict, subject, reason)


# --- BKP-07 -------------------------------------------------------------------------------------

RPO = "backup.rpo_hours 24"
BKP07: dict[str, tuple[list[dict[str, Any]], dict[str, Any], Verdict, str, str]] = {
    "fresh": ([run("r1", "2026-11-25T02:00:00Z")], {}, PASS, "r1",
              f"instance db: newest successful backup run r1 ended 10h ago (endTime 2026-11-25T02:00:00Z) ≤ {RPO}"),
    "exactly-the-rpo": ([run("r1", "2026-11-24T12:00:00Z")], {}, PASS, "r1", ANY),
    "stale": ([run("r1", "2026-11-24T06:00:00Z")], {}, FAIL, "r1",
              f"instance db: newest successful backup run r1 ended 1d6h ago (endTime 2026-11-24T06:00:00Z) > {RPO}"),
    "tighter-rpo": ([run("r1", "2026-11-25T02:00:00Z")], {"backup": {"rpo_hours": 6}}, FAIL, "r1", ANY),
    "none": ([], {}, FAIL, "", "instance db has no successful backup run (0 listed)"),
    "only-failed": ([run("r2", status="FAILED"), run("r1", status="FAILED")], {}, FAIL, "",
                    "instance db has no successful backup run (2 listed); 2 runs not SUCCESSFUL"),
    "newest-failed-older-fresh": ([run("r2", "2026-11-25T10:00:00Z", status="FAILED"),
                                   run("r1", "2026-11-25T02:00:00Z")], {}, PASS, "r1", ANY),
    "still-running": ([run("r2", DROP, status="RUNNING"), run("r1", "2026-11-24T02:00:00Z")], {}, FAIL, "r1",
                      f"instance db: newest successful backup run r1 ended 1d10h ago (endTime 2026-11-24T02:00:00Z) "
                      f"> {RPO}; 1 run not SUCCESSFUL"),
    "successful-without-end-time": ([run("r2", DROP), run("r1", "2026-11-23T02:00:00Z")], {}, FAIL, "r1",
                                    f"instance db: newest successful backup run r1 ended 2d10h ago (endTime "
                                    f"2026-11-23T02:00:00Z) > {RPO}; successful run r2 is not counted: no endTime"),
    "only-without-end-time": ([run("r1", DROP)], {}, FAIL, "",
                              "instance db has no successful backup run (1 listed); successful run r1 is not "
                              "counted: no endTime"),
    "newest-by-end-time-not-order": ([run("r1", "2026-11-22T02:00:00Z"), run("r2", "2026-11-25T03:00:00Z")], {},
                                     PASS, "r2", ANY),
    "offset": ([run("r1", "2026-11-25T03:00:00+01:00")], {}, PASS, "r1",
               f"instance db: newest successful backup run r1 ended 10h ago (endTime 2026-11-25T03:00:00+01:00) "
               f"≤ {RPO}"),
    "future": ([run("r1", "2026-11-25T13:00:00Z")], {}, PASS, "r1",
               f"instance db: newest successful backup run r1 ended 0s ago (endTime 2026-11-25T13:00:00Z, 1h after "
               f"now: counted as age 0) ≤ {RPO}"),
    "unreadable-only": ([run("r1", "yesterday")], {}, ERROR, "backupRuns",
                        "instance db: cannot judge backupRuns: run r1 has an unreadable endTime 'yesterday'"),
    "unreadable-beside-fresh": ([run("r2", "soon"), run("r1", "2026-11-25T02:00:00Z")], {}, PASS, "r1", ANY),
    "unreadable-beside-stale": ([run("r2", "soon"), run("r1", "2026-11-20T02:00:00Z")], {}, ERROR, "r1", ANY),
}


@pytest.mark.parametrize(("runs", "params", "verdict", "subject", "reason"), BKP07.values(), ids=BKP07.keys())
def test_bkp07(runs: list[dict[str, Any]], params: dict[str, Any], verdict: Verdict, subject: str,
               reason: str) -> None:  # fmt: skip
    check(only(sqlbackup.bkp07_sql_recent_backup, instance(), runs, params), verdict, subject, reason)


def test_bkp07_measures_age_against_the_snapshot_time_not_the_wall_clock() -> None:
    runs = [run("r1", "2026-11-25T02:00:00Z")]
    assert [f.verdict for f in findings(sqlbackup.bkp07_sql_recent_backup, [instance()], runs)] == [PASS]
    later = findings(sqlbackup.bkp07_sql_recent_backup, [instance()], runs, now=NOW + timedelta(days=400))
    assert [f.verdict for f in later] == [FAIL] and "ended 400d10h ago" in later[0].reason


def test_bkp07_runs_not_read_for_a_primary_are_an_error() -> None:
    """The collector reads every primary's runs; a primary without them was not read: unknown."""
    kinds = {Kind.SQL_INSTANCES: KindData(resources=(instance(),))}
    (found,) = sqlbackup.bkp07_sql_recent_backup(Snapshot("shop-prod", NOW, kinds), Params())
    check(found, ERROR, "backupRuns",
          "instance db: cannot judge backupRuns: not read: the instance's backup runs are unknown")  # fmt: skip


# --- BKP-08 -------------------------------------------------------------------------------------

RETENTION = f"{BACKUP}.backupRetentionSettings"
BKP08: dict[str, tuple[dict[str, Any], dict[str, Any], Verdict, str, str]] = {
    "fourteen": ({}, {}, PASS, "",
                 f"instance db keeps 14 days of backups ({RETENTION}.retainedBackups 14 ≥ "
                 f"backup.min_retention_days 7)"),
    "exactly": ({"retainedBackups": 7}, {}, PASS, "", ANY),
    "three": ({"retainedBackups": 3}, {}, FAIL, "",
              f"instance db keeps 3 days of backups ({RETENTION}.retainedBackups 3 < backup.min_retention_days 7)"),
    "one": ({"retainedBackups": 1}, {}, FAIL, "", ANY),
    "higher-minimum": ({}, {"backup": {"min_retention_days": 30}}, FAIL, "", ANY),
    "count-absent": ({"retainedBackups": DROP}, {}, PASS, "",
                     f"instance db keeps 7 days of backups ({RETENTION}.retainedBackups absent: the API default, 7 "
                     f"≥ backup.min_retention_days 7)"),
    "unit-absent": ({"retentionUnit": DROP}, {}, PASS, "", ANY),
    "unit-unspecified": ({"retentionUnit": "RETENTION_UNIT_UNSPECIFIED"}, {}, PASS, "", ANY),
    "count-as-string": ({"retainedBackups": "14"}, {}, PASS, "", ANY),
    "unknown-unit": ({"retentionUnit": "DAYS"}, {}, ERROR, f"{RETENTION}.retentionUnit", ANY),
    "count-not-a-number": ({"retainedBackups": "many"}, {}, ERROR, f"{RETENTION}.retainedBackups", ANY),
    "count-boolean": ({"retainedBackups": True}, {}, ERROR, f"{RETENTION}.retainedBackups", ANY),
    "count-negative": ({"retainedBackups": -1}, {}, ERROR, f"{RETENTION}.retainedBackups", ANY),
}


@pytest.mark.parametrize(("retention", "params", "verdict", "subject", "reason"), BKP08.values(), ids=BKP08.keys())
def test_bkp08(retention: dict[str, Any], params: dict[str, Any], verdict: Verdict, subject: str,
               reason: str) -> None:  # fmt: skip
    settings = {**BASE["settings"]["backupConfiguration"]["backupRetentionSettings"], **retention}
    raw = instance(backup={"backupRetentionSettings": {k: v for k, v in settings.items() if v is not DROP}})
    check(only(sqlbackup.bkp08_sql_retention, raw, params=params), verdict, subject, reason)


DEFAULTS = {
    "settings-absent": ({"backupRetentionSettings": DROP}, {}, PASS),
    "settings-absent-below-minimum": ({"backupRetentionSettings": DROP}, {"backup": {"min_retention_days": 8}}, FAIL),
    "settings-not-an-object": ({"backupRetentionSettings": 14}, {}, ERROR),
}


@pytest.mark.parametrize(("backup", "params", "verdict"), DEFAULTS.values(), ids=DEFAULTS.keys())
def test_bkp08_absent_retention_settings_are_the_api_default(backup: dict[str, Any], params: dict[str, Any],
                                                             verdict: Verdict) -> None:  # fmt: skip
    found = only(sqlbackup.bkp08_sql_retention, instance(backup=backup), params=params)
    assert found.verdict is verdict, found.reason
    if verdict is not ERROR:
        assert f"{RETENTION} absent: the API default, 7" in found.reason


# --- FW-11 --------------------------------------------------------------------------------------

NETWORKS = f"{IP}.authorizedNetworks"


def acl(*values: str) -> dict[str, Any]:
    return {"authorizedNetworks": [{"kind": "sql#aclEntry", "value": v, "name": f"n{i}"} for i, v in enumerate(values)]}


FW11: dict[str, tuple[dict[str, Any], Verdict, str, str]] = {
    "none": ({}, PASS, "", f"instance db authorizes no internet range ({NETWORKS}: none)"),
    "office": ({"ip": acl("203.0.113.10/32")}, PASS, "",
               f"instance db authorizes no internet range ({NETWORKS}: 203.0.113.10/32 (n0))"),
    "anywhere": ({"ip": {"ipv4Enabled": True, **acl("203.0.113.10/32", "0.0.0.0/0")}}, FAIL, "0.0.0.0/0",
                 f"instance db accepts the internet: {NETWORKS} 0.0.0.0/0 (n1) covers every IPv4 address"),
    "bare-address": ({"ip": {"ipv4Enabled": True, **acl("0.0.0.0")}}, FAIL, "0.0.0.0", ANY),
    "union-of-halves": ({"ip": {"ipv4Enabled": True, **acl("0.0.0.0/1", "128.0.0.0/1")}}, FAIL,
                        "0.0.0.0/1, 128.0.0.0/1",
                        f"instance db accepts the internet: {NETWORKS} 0.0.0.0/1 (n0), 128.0.0.0/1 (n1) cover "
                        f"every IPv4 address"),
    "union-of-many": ({"ip": {"ipv4Enabled": True, **acl("0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1")}}, FAIL,
                      "0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/1", ANY),
    "half-is-not-the-internet": ({"ip": {"ipv4Enabled": True, **acl("0.0.0.0/1")}}, PASS, "", ANY),
    "ipv6": ({"ip": acl("::/0")}, FAIL, "::/0", ANY),
    "no-public-ip-still-fails": ({"ip": acl("0.0.0.0/0")}, FAIL, "0.0.0.0/0",
                                 f"instance db accepts the internet: {NETWORKS} 0.0.0.0/0 (n0) covers every IPv4 "
                                 f"address (ipv4Enabled: false: unused while it has no public IP, one setting away "
                                 f"from live)"),
    "unnamed-entry": ({"ip": {"authorizedNetworks": [{"value": "0.0.0.0/0"}]}}, FAIL, "0.0.0.0/0", ANY),
    "no-ip-configuration": ({"settings": {"tier": "db-f1-micro"}}, PASS, "", ANY),
    "not-a-range": ({"ip": acl("office")}, ERROR, f"{NETWORKS}[0]", ANY),
    "value-absent": ({"ip": {"authorizedNetworks": [{"name": "office"}]}}, ERROR, f"{NETWORKS}[0]", ANY),
    "entry-not-an-object": ({"ip": {"authorizedNetworks": ["0.0.0.0/0"]}}, ERROR, f"{NETWORKS}[0]", ANY),
    "not-a-list": ({"ip": {"authorizedNetworks": {"value": "0.0.0.0/0"}}}, ERROR, NETWORKS, ANY),
    "replica-is-judged-too": ({"instanceType": "READ_REPLICA_INSTANCE", "ip": acl("0.0.0.0/0")}, FAIL, "0.0.0.0/0",
                              ANY),
}


@pytest.mark.parametrize(("row", "verdict", "subject", "reason"), FW11.values(), ids=FW11.keys())
def test_fw11(row: dict[str, Any], verdict: Verdict, subject: str, reason: str) -> None:
    check(only(sqlaccess.fw11_sql_internet, instance(**row)), verdict, subject, reason)


# --- FW-12 --------------------------------------------------------------------------------------

PUBLIC = [{"type": "PRIMARY", "ipAddress": "34.77.1.2"}, {"type": "OUTGOING", "ipAddress": "34.77.1.3"}]
FW12: dict[str, tuple[dict[str, Any], Verdict, str, str]] = {
    "disabled": ({}, PASS, "", f"instance db has no public IP ({IP}.ipv4Enabled: false)"),
    "enabled": ({"ip": {"ipv4Enabled": True}, "ipAddresses": PUBLIC}, FAIL, "34.77.1.2",
                f"instance db has a public IP at 34.77.1.2 ({IP}.ipv4Enabled: true)"),
    "enabled-no-address-listed": ({"ip": {"ipv4Enabled": True}, "ipAddresses": DROP}, FAIL, "",
                                  f"instance db has a public IP ({IP}.ipv4Enabled: true)"),
    "disabled-wins-over-a-listed-address": ({"ipAddresses": PUBLIC}, PASS, "", ANY),
    "absent-with-primary": ({"ip": {"ipv4Enabled": DROP}, "ipAddresses": PUBLIC}, FAIL, "34.77.1.2",
                            f"instance db has a public IP at 34.77.1.2 ({IP}.ipv4Enabled absent, ipAddresses lists "
                            f"a PRIMARY address)"),
    "absent-private-only": ({"ip": {"ipv4Enabled": DROP}}, PASS, "",
                            f"instance db has no public IP ({IP}.ipv4Enabled absent, no PRIMARY in ipAddresses)"),
    "absent-outgoing-only": ({"ip": {"ipv4Enabled": DROP}, "ipAddresses": PUBLIC[1:]}, PASS, "", ANY),
    "absent-no-addresses": ({"ip": {"ipv4Enabled": DROP}, "ipAddresses": DROP}, ERROR, f"{IP}.ipv4Enabled",
                            f"instance db: cannot judge {IP}.ipv4Enabled: and ipAddresses are both absent: the "
                            "instance's addresses are unknown"),
    "no-settings-with-primary": ({"settings": DROP, "ipAddresses": PUBLIC}, FAIL, "34.77.1.2", ANY),
    "not-a-boolean": ({"ip": {"ipv4Enabled": "true"}}, ERROR, f"{IP}.ipv4Enabled", ANY),
    "addresses-not-a-list": ({"ip": {"ipv4Enabled": DROP}, "ipAddresses": "34.77.1.2"}, ERROR, "ipAddresses", ANY),
    "address-not-an-object": ({"ip": {"ipv4Enabled": DROP}, "ipAddresses": ["34.77.1.2"]}, ERROR,
                              "ipAddresses[0]", ANY),
}


@pytest.mark.parametrize(("row", "verdict", "subject", "reason"), FW12.values(), ids=FW12.keys())
def test_fw12(row: dict[str, Any], verdict: Verdict, subject: str, reason: str) -> None:
    check(only(sqlaccess.fw12_sql_public_ip, instance(**row)), verdict, subject, reason)


# --- DATA-01 ------------------------------------------------------------------------------------

DATA01: dict[str, tuple[dict[str, Any], Verdict, str, str]] = {
    "encrypted-only": ({}, PASS, "ENCRYPTED_ONLY", f"instance db requires TLS ({IP}.sslMode: ENCRYPTED_ONLY)"),
    "client-certificates": ({"sslMode": "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"}, PASS,
                            "TRUSTED_CLIENT_CERTIFICATE_REQUIRED", ANY),
    "mode-wins-over-require-false": ({"requireSsl": False}, PASS, "ENCRYPTED_ONLY", ANY),
    "unencrypted-allowed": ({"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED", "requireSsl": DROP}, FAIL,
                            "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
                            f"instance db accepts unencrypted connections ({IP}.sslMode: "
                            f"ALLOW_UNENCRYPTED_AND_ENCRYPTED)"),
    "mode-wins-over-require-true": ({"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}, FAIL,
                                    "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
                                    f"instance db accepts unencrypted connections ({IP}.sslMode: "
                                    f"ALLOW_UNENCRYPTED_AND_ENCRYPTED) (sslMode decides over requireSsl: true)"),
    "legacy-require": ({"sslMode": DROP}, PASS, "",
                       f"instance db requires TLS ({IP}.sslMode absent, requireSsl: true)"),
    "legacy-not-required": ({"sslMode": DROP, "requireSsl": False}, FAIL, "",
                            f"instance db accepts unencrypted connections ({IP}.sslMode absent, requireSsl: false)"),
    "nothing-said": ({"sslMode": DROP, "requireSsl": DROP}, FAIL, "",
                     f"instance db accepts unencrypted connections ({IP}.sslMode absent, requireSsl: absent)"),
    "unspecified-mode-is-absent": ({"sslMode": "SSL_MODE_UNSPECIFIED"}, PASS, "",
                                   f"instance db requires TLS ({IP}.sslMode SSL_MODE_UNSPECIFIED, requireSsl: true)"),
    "unknown-mode": ({"sslMode": "MOSTLY_ENCRYPTED"}, ERROR, f"{IP}.sslMode", ANY),
    "require-not-a-boolean": ({"sslMode": DROP, "requireSsl": "yes"}, ERROR, f"{IP}.requireSsl", ANY),
}


@pytest.mark.parametrize(("ip", "verdict", "subject", "reason"), DATA01.values(), ids=DATA01.keys())
def test_data01(ip: dict[str, Any], verdict: Verdict, subject: str, reason: str) -> None:
    check(only(sqlaccess.data01_sql_tls, instance(ip=ip)), verdict, subject, reason)


def test_data01_without_ip_configuration_fails() -> None:
    found = only(sqlaccess.data01_sql_tls, instance(settings={"tier": "db-f1-micro"}))
    assert found.verdict is FAIL and "sslMode absent, requireSsl: absent" in found.reason


# --- REG-07 -------------------------------------------------------------------------------------

BE = "region.allowed (europe-west1)"
REG07: dict[str, tuple[dict[str, Any], list[str] | None, Verdict, str, str]] = {
    "in-belgium": ({}, None, PASS, "europe-west1, europe-west1-b",
                   f"instance db is located only within {BE}: region europe-west1, gceZone europe-west1-b "
                   f"(region europe-west1), settings.backupConfiguration.location europe-west1"),
    "other-region": ({"region": "europe-west4", "gceZone": "europe-west4-a"}, None, FAIL,
                     "europe-west4, europe-west4-a", ANY),
    "secondary-zone-elsewhere": ({"secondaryGceZone": "europe-west4-b"}, None, FAIL, "europe-west4-b",
                                 f"instance db is located outside {BE}: secondaryGceZone europe-west4-b (region "
                                 f"europe-west4); allowed: region europe-west1, gceZone europe-west1-b (region "
                                 f"europe-west1), settings.backupConfiguration.location europe-west1"),
    "secondary-zone-here": ({"secondaryGceZone": "europe-west1-c"}, None, PASS, ANY, ANY),
    "backups-without-location": ({"backup": {"location": DROP}}, None, FAIL, "no backup location",
                                 f"instance db is located outside {BE}: no backup location "
                                 f"(settings.backupConfiguration.location absent: Google then keeps backups in the "
                                 f"nearest multi-region); allowed: region europe-west1, gceZone europe-west1-b "
                                 f"(region europe-west1)"),
    "backups-in-multi-region": ({"backup": {"location": "eu"}}, None, FAIL, "eu", ANY),
    "multi-region-listed": ({"backup": {"location": "eu"}}, ["europe-west1", "eu"], PASS, ANY, ANY),
    "backups-in-other-region": ({"backup": {"location": "europe-west3"}}, None, FAIL, "europe-west3", ANY),
    "backups-off-no-location": ({"backup": {"enabled": False, "location": DROP}}, None, PASS,
                                "europe-west1, europe-west1-b", ANY),
    "backups-off-location-ignored": ({"backup": {"enabled": False, "location": "us"}}, None, PASS, ANY, ANY),
    "replica-location-ignored": ({"instanceType": "READ_REPLICA_INSTANCE", "backup": {"location": DROP}}, None,
                                 PASS, "europe-west1, europe-west1-b", ANY),
    "replica-elsewhere": ({"instanceType": "READ_REPLICA_INSTANCE", "region": "us-central1",
                           "gceZone": "us-central1-a"}, None, FAIL, "us-central1, us-central1-a", ANY),
    "no-zone": ({"gceZone": DROP}, None, PASS, "europe-west1", ANY),
    "region-absent": ({"region": DROP}, None, ERROR, "region", "instance db: cannot judge region: absent"),
    "zone-not-a-zone": ({"gceZone": "europe-west1"}, None, ERROR, "gceZone", ANY),
    "enabled-unreadable": ({"backup": {"enabled": "yes"}}, None, ERROR, f"{BACKUP}.enabled", ANY),
}


@pytest.mark.parametrize(("row", "allowed", "verdict", "subject", "reason"), REG07.values(), ids=REG07.keys())
def test_reg07(row: dict[str, Any], allowed: list[str] | None, verdict: Verdict, subject: str, reason: str) -> None:
    params = {"region": {"allowed": allowed}} if allowed else None
    found = only(sqlregion.reg07_sql_instances, instance(**row), params=params)
    assert found.verdict is verdict, found.reason
    assert subject == ANY or found.subject == subject, found.subject
    assert reason == ANY or found.reason == reason


# --- every control: naming, nothing in scope, failed kind, metadata ------------------------------------


@pytest.mark.parametrize("control_id", CLOUD_SQL)
def test_results_name_the_instance_one_each(control_id: str) -> None:
    control = default_registry().get(control_id)
    runs = [run("r1"), {**run("r9"), "instance": "db-2"}]
    found = findings(control, [instance(), instance(name="db-2")], runs)
    assert [f.resource for f in found] == [RESOURCE, RESOURCE.replace("/db", "/db-2")]
    assert [f.verdict for f in found] == [PASS, PASS], [f.reason for f in found]


@pytest.mark.parametrize("control_id", CLOUD_SQL)
def test_nothing_in_scope_gives_no_findings(control_id: str) -> None:
    assert findings(default_registry().get(control_id), [], []) == []


@pytest.mark.parametrize("control_id", CLOUD_SQL)
def test_a_failed_kind_is_an_error(control_id: str) -> None:
    control = default_registry().get(control_id)
    snapshot = make_snapshot({"sql": {"instances": [instance()]}}, errors={Kind.SQL_INSTANCES: "HTTP 403"})
    (result,) = run_control(control, snapshot, Params())
    assert result.verdict is ERROR and "HTTP 403" in result.reason


MODULES = {"BKP": sqlbackup, "FW": sqlaccess, "DATA": sqlaccess, "REG": sqlregion}
CATALOGUE = {  # severity, CIS, SOC 2, params
    "BKP-05": (Severity.HIGH, "4.0: 6.7 · 5.0: 6.8", ("A1.2",), ()),
    "BKP-06": (Severity.HIGH, "", ("A1.2",), ()),
    "BKP-07": (Severity.HIGH, "", ("A1.2",), ("backup.rpo_hours",)),
    "BKP-08": (Severity.MEDIUM, "", ("A1.2",), ("backup.min_retention_days",)),
    "FW-11": (Severity.CRITICAL, "4.0: 6.5 · 5.0: 6.5", ("CC6.6",), ()),
    "FW-12": (Severity.MEDIUM, "4.0: 6.6 · 5.0: 6.7", ("CC6.6",), ()),
    "DATA-01": (Severity.HIGH, "4.0: 6.4 · 5.0: 6.4", ("CC6.7",), ()),
    "REG-07": (Severity.HIGH, "", ("C1.1", "CC6.7"), ("region.allowed",)),
}


@pytest.mark.parametrize("control_id", CLOUD_SQL)
def test_metadata_follows_the_catalogue(control_id: str) -> None:
    control = default_registry().get(control_id)
    meta = control.meta
    prefix = control_id.split("-")[0]
    assert (meta.severity, meta.references.cis_text(), meta.references.soc2, meta.params) == CATALOGUE[control_id]
    assert meta.area is Area[prefix] and meta.kinds == (Kind.SQL_INSTANCES,) and meta.unit == "Cloud SQL instance"
    assert meta.title.startswith("Cloud SQL") or meta.title.startswith("No Cloud SQL")
    assert len(meta.rationale) > 100 and "gcloud sql " in meta.remediation
    for dotted in meta.params:
        area, key = dotted.split(".")
        assert key in type(getattr(Params(), area)).model_fields
    module = MODULES[prefix]
    assert module.__doc__ and control.func.__doc__ and control in vars(module).values()


def test_the_data_area_is_named_data() -> None:
    assert Area.DATA.value == "data" and default_registry().get("DATA-01").meta.area is Area.DATA
