"""The one typed door to APScheduler 3.x (which ships no type information).

One job per scope, with the settings that stop APScheduler from losing runs silently:
`coalesce=True`, `max_instances=1`, `misfire_grace_time` = the interval, jitter. A run
requested while the scope's run is in flight (an audit-log event, say) marks the scope
dirty and the in-flight job runs it again as soon as it ends, so a request is never
dropped as a `max_instances` skip. A trivial heartbeat job on its own one-thread executor
shows when the main pool is starved. Every job event is handed to `on_event`.

The pool has `workers` threads: at most that many scope runs at once (`gcp.max_concurrent_scopes`);
a run due while all are busy waits in the pool's queue, and its run deadline starts only
when it starts collecting. A scope's first run is due at once (a new project is judged
soon); after it, each scope runs in its own slot of the interval, at a fixed offset from
the epoch's interval boundaries derived from a hash of its id (plus jitter), so N scopes
are spread evenly over the interval instead of all calling Google at the same moment, and
a restart puts them back in the same slots.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = structlog.get_logger("controlwatch.scheduler")

_EVENT_NAMES = {
    EVENT_JOB_EXECUTED: "executed",
    EVENT_JOB_ERROR: "error",
    EVENT_JOB_MISSED: "missed",
    EVENT_JOB_MAX_INSTANCES: "max_instances",
}
HEARTBEAT_JOB = "heartbeat"
_EPSILON = 1e-3  # seconds: datetimes keep microseconds, so a slot read back may be a hair off


def phase_of(scope: str, interval: float) -> float:
    """The scope's offset in every interval, in [0, interval): the same in every process."""
    fraction = int.from_bytes(hashlib.sha256(scope.encode()).digest()[:8], "big") / 2**64
    return fraction * interval


class SpreadTrigger(IntervalTrigger):  # type: ignore[misc]  # APScheduler ships no type information
    """Every `interval` at `phase` seconds past the epoch's interval boundaries, plus up to `jitter`.

    Unlike APScheduler's interval trigger, the jitter never accumulates: each run is placed
    from its slot, not from the jittered time of the run before. The run after `first` (a
    first run off the grid) takes the first slot at least half an interval later.
    """

    def __init__(self, interval: float, jitter: float, phase: float, first: datetime | None = None) -> None:
        super().__init__(seconds=interval, jitter=jitter or None, timezone=UTC)
        self.phase = phase
        self.first = first

    def slot_at_or_after(self, at: float) -> float:
        """The first slot (epoch seconds, unjittered) at or after `at` (to the microsecond a datetime keeps)."""
        length = float(self.interval_length)
        return math.ceil((at - self.phase - _EPSILON) / length) * length + self.phase

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        length = float(self.interval_length)
        if previous_fire_time is None:
            at = self.slot_at_or_after(now.timestamp())
        elif previous_fire_time == self.first:
            at = self.slot_at_or_after(previous_fire_time.timestamp() + length / 2)
        else:  # the slot the previous run was placed in (its jitter is shorter than an interval), plus one
            previous = previous_fire_time.timestamp()
            slot = math.floor((previous - self.phase + _EPSILON) / length) * length + self.phase
            at = max(slot + length, previous + _EPSILON)  # always later: APScheduler loops until it is
        if self.jitter:
            at += random.uniform(0, self.jitter)
        return datetime.fromtimestamp(at, UTC)


