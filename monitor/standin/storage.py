"""Cloud Storage JSON API v1 routes: the buckets of a project, one bucket, and one bucket's IAM policy.

Bucket names are global, so `get` and `getIamPolicy` find a bucket in whichever project holds it.
A scenario bucket may carry its IAM policy as `iamPolicy`; listing leaves it out, and a
bucket without one has the policy every new bucket gets (the project's owners, editors
and viewers through convenience members). `optionsRequestedPolicyVersion` is honoured as
IAM does (conditional bindings mangled below version 3).
"""

from __future__ import annotations

from typing import Any

from monitor.standin import crm
from monitor.standin.groups import own_fields, page_size, paged, project_group, require
from monitor.standin.replies import ApiError, Reply
from monitor.standin.routes import Call, Handler
from monitor.standin.scenario import Resource

API = "storage"
MAX_RESULTS = 1000
DEFAULT_ETAG = "CAE="


def _buckets(call: Call) -> Reply:
    project, parts = project_group(call, require(call, "project"), API, "storage")
    prefix = call.query.get("prefix", "")
    buckets = sorted(
        (own_fields(API, "Bucket", b) for b in parts.get("buckets", ()) if str(b.get("name", "")).startswith(prefix)),
        key=lambda b: str(b.get("name", "")),
    )
    body = paged(
        call, buckets, page_size(call, "maxResults", MAX_RESULTS, MAX_RESULTS), "items", {"kind": "storage#buckets"}
    )
    return Reply(200, body)


def _default_policy(project_number: str) -> dict[str, Any]:
    return {
        "version": 1,
        "etag": DEFAULT_ETAG,
        "bindings": [
            {
                "role": "roles/storage.legacyBucketOwner",
                "members": [f"projectOwner:{project_number}", f"projectEditor:{project_number}"],
            },
            {"role": "roles/storage.legacyBucketReader", "members": [f"projectViewer:{project_number}"]},
        ],
    }


def _find_bucket(call: Call, name: str) -> tuple[str, Resource]:
    for project in call.scenario.projects.values():
        for bucket in (project.parts.get("storage") or {}).get("buckets", ()):
            if bucket.get("name") == name:
                return project.number, bucket
    raise ApiError(404, "The specified bucket does not exist.", reason="notFound")


def _get_iam_policy(call: Call) -> Reply:
    name = call.params["bucket"]
    number, bucket = _find_bucket(call, name)
    stored = bucket.get("iamPolicy")
    requested = call.int_query("optionsRequestedPolicyVersion", 1)
    policy = crm.policy_view(stored, requested) if stored is not None else _default_policy(number)
    policy.setdefault("etag", DEFAULT_ETAG)
    return Reply(200, {"kind": "storage#policy", "resourceId": f"projects/_/buckets/{name}", **policy})


def _get(call: Call) -> Reply:
    """One bucket by its global name (LOG-04 reads a sink's destination so), as listing shows it."""
    _, bucket = _find_bucket(call, call.params["bucket"])
    return Reply(200, own_fields(API, "Bucket", bucket))


def handlers() -> dict[str, Handler]:
    return {
        "storage.buckets.list": _buckets,
        "storage.buckets.get": _get,
        "storage.buckets.getIamPolicy": _get_iam_policy,
    }
