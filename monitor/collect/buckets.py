"""Cloud Storage buckets, each with its IAM policy, as raw REST JSON.

Read through the handwritten client's own connection (`client._connection.api_request`),
as the Logging kinds are: its `Bucket` objects are built lazily from the same JSON but
the listing's pager fetches pages on its own, past the `Caller`. One listing of the
project's buckets (the default `noAcl` projection: every setting the controls judge,
without the legacy ACLs, which uniform bucket-level access makes moot), then one
`getIamPolicy` per bucket at version 3, sequential inside the kind's worker, each an
observed call bound by the run's deadline. A bucket whose policy cannot be read fails the
kind: FW-13 cannot say "not public" about a policy it did not see.
"""

from __future__ import annotations

import functools
import urllib.parse
from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller
from monitor.collect.paging import json_token, pages

SERVICE = "storage"
POLICY_METHOD = "storage.buckets.getIamPolicy"
#: the field a bucket carries its IAM policy in (the scenario's nesting; not an API field)
POLICY = "iamPolicy"
POLICY_VERSION = 3


def _get(connection: Any, path: str, params: dict[str, Any], timeout: float) -> Any:
    return connection.api_request(method="GET", path=path, query_params=params, timeout=timeout, retry=None)


def _page(connection: Any, project_id: str, page_size: int | None, token: str, timeout: float) -> Any:
    params: dict[str, Any] = {"project": project_id}
    if page_size is not None:
        params["maxResults"] = page_size
    if token:
        params["pageToken"] = token
    return _get(connection, "/b", params, timeout)


def buckets(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every Bucket of the project, with its IAM Policy (version 3) under `iamPolicy`."""
    connection = client._connection
    found: list[JSON] = []
    fetch = functools.partial(_page, connection, project_id, page_size)
    for body in pages(call, fetch, json_token, parsed=True):
        found.extend(body.get("items", []))
    policy_call = call.derive(POLICY_METHOD, SERVICE)
    params = {"optionsRequestedPolicyVersion": POLICY_VERSION}
    for bucket in found:
        path = f"/b/{urllib.parse.quote(str(bucket.get('name') or ''), safe='')}/iam"
        bucket[POLICY] = policy_call(functools.partial(_get, connection, path, params), parsed=True)
    return found
