"""Build snapshots for control tests from scenario fragments (the one fixture format).

A fragment is a scenario project (`{"compute": {"firewalls": [...]}, "iamPolicy": {...},
"logging": {"sinks": [...], "metrics": [...]}}`) in the APIs' REST JSON shape; kinds not
present are not collected, `errors` marks kinds as failed. Which part feeds which kind is
the kind table's (`checks.kinds`: a row's `part`), so a new kind's part works here as
soon as its row exists. Ancestors are given as the collectors deliver them (see
`Kind.ANCESTRY` / `Kind.ANCESTOR_SINKS` / `Kind.FIREWALL_POLICIES` / `Kind.SINK_DESTINATIONS`); a bucket's `iamPolicy`
and an account's `keys` stay nested as the collectors nest them, and `sql.backupRuns` join
their primary instance under `backupRuns`, as the sqlInstances kind delivers them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from checks.kinds import Holder
from checks.snapshot import Kind, KindData, Snapshot
from monitor.collect.cloudsql import RUNS, is_replica

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
#: part of a scenario project -> the kind read from it ("" is the project itself)
PROJECT_PARTS: dict[str, Kind] = {kind.spec.part: kind for kind in Kind if kind.spec.holder is Holder.PROJECT}
#: keys of a scenario project that hold parts rather than fields of the Project
PART_KEYS = frozenset(part.split(".", 1)[0] for part in PROJECT_PARTS if part)
SINGLE_PARTS = tuple(part for part in PROJECT_PARTS if part and "." not in part)
#: parts read with another kind's resources: a primary instance carries its backup runs, as collected
RUNS_PART = "sql.backupRuns"
#: parts no kind reads (log entries go to the audit poller)
UNREAD_PARTS = frozenset({"logging.entries"})
#: parts read only as some sink's destination (the sinkDestinations walk): given as collected instead
DESTINATION_PARTS = frozenset({Kind.SINK_DESTINATIONS.spec.part})


def _newest_first(run: dict[str, Any]) -> str:
    return str(run.get("startTime") or run.get("enqueuedTime") or "")


def _with_runs(instances: list[dict[str, Any]], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The instances as the sqlInstances kind delivers them: each primary with its runs under
    `backupRuns`, newest first; replicas without (their backups are the primary's)."""
    out = []
    for instance in instances:
        instance = dict(instance)
        if not is_replica(instance):
            mine = [r for r in runs if r.get("instance") == instance.get("name")]
            instance[RUNS] = sorted(mine, key=_newest_first, reverse=True)
        out.append(instance)
    return out


def _kind_of(part: str) -> Kind:
    kind = PROJECT_PARTS.get(part)
    if kind is None:
        known = ", ".join(p for p in PROJECT_PARTS if p)
        raise ValueError(f"no kind is read from the part {part!r} of a project (known: {known})")
    return kind


def make_snapshot(
    project: dict[str, Any],
    *,
    scope: str = "shop-prod",
    now: datetime = NOW,
    errors: dict[str, str] | None = None,
    notes: dict[str, str] | None = None,
    ancestry: list[dict[str, Any]] | None = None,
    ancestor_sinks: list[dict[str, Any]] | None = None,
    firewall_policies: list[dict[str, Any]] | None = None,
    sink_destinations: list[dict[str, Any]] | None = None,
) -> Snapshot:
    kinds: dict[str, KindData] = {}
    notes = notes or {}

    def put(kind: str, resources: Any) -> None:
        kinds[kind] = KindData(resources=tuple(resources), note=notes.get(kind))

    groups = [key for key in project if key in PART_KEYS and key not in SINGLE_PARTS]
    for group in groups:  # lists: `compute.firewalls`, `logging.sinks`
        for key, resources in project[group].items():
            part = f"{group}.{key}"
            if part in UNREAD_PARTS or part in DESTINATION_PARTS or part == RUNS_PART:
                continue
            if part == Kind.SQL_INSTANCES.spec.part:
                resources = _with_runs(resources, project[group].get("backupRuns", []))
            put(_kind_of(part), resources)
    for key in SINGLE_PARTS:  # one object (the IAM policy): a one-element kind
        if key in project:
            put(PROJECT_PARTS[key], [project[key]])
    if ancestry is not None:
        put(Kind.ANCESTRY, ancestry)
    if ancestor_sinks is not None:
        put(Kind.ANCESTOR_SINKS, ancestor_sinks)
    if firewall_policies is not None:  # `{"parent": "folders/55", "policy": FirewallPolicy}`, nearest first
        put(Kind.FIREWALL_POLICIES, firewall_policies)
    if sink_destinations is not None:  # `{"sink", "destination", "bucket" | "logBucket" | "error"}` per counted sink
        put(Kind.SINK_DESTINATIONS, sink_destinations)
    meta = {k: v for k, v in project.items() if k not in PART_KEYS}
    put(PROJECT_PARTS[""], [{"projectId": scope, **meta}])
    for kind, message in (errors or {}).items():
        kinds[kind] = KindData(error=message)
    return Snapshot(scope=scope, now=now, kinds=kinds)
