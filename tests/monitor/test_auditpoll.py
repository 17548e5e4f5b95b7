"""The Admin Activity poller against the stand-in, with the real Compute, Resource Manager and Logging clients.

Changes are made through the real clients, so the entries polled are the ones the
stand-in's mutation routes write; faults on `logging.entries.list` drive the backoff.
Clocks are injected where a test needs time to pass, so every test takes milliseconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import requests

from monitor.collect import GcpClients, make_clients
from monitor.drift.audit_poller import AuditEvent, AuditPoller, area_of, build_filter, classify_entry
from monitor.standin import Fault, StandIn, load_scenario
from monitor.standin.auditlog import activity_log_name
from tests.standin.conftest import minimal_document

SHOP = "example-shop"
OTHER = "example-shop-2"
LIST = "logging.entries.list"
LINK = f"https://www.googleapis.com/compute/v1/projects/{SHOP}/"
POLICY = LINK + "regions/europe-west1/resourcePolicies/daily-backup"


def _document(extra_projects: int = 0) -> dict[str, Any]:
    doc = minimal_document()
    doc["projects"].append(
        {"projectId": OTHER, "name": "projects/555555555555", "compute": {"firewalls": []}, "logging": {}}
    )
    for i in range(extra_projects):
        doc["projects"].append({"projectId": f"bulk-{i:03d}", "name": f"projects/{900000 + i}", "logging": {}})
    return doc


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    with StandIn(load_scenario(_document())) as standin:
        yield standin


@pytest.fixture
def standin(server: StandIn) -> Iterator[StandIn]:
    """The module's stand-in, reset, and back on its own scenario after each test."""
    original = server.scenario
    server.reset()
    yield server
    server.reset()
    server.audit.delay = 0.0
    if server.scenario is not original:
        server.load(original)


@pytest.fixture(scope="module")
def clients(server: StandIn) -> GcpClients:
    return make_clients(server.url)


@pytest.fixture(scope="module")
def compute_v1() -> ModuleType:
    from google.cloud import compute_v1 as module

    return module


