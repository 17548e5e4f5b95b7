"""Inside Google's quotas at estate size: bounded scope runs, per-API rates, a 429 storm that backs off.

Daemons are started for real (scheduler, pool, heartbeat); the storm goes through the real
clients, collectors and retry table to the stand-in, whose request log is what is counted.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from checks import default_registry
from checks.kinds import APIS
from checks.snapshot import Kind, KindData, Snapshot
from monitor.collect import CollectSettings, RetryPolicy, StuckCalls, make_clients
from monitor.collect.observer import ApiObserver
from monitor.config.model import Config, parse_config
from monitor.daemon import Daemon
from monitor.drift.baselines import BaselineStore
from monitor.run.plans import build_plans
from monitor.run.runtime import Runtime, make_collect
from monitor.run.sweep import Collect
from monitor.standin import Fault, StandIn

REGISTRY = default_registry()


def quota_config(scopes: Sequence[str], *, concurrent: int, rates: str = "{}") -> Config:
    projects = "\n".join(f"    - id: {scope}" for scope in scopes)
    text = f"""
scopes:
  projects:
{projects}
schedule: {{interval: 1h, jitter: 0s}}
gcp: {{call_timeout: 1s, run_deadline: 5s, max_workers: 4, max_concurrent_scopes: {concurrent}, rate_limits: {rates}}}
metrics: {{listen: "127.0.0.1:0"}}
disabled_controls: [DRIFT-01, DRIFT-02, DRIFT-03]
"""
    return parse_config(text, "quotas.yaml")


class Concurrency:
    """Wraps a collect function, counting how many run at once."""

    def __init__(self, collect: Collect, hold: float = 0.0) -> None:
        self._collect = collect
        self._hold = hold
        self._lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.runs: Counter[str] = Counter()

    def __call__(self, scope: str, kinds: Sequence[str], observer: ApiObserver, now: datetime) -> Any:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.runs[scope] += 1
        try:
            time.sleep(self._hold)  # a slow run, holding its slot
            return self._collect(scope, kinds, observer, now)
        finally:
            with self._lock:
                self.now -= 1


def empty_collect(scope: str, kinds: Sequence[str], observer: ApiObserver, now: datetime) -> Any:
    """Every kind collected, none holding a resource."""
    return Snapshot(scope=scope, now=now, kinds={kind: KindData(resources=()) for kind in kinds}), False, 0


def sample(daemon: Daemon, name: str, labels: dict[str, str] | None = None) -> float:
    value: Any = daemon.metrics.registry.get_sample_value(name, labels or {})
    return float(value or 0.0)


def statuses(daemon: Daemon) -> dict[tuple[str, str], str]:
    return {(s.scope, s.control): s.status.value for s in daemon.store.states() if s.status is not None}


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    made: list[Daemon] = []

    def start(config: Config, collect: Collect, stuck: StuckCalls | None = None) -> Daemon:
        runtime = Runtime(collect=collect, stuck_calls=stuck.busy if stuck else (lambda scope: 0))
        daemon = Daemon(
            config, REGISTRY, runtime, heartbeat_interval=0.05, baselines=BaselineStore(tmp_path / f"b{len(made)}.db")
        )
        made.append(daemon)
        daemon.start()
        return daemon

    yield start
    for daemon in made:
        daemon.stop(grace=2.0)


def test_at_most_max_concurrent_scopes_run_at_once_and_none_is_lost(started: Callable[..., Daemon]) -> None:
    scopes = [f"estate-project-{n:02d}" for n in range(30)]
    counting = Concurrency(empty_collect, hold=0.1)
    daemon = started(quota_config(scopes, concurrent=3), counting)

    assert wait_until(lambda: daemon.store.ready()[0], timeout=30), daemon.store.ready()
    beat_after_sweep = sample(daemon, "controlwatch_scheduler_heartbeat_timestamp_seconds")

    assert counting.peak == 3  # reached, never passed: 30 first runs due at once, 3 at a time
    assert counting.runs == Counter(dict.fromkeys(scopes, 1))  # every scope once, none dropped or doubled
    for event in ("missed", "max_instances", "error"):
        assert sample(daemon, "controlwatch_scheduler_job_events_total", {"event": event}) == 0, event
    # waiting for a slot never cut a run (an empty IAM policy is an error of its own, not of waiting)
    assert not [r for r in daemon.store.results(verdict="error") if "deadline" in r.reason]
    assert beat_after_sweep > 0  # the heartbeat beat through the busy sweep
    assert wait_until(
        lambda: sample(daemon, "controlwatch_scheduler_heartbeat_timestamp_seconds") > beat_after_sweep, timeout=5
    )


def test_a_run_that_waited_for_a_slot_longer_than_its_deadline_still_has_its_whole_deadline(
    standin: StandIn, started: Callable[..., Daemon]
) -> None:
    scopes = ["shop-prod", "shop-staging", "data-platform", "ledger-clean"]
    stuck = StuckCalls()
    settings = CollectSettings(call_timeout=1.0, run_deadline=1.0, max_workers=4, retry=RetryPolicy(max_attempts=1))
    counting = Concurrency(make_collect(make_clients(standin.url), settings, stuck), hold=0.5)
    daemon = started(quota_config(scopes, concurrent=1), counting, stuck)

    # one at a time, each holding its slot 0.5 s first: the last waits 1.5 s, past its 1 s deadline
    assert wait_until(lambda: daemon.store.ready()[0], timeout=30)
    assert counting.peak == 1 and counting.runs == Counter(dict.fromkeys(scopes, 1))
    assert "error" not in statuses(daemon).values()
    assert all(sample(daemon, "controlwatch_run_deadline_exceeded_total", {"scope": s}) == 0 for s in scopes)


# --- a 429 storm: every call of every project rate-limited at once ----------------------------

STORM_RETRY = RetryPolicy(initial=0.01, maximum=0.05, max_attempts=3, quota_window=0.25)
STORM_RATES = {"compute": 60.0, "cloudresourcemanager": 30.0, "logging": 30.0, "sqladmin": 30.0}
#: kinds whose first call is the one shared read of the project (`SharedReads`)
READS_THE_PROJECT = {Kind.PROJECT, Kind.ANCESTRY, Kind.ANCESTOR_SINKS}


def first_calls(kinds: Sequence[str]) -> int:
    """Calls a run starts when every call fails: one per kind, the project read shared by those reading it."""
    return len(set(kinds) - READS_THE_PROJECT) + (1 if set(kinds) & READS_THE_PROJECT else 0)


def most_in_any_window(times: Sequence[float], window: float) -> int:
    ordered = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] > window:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_a_429_storm_on_every_project_ends_in_error_and_backoff_within_a_computed_request_count(
    standin: StandIn, started: Callable[..., Daemon]
) -> None:
    scopes = [f"storm-project-{n:02d}" for n in range(12)]
    rates = "{compute: 60/s, cloudresourcemanager: 30/s, logging: 30/s, sqladmin: 30/s}"
    config = quota_config(scopes, concurrent=4, rates=rates)
    stuck = StuckCalls()
    settings = CollectSettings(
        call_timeout=1.0, run_deadline=5.0, max_workers=4, retry=STORM_RETRY, rate_limits=STORM_RATES
    )
    counting = Concurrency(make_collect(make_clients(standin.url), settings, stuck))
    standin.add_fault(Fault(method="*", status=429))  # every API, every project, until cleared

    daemon = started(config, counting, stuck)
    assert wait_until(lambda: daemon.store.ready()[0], timeout=60), daemon.store.ready()

    # Every control of every scope is `error`, naming the 429.
    got = statuses(daemon)
    assert len(got) == len(scopes) * len(build_plans(config, REGISTRY)[scopes[0]].controls)
    assert set(got.values()) == {"error"}
    # (on a loaded machine a run may reach its 5 s deadline while backing off: an error that says so)
    reasons = {r.reason for r in daemon.store.results(verdict="error")}
    assert all(any(why in reason for why in ("HTTP 429", "rate limit", "run deadline")) for reason in reasons), reasons

    # The request count is bounded: each call at most max_attempts, each run its first calls only.
    sent = standin.requests
    per_run = first_calls(build_plans(config, REGISTRY)[scopes[0]].kinds())
    bound = len(scopes) * per_run * STORM_RETRY.max_attempts
    assert {r.status for r in sent} == {429}
    assert len(sent) <= bound, (len(sent), bound)
    per_scope = Counter(r.project for r in sent)
    assert max(per_scope.values()) <= per_run * STORM_RETRY.max_attempts
    chains = {(r.project, r.method) for r in sent}
    retries = [sample(daemon, "controlwatch_api_retries_total", {"service": api, "reason": "429"}) for api in APIS]
    # every API the run reads retried, the second catalogue's too
    assert sum(count or 0 for count in retries) == len(sent) - len(chains)

    # Backoff: each retry of a call lands in a later quota window than the attempt before it.
    window = STORM_RETRY.quota_window
    for project, method in chains:
        times = sorted(r.time for r in sent if (r.project, r.method) == (project, method))
        assert len(times) <= STORM_RETRY.max_attempts
        windows = [math.floor(t / window) for t in times]
        assert all(a < b for a, b in zip(windows, windows[1:], strict=False)), (project, method, times)

    # No stampede: retries of different calls never arrive faster than each API's rate (burst: 1 s of it).
    for api, rate in STORM_RATES.items():
        times = [r.time for r in sent if (r.method or "").startswith(api + ".")]
        for span in (0.1, 0.5, 1.0):
            assert most_in_any_window(times, span) <= rate * span + rate + 3, (api, span)

    # Each collection thread makes at most two attempts a quota window (a retry, then the next
    # call's first), three where a run ends and the next begins: the storm slows every run down.
    per_window = Counter(math.floor(r.time / window) for r in sent)
    assert max(per_window.values()) <= 3 * 4 * 4, per_window
    assert counting.peak <= 4


def test_a_reload_that_changes_the_quotas_says_they_wait_for_a_restart(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    runtime = Runtime(collect=empty_collect, stuck_calls=lambda scope: 0)
    daemon = Daemon(
        quota_config(["shop-prod"], concurrent=2), REGISTRY, runtime, baselines=BaselineStore(tmp_path / "b.db")
    )
    with capture_logs() as logs:
        assert daemon.reload(lambda: quota_config(["shop-prod"], concurrent=2))
        assert daemon.reload(lambda: quota_config(["shop-prod"], concurrent=5, rates="{compute: 5/s}"))
    kept = [entry for entry in logs if entry["event"] == "config_reload_gcp_kept"]
    assert len(kept) == 1 and kept[0]["log_level"] == "warning"
