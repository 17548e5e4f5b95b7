"""Injected faults, each observed through a real Google client."""

from __future__ import annotations

import threading
import time
from types import ModuleType
from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.protobuf.json_format import ParseError

from monitor.standin import Fault, FaultTable, StandIn
from tests.standin.conftest import SHOP, rich_document

FIREWALLS = "compute.firewalls.list"


def firewall_names(compute_v1: ModuleType, kwargs: dict[str, Any], **call: Any) -> list[str]:
    client = compute_v1.FirewallsClient(**kwargs)
    return [f.name for f in client.list(project=call.pop("project", SHOP), **call)]


@pytest.mark.parametrize(
    ("status", "reason", "exception", "info_reason", "legacy_reason"),
    [
        (403, "SERVICE_DISABLED", exceptions.Forbidden, "SERVICE_DISABLED", "accessNotConfigured"),
        (403, "rateLimitExceeded", exceptions.Forbidden, "RATE_LIMIT_EXCEEDED", "rateLimitExceeded"),
        (403, None, exceptions.Forbidden, "IAM_PERMISSION_DENIED", "forbidden"),
        (404, None, exceptions.NotFound, None, "notFound"),
        (429, None, exceptions.TooManyRequests, "RATE_LIMIT_EXCEEDED", "rateLimitExceeded"),
        (500, None, exceptions.InternalServerError, None, "backendError"),
        (503, None, exceptions.ServiceUnavailable, None, "backendError"),
    ],
)
def test_status_faults_look_like_google(
    standin: StandIn,
    compute_v1: ModuleType,
    client_kwargs: dict[str, Any],
    status: int,
    reason: str | None,
    exception: type[exceptions.GoogleAPICallError],
    info_reason: str | None,
    legacy_reason: str,
) -> None:
    standin.add_fault(Fault(method=FIREWALLS, status=status, reason=reason))
    with pytest.raises(exception) as caught:
        firewall_names(compute_v1, client_kwargs, retry=None)
    assert caught.value.code == status
    assert caught.value.reason == info_reason
    assert caught.value.errors[0]["reason"] == legacy_reason
    if info_reason is not None:
        assert caught.value.domain in ("googleapis.com", "iam.googleapis.com")
        assert caught.value.metadata
    assert standin.requests[-1].status == status


def test_service_disabled_names_the_service(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    standin.add_fault(Fault(method="*", status=403, reason="SERVICE_DISABLED"))
    with pytest.raises(exceptions.Forbidden) as caught:
        firewall_names(compute_v1, client_kwargs)
    assert caught.value.metadata["service"] == "compute.googleapis.com"
    assert caught.value.metadata["consumer"] == "projects/731234567890"


def test_a_502_is_googles_html_page(standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]) -> None:
    standin.add_fault(Fault(method=FIREWALLS, status=502))
    with pytest.raises(exceptions.BadGateway, match="502"):
        firewall_names(compute_v1, client_kwargs, retry=None)


