"""The one door out of a run: every sink sees every finished run, in order, behind a bulkhead."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from checks import default_registry
from checks.snapshot import Snapshot
from monitor.run.plans import build_plans
from monitor.run.sweep import ScopeRun
from monitor.sinks.base import FinishedRun, deliver
from tests.monitor.conftest import config_for
from tests.monitor.test_daemon_faults import MakeDaemon

SCOPE = "shop-prod"


def finished_run() -> FinishedRun:
    config = config_for([SCOPE])
    plan = build_plans(config, default_registry())[SCOPE]
    snapshot = Snapshot(scope=SCOPE, now=datetime(2026, 11, 25, tzinfo=UTC))
    run = ScopeRun(scope=SCOPE, started=0.0, ended=1.0, snapshot=snapshot, results={})
    return FinishedRun(plan, run, {}, config, lambda: True)


class Recording:
    essential = False

    def __init__(self, name: str, seen: list[str], *, fails: bool = False) -> None:
        self.name, self._seen, self._fails = name, seen, fails

    def on_run(self, finished: FinishedRun) -> None:
        self._seen.append(f"{self.name}:{finished.scope}")
        if self._fails:
            raise RuntimeError("disk full")


def test_every_sink_sees_the_run_in_order_even_after_one_raises() -> None:
    seen: list[str] = []
    sinks = [Recording("store", seen), Recording("evidence", seen, fails=True), Recording("log", seen)]
    with capture_logs() as logs:
        deliver(sinks, finished_run())
    assert seen == ["store:shop-prod", "evidence:shop-prod", "log:shop-prod"]
    [failure] = [entry for entry in logs if entry["event"] == "result_sink_failed"]
    assert failure["sink"] == "evidence" and failure["scope"] == SCOPE
    assert failure["error"] == "RuntimeError: disk full" and failure["log_level"] == "error"


def test_the_daemon_hands_each_run_to_store_evidence_drift_metrics_risks_and_log(make_daemon: MakeDaemon) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    assert [sink.name for sink in daemon.sinks] == ["store", "drift", "drift_live", "metrics", "stale_risks", "log"]


class Failing(Recording):
    def __init__(self, name: str, seen: list[str], *, essential: bool) -> None:
        super().__init__(name, seen, fails=True)
        self.essential = essential


def test_a_failing_sink_is_counted_and_an_essential_one_fails_the_run() -> None:
    seen: list[str] = []
    counted: list[str] = []
    optional = [Failing("evidence", seen, essential=False), Recording("log", seen)]
    deliver(optional, finished_run(), counted.append)
    assert seen == ["evidence:shop-prod", "log:shop-prod"] and counted == ["evidence"]
    with pytest.raises(RuntimeError, match="disk full"):
        deliver([Failing("store", seen, essential=True), Recording("log", seen)], finished_run(), counted.append)
    assert counted == ["evidence", "store"] and seen[-1] == "store:shop-prod"  # the log never saw it


def test_a_run_the_store_could_not_take_turns_every_control_to_error(make_daemon: MakeDaemon) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    daemon.run_scope(SCOPE)
    real_record, calls = daemon.store.record, [0]

    def record_once_broken(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 5:  # partway through the run's controls
            raise OSError("store broken")
        return real_record(*args, **kwargs)

    daemon.store.record = record_once_broken
    with pytest.raises(OSError):
        daemon.run_scope(SCOPE)
    statuses = {s.control: s.status.value for s in daemon.store.states() if s.status is not None}
    assert set(statuses.values()) == {"error"}
    assert all(
        r.reason.startswith("not judged: the run failed: OSError: store broken")
        for r in daemon.store.results(scope=SCOPE)
    )
    value = daemon.metrics.registry.get_sample_value("controlwatch_result_sink_failures_total", {"sink": "store"})
    assert value == 1
