"""Cloud Dataproc API v1 routes: a project's clusters in one region.

A scenario's `dataproc.clusters` hold Clusters as the API answers them. A cluster's region
is its `goog-dataproc-location` label, which Dataproc sets on every cluster it creates;
a cluster without it is in no region and never listed. `filter` is not supported (400),
so a collector cannot silently get an unfiltered answer to a filtered question.
"""

from __future__ import annotations

from monitor.standin.groups import page_size, paged, project_group
from monitor.standin.replies import Reply, bad_request
from monitor.standin.routes import Call, Handler
from monitor.standin.scenario import Resource

API = "dataproc"
MAX_RESULTS = 100
REGION_LABEL = "goog-dataproc-location"


def region_of(cluster: Resource) -> str:
    return str((cluster.get("labels") or {}).get(REGION_LABEL) or "")


def _clusters(call: Call) -> Reply:
    if call.query.get("filter"):
        raise bad_request("The stand-in does not support 'filter' on dataproc.projects.regions.clusters.list.")
    _, parts = project_group(call, call.params["projectId"], API, "dataproc")
    region = call.params["region"]
    shown = sorted(
        (c for c in parts.get("clusters", ()) if region_of(c) == region), key=lambda c: str(c.get("clusterName"))
    )
    size = page_size(call, "pageSize", MAX_RESULTS, MAX_RESULTS)
    return Reply(200, paged(call, shown, size, "clusters", {}))


def handlers() -> dict[str, Handler]:
    return {"dataproc.projects.regions.clusters.list": _clusters}
