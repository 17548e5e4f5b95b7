"""`scopes:`: which projects are watched, listed by id and/or discovered below an organisation or folders.

What the file says, and the pure rules it applies to one project: include and exclude
(for discovered projects), and the overrides that match it (params and disabled controls
by glob, label or folder). Listing the estate is `monitor/collect/estate.py`'s job, and
turning a listing into the watched set `monitor/run/scopeset.py`'s.

Filters read: an `include` admits a project meeting every criterion it gives (one of its
globs, all of its labels, below one of its folders); an `exclude` drops a project meeting
any of its criteria. An override's `match` reads like an `include`. A listed project
(`scopes.projects`) is always watched: filters concern discovered projects only. Labels
and folders are known only for projects discovery lists, so a label or folder criterion
never matches a project it has not seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Annotated, Any

from pydantic import SerializationInfo, ValidationError, ValidationInfo, field_serializer, field_validator
from pydantic_core import ErrorDetails

from checks.params import Params
from monitor.config.durations import AS_TEXT, at_least
from monitor.config.grammar import (
    ControlId,
    FolderId,
    Frozen,
    LabelGlob,
    LabelKey,
    OrganizationId,
    ProjectGlob,
    ProjectId,
)
from monitor.config.yaml_source import KeyPath

__all__ = ["Match", "Override", "ProjectScope", "Refresh", "ScopeSettings", "Scopes", "Seen", "scopes_problems"]

Refresh = Annotated[
    timedelta,
    at_least(
        timedelta(minutes=1),
        "each refresh lists every folder and project below the roots, against a per-minute read quota",
    ),
    AS_TEXT,
]
_NO_DISCOVERY = "set scopes.organization or scopes.folders"


@dataclass(frozen=True, slots=True)
class Seen:
    """What discovery knows of a project: its labels, and the ids of the folders above it."""

    labels: Mapping[str, str] = field(default_factory=dict)
    folders: tuple[str, ...] = ()


def _dump_partial(params: Params, info: SerializationInfo) -> dict[str, Any]:
    # Dumping the defaults too would show values that the global params replace.
    return params.model_dump(mode=info.mode, exclude_unset=True)


class ProjectScope(Frozen):
    """One watched project; `params` holds only its overrides (the keys written in the file)."""

    id: ProjectId
    params: Params = Params()
    disabled_controls: tuple[ControlId, ...] = ()

    def overrides(self) -> dict[str, Any]:
        """The parameters this scope sets, as a partial `params:` mapping."""
        return self.params.model_dump(exclude_unset=True)

    @field_serializer("params")
    def _dump_overrides(self, params: Params, info: SerializationInfo) -> dict[str, Any]:
        return _dump_partial(params, info)


class Match(Frozen):
    """Criteria on a project: globs on its id, label values (globs too), folders it lies below."""

    projects: tuple[ProjectGlob, ...] = ()
    labels: dict[LabelKey, LabelGlob] = {}
    folders: tuple[FolderId, ...] = ()

    @property
    def empty(self) -> bool:
        """No criterion: as `include` it admits everything, as `exclude` it drops nothing."""
        return not (self.projects or self.labels or self.folders)

    @property
    def needs_discovery(self) -> bool:
        """Labels and folders are known only for projects discovery lists."""
        return bool(self.labels or self.folders)

    def every(self, project_id: str, seen: Seen | None) -> str | None:
        """How the project meets every criterion given (`projects 'shop-*', labels env=prod`), or None."""
        said: list[str] = []
        if self.projects:
            glob = next((g for g in self.projects if fnmatchcase(project_id, g)), None)
            if glob is None:
                return None
            said.append(f"projects {glob!r}")
        if self.labels:
            labels = seen.labels if seen is not None else {}
            if not all(k in labels and fnmatchcase(labels[k], v) for k, v in self.labels.items()):
                return None
            said.append("labels " + ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items())))
        if self.folders:
            folder = next((f for f in self.folders if seen is not None and f in seen.folders), None)
            if folder is None:
                return None
            said.append(f"folders {folder}")
        return ", ".join(said)

    def any(self, project_id: str, seen: Seen | None) -> str | None:
        """The first criterion the project meets (`labels env=dev`), or None."""
        glob = next((g for g in self.projects if fnmatchcase(project_id, g)), None)
        if glob is not None:
            return f"projects {glob!r}"
        labels = seen.labels if seen is not None else {}
        for key, value in sorted(self.labels.items()):
            if key in labels and fnmatchcase(labels[key], value):
                return f"labels {key}={value}"
        folder = next((f for f in self.folders if seen is not None and f in seen.folders), None)
        return f"folders {folder}" if folder is not None else None

    def describe(self) -> str:
        parts = [f"projects {', '.join(repr(g) for g in self.projects)}"] if self.projects else []
        if self.labels:
            parts.append("labels " + ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items())))
        if self.folders:
            parts.append(f"folders {', '.join(self.folders)}")
        return "; ".join(parts)


class Override(Frozen):
    """Params and disabled controls for every watched project its `match` admits."""

    match: Match
    params: Params = Params()
    disabled_controls: tuple[ControlId, ...] = ()

    @field_validator("match")
    @classmethod
    def _matches_something(cls, value: Match) -> Match:
        if value.empty:
            raise ValueError("matches nothing: give projects (globs), labels or folders")
        return value

    def overrides(self) -> dict[str, Any]:
        return self.params.model_dump(exclude_unset=True)

    @field_serializer("params")
    def _dump_overrides(self, params: Params, info: SerializationInfo) -> dict[str, Any]:
        return _dump_partial(params, info)


@dataclass(frozen=True, slots=True)
class ScopeSettings:
    """What the file sets for one project: partial params in the order they apply, disabled controls,
    and which `scopes.overrides` (by index) matched."""

    params: tuple[dict[str, Any], ...]
    disabled: frozenset[str]
    overrides: tuple[int, ...]


class Scopes(Frozen):
    """Projects listed by id, and/or every active project discovered below an organisation or folders."""

    organization: OrganizationId | None = None
    folders: tuple[FolderId, ...] = ()
    include: Match = Match()
    exclude: Match = Match()
    refresh: Refresh = timedelta(minutes=10)
    projects: tuple[ProjectScope, ...] = ()
    overrides: tuple[Override, ...] = ()

    @field_validator("projects")
    @classmethod
    def _at_least_one(cls, value: tuple[ProjectScope, ...], info: ValidationInfo) -> tuple[ProjectScope, ...]:
        if not value and not info.data.get("organization") and not info.data.get("folders"):
            raise ValueError(f"list at least one project to watch, or {_NO_DISCOVERY}")
        return value

    @property
    def discovering(self) -> bool:
        """Whether projects are found below an organisation or folders (else only the listed ones)."""
        return self.organization is not None or bool(self.folders)

    def roots(self) -> tuple[str, ...]:
        """The resource names discovery lists below: the organisation first, then the folders."""
        org = (f"organizations/{self.organization}",) if self.organization is not None else ()
        return (*org, *(f"folders/{folder}" for folder in self.folders))

    def project_ids(self) -> tuple[str, ...]:
        """The listed projects' ids, in file order."""
        return tuple(scope.id for scope in self.projects)

    def explicit(self, project_id: str) -> ProjectScope | None:
        return next((scope for scope in self.projects if scope.id == project_id), None)

    def admits(self, project_id: str, seen: Seen) -> tuple[bool, str]:
        """Whether the filters let a discovered project in, and why (the rule that decided)."""
        why = None
        if not self.include.empty:
            why = self.include.every(project_id, seen)
            if why is None:
                return False, f"not matched by include ({self.include.describe()})"
        hit = self.exclude.any(project_id, seen)
        if hit is not None:
            return False, f"excluded by exclude.{hit}"
        return True, f"included by include.{why}" if why else "no filter excludes it"

    def settings_for(self, project_id: str, seen: Seen | None = None) -> ScopeSettings:
        """The overrides matching the project in file order, then its own entry's (the most specific).

        `seen` is what discovery knows of it; without it, a project not listed is a KeyError.
        """
        own = self.explicit(project_id)
        if own is None and seen is None:
            raise KeyError(f"unknown scope {project_id!r}")
        matched = tuple(i for i, o in enumerate(self.overrides) if o.match.every(project_id, seen) is not None)
        params = [self.overrides[i].overrides() for i in matched]
        disabled = {c for i in matched for c in self.overrides[i].disabled_controls}
        if own is not None:
            params.append(own.overrides())
            disabled.update(own.disabled_controls)
        return ScopeSettings(tuple(params), frozenset(disabled), matched)


