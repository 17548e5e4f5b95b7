"""The `hostile` fault: status 200, and a body broken the way its mode says, on any kind's route."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from monitor.standin import Fault, StandIn
from monitor.standin.hostile import MODES, applies, other_method
from tests.standin.conftest import SHOP

FIREWALLS = "compute.firewalls.list"
FW_PATH = f"/compute/v1/projects/{SHOP}/global/firewalls"


def _get(standin: StandIn, path: str, **query: Any) -> requests.Response:
    return requests.get(standin.url + path, params=query, timeout=5)


def _hostile(standin: StandIn, method: str, mode: str, **extra: Any) -> None:
    fault = {"method": method, "kind": "hostile", "mode": mode, **extra}
    answer = requests.post(f"{standin.url}/_standin/faults", json=fault, timeout=5)
    assert answer.status_code == 200, answer.text


SHAPES = {
    "empty-object": lambda body: body == {},
    "array": lambda body: body == [],
    "null-list": lambda body: body["kind"] == "compute#firewallList" and body["items"] is None,
    "renamed-list": lambda body: "items" not in body and len(body["itemsRenamed"]) > 1,
    "empty-items": lambda body: body["items"] and all(item == {} for item in body["items"]),
    "other-kind": lambda body: body["kind"] == "compute#networkList" and body["items"],
    "same-token": lambda body: body["nextPageToken"] == "hostile-again" and body["items"],
    "endless": lambda body: body["nextPageToken"] == "hostile-1" and body["items"],
    "many": lambda body: len(body["items"]) == 500 and body["nextPageToken"] == "500",
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_each_mode_answers_200_with_its_broken_body(standin: StandIn, mode: str) -> None:
    _hostile(standin, FIREWALLS, mode)

    answer = _get(standin, FW_PATH)

    assert answer.status_code == 200
    if mode == "truncated":
        with pytest.raises(json.JSONDecodeError):
            answer.json()
    elif mode == "html":
        assert answer.headers["Content-Type"].startswith("text/html") and answer.text.startswith("<!DOCTYPE html>")
    else:
        assert SHAPES[mode](answer.json()), answer.text[:300]


def test_endless_hands_out_a_new_token_each_page_and_same_token_the_same(standin: StandIn) -> None:
    _hostile(standin, FIREWALLS, "endless")
    tokens = [_get(standin, FW_PATH, pageToken=f"hostile-{n}").json()["nextPageToken"] for n in (1, 2, 9)]
    assert tokens == ["hostile-2", "hostile-3", "hostile-10"]


def test_many_pages_through_count_clones_as_the_request_asks(standin: StandIn) -> None:
    _hostile(standin, FIREWALLS, "many", count=5)
    pages = [_get(standin, FW_PATH, maxResults=2, **({"pageToken": t} if t else {})).json() for t in ("", "2", "4")]
    assert [page.get("nextPageToken") for page in pages] == ["2", "4", None]
    names = [item["name"] for page in pages for item in page["items"]]
    assert len(names) == 5 == len(set(names))


def test_many_in_an_aggregated_listing_puts_a_page_in_one_scope(standin: StandIn) -> None:
    _hostile(standin, "compute.instances.aggregatedList", "many", count=3)
    body = _get(standin, f"/compute/v1/projects/{SHOP}/aggregated/instances").json()
    [(scope, scoped)] = body["items"].items()
    assert scope.startswith("zones/") and len(scoped["instances"]) == 3 and "nextPageToken" not in body


@pytest.mark.parametrize(
    ("method", "path", "stand_in", "field"),
    [
        ("cloudresourcemanager.projects.getIamPolicy", f"/v3/projects/{SHOP}:getIamPolicy", ".get", "projectId"),
        ("logging.folders.sinks.list", "/v2/folders/5501/sinks", "folders.get", "parent"),
        ("logging.projects.sinks.list", f"/v2/projects/{SHOP}/sinks", "metrics.list", "metrics"),
    ],
)
def test_other_kind_answers_with_another_route_of_the_same_parameters(
    standin: StandIn, method: str, path: str, stand_in: str, field: str
) -> None:
    assert (other_method(method) or "").endswith(stand_in)
    _hostile(standin, method, "other-kind")
    verb = requests.post if method.endswith("getIamPolicy") else requests.get
    answer = verb(standin.url + path, timeout=5)
    assert answer.status_code == 200 and field in answer.json(), answer.text


def test_a_mode_that_cannot_apply_says_so(standin: StandIn) -> None:
    assert not applies("null-list", "cloudresourcemanager.projects.get") and applies("empty-object", FIREWALLS)
    assert other_method("compute.firewalls.get") is None
    _hostile(standin, "cloudresourcemanager.projects.get", "null-list")
    answer = _get(standin, f"/v3/projects/{SHOP}")
    assert answer.status_code == 500
    assert "hostile mode 'null-list' does not apply to cloudresourcemanager.projects.get" in answer.text


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"kind": "hostile"}, "mode: kind 'hostile' needs one of empty-object, array"),
        ({"kind": "hostile", "mode": "sideways"}, "got 'sideways'"),
        ({"kind": "drop", "mode": "array"}, "mode: only for kind 'hostile', not 'drop'"),
        ({"kind": "hostile", "mode": "array", "count": 3}, "count: a number of items >= 1, for mode 'many' only"),
        ({"kind": "hostile", "mode": "many", "count": 0}, "count: a number of items >= 1"),
        ({"kind": "hostile", "mode": 7}, "mode: expected a string"),
    ],
)
def test_a_hostile_fault_is_validated(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Fault.from_json(bad)
    assert Fault.from_json({"kind": "hostile", "mode": "many", "count": 9}).to_json()["count"] == 9
