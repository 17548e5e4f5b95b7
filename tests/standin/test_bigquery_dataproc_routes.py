"""The BigQuery and Dataproc routes on the stand-in, over plain HTTP: routed by discovery, answered
from the minimal scenario, faulted like every other route, refused loudly."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from monitor.standin import Fault, StandIn, load_scenario
from tests.collect.conftest import MINIMAL

PROJECT = "example-shop"
BQ = f"/bigquery/v2/projects/{PROJECT}/datasets"
ROUTES: dict[str, tuple[str, dict[str, str]]] = {
    "bigquery.datasets.list": (BQ, {}),
    "bigquery.datasets.get": (f"{BQ}/sales", {}),
    "bigquery.tables.list": (f"{BQ}/sales/tables", {}),
    "bigquery.tables.get": (f"{BQ}/sales/tables/orders", {"view": "BASIC"}),
    "dataproc.projects.regions.clusters.list": (f"/v1/projects/{PROJECT}/regions/europe-west1/clusters", {}),
}


def _document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(MINIMAL.read_text())
    datasets = doc["projects"][0]["bigquery"]["datasets"]
    hidden = copy.deepcopy(datasets[0])
    hidden.update(id=f"{PROJECT}:_scratch", datasetReference={"projectId": PROJECT, "datasetId": "_scratch"})
    datasets.append(hidden)
    return doc


@pytest.fixture(scope="module")
def served() -> Iterator[StandIn]:
    with StandIn(load_scenario(_document())) as standin:
        yield standin


@pytest.fixture
def standin(served: StandIn) -> Iterator[StandIn]:
    served.reset()
    yield served
    served.reset()


def _get(standin: StandIn, method: str, **query: str) -> requests.Response:
    path, base = ROUTES[method]
    return requests.get(standin.url + path, params={**base, **query}, timeout=10)


@pytest.mark.parametrize("method", list(ROUTES))
def test_each_route_answers_from_the_scenario_and_takes_faults(standin: StandIn, method: str) -> None:
    ok = _get(standin, method)
    assert ok.status_code == 200, ok.text
    assert [r.method for r in standin.requests] == [method]
    assert standin.requests[0].project == PROJECT  # a fault can name the project
    for status in (429, 503):
        standin.add_fault(Fault(method=method, project=PROJECT, status=status, times=1))
        assert _get(standin, method).status_code == status
    assert _get(standin, method).json() == ok.json()


def test_listings_show_only_the_listing_fields(standin: StandIn) -> None:
    (listed,) = _get(standin, "bigquery.datasets.list").json()["datasets"]  # the hidden one needs all=true
    assert "access" not in listed and "defaultEncryptionConfiguration" not in listed
    assert listed["datasetReference"]["datasetId"] == "sales"
    every = _get(standin, "bigquery.datasets.list", all="true").json()["datasets"]
    assert [d["datasetReference"]["datasetId"] for d in every] == ["_scratch", "sales"]
    (table,) = _get(standin, "bigquery.tables.list").json()["tables"]
    assert "encryptionConfiguration" not in table and "schema" not in table
    assert "encryptionConfiguration" in _get(standin, "bigquery.tables.get").json()


def test_a_conditional_access_entry_is_shown_whole_only_at_version_3(standin: StandIn) -> None:
    until = {"title": "until-2027", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}
    doc = _document()
    doc["projects"][0]["bigquery"]["datasets"][0]["access"].append(
        {"role": "READER", "groupByEmail": "auditors@example.be", "condition": until}
    )
    with StandIn(load_scenario(doc)) as served:
        whole = _get(served, "bigquery.datasets.get", accessPolicyVersion="3").json()["access"][-1]
        legacy = _get(served, "bigquery.datasets.get").json()["access"][-1]
        refused = _get(served, "bigquery.datasets.get", accessPolicyVersion="2")
    assert whole == {"role": "READER", "groupByEmail": "auditors@example.be", "condition": until}
    assert "condition" not in legacy and legacy["role"].startswith("READER_with_conditionalbinding_")
    assert refused.status_code == 400 and "accessPolicyVersion" in refused.json()["error"]["message"]


def test_a_region_without_clusters_answers_an_empty_object(standin: StandIn) -> None:
    answer = requests.get(f"{standin.url}/v1/projects/{PROJECT}/regions/us-central1/clusters", timeout=10)
    assert answer.status_code == 200 and answer.json() == {}


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        (f"{BQ}/nope", 404, f"Not found: Dataset {PROJECT}:nope"),
        (f"{BQ}/nope/tables", 404, f"Not found: Dataset {PROJECT}:nope"),
        (f"{BQ}/sales/tables/nope", 404, f"Not found: Table {PROJECT}:sales.nope"),
        (f"{BQ}?filter=labels.env:prod", 400, "does not support 'filter'"),
        (f"/v1/projects/{PROJECT}/regions/europe-west1/clusters?filter=status.state=ACTIVE", 400,
         "does not support 'filter'"),
    ],
)  # fmt: skip
def test_a_missing_resource_or_an_unsupported_filter_is_refused(
    standin: StandIn, path: str, status: int, message: str
) -> None:
    answer = requests.get(standin.url + path, timeout=10)
    assert answer.status_code == status and message in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("group", "method", "title"),
    [("bigquery", "bigquery.datasets.list", "BigQuery API"),
     ("dataproc", "dataproc.projects.regions.clusters.list", "Cloud Dataproc API")],
)  # fmt: skip
def test_a_group_left_out_is_the_api_disabled(group: str, method: str, title: str) -> None:
    doc = _document()
    del doc["projects"][0][group]
    with StandIn(load_scenario(doc)) as standin:
        answer = _get(standin, method)
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert title in error["message"] and error["details"][0]["reason"] == "SERVICE_DISABLED"
