"""The logging-and-monitoring routes on the stand-in, over plain HTTP: alert policies, services
(all, or the enabled ones) and Access Approval settings, answered from the scenario and refused
loudly where the stand-in cannot answer as Google would."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from monitor.standin import StandIn, load_scenario
from tests.standin.conftest import SHOP, minimal_document

ALERTS = f"/v3/projects/{SHOP}/alertPolicies"
SERVICES = f"/v1/projects/{SHOP}/services"
SETTINGS = f"/v1/projects/{SHOP}/accessApprovalSettings"


def _served(doc: dict[str, Any]) -> StandIn:
    standin = StandIn(load_scenario(doc))
    standin.start()
    return standin


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    served = _served(minimal_document())
    yield served
    served.stop()


def _get(standin: StandIn, path: str, **query: str) -> requests.Response:
    return requests.get(standin.url + path, params=query, timeout=10)


def test_services_are_all_or_the_enabled_ones(standin: StandIn) -> None:
    every = _get(standin, SERVICES).json()["services"]
    enabled = _get(standin, SERVICES, filter="state:ENABLED").json()["services"]
    assert {s["state"] for s in every} == {"ENABLED", "DISABLED"}
    assert enabled == [s for s in every if s["state"] == "ENABLED"] and enabled
    assert _get(standin, SERVICES, filter="state:DISABLED").status_code == 400
    assert _get(standin, "/v1/folders/5501/services").status_code == 404


def test_alert_policies_page_and_refuse_a_filter(standin: StandIn) -> None:
    first = _get(standin, ALERTS, pageSize="1").json()
    assert len(first["alertPolicies"]) == 1 and "nextPageToken" not in first  # the shop has one
    assert _get(standin, ALERTS, filter='display_name="x"').status_code == 400


def test_access_approval_settings_none_is_not_found(standin: StandIn) -> None:
    assert _get(standin, SETTINGS).json()["name"] == f"projects/{SHOP}/accessApprovalSettings"
    doc = minimal_document()
    doc["projects"][0]["accessApproval"]["settings"] = []
    never = _served(doc)
    try:
        answer = _get(never, SETTINGS)
    finally:
        never.stop()
    assert answer.status_code == 404 and answer.json()["error"]["status"] == "NOT_FOUND"


@pytest.mark.parametrize(("group", "path", "title"), [
    ("monitoring", ALERTS, "Cloud Monitoring API"),
    ("serviceUsage", SERVICES, "Service Usage API"),
    ("accessApproval", SETTINGS, "Access Approval API"),
])  # fmt: skip
def test_a_group_left_out_is_the_api_disabled(group: str, path: str, title: str) -> None:
    doc = copy.deepcopy(minimal_document())
    del doc["projects"][0][group]
    standin = _served(doc)
    try:
        answer = _get(standin, path)
    finally:
        standin.stop()
    error = answer.json()["error"]
    assert answer.status_code == 403 and title in error["message"]
    assert error["details"][0]["reason"] == "SERVICE_DISABLED"