class Recorder:
    """An ApiObserver keeping every event."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []
        self.retries: list[tuple[str, str]] = []

    def request(self, service: str, method: str, code: str) -> None:
        self.requests.append((service, method, code))

    def retry(self, service: str, reason: str) -> None:
        self.retries.append((service, reason))

    def collection(self, kind: str, seconds: float) -> None:
        return None

    def throttled(self, service: str, seconds: float) -> None:
        return None


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _poller(
    clients: GcpClients, scopes: list[str], recorder: Recorder, seen: list[AuditEvent], **options: Any
) -> AuditPoller:
    return AuditPoller(
        clients,
        lambda: scopes,
        seen.append,
        interval=options.pop("interval", 10.0),
        observer=recorder,
        call_timeout=2.0,
        backoff_initial=options.pop("backoff_initial", 60.0),
        backoff_max=options.pop("backoff_max", 240.0),
        **options,
    )


def _insert(
    clients: GcpClients, compute_v1: ModuleType, name: str, project: str = SHOP, who: str | None = None
) -> None:
    rule = compute_v1.Firewall(name=name, allowed=[compute_v1.Allowed(I_p_protocol="tcp", ports=["22"])])
    if project == SHOP:
        rule.network = "global/networks/prod-vpc"
    metadata = [("x-standin-principal", who)] if who else []
    clients.get("firewalls").insert(project=project, firewall_resource=rule, metadata=metadata).result(timeout=5)


def _error(poller: AuditPoller) -> str | None:
    return poller.last_error  # read through a call: mypy keeps no narrowing across it


def _calls(standin: StandIn) -> list[Any]:
    return standin.requests_for(LIST)


# -- the happy path ----------------------------------------------------------------------


def test_a_firewall_insert_is_reported_once(standin: StandIn, clients: GcpClients, compute_v1: ModuleType) -> None:
    recorder, seen = Recorder(), list[AuditEvent]()
    poller = _poller(clients, [SHOP, OTHER], recorder, seen)
    assert poller.poll_once() == []
    _insert(clients, compute_v1, "allow-ssh", who="alice@example.be")

    (event,) = poller.poll_once()
    assert (event.scope, event.method, event.area) == (SHOP, "v1.compute.firewalls.insert", "firewall")
    assert event.resource_name == f"projects/{SHOP}/global/firewalls/allow-ssh"
    assert event.principal == "alice@example.be" and event.insert_id
    assert abs(event.timestamp.timestamp() - time.time()) < 60
    assert seen == [event]
    assert poller.poll_once() == [] and seen == [event]  # the overlapping window, de-duplicated
    assert recorder.requests == [("logging", LIST, "200")] * 3 and recorder.retries == []


def test_one_call_per_poll_for_every_scope_with_a_timestamp_term(
    standin: StandIn, clients: GcpClients, compute_v1: ModuleType
) -> None:
    recorder, seen = Recorder(), list[AuditEvent]()
    poller = _poller(clients, [OTHER, SHOP, OTHER], recorder, seen)
    poller.poll_once()
    _insert(clients, compute_v1, "allow-ssh")
    _insert(clients, compute_v1, "other", project=OTHER)
    events = poller.poll_once()
    assert sorted(e.scope for e in events) == [SHOP, OTHER]
    calls = _calls(standin)
    assert len(calls) == 2  # one per poll
    for call in calls:
        assert call.body["resourceNames"] == [f"projects/{SHOP}", f"projects/{OTHER}"]  # sorted, de-duplicated
        assert 'timestamp>="' in call.body["filter"] and call.body["orderBy"] == "timestamp asc"
        assert f'logName="{activity_log_name(SHOP)}"' in call.body["filter"]


def test_more_than_100_scopes_are_chunked(standin: StandIn, clients: GcpClients, compute_v1: ModuleType) -> None:
    standin.load(_document(extra_projects=120))
    scopes = [SHOP, OTHER] + [f"bulk-{i:03d}" for i in range(120)]
    poller = _poller(clients, scopes, Recorder(), [])
    _insert(clients, compute_v1, "allow-ssh")
    assert [e.scope for e in poller.poll_once()] == [SHOP]
    assert sorted(len(c.body["resourceNames"]) for c in _calls(standin)) == [22, 100]


def test_pages_are_followed(
    standin: StandIn, clients: GcpClients, compute_v1: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("monitor.drift.audit_poller.PAGE_SIZE", 1)
    poller = _poller(clients, [SHOP], Recorder(), [])
    _insert(clients, compute_v1, "a")
    _insert(clients, compute_v1, "b")
    assert [e.resource_name.rsplit("/", 1)[1] for e in poller.poll_once()] == ["a", "b"]
    assert [c.body.get("pageToken") for c in _calls(standin)] == [None, "1"]


def test_iam_and_backup_changes_have_their_areas(standin: StandIn, clients: GcpClients, compute_v1: ModuleType) -> None:
    seen: list[AuditEvent] = []
    poller = _poller(clients, [SHOP], Recorder(), seen)
    projects = clients.get("projects")
    policy = projects.get_iam_policy(
        request={"resource": f"projects/{SHOP}", "options": {"requested_policy_version": 3}}
    )
    policy.bindings.add(role="roles/viewer", members=["user:bob@example.be"])
    projects.set_iam_policy(
        request={"resource": f"projects/{SHOP}", "policy": policy}, metadata=[("x-standin-principal", "ann@example.be")]
    )
    remove = compute_v1.DisksRemoveResourcePoliciesRequest(resource_policies=[POLICY])
    clients.get("disks").remove_resource_policies(
        project=SHOP, zone="europe-west1-b", disk="web-1", disks_remove_resource_policies_request_resource=remove
    ).result(timeout=5)

    iam, backup = poller.poll_once()
    assert (iam.area, iam.method, iam.resource_name, iam.principal) == (
        "iam",
        "SetIamPolicy",
        f"projects/{SHOP}",
        "ann@example.be",
    )
    assert (backup.area, backup.method) == ("backup", "v1.compute.disks.removeResourcePolicies")
    assert backup.resource_name == f"projects/{SHOP}/zones/europe-west1-b/disks/web-1"
    assert seen == [iam, backup]


def _write(standin: StandIn, method: str, service: str, log_id: str = "cloudaudit.googleapis.com%2Factivity") -> None:
    entry = {
        "logName": f"projects/{SHOP}/logs/{log_id}",
        "resource": {"type": "gce_instance", "labels": {"project_id": SHOP}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": service,
            "methodName": method,
            "resourceName": f"projects/{SHOP}/thing",
        },
    }
    answer = requests.post(f"{standin.url}/v2/entries:write", json={"entries": [entry]}, timeout=5)
    assert answer.status_code == 200, answer.text


def test_unwatched_methods_and_logs_are_ignored(standin: StandIn, clients: GcpClients) -> None:
    poller = _poller(clients, [SHOP], Recorder(), [])
    _write(standin, "v1.compute.instances.start", "compute.googleapis.com")
    _write(standin, "v1.compute.firewalls.get", "compute.googleapis.com")  # passes the server filter
    _write(standin, "google.iam.admin.v1.SetIAMPolicy", "iam.googleapis.com")
    _write(standin, "SetIamPolicy", "storage.googleapis.com")
    _write(standin, "v1.compute.firewalls.insert", "compute.googleapis.com", "cloudaudit.googleapis.com%2Fdata_access")
    assert poller.poll_once() == []
    _write(standin, "v1.compute.firewalls.insert", "compute.googleapis.com")
    assert [e.method for e in poller.poll_once()] == ["v1.compute.firewalls.insert"]


# -- late entries ----------------------------------------------------------------------


def test_a_late_entry_within_the_lookback_is_reported_once(
    standin: StandIn, clients: GcpClients, compute_v1: ModuleType
) -> None:
    poller = _poller(clients, [SHOP], Recorder(), [])
    poller.poll_once()
    standin.audit.delay = 3600.0  # ingestion holds the entry back
    _insert(clients, compute_v1, "allow-ssh")
    _insert(clients, compute_v1, "allow-ssh-2")
    assert poller.poll_once() == []
    standin.audit.delay = 0.0
    _insert(clients, compute_v1, "allow-ssh-3")  # a newer entry arrives first
    assert [e.resource_name.rsplit("/", 1)[1] for e in poller.poll_once()] == ["allow-ssh-3"]
    assert standin.audit.flush() == 2  # then the older ones, after a poll
    late = poller.poll_once()
    assert [e.resource_name.rsplit("/", 1)[1] for e in late] == ["allow-ssh", "allow-ssh-2"]
    assert poller.poll_once() == []


def test_an_entry_later_than_the_lookback_is_left_to_the_sweep(
    standin: StandIn, clients: GcpClients, compute_v1: ModuleType
) -> None:
    skew = [0.0]
    poller = _poller(clients, [SHOP], Recorder(), [], lookback=30.0, clock=lambda: time.time() + skew[0])
    poller.poll_once()
    standin.audit.delay = 3600.0
    _insert(clients, compute_v1, "allow-ssh")
    skew[0] = 600.0  # ten minutes pass with polls finding nothing
    assert poller.poll_once() == []
    standin.audit.flush()
    assert poller.poll_once() == []


# -- failures --------------------------------------------------------------------------


def test_a_rate_limit_backs_off_then_polls_again(standin: StandIn, clients: GcpClients, compute_v1: ModuleType) -> None:
    recorder, seen, clock = Recorder(), list[AuditEvent](), Clock()
    poller = _poller(clients, [SHOP], recorder, seen, monotonic=clock, backoff_initial=60.0, backoff_max=100.0)
    poller.poll_once()
    _insert(clients, compute_v1, "allow-ssh")
    standin.add_fault(Fault(method=LIST, status=429, times=2))

    assert poller.poll_once() == []  # 429: back off 60 s
    assert recorder.retries == [("logging", "429")] and recorder.requests[-1] == ("logging", LIST, "429")
    assert poller.last_error is not None and "429" in poller.last_error
    calls = len(_calls(standin))
    clock.now += 59
    assert poller.poll_once() == [] and len(_calls(standin)) == calls  # still backing off: no call
    clock.now += 2
    assert poller.poll_once() == []  # a second 429: back off 120 s, capped at 100
    assert recorder.retries == [("logging", "429")] * 2
    calls = len(_calls(standin))
    clock.now += 99
    assert poller.poll_once() == [] and len(_calls(standin)) == calls
    clock.now += 2
    (event,) = poller.poll_once()  # the change made before the 429s is still found
    assert event.resource_name.endswith("/allow-ssh") and _error(poller) is None
    assert recorder.requests[-1] == ("logging", LIST, "200")
    _insert(clients, compute_v1, "allow-ssh-2")
    standin.add_fault(Fault(method=LIST, status=429, times=1))
    assert poller.poll_once() == []
    clock.now += 61  # a success reset the backoff: 60 s again
    assert [e.resource_name.rsplit("/", 1)[1] for e in poller.poll_once()] == ["allow-ssh-2"]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(method=LIST, status=503, times=1), "503"),
        (Fault(method=LIST, status=500, times=1), "500"),
        (Fault(method=LIST, kind="drop", times=1), "connection"),
    ],
)
def test_a_server_error_is_retried_by_the_next_poll(
    standin: StandIn, clients: GcpClients, compute_v1: ModuleType, fault: Fault, reason: str
) -> None:
    recorder, clock = Recorder(), Clock()
    poller = _poller(clients, [SHOP], recorder, [], monotonic=clock)
    poller.poll_once()
    _insert(clients, compute_v1, "allow-ssh")
    standin.add_fault(fault)
    assert poller.poll_once() == []
    assert recorder.retries == [("logging", reason)]
    assert [e.resource_name.rsplit("/", 1)[1] for e in poller.poll_once()] == ["allow-ssh"]  # no backoff


def test_other_errors_are_logged_and_never_escape(
    standin: StandIn, clients: GcpClients, compute_v1: ModuleType
) -> None:
    recorder = Recorder()
    poller = _poller(clients, [SHOP, "nowhere"], recorder, [])  # an unknown project: 403 for the call
    assert poller.poll_once() == []
    assert recorder.requests == [("logging", LIST, "403")] and recorder.retries == []
    assert poller.last_error is not None and "403" in poller.last_error
    standin.add_fault(Fault(method=LIST, kind="malformed", times=1))
    ok = _poller(clients, [SHOP], recorder, [])
    assert ok.poll_once() == [] and ok.last_error is not None

    def broken() -> Any:
        raise RuntimeError("no client today")

    assert AuditPoller(broken, lambda: [SHOP], print, interval=1.0, observer=recorder).poll_once() == []


def test_a_failing_handler_does_not_stop_delivery(
    standin: StandIn, clients: GcpClients, compute_v1: ModuleType
) -> None:
    delivered: list[str] = []

    def handler(event: AuditEvent) -> None:
        delivered.append(event.insert_id)
        raise ValueError("boom")

    poller = AuditPoller(clients, lambda: [SHOP], handler, interval=1.0, observer=Recorder())
    poller.poll_once()
    _insert(clients, compute_v1, "a")
    _insert(clients, compute_v1, "b")
    assert len(poller.poll_once()) == 2 and len(delivered) == 2


def test_start_and_stop_poll_on_a_thread(standin: StandIn, clients: GcpClients, compute_v1: ModuleType) -> None:
    arrived = threading.Event()
    poller = AuditPoller(clients, lambda: [SHOP], lambda e: arrived.set(), interval=0.05, observer=Recorder())
    poller.start()
    try:
        _insert(clients, compute_v1, "allow-ssh")
        assert arrived.wait(5)
    finally:
        poller.stop()
    calls = len(_calls(standin))
    time.sleep(0.15)
    assert len(_calls(standin)) == calls


# -- pure parts ------------------------------------------------------------------------

NET_POLICY = "projects/p/global/firewallPolicies/x"


@pytest.mark.parametrize(
    ("method", "service", "resource", "area"),
    [
        ("v1.compute.firewalls.insert", "compute.googleapis.com", "projects/p/global/firewalls/f", "firewall"),
        ("beta.compute.firewalls.patch", "compute.googleapis.com", "projects/p/global/firewalls/f", "firewall"),
        ("v1.compute.firewalls.update", "compute.googleapis.com", "projects/p/global/firewalls/f", "firewall"),
        ("v1.compute.firewalls.delete", "compute.googleapis.com", "projects/p/global/firewalls/f", "firewall"),
        ("v1.compute.firewalls.list", "compute.googleapis.com", "projects/p/global/firewalls", None),
        # DRIFT-01 covers the project's network firewall policies: their rules and associations
        ("v1.compute.networkFirewallPolicies.addRule", "compute.googleapis.com", NET_POLICY, "firewall"),
        ("v1.compute.networkFirewallPolicies.removeAssociation", "compute.googleapis.com", NET_POLICY, "firewall"),
        ("v1.compute.regionNetworkFirewallPolicies.patchRule", "compute.googleapis.com", NET_POLICY, "firewall"),
        ("v1.compute.networkFirewallPolicies.get", "compute.googleapis.com", NET_POLICY, None),
        ("v1.compute.firewallPolicies.addRule", "compute.googleapis.com", "locations/global/firewallPolicies/1", None),
        ("SetIamPolicy", "cloudresourcemanager.googleapis.com", "projects/p", "iam"),
        ("SetIamPolicy", "cloudresourcemanager.googleapis.com", "folders/1", None),
        ("SetIamPolicy", "storage.googleapis.com", "projects/_/buckets/b", None),
        ("v1.compute.disks.addResourcePolicies", "compute.googleapis.com", "projects/p/zones/z/disks/d", "backup"),
        ("v1.compute.regionDisks.removeResourcePolicies", "compute.googleapis.com", "projects/p/disks/d", "backup"),
        ("v1.compute.resourcePolicies.insert", "compute.googleapis.com", "projects/p/resourcePolicies/x", "backup"),
        ("v1.compute.resourcePolicies.delete", "compute.googleapis.com", "projects/p/resourcePolicies/x", "backup"),
        ("v1.compute.resourcePolicies.get", "compute.googleapis.com", "projects/p/regions/r/resourcePolicies/x", None),
        ("v1.compute.instances.insert", "compute.googleapis.com", "projects/p/zones/z/instances/i", None),
    ],
)
def test_watched_methods(method: str, service: str, resource: str, area: str | None) -> None:
    assert area_of(method, service, resource) == area


def test_classify_entry_needs_a_scope_it_watches() -> None:
    entry = {
        "logName": f"projects/{SHOP}/logs/cloudaudit.googleapis.com%2Factivity",
        "insertId": "x1",
        "timestamp": "2026-11-25T12:00:00.123456789Z",
        "protoPayload": {"methodName": "v1.compute.firewalls.delete", "resourceName": "projects/p/global/firewalls/f"},
    }
    event = classify_entry(entry, {SHOP})
    assert event is not None and event.principal is None and event.timestamp.microsecond == 123456
    assert classify_entry(entry, {OTHER}) is None
    assert classify_entry({**entry, "protoPayload": "text"}) is None


def test_the_filter_always_has_a_timestamp_term() -> None:
    from datetime import UTC, datetime

    text = build_filter(["a", "b"], datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    assert 'timestamp>="2026-11-25T12:00:00.000000Z"' in text
    assert text.startswith('(logName="projects/a/logs/cloudaudit.googleapis.com%2Factivity" OR logName="projects/b/')
    assert 'protoPayload.methodName:"SetIamPolicy"' in text
