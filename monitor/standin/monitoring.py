"""Cloud Monitoring API v3 routes: a project's alert policies.

A scenario writes them under `monitoring.alertPolicies`, as `alertPolicies.list` returns
them (named `projects/P/alertPolicies/ID`). A project without the `monitoring` group has the
API disabled. `filter` and `orderBy` are not supported (400), so a collector cannot silently
get an unfiltered answer to a filtered question.
"""

from __future__ import annotations

from monitor.standin.groups import page_size, paged, project_group
from monitor.standin.replies import Reply, bad_request
from monitor.standin.routes import Call, Handler

API = "monitoring"
#: alertPolicies.list: pageSize at most 1000; the stand-in's default page when none is asked
DEFAULT_PAGE = 100
MAX_PAGE = 1000


def _alert_policies(call: Call) -> Reply:
    for unsupported in ("filter", "orderBy"):
        if call.query.get(unsupported):
            raise bad_request(f"The stand-in does not support '{unsupported}' on alertPolicies.list.")
    _, parts = project_group(call, call.params["projectsId"], API, "monitoring")
    policies = sorted(parts.get("alertPolicies", ()), key=lambda p: str(p.get("name", "")))
    size = page_size(call, "pageSize", DEFAULT_PAGE, MAX_PAGE)
    return Reply(200, paged(call, policies, size, "alertPolicies", {}))


def handlers() -> dict[str, Handler]:
    return {"monitoring.projects.alertPolicies.list": _alert_policies}