class ScopeScheduler:
    """Runs `run(scope)` for every scope on its interval, and on request."""

    def __init__(
        self,
        run: Callable[[str], None],
        *,
        workers: int,
        on_event: Callable[[str], None],
        heartbeat: Callable[[], None],
        heartbeat_interval: float = 5.0,
    ) -> None:
        self._run = run
        self._on_event = on_event
        self._state = threading.Lock()
        self._running: set[str] = set()
        self._dirty: set[str] = set()
        self._stopping = False
        self._recheck_ids = itertools.count(1)
        self._scheduler: Any = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(max_workers=max(1, workers)),
                "heartbeat": ThreadPoolExecutor(max_workers=1),
            },
            timezone=UTC,
        )
        self._scheduler.add_listener(
            self._listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        self._scheduler.add_job(
            heartbeat,
            "interval",
            seconds=heartbeat_interval,
            id=HEARTBEAT_JOB,
            executor="heartbeat",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def set_scope(self, scope: str, interval: float, jitter: float, *, first_run_in: float = 0.0) -> None:
        """Add the periodic job of `scope`, its first run in `first_run_in` seconds and the next
        ones in its slot of the interval; or retune it: an existing job with the same interval
        keeps its next run time (a reload must not push runs away), a changed one runs no later
        than one new interval from now (its next slot)."""
        job = self._scheduler.get_job(_job_id(scope))
        now = datetime.now(UTC)
        next_run = now + timedelta(seconds=first_run_in)
        first: datetime | None = next_run
        trigger = SpreadTrigger(interval, jitter, phase_of(scope, interval))
        if job is not None and job.next_run_time is not None:
            same = job.trigger.interval.total_seconds() == interval and job.trigger.jitter == (jitter or None)
            if same:
                return
            slot = datetime.fromtimestamp(trigger.slot_at_or_after(now.timestamp()), UTC)
            next_run = min(job.next_run_time, slot)
            still_first = isinstance(job.trigger, SpreadTrigger) and job.trigger.first == job.next_run_time
            first = next_run if still_first and next_run == job.next_run_time else None
        trigger.first = first
        self._scheduler.add_job(
            self._execute,
            trigger,
            args=[scope],
            id=_job_id(scope),
            name=f"sweep {scope}",
            replace_existing=True,
            next_run_time=next_run,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(interval)),
        )

    def remove_scope(self, scope: str) -> None:
        if self._scheduler.get_job(_job_id(scope)) is not None:
            self._scheduler.remove_job(_job_id(scope))

    def scopes(self) -> list[str]:
        return sorted(
            job.id.removeprefix("scope:") for job in self._scheduler.get_jobs() if job.id.startswith("scope:")
        )

    def job_settings(self, scope: str) -> dict[str, Any]:
        """The APScheduler settings of a scope's job (for tests and diagnostics)."""
        job = self._scheduler.get_job(_job_id(scope))
        return {
            "coalesce": job.coalesce,
            "max_instances": job.max_instances,
            "misfire_grace_time": job.misfire_grace_time,
            "interval": job.trigger.interval.total_seconds(),
            "jitter": job.trigger.jitter,
        }

    def planned_runs(self, scope: str, count: int) -> list[datetime]:
        """The next `count` run times of a scope's job, as its trigger places them (for tests and diagnostics)."""
        job = self._scheduler.get_job(_job_id(scope))
        runs: list[datetime] = []
        at = job.next_run_time if job is not None else None
        while at is not None and len(runs) < count:
            runs.append(at)
            at = job.trigger.get_next_fire_time(at, at)
        return runs

    def request_run(self, scope: str) -> None:
        """Run `scope` now; if its run is in flight, once more right after it."""
        with self._state:
            if scope in self._running:
                self._dirty.add(scope)
                return
        self._submit_recheck(scope)

    def _submit_recheck(self, scope: str) -> None:
        # A unique id per request: a finished re-check still counted by APScheduler for a moment
        # must never turn the next one into a `max_instances` skip. `_execute` serialises runs.
        self._scheduler.add_job(
            self._execute,
            "date",
            args=[scope],
            run_date=datetime.now(UTC),
            id=f"recheck:{scope}:{next(self._recheck_ids)}",
            name=f"re-check {scope}",
            misfire_grace_time=None,
        )

    def running(self) -> set[str]:
        with self._state:
            return set(self._running)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self, wait: bool = False) -> None:
        with self._state:
            self._stopping = True  # runs still queued in the pool do not start
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    def _execute(self, scope: str) -> None:
        with self._state:
            if self._stopping:
                return
            if scope in self._running:
                self._dirty.add(scope)
                return
            self._running.add(scope)
        while True:
            try:
                self._run(scope)
            except BaseException:
                with self._state:
                    again = scope in self._dirty and not self._stopping
                    self._dirty.discard(scope)
                    self._running.discard(scope)
                if again:  # a request that came during the failed run is not dropped
                    self._submit_recheck(scope)
                raise
            # Deciding "nothing more to do" and leaving `_running` is one critical section, so a
            # request can never be marked dirty after the last look and then be forgotten.
            with self._state:
                if scope not in self._dirty or self._stopping:
                    self._running.discard(scope)
                    self._dirty.discard(scope)
                    return
                self._dirty.discard(scope)
            log.info("rerun_dirty_scope", scope=scope)

    def _listen(self, event: Any) -> None:
        # Job events count lost *scope* runs. A heartbeat that ran late (its one thread starved
        # of the interpreter on a busy machine) skips a beat as `max_instances`: no run was lost,
        # and the heartbeat's own timestamp is the signal for starvation. Only its errors count.
        if event.job_id == HEARTBEAT_JOB and event.code != EVENT_JOB_ERROR:
            if event.code != EVENT_JOB_EXECUTED:
                log.debug("heartbeat_skipped", reason=_EVENT_NAMES.get(event.code))
            return
        name = _EVENT_NAMES.get(event.code)
        if name is None:
            return
        self._on_event(name)
        if name == "error":
            log.error("job_failed", job=event.job_id, error=repr(event.exception))
        elif name != "executed":
            log.warning("job_skipped", job=event.job_id, reason=name)


def _job_id(scope: str) -> str:
    return f"scope:{scope}"
