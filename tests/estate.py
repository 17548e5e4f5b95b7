"""A scenario estate for scope discovery: nested folders, labels, a deleted project.

```
organizations/4242 example.be
├── data-platform              env=prod
├── folders/5501 prod
│   ├── ledger-prod            env=prod
│   └── folders/5503 shop
│       ├── shop-prod          env=prod team=shop
│       ├── old-shop           DELETE_REQUESTED
│       └── folders/5505 shop-eu
│           └── shop-eu-prod   env=prod team=shop   (three folders deep)
└── folders/5502 non-prod
    ├── shop-dev               env=dev team=shop
    └── folders/5504 sandboxes
        ├── sandbox-alice      env=dev
        └── data-lab           env=dev
```

No project has Compute or Logging data: its listings answer "API not enabled", so a daemon's
runs end quickly. `estate_document` builds it; `with_project` and `with_state` change it.
"""

from __future__ import annotations

import copy
from typing import Any

NOW = "2026-11-25T12:00:00Z"
ORG = "organizations/4242"

_FOLDERS = [
    ("5501", ORG, "prod"),
    ("5502", ORG, "non-prod"),
    ("5503", "folders/5501", "shop"),
    ("5504", "folders/5502", "sandboxes"),
    ("5505", "folders/5503", "shop-eu"),
]
_PROJECTS: list[tuple[str, str, str, dict[str, str]]] = [
    ("data-platform", ORG, "ACTIVE", {"env": "prod"}),
    ("ledger-prod", "folders/5501", "ACTIVE", {"env": "prod"}),
    ("shop-prod", "folders/5503", "ACTIVE", {"env": "prod", "team": "shop"}),
    ("old-shop", "folders/5503", "DELETE_REQUESTED", {"env": "prod", "team": "shop"}),
    ("shop-eu-prod", "folders/5505", "ACTIVE", {"env": "prod", "team": "shop"}),
    ("shop-dev", "folders/5502", "ACTIVE", {"env": "dev", "team": "shop"}),
    ("sandbox-alice", "folders/5504", "ACTIVE", {"env": "dev"}),
    ("data-lab", "folders/5504", "ACTIVE", {"env": "dev"}),
]
#: every project of the estate that is ACTIVE
ACTIVE = sorted(p for p, _, state, _ in _PROJECTS if state == "ACTIVE")


def project(
    project_id: str, parent: str, state: str = "ACTIVE", labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """A v3 Project as Resource Manager answers it (its number derived from its id, stable)."""
    number = 100000000000 + sum(ord(c) * (i + 1) for i, c in enumerate(project_id))
    resource: dict[str, Any] = {
        "projectId": project_id,
        "name": f"projects/{number}",
        "parent": parent,
        "displayName": project_id,
        "state": state,
        "createTime": "2025-01-15T09:30:00.000Z",
    }
    if labels:
        resource["labels"] = dict(labels)
    return resource


def estate_document() -> dict[str, Any]:
    return {
        "now": NOW,
        "organization": {"name": ORG, "displayName": "example.be", "state": "ACTIVE"},
        "folders": [
            {"name": f"folders/{n}", "parent": parent, "displayName": name, "state": "ACTIVE"}
            for n, parent, name in _FOLDERS
        ],
        "projects": [project(*row) for row in _PROJECTS],
    }


def with_project(document: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    """`document` with one more project."""
    changed = copy.deepcopy(document)
    changed["projects"].append(resource)
    return changed


def with_state(document: dict[str, Any], project_id: str, state: str) -> dict[str, Any]:
    """`document` with `project_id` in `state` (`DELETE_REQUESTED`: deleted, as `gcloud projects delete` leaves it)."""
    changed = copy.deepcopy(document)
    for resource in changed["projects"]:
        if resource["projectId"] == project_id:
            resource["state"] = state
    return changed
