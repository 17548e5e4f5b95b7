"""DATA-40, DATA-41 and DATA-42 on datasets and tables in the bigquery v2 JSON shape; one row per case."""

from __future__ import annotations

from typing import Any

import pytest

from checks import bigquery
from checks.model import Verdict
from checks.params import Params
from checks.registry import Control
from monitor.run.runner import run_control
from tests.builders import make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
KEY = "projects/shop-prod/locations/europe-west1/keyRings/shop/cryptoKeys/analytics"
DATASET_NAME = "//bigquery.googleapis.com/projects/shop-prod/datasets/sales"
TABLE_NAME = "//bigquery.googleapis.com/projects/shop-prod/datasets/sales/tables/orders"
OWNERS = {"role": "OWNER", "specialGroup": "projectOwners"}
UNTIL = {"title": "until-2027", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}
DOMAIN = {"role": "READER", "domain": "example.be"}


def dataset(**fields: Any) -> dict[str, Any]:
    return {"kind": "bigquery#dataset", "id": "shop-prod:sales",
            "datasetReference": {"projectId": "shop-prod", "datasetId": "sales"}, **fields}  # fmt: skip


def table(**fields: Any) -> dict[str, Any]:
    return {"kind": "bigquery#table", "id": "shop-prod:sales.orders",
            "tableReference": {"projectId": "shop-prod", "datasetId": "sales", "tableId": "orders"},
            **fields}  # fmt: skip


def judge(
    control: Control, datasets: list[dict[str, Any]] | None = None, tables: list[dict[str, Any]] | None = None
) -> list[tuple[str, Verdict, str]]:
    snapshot = make_snapshot({"bigquery": {"datasets": datasets or [], "tables": tables or []}})
    return [(f.resource, f.verdict, f.reason) for f in control(snapshot, Params())]


PUBLIC_CASES = [
    (dataset(access=[OWNERS, {"role": "READER", "userByEmail": "ana@example.be"}]), PASS,
     "dataset sales: no access entry grants allUsers or allAuthenticatedUsers"),
    (dataset(), PASS, "dataset sales: no access entry grants allUsers or allAuthenticatedUsers"),
    (dataset(access=[]), PASS, "dataset sales: no access entry grants allUsers or allAuthenticatedUsers"),
    (dataset(access=[OWNERS, {"role": "READER", "specialGroup": "allAuthenticatedUsers"}]), FAIL,
     "dataset sales is public: it grants READER to allAuthenticatedUsers (specialGroup)"),
    (dataset(access=[{"role": "READER", "iamMember": "allUsers"}]), FAIL,
     "dataset sales is public: it grants READER to allUsers (iamMember)"),
    (dataset(access=[{"role": "WRITER", "iamMember": "allAuthenticatedUsers",
                      "condition": UNTIL}]),
     FAIL, "dataset sales is public: it grants WRITER to allAuthenticatedUsers (iamMember) if 'until-2027'"),
    (dataset(access=[DOMAIN, {"role": "READER", "groupByEmail": "allusers@example.be"}]),
     PASS, "dataset sales: no access entry grants allUsers or allAuthenticatedUsers"),
    (dataset(access=[{"view": {"projectId": "p", "datasetId": "d", "tableId": "v"}}]), PASS,
     "dataset sales: no access entry grants allUsers or allAuthenticatedUsers"),
    # case matters, as in IAM: `allusers` names no one
    (dataset(access=[{"role": "READER", "iamMember": "allusers"}]), PASS,
     "dataset sales: no access entry grants allUsers or allAuthenticatedUsers"),
    (dataset(access={"role": "READER"}), ERROR, "dataset sales: cannot judge access: {'role': 'READER'} is not a list"),
    (dataset(access=[OWNERS, "allUsers"]), ERROR, "dataset sales: cannot judge access[1]: 'allUsers' is not an object"),
    (dataset(access=[{"role": "READER", "iamMember": 7}]), ERROR,
     "dataset sales: cannot judge access[0].iamMember: 7 is not a member"),
]  # fmt: skip


@pytest.mark.parametrize(("resource", "verdict", "reason"), PUBLIC_CASES)
def test_data40_public_datasets(resource: dict[str, Any], verdict: Verdict, reason: str) -> None:
    assert judge(bigquery.data40_public_datasets, datasets=[resource]) == [(DATASET_NAME, verdict, reason)]


