"""Build snapshots for control tests from scenario fragments (the one fixture format).

A fragment is a scenario project (`{"compute": {"firewalls": [...]}, ...}`) in the APIs'
REST JSON shape; kinds not present are not collected, `errors` marks kinds as failed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from checks.snapshot import Kind, KindData, Snapshot

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make_snapshot(
    project: dict[str, Any],
    *,
    scope: str = "shop-prod",
    now: datetime = NOW,
    errors: dict[str, str] | None = None,
    notes: dict[str, str] | None = None,
) -> Snapshot:
    kinds: dict[str, KindData] = {}
    for kind, resources in project.get("compute", {}).items():
        kinds[kind] = KindData(resources=tuple(resources), note=(notes or {}).get(kind))
    meta = {k: v for k, v in project.items() if k not in ("compute", "logging", "iamPolicy")}
    kinds[Kind.PROJECT] = KindData(resources=({"projectId": scope, **meta},))
    for kind, message in (errors or {}).items():
        kinds[kind] = KindData(error=message)
    return Snapshot(scope=scope, now=now, kinds=kinds)
