"""The long-running daemon: config → scheduler → collectors → controls → store → /metrics.

`Daemon` owns the runtime state (store, metrics, HTTP server, scheduler) and nothing
else; `serve()` adds the process concerns (signals, reload, bounded shutdown). The
collection function is injected, so the same daemon runs against real GCP or the
stand-in without knowing which.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import structlog

from checks.model import Area, Result, Verdict
from checks.names import project_name
from checks.registry import Registry
from monitor import __version__
from monitor.collect.observer import ApiObserver
from monitor.config.model import Config
from monitor.drift.attribution import attribute
from monitor.drift.audit_poller import AuditEvent, AuditPoller
from monitor.drift.baselines import BaselineStore, default_path
from monitor.drift.tracker import DriftTracker
from monitor.evidence.bodies import (
    bodies_from_run,
    config_reload_body,
    daemon_start_body,
    daemon_stop_body,
    digest,
    exceptions_changed_body,
    sweep_population_body,
)
from monitor.run.plans import build_plans, risks_from
from monitor.run.risks import stale_risks
from monitor.run.scheduler import ScopeScheduler
from monitor.run.sweep import Collect, ScopePlan, log_fields, run_scope
from monitor.sinks.evidence_writer import EvidenceWriter
from monitor.sinks.http_server import MetricsServer
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore

log = structlog.get_logger("controlwatch.daemon")
_EVENTS_KEPT = 200  # audit events remembered per scope, for attributing drift

# Whether a scope may start a new run now (False while calls of an earlier run are stuck).
StuckCheck = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Runtime:
    """How this daemon reaches GCP: the collection function and what it says of stuck calls."""

    collect: Collect
    stuck_calls: StuckCheck
    mode: str = "live"  # live | demo
    clients: Any = None  # GcpClients, for the audit-log poller; None: no event-driven re-checks


class Daemon:
    def __init__(
        self,
        config: Config,
        registry: Registry,
        runtime: Runtime,
        *,
        heartbeat_interval: float = 5.0,
        baselines: BaselineStore | None = None,
        evidence: Callable[[Metrics], EvidenceWriter] | None = None,
    ) -> None:
        self._registry = registry
        self._runtime = runtime
        self._lock = threading.Lock()
        self._config = config
        self._plans: dict[str, ScopePlan] = build_plans(config, registry)
        self._stale_seen: list[tuple[str, str, str, str, str]] = []
        self._baselines = baselines or BaselineStore(default_path(config.evidence.path))
        self._drift = DriftTracker()
        self._events: dict[str, deque[AuditEvent]] = {}
        self.store = ResultStore()
        self.metrics = Metrics(self.store, version=__version__, mode=runtime.mode)
        self.server = MetricsServer(config.metrics.listen, self.metrics, self.store)
        self._evidence = evidence(self.metrics) if evidence is not None else None
        self.scheduler = ScopeScheduler(
            self.run_scope,
            workers=min(max(2, len(self._plans)), 8),
            on_event=self.metrics.job_event,
            heartbeat=lambda: self.metrics.heartbeat(time.time()),
            heartbeat_interval=heartbeat_interval,
        )
        self._configure(config, self._plans, first=True)
        self._poller = self._make_poller(config)

    @property
    def config(self) -> Config:
        with self._lock:
            return self._config

    def start(self) -> None:
        self.server.start()  # first: a busy port fails the start before anything is recorded
        if self._evidence is not None:
            self._evidence.start()
            self._record(
                [
                    (
                        "daemon_start",
                        daemon_start_body(
                            version=__version__,
                            mode=self._runtime.mode,
                            config_digest=config_digest(self._config),
                            scopes=sorted(self._plans),
                            pid=os.getpid(),
                        ),
                    )
                ]
            )
            self._record_population()
        self.scheduler.start()
        if self._poller is not None:
            self._poller.start()
        log.info(
            "daemon_started",
            mode=self._runtime.mode,
            version=__version__,
            scopes=sorted(self._plans),
            metrics_url=self.server.url + "/metrics",
            results_url=self.server.url + "/results",
        )

    def run_scope(self, scope: str) -> None:
        """One scheduled run of one scope (called by the scheduler's worker threads)."""
        with self._lock:
            plan = self._plans.get(scope)
            config = self._config
        if plan is None:
            return
        stuck = self._runtime.stuck_calls(scope)
        if stuck:
            # Fail closed: the last verdicts are not left standing as if they were current.
            reason = f"not run: {stuck} call(s) of an earlier run are still stuck past its deadline"
            log.warning("scope_run_skipped", scope=scope, reason=reason)
            for control in plan.controls:
                self.store.record(scope, control.meta, [_scope_error(control.meta.id, scope, reason)], time.time())
            return
        observer: ApiObserver = self.metrics
        baseline = self._baseline_for(plan)
        run = run_scope(plan, self._runtime.collect, observer, baseline=baseline)
        metas = {c.meta.id: c.meta for c in plan.controls}
        events = self._recent_events(scope)
        attributed = {
            control: attribute(results, events) if control.startswith("DRIFT-") else results
            for control, results in run.results.items()
        }
        for control_id, results in attributed.items():
            self.store.record(scope, metas[control_id], results, run.ended)
        self.store.mark_scope_run_finished(scope)
        try:  # after the store: a failure to build evidence must not discard the verdicts
            bodies = bodies_from_run(
                run,
                plan,
                controlwatch_version=__version__,
                source=self._runtime.mode,
                interval=config.schedule.interval,
            )
            self._record(bodies)
        except Exception as exc:
            self.metrics.evidence_write_error()
            log.error("evidence_body_failed", scope=scope, error=f"{type(exc).__name__}: {exc}")
        with self._lock:
            still_configured = scope in self._plans
        if still_configured:  # a reload may have removed the scope while it ran: add no series back
            self._report_drift(scope, run.results, attributed)
            if run.deadline_exceeded:
                self.metrics.deadline_exceeded(scope)
        self._report_stale_risks(config)
        fields = log_fields(run)
        if fields["error_controls"]:
            log.warning("scope_run", **fields)
        else:
            log.info("scope_run", **fields)

    def reload(self, load: Callable[[], Config]) -> bool:
        """Swap in a new config; a bad one keeps the running config (logged and counted)."""
        try:
            config = load()
            plans = build_plans(config, self._registry)
        except Exception as exc:  # ConfigError or a bug: either way the old config keeps running
            self.metrics.config_reload(False)
            log.error("config_reload_failed", error=str(exc))
            self._record([("config_reload", config_reload_body(result="failure", error=str(exc)))])
            return False
        old_risks = risks_from(self.config)
        old_drift = self.config.drift
        self._configure(config, plans, first=False)
        self.metrics.config_reload(True)
        entries: list[tuple[str, dict[str, Any]]] = [
            ("config_reload", config_reload_body(result="success", config_digest=config_digest(config)))
        ]
        if risks_from(config) != old_risks:
            entries.append(("exceptions_changed", exceptions_changed_body(old_risks, risks_from(config), by="SIGHUP")))
        self._record(entries)
        self._record_population()
        if config.drift != old_drift or (self._poller is not None) != self._poller_wanted():
            self._restart_poller(config)
        log.info("config_reloaded", scopes=sorted(plans))
        return True

    def stop(self, grace: float) -> None:
        """Stop scheduling, give in-flight runs `grace` seconds, close the HTTP server."""
        if self._poller is not None:
            self._poller.stop(timeout=min(grace, 5.0))
        self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + grace
        while self.scheduler.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = sorted(self.scheduler.running())
        self.server.stop()
        if self._evidence is not None:
            reason = "signal" if not left else f"signal; abandoned runs: {', '.join(left)}"
            self._record([("daemon_stop", daemon_stop_body(reason=reason, pid=os.getpid()))])
            self._evidence.close(timeout=max(1.0, grace))
        log.info("daemon_stopped", abandoned_runs=left)

    def _configure(self, config: Config, plans: dict[str, ScopePlan], *, first: bool) -> None:
        interval = config.schedule.interval.total_seconds()
        jitter = config.schedule.jitter.total_seconds()
        entries = [(c.meta, scope, interval) for scope, plan in plans.items() for c in plan.controls]
        with self._lock:
            old_plans = self._plans
            old = set(old_plans)
            self._config, self._plans = config, plans
        self.store.configure(entries)
        self.metrics.set_scopes(sorted(plans))
        for scope, control in _drift_pairs(old_plans) - _drift_pairs(plans):
            self.metrics.forget_drift(control, scope)
        for scope in old - set(plans):
            self.scheduler.remove_scope(scope)
        for scope in sorted(plans):
            # New scopes start at once; existing ones keep their next run (see `set_scope`).
            self.scheduler.set_scope(scope, interval, jitter)

    def _baseline_for(self, plan: ScopePlan) -> Mapping[str, Any] | None:
        if not any(c.meta.area is Area.DRIFT for c in plan.controls):
            return None
        try:
            baseline = self._baselines.get(plan.scope)
        except Exception as exc:  # an unreadable store: DRIFT controls report "no approved baseline"
            log.error("baseline_store_unreadable", scope=plan.scope, error=str(exc))
            baseline = None
        self.metrics.baseline_approved(plan.scope, baseline is not None)
        return baseline

    def _report_drift(
        self, scope: str, results: Mapping[str, list[Result]], attributed: Mapping[str, list[Result]]
    ) -> None:
        """Drift gauges and events from the raw results (an attribution arriving later is not a
        new event); the log line carries the attributed ones: the diff, and who and when."""
        for control, control_results in results.items():
            if not control.startswith("DRIFT-"):
                continue
            report = self._drift.update(scope, control, control_results)
            self.metrics.set_drift(control, scope, report.active)
            for change, count in report.new_changes.items():
                self.metrics.drift_event(control, scope, change, count)
            if report.new_items:
                new = {(r.resource, r.subject) for r in report.new_items}
                changes = [r.reason for r in attributed[control] if (r.resource, r.subject) in new]
                log.warning("drift_detected", scope=scope, control=control, changes=changes)
            if report.resolved:
                log.info("drift_resolved", scope=scope, control=control, items=report.resolved)

    def _record(self, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        if self._evidence is not None:
            self._evidence.submit(entries)

    def _record_population(self) -> None:
        """Which scopes and controls are monitored from now on: "was every project checked on D?"."""
        with self._lock:
            plans, interval = dict(self._plans), self._config.schedule.interval
        now = datetime.now(UTC)
        controls = {scope: [c.meta.id for c in plan.controls] for scope, plan in plans.items()}
        body = sweep_population_body(sorted(plans), now, now, controls=controls, interval=interval)
        self._record([("sweep_population", body)])

    def _restart_poller(self, config: Config) -> None:
        """A reload may turn drift on or off, or change how often the audit log is polled."""
        if self._poller is not None:
            self._poller.stop(timeout=5.0)
        self._poller = self._make_poller(config)
        if self._poller is not None:
            self._poller.start()
        log.info(
            "audit_poller",
            running=self._poller is not None,
            interval_s=config.drift.audit_poll_interval.total_seconds(),
        )

    def _poller_wanted(self) -> bool:
        """Event-driven re-checks need drift controls somewhere and clients to read the log."""
        with self._lock:
            plans = list(self._plans.values())
        wants = any(c.meta.area is Area.DRIFT for plan in plans for c in plan.controls)
        return wants and self._runtime.clients is not None

    def _make_poller(self, config: Config) -> AuditPoller | None:
        if not self._poller_wanted():
            return None
        return AuditPoller(
            self._runtime.clients,
            scopes=lambda: sorted(self._plans),
            on_change=self._on_audit_event,
            interval=config.drift.audit_poll_interval.total_seconds(),
            observer=self.metrics,
            call_timeout=config.gcp.call_timeout.total_seconds(),
        )

    def _on_audit_event(self, event: AuditEvent) -> None:
        """A watched change in the Admin Activity log: remember who/when, re-check the scope now."""
        with self._lock:
            known = event.scope in self._plans
            self._events.setdefault(event.scope, deque(maxlen=_EVENTS_KEPT)).append(event)
        log.info(
            "audit_event",
            scope=event.scope,
            method=event.method,
            resource=event.resource_name,
            principal=event.principal,
            at=event.timestamp.isoformat(),
        )
        if known:
            self.scheduler.request_run(event.scope)

    def _recent_events(self, scope: str) -> list[AuditEvent]:
        with self._lock:
            return list(self._events.get(scope, ()))

    def _report_stale_risks(self, config: Config) -> None:
        states = self.store.states()
        judged = {(s.control, s.scope) for s in states if s.status is not None}
        results = [r for s in states for r in s.results]
        stale = stale_risks(risks_from(config), results, datetime.now(UTC), judged)
        self.metrics.exceptions_stale({reason: len(risks) for reason, risks in stale.items()})
        described = sorted(
            (reason, risk.control, risk.scope, risk.resource, risk.expires.isoformat())
            for reason, risks in stale.items()
            for risk in risks
        )
        with self._lock:
            changed, self._stale_seen = described != self._stale_seen, described
        if changed and described:
            log.warning(
                "accepted_risks_stale",
                risks=[
                    {"why": why, "control": c, "scope": s, "resource": r, "expires": e} for why, c, s, r, e in described
                ],
                hint="remove or renew them in `exceptions:`",
            )


def _scope_error(control: str, scope: str, reason: str) -> Result:
    return Result(
        control=control, scope=scope, resource=project_name(scope), subject="", verdict=Verdict.ERROR, reason=reason
    )


def _drift_pairs(plans: Mapping[str, ScopePlan]) -> set[tuple[str, str]]:
    return {(scope, c.meta.id) for scope, plan in plans.items() for c in plan.controls if c.meta.area is Area.DRIFT}


def config_digest(config: Config) -> str:
    """A digest of the effective configuration, so evidence says which config judged."""
    return digest(config.model_dump(mode="json"))


def serve(
    daemon: Daemon, load_config: Callable[[], Config], *, grace: float = 10.0, stop_event: threading.Event | None = None
) -> None:
    """Run until SIGINT/SIGTERM; SIGHUP reloads. Must be called from the main thread."""
    stop = stop_event or threading.Event()
    hup = threading.Event()

    def on_stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal_received", signal=signal.Signals(signum).name)
        stop.set()

    def on_hup(signum: int, frame: FrameType | None) -> None:
        hup.set()

    previous: list[tuple[signal.Signals, Any]] = []
    for signum, handler in ((signal.SIGINT, on_stop), (signal.SIGTERM, on_stop), (signal.SIGHUP, on_hup)):
        previous.append((signum, signal.signal(signum, handler)))
    try:
        daemon.start()
        while not stop.wait(0.2):
            if hup.is_set():
                hup.clear()
                daemon.reload(load_config)
    finally:
        daemon.stop(grace)
        for signum, handler in previous:
            signal.signal(signum, handler)
