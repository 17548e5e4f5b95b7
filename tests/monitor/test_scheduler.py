"""ScopeScheduler: job settings, events, dirty re-runs, raising jobs, heartbeat isolation."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from monitor.run.scheduler import ScopeScheduler


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Recorder:
    def __init__(self) -> None:
        self.events: Counter[str] = Counter()
        self.beats = 0
        self.runs: Counter[str] = Counter()
        self.lock = threading.Lock()

    def event(self, name: str) -> None:
        with self.lock:
            self.events[name] += 1

    def beat(self) -> None:
        with self.lock:
            self.beats += 1


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make(recorder: Recorder) -> Iterator[Callable[..., ScopeScheduler]]:
    made: list[ScopeScheduler] = []

    def build(run: Callable[[str], None], workers: int = 2) -> ScopeScheduler:
        sched = ScopeScheduler(
            run, workers=workers, on_event=recorder.event, heartbeat=recorder.beat, heartbeat_interval=0.1
        )
        made.append(sched)
        return sched

    yield build
    for sched in made:
        sched.shutdown(wait=False)


def test_scope_jobs_use_settings_that_do_not_lose_runs(make: Callable[..., ScopeScheduler]) -> None:
    sched = make(lambda scope: None)
    sched.set_scope("shop-prod", interval=900, jitter=30, first_run_in=60)
    settings = sched.job_settings("shop-prod")
    assert settings == {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": 900,
        "interval": 900.0,
        "jitter": 30,
    }


def test_request_during_run_is_rerun_not_dropped(make: Callable[..., ScopeScheduler], recorder: Recorder) -> None:
    release = threading.Event()
    started = threading.Event()

    def run(scope: str) -> None:
        recorder.runs[scope] += 1
        started.set()
        release.wait(5)

    sched = make(run)
    sched.set_scope("a", interval=3600, jitter=0)
    sched.start()
    assert started.wait(5)
    for _ in range(3):  # several requests while in flight collapse into one re-run
        sched.request_run("a")
    release.set()
    assert wait_for(lambda: recorder.runs["a"] == 2 and not sched.running())
    time.sleep(0.3)
    assert recorder.runs["a"] == 2
    assert recorder.events["max_instances"] == 0


def test_request_when_idle_runs_at_once(make: Callable[..., ScopeScheduler], recorder: Recorder) -> None:
    sched = make(lambda scope: recorder.runs.update([scope]))
    sched.set_scope("a", interval=3600, jitter=0, first_run_in=3600)
    sched.start()
    sched.request_run("a")
    assert wait_for(lambda: recorder.runs["a"] == 1)


def test_raising_job_is_counted_and_runs_again(make: Callable[..., ScopeScheduler], recorder: Recorder) -> None:
    def run(scope: str) -> None:
        recorder.runs[scope] += 1
        raise RuntimeError("boom")

    sched = make(run)
    sched.set_scope("a", interval=0.2, jitter=0)
    sched.start()
    assert wait_for(lambda: recorder.runs["a"] >= 3)
    assert recorder.events["error"] >= 2
    assert sched.running() == set()


def test_hung_scope_does_not_stop_other_scopes_or_heartbeat(
    make: Callable[..., ScopeScheduler], recorder: Recorder
) -> None:
    hang = threading.Event()

    def run(scope: str) -> None:
        recorder.runs[scope] += 1
        if scope == "stuck":
            hang.wait(10)

    sched = make(run, workers=2)
    sched.set_scope("stuck", interval=0.2, jitter=0)
    sched.set_scope("fine", interval=0.2, jitter=0)
    sched.start()
    try:
        assert wait_for(lambda: recorder.runs["fine"] >= 4)
        beats = recorder.beats
        assert wait_for(lambda: recorder.beats > beats + 2)
        assert recorder.runs["stuck"] == 1
        assert recorder.events["max_instances"] >= 1  # the skipped firings are visible, not silent
    finally:
        hang.set()


def test_retuning_an_existing_scope_keeps_or_advances_its_next_run(make: Callable[..., ScopeScheduler]) -> None:
    sched = make(lambda scope: None)
    sched.set_scope("a", interval=3600, jitter=0, first_run_in=600)
    sched.start()
    job = sched._scheduler.get_job("scope:a")
    planned = job.next_run_time
    sched.set_scope("a", interval=3600, jitter=0)  # a reload with the same schedule: same next run
    assert sched._scheduler.get_job("scope:a").next_run_time == planned
    sched.set_scope("a", interval=60, jitter=0)  # a shorter interval: no later than one new interval
    later = sched._scheduler.get_job("scope:a").next_run_time
    assert (planned - later).total_seconds() > 500


def test_a_request_during_a_failing_run_is_not_dropped(make: Callable[..., ScopeScheduler], recorder: Recorder) -> None:
    started = threading.Event()
    release = threading.Event()

    def run(scope: str) -> None:
        recorder.runs[scope] += 1
        if recorder.runs[scope] == 1:
            started.set()
            release.wait(5)
            raise RuntimeError("first run fails")

    sched = make(run)
    sched.set_scope("a", interval=3600, jitter=0)
    sched.start()
    assert started.wait(5)
    sched.request_run("a")
    release.set()
    assert wait_for(lambda: recorder.runs["a"] == 2)
    assert recorder.events["error"] == 1 and recorder.events["max_instances"] == 0


def test_each_skipped_firing_is_logged_once_and_the_listener_never_raises(
    make: Callable[..., ScopeScheduler], recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    from structlog.testing import capture_logs

    hang = threading.Event()

    def run(scope: str) -> None:
        recorder.runs[scope] += 1
        hang.wait(10)

    sched = make(run, workers=2)
    with capture_logs() as logs:
        sched.set_scope("stuck", interval=0.2, jitter=0)
        sched.start()
        try:
            assert wait_for(lambda: recorder.events["max_instances"] >= 2)
        finally:
            hang.set()
            sched.shutdown()
    skipped = [entry for entry in logs if entry["event"] == "job_skipped"]
    assert len(skipped) == recorder.events["max_instances"]
    assert all(
        entry == {"event": "job_skipped", "job": "scope:stuck", "reason": "max_instances", "log_level": "warning"}
        for entry in skipped
    )
    # APScheduler logs a listener that raised as "Error notifying listener": never here.
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
