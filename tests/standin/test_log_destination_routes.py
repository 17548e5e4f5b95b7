"""LOG-04's routes on the stand-in, over plain HTTP: one bucket by its global name
(`storage.buckets.get`) and one Logging bucket (`logging.projects.locations.buckets.get`),
routed by discovery, answered from the scenario, faulted like every other route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from checks.kinds import NEXT_ANSWERS
from monitor.standin import Fault, ScenarioError, StandIn, load_scenario
from tests.datascenario import NUMBER, PROJECT, document

LOG_BUCKET = f"projects/{PROJECT}/locations/europe-west1/buckets/audit"
ROUTES = {
    "storage.buckets.get": "/storage/v1/b/shop-invoices",
    "logging.projects.locations.buckets.get": f"/v2/{LOG_BUCKET}",
}


def _document() -> dict[str, Any]:
    doc = document()
    assert [b["name"] for b in doc["projects"][0]["logging"]["buckets"]] == [LOG_BUCKET]  # the minimal scenario's
    return doc


@pytest.fixture(scope="module")
def module_standin() -> Iterator[StandIn]:
    with StandIn(load_scenario(_document())) as standin:
        yield standin


@pytest.fixture
def standin(module_standin: StandIn) -> Iterator[StandIn]:
    module_standin.reset()
    yield module_standin
    module_standin.reset()


def _get(standin: StandIn, path: str) -> requests.Response:
    return requests.get(standin.url + path, timeout=10)


@pytest.mark.parametrize("method", list(ROUTES))
def test_each_route_answers_from_the_scenario_and_takes_faults(standin: StandIn, method: str) -> None:
    ok = _get(standin, ROUTES[method])
    assert ok.status_code == 200, ok.text
    assert [r.method for r in standin.requests] == [method]  # routed to its own discovery method
    for status in (403, 429, 503):
        standin.add_fault(Fault(method=method, status=status, times=1))
        faulted = _get(standin, ROUTES[method])
        assert faulted.status_code == status and faulted.json()["error"]["code"] == status
    standin.add_fault(Fault(method=method, kind="hostile", mode="empty-object", times=1))
    assert _get(standin, ROUTES[method]).json() == {}  # refused by the collector's envelope
    assert NEXT_ANSWERS[method].required == ("name",)
    assert _get(standin, ROUTES[method]).json() == ok.json()


def test_a_bucket_is_found_in_whichever_project_holds_it_without_its_nested_policy(standin: StandIn) -> None:
    bucket = _get(standin, ROUTES["storage.buckets.get"]).json()
    assert bucket["name"] == "shop-invoices" and bucket["kind"] == "storage#bucket" and "iamPolicy" not in bucket


def test_a_logging_bucket_is_named_by_project_id_or_number(standin: StandIn) -> None:
    by_number = _get(standin, f"/v2/projects/{NUMBER}/locations/europe-west1/buckets/audit")
    assert by_number.status_code == 200 and by_number.json()["locked"] is True


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/storage/v1/b/no-such-bucket", 404, "The specified bucket does not exist."),
        (f"/v2/projects/{PROJECT}/locations/global/buckets/audit", 404, "does not exist"),
        ("/v2/projects/nobody/locations/global/buckets/_Default", 403, "logging.buckets.get"),
    ],
)
def test_a_missing_bucket_or_project_is_refused(standin: StandIn, path: str, status: int, message: str) -> None:
    answer = _get(standin, path)
    assert answer.status_code == status and message in answer.json()["error"]["message"]


def test_a_project_without_logging_has_the_api_disabled() -> None:
    doc = _document()
    del doc["projects"][0]["logging"]
    with StandIn(load_scenario(doc)) as standin:
        answer = _get(standin, ROUTES["logging.projects.locations.buckets.get"])
    assert answer.status_code == 403 and answer.json()["error"]["details"][0]["reason"] == "SERVICE_DISABLED"


def test_log_buckets_are_validated_against_the_discovery_document() -> None:
    doc = _document()
    doc["projects"][0]["logging"]["buckets"][0]["lockd"] = True
    with pytest.raises(ScenarioError) as caught:
        load_scenario(doc)
    assert [f"{p}: {r}" for p, r in caught.value.problems] == ["projects[0].logging.buckets[0].lockd: unknown field"]
