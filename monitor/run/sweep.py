"""One run of one scope, shared by the daemon and `controlwatch check`.

Collects the union of the kinds the scope's enabled controls read (once), runs every
control on that one snapshot within the plan's evaluation budget, and applies the
accepted risks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import structlog

from checks.model import Result, roll_up
from checks.params import Params
from checks.registry import Control
from checks.snapshot import Snapshot
from monitor.collect.observer import ApiObserver
from monitor.run.budget import UNLIMITED, EvaluationBudget
from monitor.run.risks import AcceptedRisk, apply_risks
from monitor.run.runner import run_control

log = structlog.get_logger("controlwatch.runner")


@dataclass(frozen=True, slots=True)
class ScopePlan:
    """What to judge in one scope, and with which parameters."""

    scope: str
    controls: tuple[Control, ...]
    params: Params
    risks: tuple[AcceptedRisk, ...] = ()
    budget: EvaluationBudget = UNLIMITED

    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted({kind for control in self.controls for kind in control.meta.kinds}))


@dataclass(frozen=True, slots=True)
class ScopeRun:
    """Outcome of one run: results per control, and what the collection went through."""

    scope: str
    started: float
    ended: float
    snapshot: Snapshot
    results: dict[str, list[Result]]
    deadline_exceeded: bool = False
    abandoned: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        counts = {"pass": 0, "fail": 0, "excepted": 0, "error": 0}
        for results in self.results.values():
            for result in results:
                key = "excepted" if result.excepted else result.verdict.value
                counts[key] += 1
        return counts

    def statuses(self) -> dict[str, str]:
        return {control: roll_up(results).value for control, results in self.results.items()}


# (scope, kinds, observer, now) -> (snapshot, deadline_exceeded, abandoned)
Collect = Callable[[str, Sequence[str], ApiObserver, datetime], tuple[Snapshot, bool, int]]


def run_scope(
    plan: ScopePlan,
    collect: Collect,
    observer: ApiObserver,
    *,
    now: datetime | None = None,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    baseline: Mapping[str, Any] | None = None,
    rebase: Callable[[Snapshot, Mapping[str, Any] | None], Mapping[str, Any] | None] | None = None,
) -> ScopeRun:
    """Collect once, judge every control of the plan (DRIFT ones against `baseline`) within the
    plan's evaluation budget (its deadline counted on `monotonic` from the end of collection),
    mark accepted risks. `rebase` sees the collected snapshot and may give the baseline the
    DRIFT controls judge against instead (a change approved before it was made)."""
    started = clock()
    judged_at = now if now is not None else datetime.fromtimestamp(started, UTC)
    snapshot, deadline_exceeded, abandoned = collect(plan.scope, plan.kinds(), observer, judged_at)
    if rebase is not None:
        baseline = rebase(snapshot, baseline)
    if baseline is not None:
        snapshot = replace(snapshot, baseline=baseline)
    deadline = plan.budget.start(monotonic)
    results: dict[str, list[Result]] = {}
    for control in plan.controls:
        judged = run_control(control, snapshot, plan.params, plan.budget, deadline)
        results[control.meta.id] = apply_risks(judged, plan.risks, snapshot.now)
    if deadline.stopped:
        log.warning("evaluation_deadline_exceeded", scope=plan.scope, deadline=deadline.text, controls=deadline.stopped)
    errors = {kind: data.error for kind, data in snapshot.kinds.items() if data.error is not None}
    return ScopeRun(
        scope=plan.scope,
        started=started,
        ended=clock(),
        snapshot=snapshot,
        results=results,
        deadline_exceeded=deadline_exceeded,
        abandoned=abandoned,
        errors=errors,
    )


def log_fields(run: ScopeRun) -> dict[str, Any]:
    """The one summary log line of a run (never one line per resource)."""
    statuses = run.statuses()
    return {
        "scope": run.scope,
        "duration_s": round(run.ended - run.started, 3),
        "controls": len(statuses),
        "failing_controls": sorted(c for c, s in statuses.items() if s == "fail"),
        "error_controls": sorted(c for c, s in statuses.items() if s == "error"),
        "results": run.summary(),
        "collection_errors": run.errors,
        "deadline_exceeded": run.deadline_exceeded,
    }
