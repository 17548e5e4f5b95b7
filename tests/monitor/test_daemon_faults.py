"""Fail closed, end to end: a fault at the stand-in turns exactly the controls that read the
faulty kind into `error`, with the cause in the reason, while other controls and scopes go on.

Real clients, real collectors, real stand-in; only the retry policy is shortened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checks import default_registry
from checks.kinds import Holder
from checks.snapshot import Kind
from monitor.collect import KINDS, CollectSettings, StuckCalls, make_clients
from monitor.daemon import Daemon
from monitor.demo import DEMO_SCENARIO
from monitor.drift.baselines import BaselineStore
from monitor.run.runtime import Runtime, make_collect, preload_clients
from monitor.sinks.base import FinishedRun
from monitor.standin import Fault, StandIn, load_scenario
from tests.monitor.conftest import FAST_RETRY, config_for

SCOPE, OTHER = "shop-prod", "ledger-clean"
REGISTRY = default_registry()
ENABLED = [c for c in REGISTRY if not c.meta.id.startswith("DRIFT-")]  # config_for leaves DRIFT off
READS_FIREWALLS = {c.meta.id for c in ENABLED if Kind.FIREWALLS in c.meta.kinds}
FW_OTHERS = {c.meta.id for c in REGISTRY if c.meta.id.startswith("FW-")} - READS_FIREWALLS
# The FW controls reading Compute only (FW-13 reads buckets and the organisation policies).
FW_COMPUTE = {
    c.meta.id
    for c in ENABLED
    if c.meta.id.startswith("FW-") and {Kind(k).spec.api for k in c.meta.kinds} == {"compute"}
}

MakeDaemon = Callable[..., tuple[Daemon, StuckCalls]]


def statuses(daemon: Daemon, scope: str) -> dict[str, str]:
    return {s.control: s.status.value for s in daemon.store.states() if s.scope == scope and s.status is not None}


def sample(daemon: Daemon, name: str, labels: dict[str, str]) -> float | None:
    value: Any = daemon.metrics.registry.get_sample_value(name, labels)
    return value


FAULTS = [
    pytest.param(Fault(method="compute.firewalls.list", project=SCOPE, status=403), "HTTP 403", id="403"),
    pytest.param(Fault(method="compute.firewalls.list", project=SCOPE, status=404), "HTTP 404", id="404"),
    pytest.param(Fault(method="compute.firewalls.list", project=SCOPE, status=429), "HTTP 429", id="429-persistent"),
    pytest.param(Fault(method="compute.firewalls.list", project=SCOPE, status=500), "HTTP 500", id="500"),
    pytest.param(Fault(method="compute.firewalls.list", project=SCOPE, status=503), "HTTP 503", id="503"),
    pytest.param(
        Fault(method="compute.firewalls.list", project=SCOPE, kind="latency", delay=1.2), "timed out", id="timeout"
    ),
    pytest.param(
        Fault(method="compute.firewalls.list", project=SCOPE, kind="malformed"), "malformed", id="malformed-json"
    ),
    pytest.param(
        Fault(method="compute.firewalls.list", project=SCOPE, kind="drop"), "connection failed", id="dropped-connection"
    ),
]


@pytest.mark.parametrize(("fault", "cause"), FAULTS)
def test_fault_turns_only_affected_controls_to_error(
    standin: StandIn, make_daemon: MakeDaemon, fault: Fault, cause: str
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE, OTHER]))
    standin.add_fault(fault)
    daemon.run_scope(SCOPE)
    daemon.run_scope(OTHER)
    got = statuses(daemon, SCOPE)
    assert {c for c, s in got.items() if s == "error"} == READS_FIREWALLS
    for control in FW_OTHERS:
        assert got[control] in ("pass", "fail"), control
    errors = daemon.store.results(scope=SCOPE, verdict="error")
    assert errors and all(cause in r.reason and "compute.firewalls.list" in r.reason for r in errors), errors[0]
    assert set(statuses(daemon, OTHER).values()) == {"pass"}
    # Failing counts stay visible beside the error where a control still judged something.
    assert (
        sample(
            daemon,
            "controlwatch_control_status",
            {"control": "FW-01", "scope": SCOPE, "area": "firewall", "severity": "critical", "status": "error"},
        )
        == 1
    )


def test_rate_limit_burst_is_retried_and_counted(standin: StandIn, make_daemon: MakeDaemon) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    standin.add_fault(Fault(method="compute.firewalls.list", project=SCOPE, status=429, times=2))
    daemon.run_scope(SCOPE)
    assert "error" not in statuses(daemon, SCOPE).values()
    assert sample(daemon, "controlwatch_api_retries_total", {"service": "compute", "reason": "429"}) == 2
    assert (
        sample(
            daemon,
            "controlwatch_api_requests_total",
            {"service": "compute", "method": "compute.firewalls.list", "code": "429"},
        )
        == 2
    )


def test_disabled_compute_api_means_no_resources_not_error(standin: StandIn, make_daemon: MakeDaemon) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    # Compute disabled in the project: its listings say so. The organisation's and folders'
    # firewall policies stay readable (they are not the project's), and with no network they
    # decide nothing: FW passes, saying why.
    for kind in Kind:
        if kind.spec.api == "compute" and kind.spec.holder is Holder.PROJECT:
            standin.add_fault(Fault(method=kind.spec.method, project=SCOPE, status=403, reason="SERVICE_DISABLED"))
    seen: list[FinishedRun] = []
    daemon._job.sinks = (*daemon._job.sinks, Recorder(seen))
    daemon.run_scope(SCOPE)
    fw = {c: s for c, s in statuses(daemon, SCOPE).items() if c in FW_COMPUTE}
    assert set(fw.values()) == {"pass"}
    [run] = seen
    [result] = run.results["FW-01"]  # a pass: the store only counts it, the run's sinks see it
    assert "Compute Engine API not enabled" in result.reason
    assert daemon.store.results(control="FW-01", scope=SCOPE) == []


class Recorder:
    """A sink that keeps every finished run it is handed."""

    name = "recorder"
    essential = False

    def __init__(self, seen: list[FinishedRun]) -> None:
        self.seen = seen

    def on_run(self, finished: FinishedRun) -> None:
        self.seen.append(finished)


def test_service_disabled_on_one_listing_while_its_api_answers_the_others_is_an_error(
    standin: StandIn, make_daemon: MakeDaemon
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    standin.add_fault(Fault(method="compute.firewalls.list", project=SCOPE, status=403, reason="SERVICE_DISABLED"))
    daemon.run_scope(SCOPE)
    got = statuses(daemon, SCOPE)
    assert {c for c, s in got.items() if s == "error"} == READS_FIREWALLS
    for control in READS_FIREWALLS:
        for result in daemon.store.results(control=control, scope=SCOPE):
            assert "compute.firewalls.list: HTTP 403 SERVICE_DISABLED" in result.reason, result.reason
            assert "yet compute." in result.reason and "contradictory answers" in result.reason, result.reason
    for control in FW_OTHERS:
        assert got[control] in ("pass", "fail"), control


def test_one_listing_per_kind_per_run_shared_by_every_control(standin: StandIn, make_daemon: MakeDaemon) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    daemon.run_scope(SCOPE)
    # the hierarchical firewall policies are listed per ancestor on one path: by `parentId`
    calls = [(r.method, r.path, r.query.get("parentId", "")) for r in standin.requests]
    assert len(calls) == len(set(calls)), sorted(c for c in calls if calls.count(c) > 1)
    methods = {method for method, _, _ in calls}
    needed = {kind for control in ENABLED for kind in control.meta.kinds}
    assert {KINDS[kind].method for kind in needed} <= methods


def test_drip_forever_is_cut_at_deadline_while_other_scopes_and_heartbeat_go_on(tmp_path: Path) -> None:
    preload_clients()  # as the daemon does at start
    standin = StandIn(load_scenario(DEMO_SCENARIO), shift_time=True)  # its own: stopping ends the drip
    standin.start()
    stuck = StuckCalls()
    settings = CollectSettings(call_timeout=0.5, run_deadline=1.5, max_workers=4, retry=FAST_RETRY)
    runtime = Runtime(collect=make_collect(make_clients(standin.url), settings, stuck), stuck_calls=stuck.busy)
    daemon = Daemon(
        config_for([SCOPE, OTHER]),
        REGISTRY,
        runtime,
        heartbeat_interval=0.3,
        baselines=BaselineStore(tmp_path / "b.sqlite3"),
    )
    standin.add_fault(Fault(method="compute.firewalls.list", project=SCOPE, kind="drip", delay=0.2))
    daemon.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready, _ = daemon.store.ready()
            if ready:
                break
            time.sleep(0.05)
        assert daemon.store.ready()[0]
        got = statuses(daemon, SCOPE)
        assert {c for c, s in got.items() if s == "error"} == READS_FIREWALLS
        [reason] = {r.reason for r in daemon.store.results(control="FW-01", scope=SCOPE)}
        assert "deadline exceeded" in reason
        assert sample(daemon, "controlwatch_run_deadline_exceeded_total", {"scope": SCOPE}) == 1
        assert set(statuses(daemon, OTHER).values()) == {"pass"}
        assert stuck.busy(SCOPE) == 1  # the dripping call is abandoned, not killed
        # While it is stuck, the scope starts no new run; the other scope and the heartbeat go on.
        beat = sample(daemon, "controlwatch_scheduler_heartbeat_timestamp_seconds", {}) or 0.0
        daemon.scheduler.request_run(SCOPE)
        daemon.scheduler.request_run(OTHER)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            now_beat = sample(daemon, "controlwatch_scheduler_heartbeat_timestamp_seconds", {}) or 0.0
            if now_beat > beat:
                break
            time.sleep(0.1)
        assert (sample(daemon, "controlwatch_scheduler_heartbeat_timestamp_seconds", {}) or 0.0) > beat
        assert sample(daemon, "controlwatch_run_deadline_exceeded_total", {"scope": SCOPE}) == 1
        # The skipped run does not leave the old verdicts standing: every control says why it did not run.
        [skipped] = daemon.store.results(control="FW-09", scope=SCOPE)
        assert skipped.verdict.value == "error" and skipped.reason.startswith("not run: 1 call(s)")
    finally:
        daemon.stop(grace=1.0)
        standin.stop()  # ends the drip, so the abandoned call returns
    assert stuck.wait_idle(SCOPE, timeout=10)


def test_raising_run_is_counted_and_runs_again(tmp_path: Path) -> None:
    calls: list[str] = []
    done = threading.Event()

    def broken_collect(*args: Any) -> Any:
        calls.append("x")
        if len(calls) >= 3:
            done.set()
        raise RuntimeError("collector bug")

    runtime = Runtime(collect=broken_collect, stuck_calls=lambda scope: 0)
    daemon = Daemon(config_for([SCOPE]), REGISTRY, runtime, baselines=BaselineStore(tmp_path / "b.sqlite3"))
    daemon.scheduler.set_scope(SCOPE, interval=0.2, jitter=0)
    daemon.scheduler.start()
    try:
        assert done.wait(10)
    finally:
        daemon.scheduler.shutdown()
    assert (sample(daemon, "controlwatch_scheduler_job_events_total", {"event": "error"}) or 0) >= 2


# Every kind beyond the firewall area: a 403 on the call that feeds it turns exactly the
# controls reading that kind into `error`, naming the call; every other control judges.
KIND_FAULTS = [
    (Kind.IAM_POLICY, "cloudresourcemanager.projects.getIamPolicy", None),
    (Kind.ANCESTRY, "cloudresourcemanager.organizations.getIamPolicy", None),
    (Kind.SINKS, "logging.projects.sinks.list", None),
    (Kind.ANCESTOR_SINKS, "logging.folders.sinks.list", None),
    (Kind.LOG_METRICS, "logging.projects.metrics.list", None),
    (Kind.DISKS, "compute.disks.aggregatedList", SCOPE),
    (Kind.SNAPSHOTS, "compute.snapshots.list", SCOPE),
    (Kind.RESOURCE_POLICIES, "compute.resourcePolicies.aggregatedList", SCOPE),
    (Kind.ADDRESSES, "compute.addresses.aggregatedList", SCOPE),
    (Kind.INSTANCES, "compute.instances.aggregatedList", SCOPE),
    (Kind.SUBNETWORKS, "compute.subnetworks.aggregatedList", SCOPE),
    # the second catalogue: FW-13, DATA-02, DATA-03, REG-08 read the buckets; FW-13, DATA-03, ORG-* the org policies
    (Kind.BUCKETS, "storage.buckets.list", SCOPE),
    (Kind.BUCKETS, "storage.buckets.getIamPolicy", None),
    (Kind.SERVICE_ACCOUNT_KEYS, "iam.projects.serviceAccounts.list", SCOPE),
    (Kind.SERVICE_ACCOUNT_KEYS, "iam.projects.serviceAccounts.keys.list", SCOPE),
    (Kind.ORG_POLICIES, "orgpolicy.projects.policies.getEffectivePolicy", SCOPE),
]


@pytest.mark.parametrize(("kind", "method", "project"), KIND_FAULTS, ids=[m for _, m, _ in KIND_FAULTS])
def test_each_kind_fails_closed(
    standin: StandIn, make_daemon: MakeDaemon, kind: str, method: str, project: str | None
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    standin.add_fault(Fault(method=method, project=project, status=403))
    daemon.run_scope(SCOPE)
    readers = {c.meta.id for c in ENABLED if kind in c.meta.kinds}
    got = statuses(daemon, SCOPE)
    assert readers and {c for c, s in got.items() if s == "error"} == readers
    for control in readers:
        [result] = daemon.store.results(control=control, scope=SCOPE)
        assert f"{kind}:" in result.reason and "403" in result.reason, result.reason


# The readers named, so that a control quietly dropping a kind it needs shows up here.
DATA_ROUTES = {
    "storage.buckets.list": {"FW-13", "DATA-02", "DATA-03", "REG-08"},
    "orgpolicy.projects.policies.getEffectivePolicy": {"FW-13", "DATA-03", "ORG-01", "ORG-02", "ORG-03"},
}


@pytest.mark.parametrize(("method", "readers"), DATA_ROUTES.items(), ids=DATA_ROUTES)
def test_the_storage_and_orgpolicy_routes_fail_exactly_their_readers(
    standin: StandIn, make_daemon: MakeDaemon, method: str, readers: set[str]
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE, OTHER]))
    standin.add_fault(Fault(method=method, project=SCOPE, status=500))
    daemon.run_scope(SCOPE)
    daemon.run_scope(OTHER)
    got = statuses(daemon, SCOPE)
    assert {c for c, s in got.items() if s == "error"} == readers
    for result in daemon.store.results(scope=SCOPE, verdict="error"):
        assert method in result.reason and "HTTP 500" in result.reason, result.reason
    assert set(statuses(daemon, OTHER).values()) == {"pass"}


def test_a_run_that_raises_turns_every_control_of_the_scope_to_error_at_once(standin: StandIn, tmp_path: Path) -> None:
    """`can't start new thread` out of the collection: the previous `pass` must not stand."""
    stuck = StuckCalls()
    settings = CollectSettings(call_timeout=0.5, run_deadline=3.0, max_workers=4, retry=FAST_RETRY)
    real_collect = make_collect(make_clients(standin.url), settings, stuck)
    starved = threading.Event()

    def collect(*args: Any) -> Any:
        if starved.is_set():
            raise RuntimeError("can't start new thread")
        return real_collect(*args)

    runtime = Runtime(collect=collect, stuck_calls=stuck.busy)
    daemon = Daemon(config_for([OTHER]), REGISTRY, runtime, baselines=BaselineStore(tmp_path / "b.sqlite3"))
    daemon.run_scope(OTHER)
    assert set(statuses(daemon, OTHER).values()) == {"pass"}
    starved.set()
    with pytest.raises(RuntimeError):  # and the scheduler still sees the failure (counted as a job error)
        daemon.run_scope(OTHER)
    got = statuses(daemon, OTHER)
    assert set(got.values()) == {"error"} and set(got) == {c.meta.id for c in ENABLED}
    for result in daemon.store.results(scope=OTHER):
        assert result.reason == "not judged: the run failed: RuntimeError: can't start new thread"
    labels = {"control": "FW-01", "scope": OTHER, "area": "firewall", "severity": "critical"}
    assert sample(daemon, "controlwatch_control_status", {**labels, "status": "error"}) == 1
    assert sample(daemon, "controlwatch_control_status", {**labels, "status": "pass"}) == 0