def scopes_problems(
    scopes: Scopes, params: Params, risk_scopes: Sequence[str], wording: Callable[[ErrorDetails], str]
) -> list[tuple[KeyPath, str]]:
    """What `scopes:` gets wrong only as a whole (located), given the global params and the
    `exceptions[].scope` of each accepted risk; `wording` words a params error."""
    found: list[tuple[KeyPath, str]] = []
    if not scopes.discovering and not scopes.projects:
        found.append((("scopes",), f"nothing to watch: list scopes.projects, or {_NO_DISCOVERY}"))
    first: dict[str, int] = {}
    for index, scope in enumerate(scopes.projects):
        if scope.id in first:
            reason = f"duplicate project {scope.id!r} (also scopes.projects[{first[scope.id]}])"
            found.append((("scopes", "projects", index, "id"), reason))
        first.setdefault(scope.id, index)
        found += _merge_problems(params, scope.overrides(), ("scopes", "projects", index, "params"), wording)
    seen_folders: dict[str, int] = {}
    for index, folder in enumerate(scopes.folders):
        if folder in seen_folders:
            reason = f"duplicate folder {folder!r} (also scopes.folders[{seen_folders[folder]}])"
            found.append((("scopes", "folders", index), reason))
        seen_folders.setdefault(folder, index)
    for name in ("include", "exclude"):
        if not getattr(scopes, name).empty and not scopes.discovering:
            found.append((("scopes", name), f"filters discovered projects only: {_NO_DISCOVERY}"))
    for index, override in enumerate(scopes.overrides):
        where: KeyPath = ("scopes", "overrides", index)
        if override.match.needs_discovery and not scopes.discovering:
            key = "labels" if override.match.labels else "folders"
            reason = f"{key} are known only for discovered projects: {_NO_DISCOVERY}, or match by projects"
            found.append(((*where, "match", key), reason))
        found += _merge_problems(params, override.overrides(), (*where, "params"), wording)
    if not scopes.discovering:
        # With discovery, a risk may name any project: one that is not watched is reported stale.
        for index, scope_id in enumerate(risk_scopes):
            if scope_id not in first:
                found.append((("exceptions", index, "scope"), f"{scope_id!r} is not one of scopes.projects"))
    return found


def _merge_problems(
    params: Params, partial: dict[str, Any], where: KeyPath, reason: Callable[[ErrorDetails], str]
) -> list[tuple[KeyPath, str]]:
    """A partial `params:` is validated again once merged into the global params (as at run time)."""
    try:
        params.merged(partial)
    except ValidationError as exc:
        return [((*where, *error["loc"]), reason(error)) for error in exc.errors()]
    return []
