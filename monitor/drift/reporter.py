"""Drift as on-call sees it: the drift gauges and event counters, and the `drift_detected` line.

Gauges and events come from the run's own DRIFT results (an attribution arriving on a later
run is not a new event); the log line carries the attributed ones: the diff, who and when.
"""

from __future__ import annotations

import structlog

from checks.model import is_drift
from monitor.drift.tracker import DriftTracker
from monitor.sinks.base import FinishedRun
from monitor.sinks.metrics import Metrics

log = structlog.get_logger("controlwatch.daemon")


class DriftReporter:
    """One drifted item counts once while it persists, and again if it comes back."""

    name = "drift"
    essential = False

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._tracker = DriftTracker()

    def on_run(self, finished: FinishedRun) -> None:
        if not finished.still_configured():  # a reload removed the scope while it ran: add no series back
            return
        scope = finished.scope
        for control, control_results in finished.run.results.items():
            if not is_drift(control):
                continue
            report = self._tracker.update(scope, control, control_results)
            self._metrics.set_drift(control, scope, report.active)
            for change, count in report.new_changes.items():
                self._metrics.drift_event(control, scope, change, count)
            if report.new_items:
                new = {(r.resource, r.subject) for r in report.new_items}
                changes = [r.reason for r in finished.results[control] if (r.resource, r.subject) in new]
                log.warning("drift_detected", scope=scope, control=control, changes=changes)
            if report.resolved:
                log.info("drift_resolved", scope=scope, control=control, items=report.resolved)
