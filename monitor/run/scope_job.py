"""One scheduled run of one scope, from the scheduler's call to the sinks.

Collect and judge once (`sweep.run_scope`), DRIFT controls against the approved baseline
(moved first to a pre-approved state the live state matches: `ChangeApprovals`); attribute
drift to the audit events seen so far; hand the finished run to every sink. A
scope whose earlier calls are still stuck past their deadline is not run: its controls
record `error` saying so, so the last verdicts are never left standing as if current, and
the evidence gets a `run_skipped` record with the cause, so the gap in it is explained.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog

from checks.model import Verdict, is_drift
from checks.snapshot import Snapshot
from monitor.config.model import Config
from monitor.drift.approved_changes import ChangeApprovals
from monitor.drift.attribution import RecentEvents, attribute_run
from monitor.drift.baselines import BaselineStore
from monitor.evidence.bodies import run_skipped_body
from monitor.run.runner import scope_result
from monitor.run.runtime import Runtime
from monitor.run.sweep import ScopePlan, run_scope
from monitor.sinks.base import FinishedRun, ResultSink, deliver
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore

log = structlog.get_logger("controlwatch.daemon")
Entries = Sequence[tuple[str, Mapping[str, Any]]]


class ScopeJob:
    """What the scheduler's worker threads call for each scope run; holds no per-run state."""

    def __init__(
        self,
        *,
        runtime: Runtime,
        store: ResultStore,
        metrics: Metrics,
        baselines: BaselineStore,
        events: RecentEvents,
        sinks: Sequence[ResultSink],
        clock: Callable[[], datetime],
        record: Callable[[Entries], None] | None = None,
    ) -> None:
        self._runtime = runtime
        self._store = store
        self._metrics = metrics
        self._baselines = baselines
        self._events = events
        self.sinks = tuple(sinks)
        self._clock = clock
        self._record = record  # evidence records (the writer's `submit`); None: no ledger
        self._approvals = ChangeApprovals(baselines, record)

    def run(self, plan: ScopePlan, config: Config, still_configured: Callable[[], bool]) -> None:
        """One run; if it raises, every control of the scope says so at once (and the error goes
        on to the scheduler, which counts it): the last verdicts never stand as if current."""
        try:
            self._run(plan, config, still_configured)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.error("scope_run_failed", scope=plan.scope, error=error)
            reason = f"not judged: the run failed: {error}"
            now = self._clock()
            self._record_errors(plan, reason, now)
            self._record_skip(plan, config, reason, 0, now)
            raise

    def _run(self, plan: ScopePlan, config: Config, still_configured: Callable[[], bool]) -> None:
        scope = plan.scope
        stuck = self._runtime.stuck_calls(scope)
        if stuck:
            reason = f"not run: {stuck} call(s) of an earlier run are still stuck past its deadline"
            log.warning("scope_run_skipped", scope=scope, reason=reason)
            now = self._clock()
            self._record_errors(plan, reason, now)
            self._record_skip(plan, config, reason, stuck, now)
            return
        run = run_scope(
            plan,
            self._runtime.collect,
            self._metrics,
            clock=lambda: self._clock().timestamp(),
            baseline=self._baseline_for(plan),
            rebase=self._rebase,
        )
        results = attribute_run(run.results, self._events.of(scope))
        deliver(self.sinks, FinishedRun(plan, run, results, config, still_configured), self._metrics.sink_failure)

    def _record_errors(self, plan: ScopePlan, reason: str, now: datetime) -> None:
        """Every control of the plan `error` with `reason`, in the store (so in /metrics and alerts)."""
        ended = now.timestamp()
        for control in plan.controls:
            self._store.record(
                plan.scope, control.meta, [scope_result(control.meta.id, plan.scope, Verdict.ERROR, reason)], ended
            )

    def _record_skip(self, plan: ScopePlan, config: Config, reason: str, stuck: int, now: datetime) -> None:
        """A run that should have happened and did not, in the evidence with its cause."""
        if self._record is None:
            return
        try:
            body = run_skipped_body(
                scope=plan.scope,
                controls=[control.meta.id for control in plan.controls],
                cause=reason,
                at=now,
                stuck_calls=stuck,
                interval=config.schedule.interval,
            )
            self._record([("run_skipped", body)])
        except Exception as exc:  # like a run's evidence: counted and logged, never the run's undoing
            self._metrics.evidence_write_error()
            log.error("evidence_body_failed", scope=plan.scope, error=f"{type(exc).__name__}: {exc}")

    def _rebase(self, snapshot: Snapshot, baseline: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """The baseline with a pre-approved change the run sees applied; as it was if the store fails."""
        try:
            return self._approvals.rebase(snapshot, baseline)
        except Exception as exc:  # like an unreadable store: the drift is judged against the baseline as it is
            log.error("pre_approval_unreadable", scope=snapshot.scope, error=f"{type(exc).__name__}: {exc}")
            return baseline

    def _baseline_for(self, plan: ScopePlan) -> Mapping[str, Any] | None:
        if not any(is_drift(c.meta.id) for c in plan.controls):
            return None
        try:
            baseline = self._baselines.get(plan.scope)
        except Exception as exc:  # an unreadable store: DRIFT controls report "no approved baseline"
            log.error("baseline_store_unreadable", scope=plan.scope, error=str(exc))
            baseline = None
        self._metrics.baseline_approved(plan.scope, baseline is not None)
        return baseline
