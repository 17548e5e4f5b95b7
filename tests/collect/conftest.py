"""The stand-in, the real clients pointed at it, and a recording observer, for collector tests.

One stand-in and one set of clients per session: importing compute costs ~2 s once,
after which each collection takes milliseconds. Faults and the request log are reset
before every test.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.collect import CollectSettings, GcpClients, RetryPolicy, make_clients
from monitor.standin import StandIn, load_scenario

# The repository's copy of the shared example scenario (one project, one resource of each kind).
MINIMAL = Path(__file__).parents[1] / "standin" / "data" / "scenario-minimal.json"
if not MINIMAL.exists():
    MINIMAL = Path("/work/shared/examples/scenario-minimal.json")
PROJECT = "example-shop"
NO_COMPUTE = "example-sandbox"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LINK = "https://www.googleapis.com/compute/v1/projects/example-shop/"
LOG_BUCKET = "projects/example-shop/locations/europe-west1/buckets/audit"
EXTRA_FIREWALLS = 4  # 6 firewalls in all: three pages of 2


def _scenario() -> dict[str, Any]:
    """The minimal scenario, plus enough resources to page and several aggregated scopes."""
    data: dict[str, Any] = json.loads(MINIMAL.read_text())
    compute = data["projects"][0]["compute"]
    base = compute["firewalls"][0]
    for i in range(EXTRA_FIREWALLS):
        extra = copy.deepcopy(base)
        extra.update(name=f"extra-{i}", id=str(9000000000000000000 + i), selfLink=f"{LINK}global/firewalls/extra-{i}")
        compute["firewalls"].append(extra)
    second = copy.deepcopy(compute["instances"][0])
    second.update(
        name="web-2",
        id="2057739375686760507",
        zone=f"{LINK}zones/europe-west1-c",
        machineType=f"{LINK}zones/europe-west1-c/machineTypes/e2-medium",
        selfLink=f"{LINK}zones/europe-west1-c/instances/web-2",
    )
    compute["instances"].append(second)
    compute["addresses"].append(
        {
            "kind": "compute#address",
            "id": "2095608085789074954",
            "creationTimestamp": "2025-01-15T09:30:00.000-08:00",
            "name": "lb-ip",
            "address": "34.120.1.2",
            "status": "RESERVED",
            "addressType": "EXTERNAL",
            "ipVersion": "IPV4",
            "networkTier": "PREMIUM",
            "labelFingerprint": "42WmSpB8rSM=",
            "selfLink": f"{LINK}global/addresses/lb-ip",
        }
    )
    # a sink exporting every log to the project's Logging bucket (the minimal scenario's): the sinkDestinations
    # kind reads it, and
    # the minimal sink's bucket, example-audit-archive, held by another project (the sandbox below)
    logging = data["projects"][0]["logging"]
    logging["sinks"].append({"name": "all-to-log-bucket", "destination": f"logging.googleapis.com/{LOG_BUCKET}"})
    # a project whose Compute API is off: the stand-in answers 403 SERVICE_DISABLED for it
    data["projects"].append(
        {
            "projectId": NO_COMPUTE,
            "name": "projects/731234567891",
            "parent": "folders/5501",
            "displayName": "Shop sandbox",
            "state": "ACTIVE",
            "createTime": "2024-11-02T08:15:00.000Z",
            "storage": {"buckets": [{"kind": "storage#bucket", "name": "example-audit-archive", "location": "EU"}]},
        }
    )
    return data


@pytest.fixture(scope="session")
def scenario() -> dict[str, Any]:
    return _scenario()


@pytest.fixture(scope="session")
def session_standin(scenario: dict[str, Any]) -> Iterator[StandIn]:
    standin = StandIn(load_scenario(scenario))
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def standin(session_standin: StandIn) -> Iterator[StandIn]:
    session_standin.reset()
    yield session_standin
    session_standin.reset()


@pytest.fixture(scope="session")
def clients(session_standin: StandIn) -> GcpClients:
    return make_clients(session_standin.url)


class Recorder:
    """An ApiObserver that keeps every event, in order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, str]] = []
        self.retries: list[tuple[str, str]] = []
        self.collections: list[tuple[str, float]] = []
        self.waits: list[tuple[str, float]] = []

    def request(self, service: str, method: str, code: str) -> None:
        with self._lock:
            self.requests.append((service, method, code))

    def retry(self, service: str, reason: str) -> None:
        with self._lock:
            self.retries.append((service, reason))

    def collection(self, kind: str, seconds: float) -> None:
        with self._lock:
            self.collections.append((kind, seconds))

    def throttled(self, service: str, seconds: float) -> None:
        with self._lock:
            self.waits.append((service, seconds))

    def codes(self, method: str) -> list[str]:
        with self._lock:
            return [code for _, m, code in self.requests if m == method]

    def reasons(self) -> list[str]:
        with self._lock:
            return [reason for _, reason in self.retries]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


FAST_RETRY = RetryPolicy(initial=0.01, maximum=0.05, multiplier=2.0, max_attempts=3, quota_window=0.05)


def fast(**overrides: Any) -> CollectSettings:
    """Settings that keep every test well under a second or two."""
    values: dict[str, Any] = {"call_timeout": 2.0, "run_deadline": 5.0, "max_workers": 4, "retry": FAST_RETRY}
    values.update(overrides)
    return CollectSettings(**values)


# --- the hierarchy estate, for the IAM, ancestry and Logging kinds ---------------------------


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The hierarchy estate (tests/collect/hierarchy.py), one per module that asks for it."""
    from tests.collect.hierarchy import hierarchy_document

    return hierarchy_document()


@pytest.fixture(scope="module")
def module_standin(document: dict[str, Any]) -> Iterator[StandIn]:
    with StandIn(load_scenario(document)) as standin:
        yield standin


@pytest.fixture
def hierarchy(module_standin: StandIn) -> Iterator[StandIn]:
    module_standin.reset()
    yield module_standin
    module_standin.reset()


@pytest.fixture(scope="module")
def hierarchy_clients(module_standin: StandIn) -> GcpClients:
    return make_clients(module_standin.url)