def test_a_fault_with_times_applies_that_often_then_the_route_answers(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    standin.add_fault(Fault(method=FIREWALLS, status=503, times=2))
    for _ in range(2):
        with pytest.raises(exceptions.ServiceUnavailable):
            firewall_names(compute_v1, client_kwargs, retry=None)
    assert len(firewall_names(compute_v1, client_kwargs, retry=None)) == 7
    assert [r.status for r in standin.requests_for(FIREWALLS)] == [503, 503, 200]
    assert standin.faults.active() == []


def test_computes_default_retry_rides_over_a_transient_503(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    standin.add_fault(Fault(method=FIREWALLS, status=503, times=1))
    assert len(firewall_names(compute_v1, client_kwargs)) == 7
    assert [r.status for r in standin.requests_for(FIREWALLS)] == [503, 200]


def test_faults_match_method_and_project(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    standin.add_fault(Fault(method="compute.networks.list", status=500))
    standin.add_fault(Fault(method="*", project="old-project", status=404))
    assert len(firewall_names(compute_v1, client_kwargs)) == 7  # another method, another project
    with pytest.raises(exceptions.NotFound):
        firewall_names(compute_v1, client_kwargs, project="old-project")
    with pytest.raises(exceptions.InternalServerError):
        list(compute_v1.NetworksClient(**client_kwargs).list(project=SHOP))


def test_a_fault_by_project_number_matches_the_project_id(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]
) -> None:
    standin.add_fault(Fault(method="cloudresourcemanager.projects.get", project="731234567890", status=500))
    with pytest.raises(exceptions.InternalServerError):
        resourcemanager_v3.ProjectsClient(**crm_kwargs).get_project(name=f"projects/{SHOP}", retry=None)
    assert standin.requests[-1].project == SHOP


def test_crm_search_503_is_not_retried(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]
) -> None:
    standin.add_fault(Fault(method="cloudresourcemanager.projects.search", status=503, times=1))
    with pytest.raises(exceptions.ServiceUnavailable):
        list(resourcemanager_v3.ProjectsClient(**crm_kwargs).search_projects(query=""))


def test_latency_delays_then_answers(standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]) -> None:
    standin.add_fault(Fault(method=FIREWALLS, kind="latency", delay=0.3, times=1))
    started = time.monotonic()
    assert len(firewall_names(compute_v1, client_kwargs)) == 7
    assert time.monotonic() - started >= 0.3


def test_malformed_is_a_truncated_200(standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]) -> None:
    standin.add_fault(Fault(method=FIREWALLS, kind="malformed", times=1))
    with pytest.raises(ParseError, match="Failed to load JSON"):
        firewall_names(compute_v1, client_kwargs, retry=None)
    assert standin.requests[-1].status == 200


def test_drop_closes_without_answering(standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]) -> None:
    standin.add_fault(Fault(method=FIREWALLS, kind="drop", times=1))
    with pytest.raises(requests.exceptions.ConnectionError):
        firewall_names(compute_v1, client_kwargs, retry=None)
    assert standin.requests[-1].status == 0
    assert len(firewall_names(compute_v1, client_kwargs)) == 7  # the next connection is fine


def test_a_drip_outlives_the_read_timeout_until_the_server_stops(compute_v1: ModuleType) -> None:
    from google.auth.credentials import AnonymousCredentials

    standin = StandIn(rich_document())
    url = standin.start()
    try:
        standin.add_fault(Fault(method=FIREWALLS, kind="drip", delay=0.1))
        client = compute_v1.FirewallsClient(credentials=AnonymousCredentials(), client_options={"api_endpoint": url})
        outcome: list[BaseException | None] = []

        def call() -> None:
            try:
                list(client.list(project=SHOP, timeout=0.5, retry=None))
                outcome.append(None)
            except BaseException as exc:  # noqa: B036 - recorded for the assertion below
                outcome.append(exc)

        worker = threading.Thread(target=call, daemon=True)
        started = time.monotonic()
        worker.start()
        worker.join(timeout=1.0)  # twice the per-read timeout
        assert worker.is_alive(), "timeout= should not end a dripping response"
        assert standin.requests[-1].status == 200
    finally:
        standin.stop()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert time.monotonic() - started < 5
    assert outcome and isinstance(outcome[0], Exception)


def test_fault_table_counts_down_and_validates() -> None:
    table = FaultTable()
    first = table.add(Fault(method="a.b.c", status=500, times=2))
    table.add(Fault(method="*", kind="latency", delay=0.1))
    assert table.take("a.b.c") is not None and table.take("a.b.c") is not None
    taken = table.take("a.b.c")
    assert taken is not None and taken.fault.kind == "latency"  # the first is used up
    assert [a.id for a in table.active()] == [first + 1]
    assert table.take(None) is None  # unknown routes are never faulted
    for bad in (
        {"kind": "status"},
        {"kind": "status", "status": 200},
        {"kind": "drip"},
        {"kind": "drop", "status": 500},
        {"kind": "explode"},
        {"kind": "status", "status": 500, "times": 0},
        {"kind": "latency", "delay": -1},
    ):
        with pytest.raises(ValueError):
            Fault.from_json(bad)
    with pytest.raises(ValueError, match="unknown fault field"):
        Fault.from_json({"kind": "drop", "delay_s": 1})
