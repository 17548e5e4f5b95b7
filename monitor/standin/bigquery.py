"""BigQuery API v2 routes: a project's datasets and one dataset, a dataset's tables and one table.

A scenario's `bigquery.datasets` hold Datasets as datasets.get answers them, and its
`bigquery.tables` Tables as tables.get does, each naming its dataset in
`tableReference.datasetId`. The listings show what Google's do: an entry per resource with
the listing's own fields only (no `access`, no encryption), `kind` always set, an empty
list left out. Hidden datasets (`_` names) are listed only with `all=true`, as BigQuery
does. An unknown dataset or table is BigQuery's 404. `accessPolicyVersion` is honoured as
BigQuery documents it: below 3, a conditional access entry shows a mangled role and no condition.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from monitor.standin.discovery import load_api
from monitor.standin.groups import page_size, paged, project_group
from monitor.standin.replies import ApiError, Reply
from monitor.standin.routes import Call, Handler
from monitor.standin.scenario import Resource

API = "bigquery"
MAX_RESULTS = 1000


def _listed_fields(schema: str, field: str) -> dict[str, Any]:
    """The schema of one entry of a listing (`DatasetList.datasets[]`), from the discovery document."""
    return dict(load_api(API).schemas[schema]["properties"][field]["items"])


def _entry(resource: Any, schema: dict[str, Any]) -> Any:
    """`resource` cut to what the listing's entry schema holds: its fields, and inline objects' own
    (a table's `view` lists `useLegacySql`, not its `query`)."""
    properties = schema.get("properties")
    if not isinstance(resource, dict) or properties is None:
        return resource
    return {k: _entry(v, properties[k]) for k, v in resource.items() if k in properties}


def _dataset_id(dataset: Resource) -> str:
    return str((dataset.get("datasetReference") or {}).get("datasetId") or "")


def _table_ref(table: Resource) -> tuple[str, str]:
    reference = table.get("tableReference") or {}
    return str(reference.get("datasetId") or ""), str(reference.get("tableId") or "")


def _parts(call: Call) -> tuple[str, Any]:
    project, parts = project_group(call, call.params["projectsId"], API, "bigquery")
    return project.project_id, parts


def _dataset(call: Call) -> tuple[str, Resource, Any]:
    project_id, parts = _parts(call)
    wanted = call.params["datasetsId"]
    for dataset in parts.get("datasets", ()):
        if _dataset_id(dataset) == wanted:
            return project_id, dataset, parts
    raise ApiError(404, f"Not found: Dataset {project_id}:{wanted}", reason="notFound")


def _datasets(call: Call) -> Reply:
    if call.query.get("filter"):
        raise ApiError(400, "The stand-in does not support 'filter' on bigquery.datasets.list.", reason="invalid")
    _, parts = _parts(call)
    every = call.query.get("all", "").lower() == "true"
    fields = _listed_fields("DatasetList", "datasets")
    shown = sorted(
        (_entry(d, fields) for d in parts.get("datasets", ()) if every or not _dataset_id(d).startswith("_")),
        key=lambda d: _dataset_id(d),
    )
    size = page_size(call, "maxResults", MAX_RESULTS, MAX_RESULTS)
    return Reply(200, paged(call, shown, size, "datasets", {"kind": "bigquery#datasetList", "etag": "e0"}))


def _access_view(access: Any, version: int) -> Any:
    """The access list as `accessPolicyVersion` shows it: below 3 a conditional entry loses its
    condition and its role is mangled, as BigQuery documents (`…_with_conditionalbinding_HASH`)."""
    if version >= 3 or not isinstance(access, list):
        return access
    shown = []
    for entry in access:
        if isinstance(entry, dict) and "condition" in entry:
            entry = {k: v for k, v in entry.items() if k != "condition"}
            digest = hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()[:10]
            entry["role"] = f"{entry.get('role', '')}_with_conditionalbinding_{digest}"
        shown.append(entry)
    return shown


def _get_dataset(call: Call) -> Reply:
    _, dataset, _ = _dataset(call)
    version = call.int_query("accessPolicyVersion", 0)
    if version not in (0, 1, 3):
        raise ApiError(400, f"Invalid value for accessPolicyVersion: {version}. Valid values are 0, 1 and 3.")
    answer = dict(dataset)
    if "access" in answer:
        answer["access"] = _access_view(answer["access"], version)
    return Reply(200, answer)


def _tables(call: Call) -> Reply:
    _, dataset, parts = _dataset(call)
    name = _dataset_id(dataset)
    fields = _listed_fields("TableList", "tables")
    shown = sorted(
        (_entry(t, fields) for t in parts.get("tables", ()) if _table_ref(t)[0] == name),
        key=lambda t: _table_ref(t)[1],
    )
    size = page_size(call, "maxResults", MAX_RESULTS, MAX_RESULTS)
    body = paged(call, shown, size, "tables", {"kind": "bigquery#tableList", "etag": "e0", "totalItems": len(shown)})
    return Reply(200, body)


def _get_table(call: Call) -> Reply:
    project_id, dataset, parts = _dataset(call)
    wanted = (_dataset_id(dataset), call.params["tablesId"])
    for table in parts.get("tables", ()):
        if _table_ref(table) == wanted:
            return Reply(200, dict(table))
    raise ApiError(404, f"Not found: Table {project_id}:{wanted[0]}.{wanted[1]}", reason="notFound")


def handlers() -> dict[str, Handler]:
    return {
        "bigquery.datasets.list": _datasets,
        "bigquery.datasets.get": _get_dataset,
        "bigquery.tables.list": _tables,
        "bigquery.tables.get": _get_table,
    }
