"""BigQuery datasets and tables, as raw REST JSON, through the handwritten client's connection.

As for Cloud Storage (`buckets.py`): `Client._connection.api_request` sends one request and
answers its parsed JSON, while the client's own listings page on their own, past the
`Caller`, and build objects from the JSON. Neither listing carries what the controls judge
(a dataset's `access` and `defaultEncryptionConfiguration`, a table's
`encryptionConfiguration`), so each listed resource is read again with its `get` (a dataset
at access policy version 3, a table in the BASIC view): sequential
inside the kind's worker, each an observed call bound by the run's deadline. A dataset or
table that cannot be read fails the kind: "no public grant" about an access list nobody saw
would be a pass by default. A listing whose `unreachable` names locations is partial and
fails the kind too.
"""

from __future__ import annotations

import functools
import urllib.parse
from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller, CallFailed
from monitor.collect.paging import json_token, pages

SERVICE = "bigquery"
DATASETS_METHOD = "bigquery.datasets.list"
DATASET_METHOD = "bigquery.datasets.get"
TABLE_METHOD = "bigquery.tables.get"
#: the table view read: everything but storage statistics, which no control needs (Google: "more efficient")
TABLE_VIEW = "BASIC"
#: the access list read as IAM policy version 3: conditional entries keep their role and condition
#: (below 3 their role reads `…_withcond_…`, as IAM mangles conditional bindings)
ACCESS_POLICY_VERSION = 3


def _get(connection: Any, path: str, params: dict[str, Any], timeout: float) -> Any:
    return connection.api_request(method="GET", path=path, query_params=params, timeout=timeout)


def _page(connection: Any, path: str, page_size: int | None, token: str, timeout: float) -> Any:
    params: dict[str, Any] = {}
    if page_size is not None:
        params["maxResults"] = page_size
    if token:
        params["pageToken"] = token
    return _get(connection, path, params, timeout)


def _quoted(*ids: object) -> str:
    return "/".join(urllib.parse.quote(str(i or ""), safe="") for i in ids)


def _refuse_partial(body: Any, method: str) -> None:
    unreachable = body.get("unreachable") if isinstance(body, dict) else None
    if unreachable:
        raise CallFailed(f"{method}: partial listing, unreachable: {', '.join(map(str, unreachable))}")


def _listed(call: Caller, connection: Any, path: str, field: str, page_size: int | None) -> list[JSON]:
    found: list[JSON] = []
    for body in pages(call, functools.partial(_page, connection, path, page_size), json_token, parsed=True):
        _refuse_partial(body, call.method)
        found.extend(body.get(field) or [])
    return found


def _dataset_id(listed: JSON) -> str:
    reference = listed.get("datasetReference") or {}
    return str(reference.get("datasetId") or "") if isinstance(reference, dict) else ""


def listed_datasets(connection: Any, project_id: str, call: Caller, page_size: int | None) -> list[JSON]:
    """The datasets.list entries of the project (hidden datasets included: `all=true`), listed once
    per run for both BigQuery kinds (`Caller.load_once`), failures included."""

    def load() -> list[JSON]:
        found: list[JSON] = []
        fetch = functools.partial(_datasets_page, connection, project_id, page_size)
        for body in pages(call, fetch, json_token, parsed=True):
            _refuse_partial(body, call.method)
            found.extend(body.get("datasets") or [])
        return found

    return call.load_once(f"projects/{project_id}", load)


def _datasets_page(connection: Any, project_id: str, page_size: int | None, token: str, timeout: float) -> Any:
    params: dict[str, Any] = {"all": "true"}
    if page_size is not None:
        params["maxResults"] = page_size
    if token:
        params["pageToken"] = token
    return _get(connection, f"/projects/{_quoted(project_id)}/datasets", params, timeout)


def datasets(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every Dataset of the project as datasets.get answers it (with `access` and encryption)."""
    connection = client._connection
    get = call.derive(DATASET_METHOD, SERVICE)
    found: list[JSON] = []
    for listed in listed_datasets(connection, project_id, call, page_size):
        path = f"/projects/{_quoted(project_id)}/datasets/{_quoted(_dataset_id(listed))}"
        params = {"accessPolicyVersion": ACCESS_POLICY_VERSION}
        found.append(get(functools.partial(_get, connection, path, params), parsed=True))
    return found


def tables(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every Table of every dataset of the project as tables.get answers it (with `encryptionConfiguration`)."""
    connection = client._connection
    get = call.derive(TABLE_METHOD, SERVICE)
    found: list[JSON] = []
    for listed in listed_datasets(connection, project_id, call.derive(DATASETS_METHOD, SERVICE), page_size):
        dataset = _dataset_id(listed)
        base = f"/projects/{_quoted(project_id)}/datasets/{_quoted(dataset)}/tables"
        for table in _listed(call, connection, base, "tables", page_size):
            reference = table.get("tableReference") or {}
            table_id = reference.get("tableId") if isinstance(reference, dict) else None
            path = f"{base}/{_quoted(table_id)}"
            found.append(get(functools.partial(_get, connection, path, {"view": TABLE_VIEW}), parsed=True))
    return found
