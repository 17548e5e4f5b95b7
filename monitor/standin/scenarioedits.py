"""The next scenario after a write: the typed project and the raw document edited alike.

The scenario is immutable, so a write builds the one that follows (the server swaps it in
under the write lock) and a request already reading the old one finishes on it. The
document is edited with the project so that both tell one story: what is rebuilt from
the document (`Scenario.shift_to`) keeps every write the typed view shows.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

from monitor.standin.scenario import Project, Resource, Scenario


def with_project(scenario: Scenario, project: Project, edit: Callable[[dict[str, Any]], None]) -> Scenario:
    """`scenario` with `project` replaced, its document edited alike (so both tell one story)."""
    document = dict(scenario.document)
    projects = list(document.get("projects", []))
    for i, raw in enumerate(projects):
        if raw.get("projectId") == project.project_id:
            raw = copy.copy(raw)
            edit(raw)
            projects[i] = raw
    document["projects"] = projects
    return dataclasses.replace(scenario, projects={**scenario.projects, project.project_id: project}, document=document)


def with_compute(scenario: Scenario, project: Project, kind: str, items: list[Resource]) -> Scenario:
    """`scenario` with the project's Compute list `kind` replaced by `items`."""
    assert project.compute is not None

    def edit(raw: dict[str, Any]) -> None:
        raw["compute"] = {**raw.get("compute", {}), kind: [dict(i) for i in items]}

    changed = project.with_list("compute", kind, tuple(items))
    return with_project(scenario, changed, edit)


def with_policy(scenario: Scenario, project: Project, policy: Resource) -> Scenario:
    """`scenario` with the project's IAM policy replaced by `policy`."""

    def edit(raw: dict[str, Any]) -> None:
        raw["iamPolicy"] = dict(policy)

    return with_project(scenario, dataclasses.replace(project, iam_policy=policy), edit)


__all__ = ["with_compute", "with_policy", "with_project"]
