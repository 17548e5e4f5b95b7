"""Cloud Logging v2 route for one Logging bucket (`projects/P/locations/L/buckets/B`), LOG-04's read.

A scenario project keeps its LogBuckets under `logging.buckets`, each named in full as
the API names it. An unknown project is a plain 403 and one without a `logging` part has
the API disabled, as for the sinks (`cloudlogging`); a bucket the project lacks is 404.
The project may be named by id or number; the answer names it as the scenario does.
"""

from __future__ import annotations

from monitor.standin.cloudlogging import API
from monitor.standin.replies import ApiError, Reply, permission_denied, service_disabled
from monitor.standin.routes import Call, Handler

METHOD = "logging.projects.locations.buckets.get"
PERMISSION = "logging.buckets.get"


def _get(call: Call) -> Reply:
    key, location, bucket = call.params["projectsId"], call.params["locationsId"], call.params["bucketsId"]
    asked = f"projects/{key}/locations/{location}/buckets/{bucket}"
    project = call.scenario.project(key)
    if project is None:
        raise permission_denied(PERMISSION, asked, api=API)
    if project.logging is None:
        raise service_disabled(API, project.number)
    names = {f"projects/{p}/locations/{location}/buckets/{bucket}" for p in (project.project_id, project.number)}
    for found in project.logging.get("buckets", ()):
        if found.get("name") in names:
            return Reply(200, dict(found))
    raise ApiError(404, f"Bucket {asked} does not exist", reason="notFound")


def handlers() -> dict[str, Handler]:
    return {METHOD: _get}
