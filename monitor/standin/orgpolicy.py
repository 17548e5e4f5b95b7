"""Organization Policy API v2 routes: a project's effective policy, per constraint.

A scenario writes the policies as `getEffectivePolicy` returns them for the project
(`orgPolicy.effectivePolicies`, each named `projects/P/policies/CONSTRAINT`, by id or
number). A constraint without one answers a policy without a `spec`: nothing is enforced.
Policies set on folders and organisations are not in the scenario format, so
`policies.list` is not served (501 names it).
"""

from __future__ import annotations

from monitor.standin.groups import project_group
from monitor.standin.replies import Reply
from monitor.standin.routes import Call, Handler

API = "orgpolicy"


def _effective(call: Call) -> Reply:
    key, constraint = call.params["projectsId"], call.params["policiesId"]
    project, parts = project_group(call, key, API, "orgPolicy")
    names = {f"projects/{project.project_id}/policies/{constraint}", f"projects/{project.number}/policies/{constraint}"}
    for policy in parts.get("effectivePolicies", ()):
        if policy.get("name") in names:
            return Reply(200, dict(policy))
    return Reply(200, {"name": f"projects/{project.number}/policies/{constraint}"})


def handlers() -> dict[str, Handler]:
    return {"orgpolicy.projects.policies.getEffectivePolicy": _effective}
