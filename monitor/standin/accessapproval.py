"""Access Approval API v1 routes: a project's Access Approval settings.

A scenario writes them under `accessApproval.settings`, a list of at most one
AccessApprovalSettings named `projects/P/accessApprovalSettings`. An empty list is a
project that never configured Access Approval: 404 NOT_FOUND, as Google answers. A project
without the `accessApproval` group has the API disabled.
"""

from __future__ import annotations

from monitor.standin.groups import project_group
from monitor.standin.replies import ApiError, Reply
from monitor.standin.routes import Call, Handler

API = "accessapproval"


def _settings(call: Call) -> Reply:
    key = call.params["projectsId"]
    project, parts = project_group(call, key, API, "accessApproval")
    settings = parts.get("settings", ())
    if len(settings) > 1:
        raise ApiError(500, f"scenario: projects/{key} has {len(settings)} Access Approval settings, at most one")
    if not settings:
        raise ApiError(404, f"Settings not found for projects/{project.project_id}.", reason="notFound")
    return Reply(200, dict(settings[0]))


def handlers() -> dict[str, Handler]:
    return {"accessapproval.projects.getAccessApprovalSettings": _settings}
