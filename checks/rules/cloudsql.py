"""What a Cloud SQL instance says about itself, read from the SQL Admin v1 REST shape (DatabaseInstance).

The definitions every Cloud SQL control shares:
- an instance's full resource name, `//cloudsql.googleapis.com/projects/P/instances/NAME`
  (as Cloud Asset Inventory and Security Command Center name it);
- replicas (`instanceType` READ_REPLICA_INSTANCE or READ_POOL_INSTANCE, or a legacy failover
  replica naming its primary in `masterInstanceName`) keep no backups of their own;
- the engine, from `databaseVersion`'s prefix (`MYSQL_8_0`, `POSTGRES_15`, `SQLSERVER_2019_STANDARD`);
- the settings objects the controls read, absent meaning empty (an instance without
  `settings.backupConfiguration` has no backups configured).
Data that cannot be judged raises `Unjudgeable`, which `per_instance` turns into `error`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from checks.kernel import JSON, Judge, Unjudgeable, attempt
from checks.model import Finding, Verdict

#: instance types that take no backups of their own (the collector reads no backup runs for them)
REPLICA_TYPES = frozenset({"READ_REPLICA_INSTANCE", "READ_POOL_INSTANCE"})
#: the field a primary instance carries its backup runs in, newest first (set by the collector, not an API field)
RUNS = "backupRuns"
REPLICA = "replica: backups are taken on the primary"

_ENGINES = {"MYSQL": "MySQL", "POSTGRES": "PostgreSQL", "SQLSERVER": "SQL Server"}


def is_replica(instance: JSON) -> bool:
    """A read replica or read-pool node (or a legacy failover replica: one naming its primary)."""
    return instance.get("instanceType") in REPLICA_TYPES or bool(instance.get("masterInstanceName"))


def replica_note(instance: JSON) -> str:
    """`replica: backups are taken on the primary (instanceType: READ_REPLICA_INSTANCE, primary p:db)`."""
    shown = [f"instanceType: {instance['instanceType']}"] if instance.get("instanceType") in REPLICA_TYPES else []
    if instance.get("masterInstanceName"):
        shown.append(f"primary {instance['masterInstanceName']}")
    return f"{REPLICA} ({', '.join(shown)})"


def instance_name(instance: JSON, scope: str) -> str:
    return f"//cloudsql.googleapis.com/projects/{scope}/instances/{instance.get('name', '?')}"


def engine(instance: JSON) -> str:
    """`MYSQL`, `POSTGRES` or `SQLSERVER`: the prefix of `databaseVersion`."""
    version = instance.get("databaseVersion")
    prefix = version.split("_", 1)[0] if isinstance(version, str) else ""
    if prefix not in _ENGINES:
        raise Unjudgeable("databaseVersion", f"{version!r} names no known engine (MYSQL_*, POSTGRES_*, SQLSERVER_*)")
    return prefix


def engine_name(prefix: str) -> str:
    return _ENGINES[prefix]


def _object(value: object, field: str) -> JSON:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unjudgeable(field, f"{value!r} is not an object")
    return value


def settings(instance: JSON) -> JSON:
    return _object(instance.get("settings"), "settings")


def backup_configuration(instance: JSON) -> JSON:
    """`settings.backupConfiguration`, empty when absent (no backups configured)."""
    return _object(settings(instance).get("backupConfiguration"), "settings.backupConfiguration")


def ip_configuration(instance: JSON) -> JSON:
    """`settings.ipConfiguration`, empty when absent."""
    return _object(settings(instance).get("ipConfiguration"), "settings.ipConfiguration")


def boolean(resource: JSON, key: str, field: str) -> bool | None:
    """A boolean field, None when absent; raises Unjudgeable on anything else."""
    value = resource.get(key)
    if value is not None and not isinstance(value, bool):
        raise Unjudgeable(field, f"{value!r} is not a boolean")
    return value


def backups_enabled(instance: JSON) -> bool:
    """`settings.backupConfiguration.enabled`, false when absent."""
    return boolean(backup_configuration(instance), "enabled", "settings.backupConfiguration.enabled") is True


def shown(value: object) -> str:
    """How a field's value reads in a reason: `true`, `false`, `absent`, or as written."""
    if value is None:
        return "absent"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def per_instance(instances: Iterable[JSON], scope: str, judge: Judge[JSON]) -> Iterator[Finding]:
    """One finding per instance, named `instance NAME` in reasons; what cannot be read is its `error`."""
    for raw in instances:
        resource, who = instance_name(raw, scope), f"instance {raw.get('name', '?')}"
        judged = attempt(judge, raw, who)
        if isinstance(judged, Unjudgeable):
            yield Finding(resource, Verdict.ERROR, judged.reason(who), judged.field)
        elif judged is not None:
            yield judged.at(resource)
