"""Drift through the daemon: no baseline, approval, a change at the stand-in, revert."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from checks.driftstate import kinds_for, watched_state
from checks.model import Area
from monitor.collect import NullObserver, StuckCalls
from monitor.daemon import Daemon
from monitor.demo import DEMO_SCENARIO
from monitor.drift.baselines import BaselineStore
from monitor.standin import StandIn
from tests.checks.catalogue import ids
from tests.monitor.conftest import config_for

MakeDaemon = Callable[..., tuple[Daemon, StuckCalls]]
SCOPE = "ledger-clean"
DRIFT = tuple(ids(Area.DRIFT))


def value(daemon: Daemon, name: str, labels: dict[str, str]) -> float | None:
    got: float | None = daemon.metrics.registry.get_sample_value(name, labels)
    return got


def statuses(daemon: Daemon) -> dict[str, str | None]:
    return {s.control: s.status.value if s.status else None for s in daemon.store.states() if s.control in DRIFT}


def approve(daemon: Daemon, store: BaselineStore) -> None:
    collect = daemon.runtime.collect
    snapshot, _, _ = collect(SCOPE, kinds_for(DRIFT), NullObserver(), datetime.now(UTC))
    store.approve(SCOPE, watched_state(snapshot), "alice", now=datetime.now(UTC))


def widened(scenario: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(scenario)
    [project] = [p for p in changed["projects"] if p["projectId"] == SCOPE]
    rule = next(r for r in project["compute"]["firewalls"] if r.get("sourceRanges"))
    rule["sourceRanges"] = ["0.0.0.0/0"]
    return changed


def test_drift_lifecycle(standin: StandIn, make_daemon: MakeDaemon, tmp_path: Path) -> None:
    original = yaml.safe_load(DEMO_SCENARIO.read_text())
    daemon, _ = make_daemon(config_for([SCOPE], drift=True))
    store: BaselineStore = daemon.baselines
    try:
        daemon.run_scope(SCOPE)
        assert set(statuses(daemon).values()) == {"error"}
        [no_baseline] = daemon.store.results(control="DRIFT-01", scope=SCOPE)
        assert no_baseline.reason.startswith("no approved baseline")
        assert value(daemon, "controlwatch_baseline_approved", {"scope": SCOPE}) == 0

        approve(daemon, store)
        daemon.run_scope(SCOPE)
        assert set(statuses(daemon).values()) == {"pass"}
        assert value(daemon, "controlwatch_baseline_approved", {"scope": SCOPE}) == 1
        assert value(daemon, "controlwatch_drift_active", {"control": "DRIFT-01", "scope": SCOPE}) == 0

        standin.load(widened(original))
        for _ in range(2):  # a persisting drift is one event, not one per run
            daemon.run_scope(SCOPE)
        assert statuses(daemon)["DRIFT-01"] == "fail"
        assert value(daemon, "controlwatch_drift_active", {"control": "DRIFT-01", "scope": SCOPE}) == 1
        events = {"control": "DRIFT-01", "scope": SCOPE, "change": "changed"}
        assert value(daemon, "controlwatch_drift_events_total", events) == 1
        [changed] = [r for r in daemon.store.results(control="DRIFT-01", scope=SCOPE) if r.verdict.value == "fail"]
        assert "sourceRanges" in changed.reason and "0.0.0.0/0" in changed.reason

        standin.load(original)  # the revert
        daemon.run_scope(SCOPE)
        assert statuses(daemon)["DRIFT-01"] == "pass"
        assert value(daemon, "controlwatch_drift_active", {"control": "DRIFT-01", "scope": SCOPE}) == 0

        standin.load(widened(original))  # drift again, then approve the new state
        daemon.run_scope(SCOPE)
        assert value(daemon, "controlwatch_drift_events_total", events) == 2
        approve(daemon, store)
        daemon.run_scope(SCOPE)
        assert value(daemon, "controlwatch_drift_active", {"control": "DRIFT-01", "scope": SCOPE}) == 0
    finally:
        standin.load(original)


def test_audit_event_triggers_a_recheck_and_names_who_changed_what(standin: StandIn, tmp_path: Path) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import compute_v1

    from checks import default_registry
    from monitor.collect import CollectSettings, make_clients
    from monitor.run.runtime import Runtime, make_collect
    from tests.monitor.conftest import FAST_RETRY
    from tests.tools import wait_until

    original = yaml.safe_load(DEMO_SCENARIO.read_text())
    clients = make_clients(standin.url)
    stuck = StuckCalls()
    collect = make_collect(clients, CollectSettings(call_timeout=1, run_deadline=5, retry=FAST_RETRY), stuck)
    runtime = Runtime(collect=collect, stuck_calls=stuck.busy, clients=clients)
    config = config_for([SCOPE], "drift: {audit_poll_interval: 1s}", drift=True)
    store = BaselineStore(tmp_path / "b.sqlite3")
    daemon = Daemon(config, default_registry(), runtime, baselines=store)
    approve(daemon, store)
    daemon.start()
    try:
        assert wait_until(lambda: daemon.store.ready()[0], 20)
        assert statuses(daemon)["DRIFT-01"] == "pass"
        [project] = [p for p in original["projects"] if p["projectId"] == SCOPE]
        rule = next(r for r in project["compute"]["firewalls"] if r.get("sourceRanges"))
        firewalls = compute_v1.FirewallsClient(
            credentials=AnonymousCredentials(), client_options={"api_endpoint": standin.url}
        )
        firewalls.patch(
            project=SCOPE,
            firewall=rule["name"],
            firewall_resource=compute_v1.Firewall(source_ranges=["0.0.0.0/0"]),
            metadata=[("x-standin-principal", "mallory@example.be")],
        ).result(timeout=10)
        # Not the hourly sweep: the audit event re-checks the scope at once.
        assert wait_until(lambda: statuses(daemon)["DRIFT-01"] == "fail", 15)
        [drifted] = [r for r in daemon.store.results(control="DRIFT-01", scope=SCOPE) if r.verdict.value == "fail"]
        assert "sourceRanges" in drifted.reason
        assert wait_until(
            lambda: any(
                "changed by mallory@example.be" in r.reason and "v1.compute.firewalls.patch" in r.reason
                for r in daemon.store.results(control="DRIFT-01", scope=SCOPE)
            ),
            15,
        )
    finally:
        daemon.stop(grace=2)
        standin.load(original)


def test_a_reload_turns_the_audit_poller_on_and_retunes_it(standin: StandIn, tmp_path: Path) -> None:
    from checks import default_registry
    from monitor.collect import CollectSettings, make_clients
    from monitor.run.runtime import Runtime, make_collect

    clients = make_clients(standin.url)
    stuck = StuckCalls()
    runtime = Runtime(collect=make_collect(clients, CollectSettings(), stuck), stuck_calls=stuck.busy, clients=clients)
    baselines = BaselineStore(tmp_path / "b.sqlite3")
    daemon = Daemon(config_for([SCOPE]), default_registry(), runtime, baselines=baselines)
    daemon.start()
    try:
        assert daemon.poller is None  # no DRIFT control enabled: nothing to re-check early
        assert daemon.reload(lambda: config_for([SCOPE], "drift: {audit_poll_interval: 5s}", drift=True))
        first = daemon.poller
        assert first is not None and first.interval == 5.0
        assert daemon.reload(lambda: config_for([SCOPE], "drift: {audit_poll_interval: 2s}", drift=True))
        assert daemon.poller is not first and daemon.poller is not None and daemon.poller.interval == 2.0
    finally:
        daemon.stop(grace=2)
