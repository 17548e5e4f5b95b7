"""The one typed door to APScheduler 3.x (which ships no type information).

One job per scope, with the settings that stop APScheduler from losing runs silently:
`coalesce=True`, `max_instances=1`, `misfire_grace_time` = the interval, jitter. A run
requested while the scope's run is in flight (an audit-log event, say) marks the scope
dirty and the in-flight job runs it again as soon as it ends, so a request is never
dropped as a `max_instances` skip. A trivial heartbeat job on its own one-thread executor
shows when the main pool is starved. Every job event is handed to `on_event`.
"""

from __future__ import annotations

import itertools
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

log = structlog.get_logger("controlwatch.scheduler")

_EVENT_NAMES = {
    EVENT_JOB_EXECUTED: "executed",
    EVENT_JOB_ERROR: "error",
    EVENT_JOB_MISSED: "missed",
    EVENT_JOB_MAX_INSTANCES: "max_instances",
}
HEARTBEAT_JOB = "heartbeat"


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
        """Add the periodic job of `scope`, or retune it: an existing job with the same interval
        keeps its next run time (a reload must not push runs away), a changed one runs no later
        than one new interval from now."""
        job = self._scheduler.get_job(_job_id(scope))
        now = datetime.now(UTC)
        next_run = now + timedelta(seconds=first_run_in)
        if job is not None and job.next_run_time is not None:
            same = job.trigger.interval.total_seconds() == interval and job.trigger.jitter == (jitter or None)
            if same:
                return
            next_run = min(job.next_run_time, now + timedelta(seconds=interval))
        self._scheduler.add_job(
            self._execute,
            "interval",
            args=[scope],
            seconds=interval,
            jitter=jitter or None,
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
        if event.job_id == HEARTBEAT_JOB and event.code == EVENT_JOB_EXECUTED:
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
