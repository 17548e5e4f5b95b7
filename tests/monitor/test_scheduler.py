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


def test_a_late_heartbeat_is_not_counted_as_a_lost_scope_run(
    make: Callable[..., ScopeScheduler], recorder: Recorder
) -> None:
    """A heartbeat slower than its interval (a starved machine) skips beats: no scope run was lost."""
    slow_beats = 0

    def slow_beat() -> None:
        nonlocal slow_beats
        slow_beats += 1
        time.sleep(0.25)  # 2.5 heartbeat intervals

    sched = ScopeScheduler(
        lambda scope: None, workers=1, on_event=recorder.event, heartbeat=slow_beat, heartbeat_interval=0.1
    )
    try:
        sched.start()
        assert wait_for(lambda: slow_beats >= 4)
    finally:
        sched.shutdown(wait=False)
    assert recorder.events["max_instances"] == 0 and recorder.events["missed"] == 0


def test_a_failing_heartbeat_is_counted(make: Callable[..., ScopeScheduler], recorder: Recorder) -> None:
    def failing_beat() -> None:
        raise RuntimeError("metrics gone")

    sched = ScopeScheduler(
        lambda scope: None, workers=1, on_event=recorder.event, heartbeat=failing_beat, heartbeat_interval=0.1
    )
    try:
        sched.start()
        assert wait_for(lambda: recorder.events["error"] >= 2)
    finally:
        sched.shutdown(wait=False)


# --- spreading runs over the interval (issue 11: 1,000 projects inside Google's quotas) ------


def _spread_scheduler(make: Callable[..., ScopeScheduler], scopes: list[str], jitter: float = 0) -> ScopeScheduler:
    sched = make(lambda scope: None)
    for scope in scopes:
        sched.set_scope(scope, interval=900, jitter=jitter)
    return sched


SCOPES = [f"project-{n:04d}" for n in range(400)]


def test_a_new_scope_runs_at_once_then_in_its_own_slot_of_the_interval(make: Callable[..., ScopeScheduler]) -> None:
    before = time.time()
    sched = _spread_scheduler(make, SCOPES)
    seconds = {scope: [t.timestamp() for t in sched.planned_runs(scope, 4)] for scope in SCOPES}
    for scope, (first, second, third, fourth) in seconds.items():
        assert before <= first <= time.time()  # a new project is judged soon, not up to an interval later
        assert first + 450 <= second < first + 1350, scope  # its slot, at least half an interval on
        assert third - second == pytest.approx(900, abs=1e-3) and fourth - third == pytest.approx(900, abs=1e-3)


def test_steady_state_runs_of_many_scopes_are_spread_evenly_over_the_interval(
    make: Callable[..., ScopeScheduler],
) -> None:
    sched = _spread_scheduler(make, SCOPES)
    offsets = [sched.planned_runs(scope, 3)[2].timestamp() % 900 for scope in SCOPES]
    per_tenth = Counter(int(offset // 90) for offset in offsets)
    # 400 scopes, 40 expected in each tenth of the interval; all at one moment before
    assert sorted(per_tenth) == list(range(10))
    assert max(per_tenth.values()) <= 70 and min(per_tenth.values()) >= 15, per_tenth
    assert max(Counter(round(offset) for offset in offsets).values()) <= 5  # no second holds a crowd


def test_a_scope_keeps_its_slot_across_restarts(make: Callable[..., ScopeScheduler]) -> None:
    one = _spread_scheduler(make, SCOPES[:20])
    two = _spread_scheduler(make, SCOPES[:20])
    for scope in SCOPES[:20]:
        slot_one = one.planned_runs(scope, 3)[2].timestamp() % 900
        slot_two = two.planned_runs(scope, 3)[2].timestamp() % 900
        assert slot_one == pytest.approx(slot_two, abs=1e-3)


def test_jitter_moves_a_run_within_its_slot_and_never_accumulates(make: Callable[..., ScopeScheduler]) -> None:
    sched = _spread_scheduler(make, SCOPES[:50], jitter=30)
    for scope in SCOPES[:50]:
        runs = [t.timestamp() for t in sched.planned_runs(scope, 12)[1:]]  # the slotted runs
        grid = [run - k * 900 for k, run in enumerate(runs)]
        # each run lies within one jitter of a fixed grid: APScheduler's own jitter would add up
        # from run to run (a random walk of up to 30 s a run), ours is drawn afresh in each slot
        assert max(grid) - min(grid) < 30, scope