TABLE_CASES = [
    (table(type="TABLE", encryptionConfiguration={"kmsKeyName": KEY}), PASS,
     f"table sales.orders (TABLE) is encrypted with the customer-managed key {KEY}"),
    (table(encryptionConfiguration={"kmsKeyName": KEY + "/cryptoKeyVersions/3"}), PASS,
     f"table sales.orders (TABLE) is encrypted with the customer-managed key {KEY}/cryptoKeyVersions/3"),
    (table(type="TABLE"), FAIL, "table sales.orders (TABLE) is encrypted with a Google-managed key"),
    (table(), FAIL, "table sales.orders (TABLE) is encrypted with a Google-managed key"),  # absent type: TABLE
    (table(type="TABLE", encryptionConfiguration={}), FAIL,
     "table sales.orders (TABLE) is encrypted with a Google-managed key"),
    (table(type="TABLE", encryptionConfiguration={"kmsKeyName": ""}), FAIL,
     "table sales.orders (TABLE) is encrypted with a Google-managed key"),
    (table(type="MATERIALIZED_VIEW"), FAIL,
     "table sales.orders (MATERIALIZED_VIEW) is encrypted with a Google-managed key"),
    (table(type="SNAPSHOT", encryptionConfiguration={"kmsKeyName": KEY}), PASS,
     f"table sales.orders (SNAPSHOT) is encrypted with the customer-managed key {KEY}"),
    (table(type="SOMETHING_NEW"), FAIL, "table sales.orders (SOMETHING_NEW) is encrypted with a Google-managed key"),
    (table(type="VIEW"), None, None),
    (table(type="EXTERNAL"), None, None),
    (table(type=3), ERROR, "table sales.orders: cannot judge type: 3 is not a type"),
    (table(type="TABLE", encryptionConfiguration="cmek"), ERROR,
     "table sales.orders: cannot judge encryptionConfiguration: 'cmek' is not an object"),
    (table(type="TABLE", encryptionConfiguration={"kmsKeyName": "analytics"}), ERROR,
     "table sales.orders: cannot judge encryptionConfiguration.kmsKeyName: 'analytics' is not a Cloud KMS key name"),
]  # fmt: skip


@pytest.mark.parametrize(("resource", "verdict", "reason"), TABLE_CASES)
def test_data41_table_cmek(resource: dict[str, Any], verdict: Verdict | None, reason: str | None) -> None:
    expected = [] if verdict is None else [(TABLE_NAME, verdict, reason)]
    assert judge(bigquery.data41_table_cmek, tables=[resource]) == expected


def test_data41_names_a_table_by_its_id_when_its_reference_is_missing() -> None:
    found = judge(bigquery.data41_table_cmek, tables=[{"kind": "bigquery#table", "id": "shop-prod:sales.orders"}])
    assert found == [(TABLE_NAME, FAIL, "table sales.orders (TABLE) is encrypted with a Google-managed key")]


DEFAULT_CASES = [
    (dataset(type="DEFAULT", defaultEncryptionConfiguration={"kmsKeyName": KEY}), PASS,
     f"dataset sales encrypts new tables with the customer-managed key {KEY}"),
    (dataset(defaultEncryptionConfiguration={"kmsKeyName": KEY}), PASS,
     f"dataset sales encrypts new tables with the customer-managed key {KEY}"),
    (dataset(), FAIL, "dataset sales sets no default customer-managed key: new tables get Google's"),
    (dataset(defaultEncryptionConfiguration={}), FAIL,
     "dataset sales sets no default customer-managed key: new tables get Google's"),
    (dataset(type="LINKED"), None, None),
    (dataset(type="EXTERNAL"), None, None),
    (dataset(type=""), ERROR, "dataset sales: cannot judge type: '' is not a type"),
    (dataset(defaultEncryptionConfiguration=[KEY]), ERROR,
     f"dataset sales: cannot judge defaultEncryptionConfiguration: {[KEY]!r} is not an object"),
    (dataset(defaultEncryptionConfiguration={"kmsKeyName": 42}), ERROR,
     "dataset sales: cannot judge defaultEncryptionConfiguration.kmsKeyName: 42 is not a Cloud KMS key name"),
]  # fmt: skip


@pytest.mark.parametrize(("resource", "verdict", "reason"), DEFAULT_CASES)
def test_data42_dataset_default_cmek(resource: dict[str, Any], verdict: Verdict | None, reason: str | None) -> None:
    expected = [] if verdict is None else [(DATASET_NAME, verdict, reason)]
    assert judge(bigquery.data42_dataset_default_cmek, datasets=[resource]) == expected


def test_one_unreadable_dataset_leaves_the_others_judged() -> None:
    other = dataset(datasetReference={"projectId": "shop-prod", "datasetId": "hr"}, access=[OWNERS])
    found = judge(bigquery.data40_public_datasets, datasets=[dataset(access=7), other])
    assert [verdict for _, verdict, _ in found] == [ERROR, PASS]
    assert found[1][0].endswith("/datasets/hr")


@pytest.mark.parametrize("control", [bigquery.data40_public_datasets, bigquery.data42_dataset_default_cmek])
def test_an_uncollected_kind_is_an_error_never_a_pass(control: Control) -> None:
    snapshot = make_snapshot({"bigquery": {"datasets": [], "tables": []}},
                             errors={"bigqueryDatasets": "bigquery.datasets.get: HTTP 403: denied"})  # fmt: skip
    (result,) = run_control(control, snapshot, Params())
    cause = "bigqueryDatasets: bigquery.datasets.get: HTTP 403: denied"
    assert (result.verdict, result.reason) == (ERROR, f"cannot judge, input not collected ({cause})")


def test_a_disabled_bigquery_api_is_nothing_in_scope() -> None:
    snapshot = make_snapshot({"bigquery": {"datasets": [], "tables": []}},
                             notes={"bigqueryTables": "BigQuery API not enabled"})  # fmt: skip
    (result,) = run_control(bigquery.data41_table_cmek, snapshot, Params())
    assert (result.verdict, result.reason) == (PASS, "nothing in scope: no table to judge (BigQuery API not enabled)")
