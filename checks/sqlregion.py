"""Cloud SQL region pinning (REG-07): the instance and its backups within `region.allowed`, one result per instance.

Judged with the shared location rules (`checks.rules.locations`): `region`, `gceZone` and
`secondaryGceZone` (zones stand for their region), and, where automated backups are on,
`settings.backupConfiguration.location`. An absent backup location fails: Google then keeps
the backups in the multi-region nearest the instance (`eu` for Belgium). Replicas are judged
by their own `region` and zones only: their backups are the primary's.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.kernel import JSON, Judgement, Unjudgeable
from checks.model import Area, Finding, Severity
from checks.params import Params
from checks.registry import References, control
from checks.rules.cloudsql import backup_configuration, backups_enabled, is_replica, per_instance
from checks.rules.locations import Location, field_location, judge_locations, read_location
from checks.snapshot import Kind, Snapshot

_BACKUP_LOCATION = "settings.backupConfiguration.location"


def sql_locations(instance: JSON) -> tuple[list[Location], list[tuple[str, str]]]:
    """The instance's locations, and its failures beyond them (a missing backup location)."""
    region = field_location(instance, "region")
    if region is None:
        raise Unjudgeable("region", "absent")
    found = [region]
    for key in ("gceZone", "secondaryGceZone"):
        zone = field_location(instance, key, zonal=True)
        if zone is not None:
            found.append(zone)
    if is_replica(instance) or not backups_enabled(instance):
        return found, []
    stored = backup_configuration(instance).get("location")
    if stored is None or stored == "":
        why = f"no backup location ({_BACKUP_LOCATION} absent: Google then keeps backups in the nearest multi-region)"
        return found, [("no backup location", why)]
    return [*found, read_location(_BACKUP_LOCATION, stored)], []


@control(
    id="REG-07", logic_version=2,
    title="Cloud SQL and its backups stay in an allowed region", area=Area.REG, severity=Severity.HIGH,
    kinds=(Kind.SQL_INSTANCES,), params=("region.allowed",), unit="Cloud SQL instance",
    references=References(soc2=("C1.1", "CC6.7")),
    rationale="The database is where customer data lives, and its backups are full copies of it. Cloud SQL "
    "stores automated backups in a multi-region (`eu`, `us`) unless a location is set, so an instance in "
    "Belgium can quietly keep its copies in another country, outside what contracts and the GDPR "
    "commitments allow.",
    remediation="Pin the backups to the allowed region: `gcloud sql instances patch INSTANCE "
    "--backup-location=europe-west1`; an instance in another region must be recreated there (export, "
    "`gcloud sql instances create NAME --region=europe-west1`, import).",
    holds="Every Cloud SQL instance, its zones and, on a primary with automated backups, the location its "
    "backups are stored in are within `region.allowed`.",
    logic="Every instance is judged, replicas included. Its locations are `region`, `gceZone` and "
    "`secondaryGceZone` (each when present; a zone stands for its region, `europe-west1-b` is "
    "`europe-west1`) and, for a primary whose `settings.backupConfiguration.enabled` is true, "
    "`settings.backupConfiguration.location`; such a primary without a backup location fails as `no "
    "backup location` (Google then keeps its backups in the multi-region nearest the instance, `eu` for "
    "Belgium). Replicas (read replicas, read-pool nodes, legacy failover replicas) and instances with "
    "backups off are judged without a backup location, and the `location` of individual backup runs is "
    "not read. Locations are compared verbatim with `region.allowed` (default `europe-west1`): a "
    "multi-region such as `eu` passes only where listed itself. The instance passes only when every "
    "location is allowed, and fails naming those that are not.",
    unknown="An `error`, naming the field, when `region` is absent, empty or not a string, `gceZone` or "
    "`secondaryGceZone` is not a zone (`REGION-x`), and, for a primary, when `settings` or "
    "`settings.backupConfiguration` is not an object, `enabled` is not a boolean, or the backup `location` "
    "is not a string; a listing that failed makes the whole control `error`.",
)
def reg07_sql_instances(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance whose `region`, `gceZone`, `secondaryGceZone` or (backups on, primaries
    only) `settings.backupConfiguration.location` is outside `region.allowed`, or whose backups
    have no location."""
    allowed = params.region.allowed

    def judge(instance: JSON, who: str) -> Judgement:
        locations, failures = sql_locations(instance)
        return judge_locations(who, locations, allowed, failures=failures)

    return per_instance(snapshot.get(Kind.SQL_INSTANCES), snapshot.scope, judge)
