"""Each failure the stand-in can inject becomes the KindData the retry table asks for."""

from __future__ import annotations

from typing import Any

import pytest

from checks.snapshot import Kind
from monitor.collect import Collection, GcpClients, RetryPolicy, collect_snapshot
from monitor.standin import Fault, StandIn
from tests.collect.conftest import NO_COMPUTE, NOW, PROJECT, Recorder, fast

FW = "compute.firewalls.list"


def _collect(clients: GcpClients, recorder: Recorder, *kinds: str, **settings: Any) -> Collection:
    wanted = kinds or (Kind.FIREWALLS, Kind.NETWORKS)
    return collect_snapshot(PROJECT, wanted, clients, settings=fast(**settings), observer=recorder, now=NOW)


def test_permission_denied_is_an_error_with_status_and_message(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    standin.add_fault(Fault(method=FW, status=403))

    collection = _collect(clients, recorder)

    data = collection.snapshot.kinds[Kind.FIREWALLS]
    assert not data.ok and data.resources == ()
    assert "HTTP 403" in str(data.error) and "Required 'compute.firewalls.list' permission" in str(data.error)
    assert collection.snapshot.kinds[Kind.NETWORKS].ok  # the other kind is untouched
    assert recorder.codes(FW) == ["403"] and recorder.retries == []
    assert len(standin.requests_for(FW)) == 1


@pytest.mark.parametrize(
    ("method", "kind", "note"),
    [
        (FW, Kind.FIREWALLS, "Compute Engine API not enabled"),
        ("cloudresourcemanager.projects.get", Kind.PROJECT, "Cloud Resource Manager API not enabled"),
    ],
)
def test_service_disabled_is_empty_with_a_note(
    standin: StandIn, clients: GcpClients, recorder: Recorder, method: str, kind: str, note: str
) -> None:
    standin.add_fault(Fault(method=method, status=403, reason="SERVICE_DISABLED"))

    data = _collect(clients, recorder, kind).snapshot.kinds[kind]

    assert data.ok and data.resources == () and data.note == note
    assert recorder.codes(method) == ["403"] and recorder.retries == []


def test_legacy_access_not_configured_is_disabled_too(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    standin.add_fault(Fault(method=FW, status=403, reason="accessNotConfigured"))

    data = _collect(clients, recorder, Kind.FIREWALLS).snapshot.kinds[Kind.FIREWALLS]

    assert data.ok and data.note == "Compute Engine API not enabled"


def test_a_project_without_compute_has_every_compute_kind_empty_with_a_note(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    kinds = (Kind.PROJECT, Kind.FIREWALLS, Kind.INSTANCES)
    snapshot = collect_snapshot(NO_COMPUTE, kinds, clients, settings=fast(), observer=recorder, now=NOW).snapshot

    assert snapshot.get(Kind.PROJECT)[0]["projectId"] == NO_COMPUTE
    for kind in (Kind.FIREWALLS, Kind.INSTANCES):
        assert snapshot.kinds[kind].ok and snapshot.get(kind) == ()
        assert snapshot.note(kind) == "Compute Engine API not enabled"


def test_an_unknown_project_is_an_error_not_an_empty_estate(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    collection = collect_snapshot(
        "no-such-project", [Kind.FIREWALLS, Kind.PROJECT], clients, settings=fast(), observer=recorder, now=NOW
    )

    for kind in (Kind.FIREWALLS, Kind.PROJECT):
        data = collection.snapshot.kinds[kind]
        assert not data.ok and ("HTTP 404" in str(data.error) or "HTTP 403" in str(data.error)), data


def test_not_found_is_an_error(standin: StandIn, clients: GcpClients, recorder: Recorder) -> None:
    standin.add_fault(Fault(method=FW, status=404))

    data = _collect(clients, recorder, Kind.FIREWALLS).snapshot.kinds[Kind.FIREWALLS]

    assert not data.ok and "HTTP 404" in str(data.error)
    assert recorder.retries == []


@pytest.mark.parametrize(
    ("status", "reason", "retry_reason"), [(429, None, "429"), (403, "rateLimitExceeded", "rate_limit")]
)
def test_a_rate_limit_burst_is_retried_past_the_quota_boundary(
    standin: StandIn, clients: GcpClients, recorder: Recorder, status: int, reason: str | None, retry_reason: str
) -> None:
    standin.add_fault(Fault(method=FW, status=status, reason=reason, times=2))

    data = _collect(clients, recorder, Kind.FIREWALLS).snapshot.kinds[Kind.FIREWALLS]

    assert data.ok and len(data.resources) > 0
    assert recorder.codes(FW) == [str(status), str(status), "200"]
    assert recorder.reasons() == [retry_reason, retry_reason]
    assert len(standin.requests_for(FW)) == 3


def test_a_persistent_rate_limit_gives_up_after_max_attempts(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    standin.add_fault(Fault(method=FW, status=429))

    collection = _collect(clients, recorder, Kind.FIREWALLS)

    data = collection.snapshot.kinds[Kind.FIREWALLS]
    assert not data.ok and "HTTP 429" in str(data.error) and "gave up after 3 attempts" in str(data.error)
    assert recorder.reasons() == ["429", "429"]
    assert len(standin.requests_for(FW)) == 3


def test_a_rate_limit_whose_quota_minute_is_past_the_deadline_gives_up_at_once(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    standin.add_fault(Fault(method=FW, status=429))
    policy = RetryPolicy(initial=0.01, maximum=0.05, max_attempts=5, quota_window=3600.0)

    collection = _collect(clients, recorder, Kind.FIREWALLS, retry=policy, run_deadline=2.0)

    data = collection.snapshot.kinds[Kind.FIREWALLS]
    assert not data.ok and "would pass the run deadline" in str(data.error)
    assert collection.deadline_exceeded and collection.abandoned == 0
    assert recorder.retries == [] and len(standin.requests_for(FW)) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_then_an_error(
    standin: StandIn, clients: GcpClients, recorder: Recorder, status: int
) -> None:
    standin.add_fault(Fault(method=FW, status=status))

    data = _collect(clients, recorder, Kind.FIREWALLS).snapshot.kinds[Kind.FIREWALLS]

    assert not data.ok and f"HTTP {status}" in str(data.error) and "gave up after 3 attempts" in str(data.error)
    assert recorder.codes(FW) == [str(status)] * 3
    assert recorder.reasons() == [str(status)] * 2


def test_a_transient_503_on_a_later_page_is_retried_alone(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    standin.add_fault(Fault(method=FW, status=503, times=1))  # hits page 1; page 2 and 3 then pass

    data = _collect(clients, recorder, Kind.FIREWALLS, page_size=2).snapshot.kinds[Kind.FIREWALLS]

    assert data.ok and len(data.resources) == 6
    tokens = [r.query.get("pageToken") for r in standin.requests_for(FW)]
    assert tokens == [None, None, "2", "4"]


def test_latency_beyond_the_call_timeout_is_a_timeout_after_retries(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    standin.add_fault(Fault(method=FW, kind="latency", delay=1.0))

    collection = _collect(clients, recorder, Kind.FIREWALLS, Kind.NETWORKS, call_timeout=0.2)

    data = collection.snapshot.kinds[Kind.FIREWALLS]
    assert not data.ok and "timed out" in str(data.error) and "gave up after 3 attempts" in str(data.error)
    assert recorder.codes(FW) == ["timeout"] * 3 and recorder.reasons() == ["timeout"] * 2
    assert collection.snapshot.kinds[Kind.NETWORKS].ok


def test_a_malformed_body_is_an_error_without_retry(standin: StandIn, clients: GcpClients, recorder: Recorder) -> None:
    standin.add_fault(Fault(method=FW, kind="malformed"))

    data = _collect(clients, recorder, Kind.FIREWALLS).snapshot.kinds[Kind.FIREWALLS]

    assert not data.ok and "malformed response body" in str(data.error)
    assert len(standin.requests_for(FW)) == 1 and recorder.retries == []


def test_a_dropped_connection_is_retried_then_a_connection_error(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    standin.add_fault(Fault(method=FW, kind="drop"))

    data = _collect(clients, recorder, Kind.FIREWALLS).snapshot.kinds[Kind.FIREWALLS]

    assert not data.ok and "connection failed" in str(data.error)
    assert recorder.codes(FW) == ["connection"] * 3 and recorder.reasons() == ["connection"] * 2


def test_a_dropped_connection_once_then_success(standin: StandIn, clients: GcpClients, recorder: Recorder) -> None:
    standin.add_fault(Fault(method=FW, kind="drop", times=1))

    data = _collect(clients, recorder, Kind.FIREWALLS).snapshot.kinds[Kind.FIREWALLS]

    assert data.ok and recorder.codes(FW) == ["connection", "200"]


def test_a_crm_failure_is_reported_under_its_service(standin: StandIn, clients: GcpClients, recorder: Recorder) -> None:
    standin.add_fault(Fault(method="cloudresourcemanager.projects.get", status=503, times=1))

    data = _collect(clients, recorder, Kind.PROJECT).snapshot.kinds[Kind.PROJECT]

    assert data.ok and data.resources[0]["projectId"] == PROJECT
    assert recorder.retries == [("cloudresourcemanager", "503")]
    assert [r[0] for r in recorder.requests] == ["cloudresourcemanager"] * 2
