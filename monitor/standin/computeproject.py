"""Compute Engine's `projects.get`: the project as Compute sees it, answered from the scenario.

A scenario project may carry its Compute Project under `computeProject` (exactly as
`gcloud compute project-info describe --format=json` prints it): that object is the
answer. Without one, the answer is what Compute returns for a project nobody has set
metadata on: its name and id, the default service account, and `commonInstanceMetadata`
holding only its `kind` and `fingerprint`. Unknown project: 404; a project without a
`compute` part has the API disabled: 403 SERVICE_DISABLED, as every Compute route.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from checks.kinds import KindSpec
from monitor.standin.compute import SELF_LINK_BASE, compute_project
from monitor.standin.replies import Reply
from monitor.standin.routes import Call, Handler
from monitor.standin.scenario import Project

PART = "computeProject"


def _fingerprint(project: Project) -> str:
    """A stable 8-byte base64 fingerprint, as Compute writes one (`42WmSpB8rSM=`)."""
    return base64.b64encode(hashlib.sha256(project.project_id.encode()).digest()[:8]).decode()


def default_answer(project: Project) -> dict[str, Any]:
    """What `projects.get` answers for a project without metadata of its own."""
    return {
        "kind": "compute#project",
        "id": str(int(project.number) + 1000),
        "name": project.project_id,
        "creationTimestamp": "2024-01-01T00:00:00.000-08:00",
        "commonInstanceMetadata": {"kind": "compute#metadata", "fingerprint": _fingerprint(project)},
        "defaultServiceAccount": f"{project.number}-compute@developer.gserviceaccount.com",
        "defaultNetworkTier": "PREMIUM",
        "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS",
        "selfLink": f"{SELF_LINK_BASE}projects/{project.project_id}",
    }


def _get(call: Call) -> Reply:
    project = compute_project(call)
    stored = project.singles.get(PART)
    return Reply(200, dict(stored) if stored is not None else default_answer(project))


def kind_handlers(spec: KindSpec) -> dict[str, Handler]:
    """The one route of the computeProject row: `compute.projects.get`."""
    if spec.method != "compute.projects.get" or spec.part != PART:
        raise ValueError(f"the stand-in serves Compute's project as {PART!r} by projects.get, not {spec.name}")
    return {spec.method: _get}
