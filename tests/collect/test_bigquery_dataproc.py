"""The BigQuery and Dataproc kinds through the real clients and the stand-in: what each reads, how
often, and what a listing it cannot trust does.

The minimal project gains a second dataset holding two tables, a hidden dataset, and clusters in
two allowed regions and in one that no scope allows.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from checks.snapshot import Kind
from monitor.collect import CallFailed, GcpClients, collect_snapshot, make_clients
from monitor.collect.bigquery import _refuse_partial
from monitor.collect.dataproc import listed_regions
from monitor.config.model import parse_config
from monitor.run.runtime import collect_settings, dataproc_regions
from monitor.standin import StandIn, load_scenario
from tests.collect.conftest import MINIMAL, NOW, PROJECT, Recorder, fast

BIGQUERY_KINDS = (Kind.BIGQUERY_DATASETS, Kind.BIGQUERY_TABLES)


def _document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(MINIMAL.read_text())
    shop = doc["projects"][0]
    datasets, tables = shop["bigquery"]["datasets"], shop["bigquery"]["tables"]
    for name in ("hr", "_hidden"):
        extra = copy.deepcopy(datasets[0])
        extra.update(id=f"{PROJECT}:{name}", datasetReference={"projectId": PROJECT, "datasetId": name})
        datasets.append(extra)
    for name in ("people", "salaries"):
        table = copy.deepcopy(tables[0])
        reference = {"projectId": PROJECT, "datasetId": "hr", "tableId": name}
        table.update(id=f"{PROJECT}:hr.{name}", tableReference=reference)
        tables.append(table)
    clusters = shop["dataproc"]["clusters"]
    for name, region in (("west4", "europe-west4"), ("iowa", "us-central1")):
        cluster = copy.deepcopy(clusters[0])
        cluster.update(clusterName=name, labels={"goog-dataproc-location": region})
        clusters.append(cluster)
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


@pytest.fixture(scope="module")
def clients(served: StandIn) -> GcpClients:
    return make_clients(served.url)


def test_both_bigquery_kinds_share_one_datasets_listing_and_read_each_resource_once(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    snapshot = collect_snapshot(PROJECT, BIGQUERY_KINDS, clients, settings=fast(), observer=recorder, now=NOW).snapshot

    datasets = snapshot.get(Kind.BIGQUERY_DATASETS)
    assert sorted(d["datasetReference"]["datasetId"] for d in datasets) == ["_hidden", "hr", "sales"]
    assert all("access" in d and "defaultEncryptionConfiguration" in d for d in datasets)  # the get, not the listing
    tables = snapshot.get(Kind.BIGQUERY_TABLES)
    assert sorted(t["id"] for t in tables) == [f"{PROJECT}:{t}" for t in ("hr.people", "hr.salaries", "sales.orders")]
    assert all("encryptionConfiguration" in t for t in tables)
    [listing] = standin.requests_for("bigquery.datasets.list")  # once for both kinds, hidden datasets included
    assert listing.query.get("all") == "true"
    dataset_gets = standin.requests_for("bigquery.datasets.get")
    assert len(dataset_gets) == 3 and {r.query.get("accessPolicyVersion") for r in dataset_gets} == {"3"}
    assert len(standin.requests_for("bigquery.tables.list")) == 3  # one per dataset, the empty ones too
    gets = standin.requests_for("bigquery.tables.get")
    assert len(gets) == 3 and {r.query.get("view") for r in gets} == {"BASIC"}


def test_each_bigquery_page_is_one_observed_call(standin: StandIn, clients: GcpClients, recorder: Recorder) -> None:
    collect_snapshot(PROJECT, BIGQUERY_KINDS, clients, settings=fast(page_size=1), observer=recorder, now=NOW)

    assert [r.query.get("pageToken") for r in standin.requests_for("bigquery.datasets.list")] == [None, "1", "2"]
    assert recorder.codes("bigquery.datasets.list") == ["200"] * 3
    hr = [r for r in standin.requests_for("bigquery.tables.list") if "/datasets/hr/" in r.path]
    assert [r.query.get("pageToken") for r in hr] == [None, "1"]


def test_a_partial_dataset_listing_is_refused() -> None:
    with pytest.raises(CallFailed, match="partial listing, unreachable: us-east7"):
        _refuse_partial({"kind": "bigquery#datasetList", "unreachable": ["us-east7"]}, "bigquery.datasets.list")
    _refuse_partial({"kind": "bigquery#datasetList", "unreachable": []}, "bigquery.datasets.list")


@pytest.mark.parametrize(
    ("regions", "names"),
    [
        (("europe-west1",), ["etl"]),
        (("europe-west1", "eu", "europe-west4", "europe-west1"), ["etl", "west4"]),
    ],
)
def test_dataproc_lists_each_configured_region_once(
    standin: StandIn, clients: GcpClients, recorder: Recorder, regions: tuple[str, ...], names: list[str]
) -> None:
    settings = fast(dataproc_regions=regions)
    kinds = [Kind.DATAPROC_CLUSTERS]
    snapshot = collect_snapshot(PROJECT, kinds, clients, settings=settings, observer=recorder, now=NOW).snapshot

    assert sorted(c["clusterName"] for c in snapshot.get(Kind.DATAPROC_CLUSTERS)) == names
    requests = standin.requests_for(Kind.DATAPROC_CLUSTERS.spec.method)
    listed = [r.path.split("/regions/")[1].split("/")[0] for r in requests]
    assert listed == list(listed_regions(regions))  # `iowa` (us-central1) is never asked for


def test_no_region_to_list_fails_the_kind_rather_than_pass_on_nothing(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    settings = fast(dataproc_regions=("eu", "eur4"))
    kinds = [Kind.DATAPROC_CLUSTERS]
    snapshot = collect_snapshot(PROJECT, kinds, clients, settings=settings, observer=recorder, now=NOW).snapshot

    data = snapshot.kinds[Kind.DATAPROC_CLUSTERS]
    assert not data.ok and "no region to list clusters in (region.allowed names eu, eur4: no region)" in str(data.error)
    assert standin.requests == []


def test_the_dataproc_regions_are_every_scopes_allowed_regions() -> None:
    config = parse_config(
        """
scopes:
  projects:
    - id: shop-prod
    - id: data-lab
      params: {region: {allowed: [europe-west4, eu]}}
params:
  region: {allowed: [europe-west1]}
""",
        "cw.yaml",
    )
    assert dataproc_regions(config) == ("europe-west1", "europe-west4", "eu")
    assert collect_settings(config).dataproc_regions == ("europe-west1", "europe-west4", "eu")
    assert listed_regions(dataproc_regions(config)) == ("europe-west1", "europe-west4")
