"""The watched set: the listed projects, and the discovered ones the filters let in, each with why.

Pure: a config and what discovery listed (an `Estate`, or None when there is nothing to
discover or it failed) in, a `ScopeSet` out, which `build_plans` turns into one plan per
watched project and `controlwatch scopes` prints. Every project seen is decided, in or
out, with the rule that decided it, so nothing is left out silently:

- a listed project (`scopes.projects`) is always watched, whatever discovery says of it;
- a discovered project is watched when it is `ACTIVE` and the filters admit it
  (`Scopes.admits`); any other state (`DELETE_REQUESTED`) leaves it out.

With several replicas (`shard:`), every watched project also gets its owner (rendezvous
hashing, `monitor.run.shard`): a replica schedules only the ones it owns (`watched()`) and
knows the others as owned elsewhere (`elsewhere()`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from monitor.collect.estate import Estate, FoundProject
from monitor.config.model import Config, Seen
from monitor.run.shard import Shard

__all__ = ["ACTIVE", "Decision", "ScopeSet", "resolve"]

ACTIVE = "ACTIVE"
LISTED = "listed in scopes.projects"


@dataclass(frozen=True, slots=True)
class Decision:
    """One project, in or out, and why. `state` is its lifecycle state as discovery listed it
    ("" when discovery did not list it); `overrides` the indexes of `scopes.overrides` applied;
    `owner` the replica that watches it (None: not sharded, or not watched)."""

    project: str
    watched: bool
    why: str
    explicit: bool = False
    discovered: bool = False
    state: str = ""
    parent: str = ""
    root: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    folders: tuple[str, ...] = ()
    overrides: tuple[int, ...] = ()
    owner: int | None = None

    @property
    def seen(self) -> Seen | None:
        """What discovery knows of it, for the overrides by label and folder (None: not listed)."""
        return Seen(dict(self.labels), self.folders) if self.discovered else None

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "watched": self.watched,
            "why": self.why,
            "explicit": self.explicit,
            "discovered": self.discovered,
            "state": self.state or None,
            "parent": self.parent or None,
            "root": self.root or None,
            "folders": [f"folders/{f}" for f in self.folders],
            "labels": dict(sorted(self.labels.items())),
            "overrides": list(self.overrides),
            "owner": self.owner,
        }


@dataclass(frozen=True, slots=True)
class ScopeSet:
    """Every project decided, listed ones first (file order), then discovered ones (in the order found).

    `listed` says whether discovery's listing is in it (False: nothing to discover, or none
    has succeeded yet); `error` is why the last discovery failed, if it did; `shard` which
    replica resolved it (None: one process owns every scope).
    """

    decisions: tuple[Decision, ...]
    roots: tuple[str, ...] = ()
    listed: bool = False
    error: str | None = None
    shard: Shard | None = None

    def watched(self) -> tuple[str, ...]:
        """The projects this process schedules: watched, and owned by its replica."""
        return tuple(d.project for d in self.decisions if d.watched and self._mine(d))

    def elsewhere(self) -> dict[str, int]:
        """Watched projects another replica owns, with its index (empty when not sharded)."""
        return {d.project: d.owner for d in self.decisions if d.watched and d.owner is not None and not self._mine(d)}

    def _mine(self, decision: Decision) -> bool:
        return self.shard is None or decision.owner == self.shard.index

    def decision(self, project: str) -> Decision | None:
        return next((d for d in self.decisions if d.project == project), None)

    def seen(self, project: str) -> Seen | None:
        found = self.decision(project)
        return found.seen if found is not None else None

    def counts(self) -> dict[str, int]:
        """Projects watched (by any replica), and projects discovery found and left out."""
        watched = sum(1 for d in self.decisions if d.watched)
        return {"watched": watched, "excluded": len(self.decisions) - watched}


def _found_below(found: FoundProject) -> str:
    path = " > ".join(f"folders/{f}" for f in reversed(found.folders) if f"folders/{f}" != found.root)
    return f"below {found.root}" + (f" > {path}" if path else "")


def resolve(config: Config, estate: Estate | None, error: str | None = None, shard: Shard | None = None) -> ScopeSet:
    """The decisions for `config`, given what discovery listed (projects below roots the config no
    longer names are ignored: they are not below what it asks for), as replica `shard` sees them."""
    scopes = config.scopes
    roots = scopes.roots()
    listing = [p for p in estate.projects if p.root in roots] if estate is not None and scopes.discovering else []
    by_id = {p.project_id: p for p in listing}
    decisions: list[Decision] = []
    for listed in scopes.projects:
        found = by_id.get(listed.id)
        why = LISTED
        if found is not None:
            why += f"; also found {_found_below(found)}"
            if found.state != ACTIVE:
                why += f" (state {found.state or 'unknown'}: watched because listed)"
        decisions.append(_decide(config, listed.id, True, why, found, explicit=True))
    for found in listing:
        if scopes.explicit(found.project_id) is not None:
            continue
        if found.state != ACTIVE:
            state = found.state or "unknown"
            watched, why = False, f"found {_found_below(found)}; state {state} (only ACTIVE projects are watched)"
        else:
            watched, rule = scopes.admits(found.project_id, Seen(dict(found.labels), found.folders))
            why = f"found {_found_below(found)}; {rule}"
        decisions.append(_decide(config, found.project_id, watched, why, found))
    if shard is not None:
        decisions = [_owned(d, shard) for d in decisions]
    from_listing = estate is not None and scopes.discovering
    return ScopeSet(tuple(decisions), roots, listed=from_listing, error=error, shard=shard)


def _owned(decision: Decision, shard: Shard) -> Decision:
    """A watched project with its owner, and the why saying which replica watches it."""
    if not decision.watched:
        return decision
    owner = shard.owner(decision.project)
    whose = "this replica" if owner == shard.index else f"replica {owner}"
    why = f"{decision.why}; owned by {whose} ({owner} of {shard.count} by rendezvous hashing)"
    return replace(decision, owner=owner, why=why)


def _decide(
    config: Config, project: str, watched: bool, why: str, found: FoundProject | None, *, explicit: bool = False
) -> Decision:
    seen = Seen(dict(found.labels), found.folders) if found is not None else None
    overrides = config.scopes.settings_for(project, seen).overrides if watched else ()
    if found is None:
        return Decision(project, watched, why, explicit=explicit, overrides=overrides)
    return Decision(
        project,
        watched,
        why,
        explicit=explicit,
        discovered=True,
        state=found.state,
        parent=found.parent,
        root=found.root,
        labels=dict(found.labels),
        folders=found.folders,
        overrides=overrides,
    )
