"""Build snapshots for control tests from scenario fragments (the one fixture format).

A fragment is a scenario project (`{"compute": {"firewalls": [...]}, "iamPolicy": {...},
"logging": {"sinks": [...], "metrics": [...]}}`) in the APIs' REST JSON shape; kinds not
present are not collected, `errors` marks kinds as failed. Ancestors are given as the
collectors deliver them (see `checks.snapshot.Kind.ANCESTRY` / `ANCESTOR_SINKS`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from checks.snapshot import Kind, KindData, Snapshot

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
_LOGGING_KINDS = {"sinks": Kind.SINKS, "metrics": Kind.LOG_METRICS}


def make_snapshot(
    project: dict[str, Any],
    *,
    scope: str = "shop-prod",
    now: datetime = NOW,
    errors: dict[str, str] | None = None,
    notes: dict[str, str] | None = None,
    ancestry: list[dict[str, Any]] | None = None,
    ancestor_sinks: list[dict[str, Any]] | None = None,
) -> Snapshot:
    kinds: dict[str, KindData] = {}
    notes = notes or {}

    def put(kind: str, resources: Any) -> None:
        kinds[kind] = KindData(resources=tuple(resources), note=notes.get(kind))

    for kind, resources in project.get("compute", {}).items():
        put(kind, resources)
    for part, resources in project.get("logging", {}).items():
        put(_LOGGING_KINDS[part], resources)
    if "iamPolicy" in project:
        put(Kind.IAM_POLICY, [project["iamPolicy"]])
    if ancestry is not None:
        put(Kind.ANCESTRY, ancestry)
    if ancestor_sinks is not None:
        put(Kind.ANCESTOR_SINKS, ancestor_sinks)
    meta = {k: v for k, v in project.items() if k not in ("compute", "logging", "iamPolicy")}
    put(Kind.PROJECT, [{"projectId": scope, **meta}])
    for kind, message in (errors or {}).items():
        kinds[kind] = KindData(error=message)
    return Snapshot(scope=scope, now=now, kinds=kinds)
