"""Fixtures: one stand-in per session (reset between tests), and the real Google clients.

`compute_v1` takes ~2 s to import: it is imported once, by the session fixture.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from monitor.standin import StandIn, load_scenario

DATA = Path(__file__).parent / "data"
MINIMAL = DATA / "scenario-minimal.json"
SHOP = "example-shop"
BASE = "https://www.googleapis.com/compute/v1/projects/example-shop/"


def minimal_document() -> dict[str, Any]:
    return json.loads(MINIMAL.read_text())


def rich_document() -> dict[str, Any]:
    """The minimal scenario plus enough resources to page, several scopes, and odd projects."""
    doc = minimal_document()
    shop = doc["projects"][0]
    compute = shop["compute"]
    template = compute["firewalls"][0]
    for i in range(5):
        rule = copy.deepcopy(template)
        rule.update(name=f"fw-{i}", id=str(1000 + i), selfLink=BASE + f"global/firewalls/fw-{i}")
        rule["creationTimestamp"] = f"2025-0{i + 2}-01T00:00:00.000-08:00"
        compute["firewalls"].append(rule)
    db = copy.deepcopy(compute["instances"][0])
    db.update(name="db-1", id="77", zone=BASE + "zones/europe-west4-a", status="TERMINATED")
    db["selfLink"] = BASE + "zones/europe-west4-a/instances/db-1"
    compute["instances"].append(db)
    regional = copy.deepcopy(compute["disks"][0])
    del regional["zone"]
    regional.update(name="shared-data", id="78", region=BASE + "regions/europe-west1")
    regional["selfLink"] = BASE + "regions/europe-west1/disks/shared-data"
    regional["type"] = BASE + "regions/europe-west1/diskTypes/pd-balanced"
    compute["disks"].append(regional)
    lb = copy.deepcopy(compute["addresses"][0])
    del lb["region"]
    lb.update(name="lb-ip", id="79", address="34.120.0.1", selfLink=BASE + "global/addresses/lb-ip")
    compute["addresses"].append(lb)
    doc["projects"].append(
        {
            "projectId": "plain-project",
            "name": "projects/222222222222",
            "parent": "organizations/4242",
            "displayName": "No compute here",
            "state": "ACTIVE",
            "labels": {"env": "dev"},
        }
    )
    doc["projects"].append(
        {
            "projectId": "old-project",
            "name": "projects/333333333333",
            "parent": "folders/5501",
            "displayName": "Going away",
            "state": "DELETE_REQUESTED",
            "compute": {"firewalls": []},
        }
    )
    return doc


@pytest.fixture(scope="session")
def compute_v1() -> ModuleType:
    from google.cloud import compute_v1 as module

    return module


@pytest.fixture(scope="session")
def resourcemanager_v3() -> ModuleType:
    from google.cloud import resourcemanager_v3 as module

    return module


@pytest.fixture(scope="session")
def session_standin() -> Iterator[StandIn]:
    standin = StandIn(load_scenario(rich_document()))
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def standin(session_standin: StandIn) -> Iterator[StandIn]:
    """The session stand-in, with no faults and an empty log, back on the rich scenario after."""
    original = session_standin.scenario
    session_standin.reset()
    yield session_standin
    session_standin.reset()
    if session_standin.scenario is not original:
        session_standin.load(original)


@pytest.fixture
def client_kwargs(standin: StandIn) -> dict[str, Any]:
    from google.auth.credentials import AnonymousCredentials

    return {"credentials": AnonymousCredentials(), "client_options": {"api_endpoint": standin.url}}


@pytest.fixture
def crm_kwargs(client_kwargs: dict[str, Any]) -> dict[str, Any]:
    return {**client_kwargs, "transport": "rest"}
