"""Build snapshots for control tests from scenario fragments (the one fixture format).

A fragment is a scenario project (`{"compute": {"firewalls": [...]}, "iamPolicy": {...},
"logging": {"sinks": [...], "metrics": [...]}}`) in the APIs' REST JSON shape; kinds not
present are not collected, `errors` marks kinds as failed. Which part feeds which kind is
the kind table's (`checks.kinds`: a row's `part`), so a new kind's part works here as
soon as its row exists. Ancestors are given as the collectors deliver them (see
`Kind.ANCESTRY` / `Kind.ANCESTOR_SINKS`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from checks.kinds import Holder
from checks.snapshot import Kind, KindData, Snapshot

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
#: part of a scenario project -> the kind read from it ("" is the project itself)
PROJECT_PARTS: dict[str, Kind] = {kind.spec.part: kind for kind in Kind if kind.spec.holder is Holder.PROJECT}
#: keys of a scenario project that hold parts rather than fields of the Project
PART_KEYS = frozenset(part.split(".", 1)[0] for part in PROJECT_PARTS if part)
SINGLE_PARTS = tuple(part for part in PROJECT_PARTS if part and "." not in part)


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
) -> Snapshot:
    kinds: dict[str, KindData] = {}
    notes = notes or {}

    def put(kind: str, resources: Any) -> None:
        kinds[kind] = KindData(resources=tuple(resources), note=notes.get(kind))

    groups = [key for key in project if key in PART_KEYS and key not in SINGLE_PARTS]
    for group in groups:  # lists: `compute.firewalls`, `logging.sinks`
        for key, resources in project[group].items():
            put(_kind_of(f"{group}.{key}"), resources)
    for key in SINGLE_PARTS:  # one object (the IAM policy): a one-element kind
        if key in project:
            put(PROJECT_PARTS[key], [project[key]])
    if ancestry is not None:
        put(Kind.ANCESTRY, ancestry)
    if ancestor_sinks is not None:
        put(Kind.ANCESTOR_SINKS, ancestor_sinks)
    meta = {k: v for k, v in project.items() if k not in PART_KEYS}
    put(PROJECT_PARTS[""], [{"projectId": scope, **meta}])
    for kind, message in (errors or {}).items():
        kinds[kind] = KindData(error=message)
    return Snapshot(scope=scope, now=now, kinds=kinds)
