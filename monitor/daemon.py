"""The long-running daemon as a lifecycle: start, loop, stop.

`Daemon` assembles the pieces — result store, metrics and HTTP server, the scheduler, the
sinks every finished run is handed to (store, evidence, drift, metrics, stale accepted
risks, the log line), the audit-log poller, the scope refresher — and owns only what
changes over its life: the config, the watched set (`scopes.projects`, and what discovery
finds below `scopes.organization` / `scopes.folders`) and the plans built from them.
`serve()` adds the process concerns: signals, SIGHUP reload (which refreshes discovery
too), and a bounded shutdown that a second signal cuts short (as uvicorn does). The
collection and discovery functions are injected, so the same daemon runs against real
GCP or the stand-in without knowing which; so is the wall clock.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import structlog

from checks.model import is_drift
from checks.registry import Registry
from monitor import __version__
from monitor.config.model import Config
from monitor.drift.attribution import RecentEvents
from monitor.drift.audit_poller import AuditEvent, AuditPoller
from monitor.drift.baselines import BaselineStore, default_path
from monitor.drift.live import ROUTE as LIVE_ROUTE
from monitor.drift.live import LiveDrift, live_route
from monitor.drift.reporter import DriftReporter
from monitor.evidence.bodies import (
    config_reload_body,
    daemon_start_body,
    daemon_stop_body,
    digest,
    exceptions_changed_body,
    sweep_population_body,
)
from monitor.run.plans import build_plans, risks_from
from monitor.run.runtime import Runtime
from monitor.run.scheduler import ScopeScheduler
from monitor.run.scope_job import ScopeJob
from monitor.run.scope_refresh import Refreshed, Refresher, ScopeRefresh
from monitor.run.scopeset import ScopeSet, resolve
from monitor.run.shard import Shard
from monitor.run.sweep import ScopePlan
from monitor.sinks.base import ResultSink
from monitor.sinks.evidence_writer import EvidenceWriter
from monitor.sinks.http_server import MetricsServer
from monitor.sinks.metrics import Metrics
from monitor.sinks.run_evidence import RunEvidence
from monitor.sinks.run_log import RunLog
from monitor.sinks.stale_risks import StaleRisks
from monitor.sinks.store import ResultStore
from monitor.sinks.web_protection import load_protection

log = structlog.get_logger("controlwatch.daemon")
_EVENTS_KEPT = 200  # audit events remembered per scope, for attributing drift
_FORCED_CLOSE = 1.0  # seconds the evidence writer still gets after a second signal
_FIRST_DISCOVERY = "first scope discovery"  # what /readyz waits for before any scope is known


def wall_clock() -> datetime:
    return datetime.now(UTC)


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
        clock: Callable[[], datetime] = wall_clock,
        shard: Shard | None = None,
    ) -> None:
        self._registry = registry
        self.shard = shard  # which replica this is (None: the only one); fixed for the process's life
        self._runtime = runtime
        self._clock = clock
        self._lock = threading.Lock()
        self._config = config
        self._scopes: ScopeSet = resolve(config, None, shard=shard)  # the listed projects; discovery adds at start
        self._plans: dict[str, ScopePlan] = build_plans(config, registry, scopes=self._scopes)
        self._refresh_lock = threading.Lock()  # one change of the watched set at a time
        self._stopping = threading.Event()  # a listing that ends after `stop` changes nothing
        self.baselines = baselines or BaselineStore(default_path(config.evidence.path))
        self._events = RecentEvents(_EVENTS_KEPT)
        self.store = ResultStore()
        self.metrics = Metrics(self.store, version=__version__, mode=runtime.mode)
        if config.scopes.discovering:  # until the first listing, the set is only the listed projects
            self.store.hold(_FIRST_DISCOVERY)
        # A bad web config file (TLS, basic auth) raises WebConfigError here: the start fails.
        protection = load_protection(config.metrics.web_config_file)
        self.server = MetricsServer(
            config.metrics.listen,
            self.metrics,
            self.store,
            protection=protection,
            catalogue={c.meta.id: c.meta for c in registry},
        )
        self.evidence = evidence(self.metrics) if evidence is not None else None
        sinks: list[ResultSink] = [self.store]
        if self.evidence is not None:
            sinks.append(RunEvidence(self.evidence, self.metrics, source=runtime.mode))
        self.drift_live = LiveDrift()  # what `controlwatch baseline diff` reads from a daemon (GET /baseline/live)
        sinks += [DriftReporter(self.metrics), self.drift_live, self.metrics]
        sinks += [StaleRisks(self.store, self.metrics, clock), RunLog()]
        self.metrics.sinks(sink.name for sink in sinks)
        self.server.add_route(LIVE_ROUTE, live_route(self.drift_live, lambda: self.baselines))
        self._job = ScopeJob(
            runtime=runtime,
            store=self.store,
            metrics=self.metrics,
            baselines=self.baselines,
            events=self._events,
            sinks=sinks,
            clock=clock,
            record=self._record if self.evidence is not None else None,
        )
        self._discovery = ScopeRefresh(runtime.discover, self.metrics, shard)
        self.scheduler = ScopeScheduler(
            self.run_scope,
            workers=config.gcp.max_concurrent_scopes,  # at start; the pool is not resized by a reload
            on_event=self.metrics.job_event,
            heartbeat=lambda: self.metrics.heartbeat(clock().timestamp()),
            heartbeat_interval=heartbeat_interval,
        )
        self._configure(config, self._plans, self._scopes)
        self.poller = self._make_poller(config)
        self.refresher: Refresher | None = None

    @property
    def config(self) -> Config:
        with self._lock:
            return self._config

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    @property
    def sinks(self) -> tuple[ResultSink, ...]:
        """Where every finished run goes, in order."""
        return self._job.sinks

    # -- start ------------------------------------------------------------------------------

    def start(self) -> None:
        self.server.start()  # first: a busy port fails the start before anything is recorded
        discovered: tuple[tuple[str, Mapping[str, Any]], ...] = ()
        if self._config.scopes.discovering:  # the first listing, before any run and any record
            error = self._discovery.listing(self._config)
            with self._refresh_lock:
                refreshed = self._discovery.resolve(self._config, self._scopes, "start", error)
                self._apply(self._config, refreshed)
                discovered = refreshed.entries
        self.store.release(_FIRST_DISCOVERY)
        if self.evidence is not None:
            self.evidence.start()
            body = daemon_start_body(
                version=__version__,
                mode=self._runtime.mode,
                config_digest=config_digest(self._config),
                scopes=sorted(self._plans),
                pid=os.getpid(),
            )
            self._record([("daemon_start", body), *discovered])
            self._record_population()
        self.scheduler.start()
        if self.poller is not None:
            self.poller.start()
        self._restart_refresher(self._config)
        log.info(
            "daemon_started",
            mode=self._runtime.mode,
            version=__version__,
            scopes=sorted(self._plans),
            **({"shard": f"{self.shard.index} of {self.shard.count}"} if self.shard is not None else {}),
            metrics_url=self.server.url + "/metrics",
            results_url=self.server.url + "/results",
        )

    # -- the loop: scheduled runs, audit events, reloads -----------------------------------

    def run_scope(self, scope: str) -> None:
        """One scheduled run of one scope (called by the scheduler's worker threads)."""
        with self._lock:
            plan = self._plans.get(scope)
            config = self._config
        if plan is not None:
            self._job.run(plan, config, lambda: self._configured(scope))

    def reload(self, load: Callable[[], Config]) -> bool:
        """Swap in a new config; a bad one keeps the running config (logged and counted).

        With discovery, the new filters apply to the last listing at once, and the refresher
        lists the estate again right away (a bad config: under the running one); the signal
        never waits on a listing. Either way the ancestors are read again at the next runs.
        """
        if self._runtime.sweep_reads is not None:
            self._runtime.sweep_reads.clear()  # SIGHUP: the ancestors are read again (a fixed permission shows)
        try:
            config = load()
            plans = build_plans(config, self._registry)
            protection = load_protection(config.metrics.web_config_file)  # certificates read again too
        except Exception as exc:  # ConfigError or a bug: either way the old config keeps running
            self.metrics.config_reload(False)
            log.error("config_reload_failed", error=str(exc))
            self._record([("config_reload", config_reload_body(result="failure", error=str(exc)))])
            if self.refresher is not None:
                self.refresher.trigger("SIGHUP")
            return False
        with self._refresh_lock:
            old = self.config
            old_risks = risks_from(old)
            if config.gcp != old.gcp:  # the collection function and the pool are built at start
                log.warning("config_reload_gcp_kept", reason="gcp: settings take effect at the next start")
            if config.shard != old.shard:  # replicas must agree on the count: all restart together
                log.warning("config_reload_shard_kept", reason="shard: takes effect at the next start")
            refreshed = None
            if config.scopes.discovering or old.scopes.discovering:
                refreshed = self._discovery.resolve(config, self._scopes, "SIGHUP")
                self._apply(config, refreshed, listed=False)
            else:
                self._configure(config, plans, resolve(config, None, shard=self.shard))
            self.metrics.config_reload(True)
            entries: list[tuple[str, Mapping[str, Any]]] = [
                ("config_reload", config_reload_body(result="success", config_digest=config_digest(config)))
            ]
            if risks_from(config) != old_risks:
                body = exceptions_changed_body(old_risks, risks_from(config), by="SIGHUP")
                entries.append(("exceptions_changed", body))
            self._record([*entries, *(refreshed.entries if refreshed is not None else ())])
            self._record_population()
        self.server.protect(protection)
        if config.drift != old.drift or (self.poller is not None) != self._poller_wanted():
            self._restart_poller(config)
        if config.scopes.discovering != old.scopes.discovering or config.scopes.refresh != old.scopes.refresh:
            self._restart_refresher(config)
        if self.refresher is not None:
            self.refresher.trigger("SIGHUP")
        log.info("config_reloaded", scopes=sorted(self._plans))
        return True

    def refresh_scopes(self, cause: str = "refresh") -> bool:
        """List the estate again and apply the watched set it gives (the refresher's job, and SIGHUP's).

        False when the listing failed: the set stays as it was. Nothing to do without discovery.
        """
        if not self.config.scopes.discovering:
            return True
        error = self._discovery.listing(self.config)  # slow, so outside the lock: a reload never waits on it
        with self._refresh_lock:
            config = self.config  # a reload during the listing: its filters apply to what was listed
            if not config.scopes.discovering or self._stopping.is_set():
                return True
            refreshed = self._discovery.resolve(config, self._scopes, cause, error)
            self._apply(config, refreshed)
            # One batch: the changes and the population they make are in the ledger together.
            self._record([*refreshed.entries, *((self._population(),) if refreshed.changed else ())])
            return refreshed.ok

    @property
    def scopes(self) -> ScopeSet:
        """The watched set, and every project discovery found left out, with why."""
        with self._lock:
            return self._scopes

    # -- stop -------------------------------------------------------------------------------

    def stop(self, grace: float, force: threading.Event | None = None) -> None:
        """Stop scheduling, give in-flight runs `grace` seconds (cut short once `force` is set),
        close the HTTP server, record the stop."""
        forced = force or threading.Event()
        self._stopping.set()
        if self.refresher is not None:
            self.refresher.stop(timeout=0.1)  # a listing in flight is abandoned: the set no longer matters
        if self.poller is not None:
            self.poller.stop(timeout=min(grace, 5.0))
        self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + grace
        while self.scheduler.running() and time.monotonic() < deadline and not forced.wait(0.05):
            pass
        left = sorted(self.scheduler.running())
        self.server.stop()
        if self.evidence is not None:
            reason = "signal" if not left else f"signal; abandoned runs: {', '.join(left)}"
            if forced.is_set():
                reason = f"forced by a second signal; abandoned runs: {', '.join(left) or 'none'}"
            self._record([("daemon_stop", daemon_stop_body(reason=reason, pid=os.getpid()))])
            self.evidence.close(timeout=_FORCED_CLOSE if forced.is_set() else max(1.0, grace))
        log.info("daemon_stopped", abandoned_runs=left, **({"forced": True} if forced.is_set() else {}))

    # -- what changes over a life: the config and its plans --------------------------------

    def _configured(self, scope: str) -> bool:
        with self._lock:
            return scope in self._plans

    def _apply(self, config: Config, refreshed: Refreshed, *, listed: bool = True) -> None:
        """A refreshed watched set in force: plans for it (an override by label may have changed
        with the labels), through the path a reload takes. The caller holds `_refresh_lock`;
        `listed` says whether the estate was listed for it (then the discovery is counted)."""
        if listed and config.scopes.discovering:
            self.metrics.scope_discovery(refreshed.ok, self._clock().timestamp())
        self._configure(config, build_plans(config, self._registry, scopes=refreshed.scopes), refreshed.scopes)

    def _configure(self, config: Config, plans: dict[str, ScopePlan], scopes: ScopeSet) -> None:
        interval = config.schedule.interval.total_seconds()
        jitter = config.schedule.jitter.total_seconds()
        entries = [(c.meta, scope, interval) for scope, plan in plans.items() for c in plan.controls]
        with self._lock:
            old_plans = self._plans
            self._config, self._plans, self._scopes = config, plans, scopes
        self.store.configure(entries)
        self.metrics.set_scopes(sorted(plans))
        counts = scopes.counts()
        if scopes.shard is not None:  # this replica's share, so the replicas' counts add up to the estate
            counts["watched"] = len(plans)
        self.metrics.scope_counts(**counts)
        self.metrics.scope_ownership(scopes.shard, plans, scopes.elsewhere())
        for scope, control in _drift_pairs(old_plans) - _drift_pairs(plans):
            self.metrics.forget_drift(control, scope)
        for scope in set(old_plans) - set(plans):
            self.scheduler.remove_scope(scope)
        for scope in sorted(plans):
            # New scopes run at once (bounded by the pool), then in their own slot of the interval;
            # existing ones keep their next run (see `set_scope`).
            self.scheduler.set_scope(scope, interval, jitter)

    def _record(self, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        if self.evidence is not None:
            self.evidence.submit(entries)

    def _record_population(self) -> None:
        self._record([self._population()])

    def _population(self) -> tuple[str, Mapping[str, Any]]:
        """Which scopes and controls are monitored from now on: "was every project checked on D?"."""
        with self._lock:
            plans, interval = dict(self._plans), self._config.schedule.interval
        now = self._clock()
        controls = {scope: [c.meta.id for c in plan.controls] for scope, plan in plans.items()}
        return "sweep_population", sweep_population_body(sorted(plans), now, now, controls=controls, interval=interval)

    def _restart_refresher(self, config: Config) -> None:
        """The periodic discovery: running while the config discovers, every `scopes.refresh`."""
        if self.refresher is not None:
            self.refresher.stop(timeout=0.1)
            self.refresher = None
        if config.scopes.discovering:
            self.refresher = Refresher(self.refresh_scopes, config.scopes.refresh.total_seconds())
            self.refresher.start()

    # -- the audit-log poller: event-driven re-checks --------------------------------------

    def _restart_poller(self, config: Config) -> None:
        """A reload may turn drift on or off, or change how often the audit log is polled."""
        if self.poller is not None:
            self.poller.stop(timeout=5.0)
        self.poller = self._make_poller(config)
        if self.poller is not None:
            self.poller.start()
        log.info(
            "audit_poller",
            running=self.poller is not None,
            interval_s=config.drift.audit_poll_interval.total_seconds(),
        )

    def _poller_wanted(self) -> bool:
        """Event-driven re-checks need drift controls somewhere and clients to read the log."""
        with self._lock:
            plans = list(self._plans.values())
        wants = any(is_drift(c.meta.id) for plan in plans for c in plan.controls)
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
            clock=lambda: self._clock().timestamp(),
        )

    def _on_audit_event(self, event: AuditEvent) -> None:
        """A watched change in the Admin Activity log: remember who/when, re-check the scope now."""
        self._events.remember(event)
        log.info(
            "audit_event",
            scope=event.scope,
            method=event.method,
            resource=event.resource_name,
            principal=event.principal,
            at=event.timestamp.isoformat(),
        )
        if self._configured(event.scope):
            self.scheduler.request_run(event.scope)


def _drift_pairs(plans: Mapping[str, ScopePlan]) -> set[tuple[str, str]]:
    return {(scope, c.meta.id) for scope, plan in plans.items() for c in plan.controls if is_drift(c.meta.id)}


def config_digest(config: Config) -> str:
    """A digest of the effective configuration, so evidence says which config judged."""
    return digest(config.model_dump(mode="json"))


def serve(
    daemon: Daemon, load_config: Callable[[], Config], *, grace: float = 10.0, stop_event: threading.Event | None = None
) -> None:
    """Run until SIGINT/SIGTERM; SIGHUP reloads. A second SIGINT/SIGTERM during the graceful
    stop cuts it short: in-flight runs are abandoned at once. Must be called from the main thread."""
    stop = stop_event or threading.Event()
    force = threading.Event()
    hup = threading.Event()

    def on_stop(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning("signal_received_again", signal=name, action="forcing exit")
            force.set()
            return
        log.info("signal_received", signal=name)
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
        daemon.stop(grace, force)
        for signum, handler in previous:
            signal.signal(signum, handler)
