"""DATA-43 on Dataproc clusters in the dataproc v1 JSON shape; one row per case."""

from __future__ import annotations

from typing import Any

import pytest

from checks import dataproc
from checks.model import Verdict
from checks.params import Params
from monitor.run.runner import run_control
from tests.builders import make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
KEY = "projects/shop-prod/locations/europe-west1/keyRings/shop/cryptoKeys/dataproc"
NAME = "//dataproc.googleapis.com/projects/shop-prod/regions/europe-west1/clusters/etl"
LABELS = {"goog-dataproc-cluster-name": "etl", "goog-dataproc-location": "europe-west1"}
_UNSET = object()


def cluster(encryption: Any = _UNSET, *, labels: Any = LABELS, **fields: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"configBucket": "dataproc-staging-europe-west1-1-x"}
    if encryption is not _UNSET:
        config["encryptionConfig"] = encryption
    found: dict[str, Any] = {"projectId": "shop-prod", "clusterName": "etl", "config": config, **fields}
    if labels is not None:
        found["labels"] = labels
    return found


CASES = [
    (cluster({"gcePdKmsKeyName": KEY}), PASS,
     f"cluster etl encrypts its disks with the customer-managed key {KEY} (gcePdKmsKeyName)"),
    (cluster({"kmsKey": KEY}), PASS, f"cluster etl encrypts its disks with the customer-managed key {KEY} (kmsKey)"),
    (cluster({"kmsKey": KEY, "gcePdKmsKeyName": KEY + "2"}), PASS,
     f"cluster etl encrypts its disks with the customer-managed key {KEY} (kmsKey)"),
    (cluster({"kmsKey": "", "gcePdKmsKeyName": KEY}), PASS,
     f"cluster etl encrypts its disks with the customer-managed key {KEY} (gcePdKmsKeyName)"),
    (cluster(), FAIL, "cluster etl encrypts its persistent disks with a Google-managed key"),
    (cluster({}), FAIL, "cluster etl encrypts its persistent disks with a Google-managed key"),
    (cluster(None), FAIL, "cluster etl encrypts its persistent disks with a Google-managed key"),
    # Dataproc on GKE: no `config`, its disks are the node pools'
    ({"clusterName": "etl", "labels": LABELS, "virtualClusterConfig": {"kubernetesClusterConfig": {}}}, None, None),
    ({"clusterName": "etl", "labels": LABELS}, ERROR, "cluster etl: cannot judge config: None is not an object"),
    (cluster("cmek"), ERROR, "cluster etl: cannot judge config.encryptionConfig: 'cmek' is not an object"),
    (cluster({"gcePdKmsKeyName": "dataproc-key"}), ERROR,
     "cluster etl: cannot judge config.encryptionConfig.gcePdKmsKeyName: 'dataproc-key' is not a Cloud KMS key name"),
    (cluster({"kmsKey": ["k"]}), ERROR,
     "cluster etl: cannot judge config.encryptionConfig.kmsKey: ['k'] is not a Cloud KMS key name"),
]  # fmt: skip


@pytest.mark.parametrize(("resource", "verdict", "reason"), CASES)
def test_data43_dataproc_cmek(resource: dict[str, Any], verdict: Verdict | None, reason: str | None) -> None:
    snapshot = make_snapshot({"dataproc": {"clusters": [resource]}})
    found = [(f.resource, f.verdict, f.reason) for f in dataproc.data43_dataproc_cmek(snapshot, Params())]
    assert found == ([] if verdict is None else [(NAME, verdict, reason)])


def test_a_cluster_without_its_region_label_is_an_error_named_without_a_region() -> None:
    snapshot = make_snapshot({"dataproc": {"clusters": [cluster({"kmsKey": KEY}, labels=None)]}})
    (finding,) = dataproc.data43_dataproc_cmek(snapshot, Params())
    assert finding.resource == "//dataproc.googleapis.com/projects/shop-prod/regions/?/clusters/etl"
    assert (finding.verdict, finding.reason) == (
        ERROR, "cluster etl: cannot judge labels.goog-dataproc-location: None is not a region")  # fmt: skip


def test_an_uncollected_kind_is_an_error_and_a_disabled_api_nothing_in_scope() -> None:
    error = "dataproc.projects.regions.clusters.list: HTTP 500"
    failed = make_snapshot({"dataproc": {"clusters": []}}, errors={"dataprocClusters": error})
    (result,) = run_control(dataproc.data43_dataproc_cmek, failed, Params())
    assert result.verdict is ERROR and "input not collected" in result.reason
    off = make_snapshot({"dataproc": {"clusters": []}}, notes={"dataprocClusters": "Cloud Dataproc API not enabled"})
    (result,) = run_control(dataproc.data43_dataproc_cmek, off, Params())
    assert result.verdict is PASS
    assert result.reason == "nothing in scope: no cluster to judge (Cloud Dataproc API not enabled)"
