"""The Prometheus families (README, "Metrics and the metrics port"), in a registry of their own.

Per-control families are produced on every scrape from the `ResultStore` by a custom collector,
so a scrape never calls Google and a removed control's series vanish with it. Everything
else is an ordinary instrument fed by the collectors (through the `ApiObserver` protocol),
the scheduler, the config reloader and the evidence ledger. Labels stay bounded by
controls × scopes: no resource name ever becomes a label value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from checks.kinds import APIS
from checks.model import Area, Verdict
from monitor.sinks.pair_series import PairSeries
from monitor.sinks.process_metrics import register_runtime_collectors
from monitor.sinks.scope_metrics import ScopesCollector
from monitor.sinks.shard_metrics import ShardCollector
from monitor.sinks.store import ResultStore, StoreView

if TYPE_CHECKING:
    from monitor.run.shard import Shard
    from monitor.sinks.base import FinishedRun

PREFIX = "controlwatch_"

COLLECTION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""API listings take from tens of milliseconds to minutes (large aggregated lists, retries)."""

JOB_EVENTS = ("executed", "error", "missed", "max_instances")
STALE_REASONS = ("expired", "unmatched")
DRIFT_CHANGES = ("added", "removed", "changed")
RELOAD_RESULTS = ("success", "failure")
DISCOVERY_RESULTS = ("success", "failure")
MODES = ("live", "demo")
STATUSES = tuple(v.value for v in Verdict)


class _NoCreatedRegistry(CollectorRegistry):
    """A registry that drops `_created` samples.

    prometheus_client only offers a process-wide switch (`disable_created_metrics()`); this
    keeps the choice local to our registry so that `promtool check metrics` stays silent
    without reaching into global state other code might rely on.
    """

    def __init__(self, auto_describe: bool = False) -> None:
        super().__init__(auto_describe=auto_describe)
        self._order: list[Collector] = []

    def register(self, collector: Collector) -> None:
        super().register(collector)
        self._order.append(collector)

    def collectors(self) -> list[Collector]:
        """What was registered, in order (a scrape encodes the families in this order)."""
        return list(self._order)

    def collect(self) -> Iterator[Metric]:
        for metric in super().collect():
            created = metric.name + "_created"
            if any(s.name == created for s in metric.samples):
                kept = Metric(metric.name, metric.documentation, metric.type, metric.unit)
                kept.samples = [s for s in metric.samples if s.name != created]
                yield kept
            else:
                yield metric


class StoreCollector:
    """Turns the store into the per-control families on each scrape: reads memory, calls nothing."""

    def __init__(self, store: ResultStore) -> None:
        self._store = store

    def describe(self) -> list[Metric]:
        """Families without samples, so the registry can check names without reading the store."""
        return list(self._families())

    def collect(self) -> list[Metric]:
        return list(self._families(self._store.view()))

    @staticmethod
    def _families(view: StoreView | None = None) -> Iterator[Metric]:
        pair = ["control", "scope"]
        status = GaugeMetricFamily(
            PREFIX + "control_status",
            "Rolled-up status of a control for a scope: 1 for the current status, 0 for the others.",
            labels=["control", "scope", "area", "severity", "status"],
        )
        failing = GaugeMetricFamily(
            PREFIX + "control_failing_resources",
            "Results failing and not excepted in the latest run.",
            labels=pair,
        )
        excepted = GaugeMetricFamily(
            PREFIX + "control_excepted_resources",
            "Results failing under an accepted risk in the latest run.",
            labels=pair,
        )
        checked = GaugeMetricFamily(
            PREFIX + "control_checked_resources",
            "Results evaluated in the latest run.",
            labels=pair,
        )
        last_run = GaugeMetricFamily(
            PREFIX + "control_last_run_timestamp_seconds",
            "Unix time the latest run ended, whatever its outcome.",
            labels=pair,
        )
        last_success = GaugeMetricFamily(
            PREFIX + "control_last_success_timestamp_seconds",
            "Unix time the latest run not in error ended; absent until the first.",
            labels=pair,
        )
        interval = GaugeMetricFamily(
            PREFIX + "control_interval_seconds",
            "How often the control runs for the scope, for staleness alerts.",
            labels=pair,
        )
        new_failure = GaugeMetricFamily(
            PREFIX + "control_new_failure_timestamp_seconds",
            "Unix time the newest failure of the latest run that is new was first seen: it appeared after a run "
            "that judged the pair without it. Absent while the pair has no new failure (standing ones are not new).",
            labels=pair,
        )
        changes = CounterMetricFamily(
            PREFIX + "verdict_changes",
            "Status transitions of a control for a scope.",
            labels=["control", "scope", "from", "to"],
        )
        configured = GaugeMetricFamily(
            PREFIX + "controls_configured",
            "Enabled (control, scope) pairs per area: tells 0 failing from 0 configured.",
            labels=["area"],
        )
        if view is not None:
            for state in view.states:
                labels = [state.control, state.scope]
                interval.add_metric(labels, state.interval)
                if state.status is None:
                    continue
                for value in STATUSES:
                    status.add_metric(
                        [*labels, state.area.value, state.severity.value, value],
                        1.0 if state.status.value == value else 0.0,
                    )
                failing.add_metric(labels, state.failing)
                excepted.add_metric(labels, state.excepted)
                checked.add_metric(labels, state.checked)
                if state.last_run is not None:
                    last_run.add_metric(labels, state.last_run)
                if state.last_success is not None:
                    last_success.add_metric(labels, state.last_success)
                if state.new_failure_at is not None:
                    new_failure.add_metric(labels, state.new_failure_at)
            for key, count in sorted(view.transitions.items()):
                changes.add_metric(list(key), count)
            for area, count in sorted(view.configured_by_area.items()):
                configured.add_metric([area], count)
        yield from (status, failing, excepted, checked, last_run, last_success, interval, new_failure)
        yield from (changes, configured)


def _check(value: str, allowed: Iterable[str], what: str) -> None:
    """Reject label values outside a documented set: a typo would silently add a series."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")


class Metrics:
    """Every controlwatch family, in `self.registry`; also the collectors' `ApiObserver`."""

    def __init__(self, store: ResultStore, *, version: str, mode: str = "live") -> None:
        _check(mode, MODES, "mode")
        self.version, self.mode = version, mode  # what `/` says this process is
        self.registry: CollectorRegistry = _NoCreatedRegistry()
        reg = self.registry
        self.store_collector = StoreCollector(store)
        reg.register(self.store_collector)
        self.scopes_collector = ScopesCollector(store)
        reg.register(self.scopes_collector)
        self.shard_collector = ShardCollector()
        reg.register(self.shard_collector)

        self._collection = Histogram(
            PREFIX + "collection_duration_seconds",
            "Time to collect one resource kind for one scope, successful or not.",
            ["kind"],
            buckets=COLLECTION_BUCKETS,
            registry=reg,
        )
        self._requests = Counter(
            PREFIX + "api_requests_total",
            "Calls to Google APIs, by HTTP status or timeout|connection.",
            ["service", "method", "code"],
            registry=reg,
        )
        self._retries = Counter(
            PREFIX + "api_retries_total",
            "Retried calls to Google APIs, by retry reason.",
            ["service", "reason"],
            registry=reg,
        )
        self._throttled = Counter(
            PREFIX + "api_rate_limit_wait_seconds_total",
            "Seconds calls to Google APIs waited for our own rate limit (gcp.rate_limits), by API.",
            ["service"],
            registry=reg,
        )
        self._deadline = Counter(
            PREFIX + "run_deadline_exceeded_total",
            "Runs of a scope cut by their deadline.",
            ["scope"],
            registry=reg,
        )
        self._drift_active = Gauge(
            PREFIX + "drift_active",
            "1 while the live state differs from the approved baseline.",
            ["control", "scope"],
            registry=reg,
        )
        self._drift_events = Counter(
            PREFIX + "drift_events_total",
            "Drift seen against the approved baseline, by kind of change.",
            ["control", "scope", "change"],
            registry=reg,
        )
        self._baseline = Gauge(
            PREFIX + "baseline_approved",
            "1 when the scope has an approved drift baseline, 0 when its DRIFT controls cannot judge.",
            ["scope"],
            registry=reg,
        )
        self._stale = Gauge(
            PREFIX + "exceptions_stale",
            "Accepted risks that are expired or match no result.",
            ["reason"],
            registry=reg,
        )
        self._sink_failures = Counter(
            PREFIX + "result_sink_failures_total",
            "Finished runs a result sink failed to take, by sink.",
            ["sink"],
            registry=reg,
        )
        self._reloads = Counter(
            PREFIX + "config_reloads_total",
            "Configuration reloads (SIGHUP), by result.",
            ["result"],
            registry=reg,
        )
        self._discoveries = Counter(
            PREFIX + "scope_discoveries_total",
            "Scope discoveries (listings of the estate below the configured roots), by result.",
            ["result"],
            registry=reg,
        )
        self._discovered_at = Gauge(
            PREFIX + "scope_discovery_last_success_timestamp_seconds",
            "Unix time of the last scope discovery that succeeded; 0 until the first.",
            registry=reg,
        )
        self._evidence_records = Counter(
            PREFIX + "evidence_records_total", "Records appended to the evidence ledger.", registry=reg
        )
        self._evidence_errors = Counter(
            PREFIX + "evidence_write_errors_total", "Evidence appends that failed.", registry=reg
        )
        self._evidence_length = Gauge(
            PREFIX + "evidence_chain_length", "Records in the evidence hash chain.", registry=reg
        )
        self._evidence_checkpoint = Gauge(
            PREFIX + "evidence_last_checkpoint_timestamp_seconds",
            "Unix time of the last signed checkpoint; 0 until the first.",
            registry=reg,
        )
        self._evidence_verify = Counter(
            PREFIX + "evidence_verify_failures_total",
            "Self-verifications of the evidence chain that failed.",
            registry=reg,
        )
        self._job_events = Counter(
            PREFIX + "scheduler_job_events_total",
            "APScheduler job events: executed, error, missed, max_instances.",
            ["event"],
            registry=reg,
        )
        self._heartbeat = Gauge(
            PREFIX + "scheduler_heartbeat_timestamp_seconds",
            "Unix time of the last heartbeat job run on its own executor; 0 until the first.",
            registry=reg,
        )
        build = Gauge(
            PREFIX + "build_info",
            "Always 1: the running version and whether it watches live GCP or the demo estate.",
            ["version", "mode"],
            registry=reg,
        )
        build.labels(version, mode).set(1)
        register_runtime_collectors(reg)  # process_*, python_info, python_gc_*
        # A scrape: the per-control families joined from each scope's kept text, then the rest.
        self._store = store
        self.pair_series = PairSeries(store, StoreCollector._families)
        self._rest = _NoCreatedRegistry(auto_describe=True)
        for collector in reg.collectors():
            if collector is not self.store_collector:
                self._rest.register(collector)

        # Pre-initialise bounded label sets so rate()/increase() see the first event.
        for reason in STALE_REASONS:
            self._stale.labels(reason)
        for result in RELOAD_RESULTS:
            self._reloads.labels(result)
        for api in APIS:
            self._throttled.labels(api)
        for result in DISCOVERY_RESULTS:
            self._discoveries.labels(result)
        for event in JOB_EVENTS:
            self._job_events.labels(event)
        self._scopes: set[str] = set()

    # -- ApiObserver ---------------------------------------------------------------------

    def request(self, service: str, method: str, code: str) -> None:
        """One call to a Google API ended with `code` (HTTP status, `timeout` or `connection`)."""
        self._requests.labels(service, method, code).inc()

    def retry(self, service: str, reason: str) -> None:
        """A call to `service` is retried for `reason`."""
        self._retries.labels(service, reason).inc()

    def collection(self, kind: str, seconds: float) -> None:
        """Collecting `kind` for one scope took `seconds`."""
        self._collection.labels(kind).observe(seconds)

    def throttled(self, service: str, seconds: float) -> None:
        """A call to `service` waited `seconds` for a token of our own rate limit."""
        self._throttled.labels(service).inc(max(0.0, seconds))

    # -- scheduler -----------------------------------------------------------------------

    def set_scopes(self, scopes: Iterable[str]) -> None:
        """Pre-initialise per-scope counters at 0 for the configured scopes, drop removed ones.

        Call at start and after each reload, so the first deadline hit shows in `increase()`.
        """
        wanted = set(scopes)
        for scope in self._scopes - wanted:
            self._deadline.remove(scope)
            try:
                self._baseline.remove(scope)
            except KeyError:
                pass
        for scope in wanted - self._scopes:
            self._deadline.labels(scope)
        self._scopes = wanted

    name = "metrics"
    essential = False

    def on_run(self, finished: FinishedRun) -> None:
        """What a run adds beyond the store's series: a run cut by its deadline is counted; the
        scope's per-control series are drawn now, so a scrape only joins text."""
        if finished.run.deadline_exceeded and finished.still_configured():
            self.deadline_exceeded(finished.scope)
        self.pair_series.draw(finished.scope)

    def exposition(self, content_type: str, encoder: Callable[[Any], bytes]) -> bytes:
        """The whole scrape in the format `choose_encoder` picked: the same series as
        `encoder(self.registry)`, the per-control ones joined from each scope's kept text."""
        tail = StoreView((), {}, self._store.configured_by_area())
        pairs = self.pair_series.render(content_type, encoder, tail)
        if pairs is None:
            return encoder(self.registry)
        return pairs.encode() + encoder(self._rest)

    def deadline_exceeded(self, scope: str) -> None:
        """A run of `scope` was cut by `gcp.run_deadline`."""
        self._deadline.labels(scope).inc()

    def job_event(self, event: str) -> None:
        """An APScheduler event: `executed`, `error`, `missed` or `max_instances`."""
        _check(event, JOB_EVENTS, "job event")
        self._job_events.labels(event).inc()

    def heartbeat(self, ts: float) -> None:
        """The heartbeat job ran at unix time `ts`."""
        self._heartbeat.set(ts)

    # -- config and exceptions -----------------------------------------------------------

    def sinks(self, names: Iterable[str]) -> None:
        """Start every sink's failure count at 0, so a rate query sees it before the first failure."""
        for name in names:
            self._sink_failures.labels(name)

    def sink_failure(self, sink: str) -> None:
        self._sink_failures.labels(sink).inc()

    def config_reload(self, ok: bool) -> None:
        """A SIGHUP reload ended: `ok` when the new file was applied."""
        self._reloads.labels("success" if ok else "failure").inc()

    def scope_counts(self, watched: int, excluded: int) -> None:
        """The resolved set: projects watched, and projects discovery found and left out."""
        self.scopes_collector.set_counts(watched, excluded)

    def scope_ownership(self, shard: Shard | None, owned: Iterable[str], elsewhere: Iterable[str]) -> None:
        """The scopes this replica watches, and the watched ones other replicas own."""
        self.shard_collector.set_ownership(shard, owned, elsewhere)

    def scope_discovery(self, ok: bool, ts: float) -> None:
        """A scope discovery ended at unix time `ts`: `ok` when it listed the estate whole."""
        self._discoveries.labels("success" if ok else "failure").inc()
        if ok:
            self._discovered_at.set(ts)

    def exceptions_stale(self, counts: Mapping[str, int]) -> None:
        """Current count of stale accepted risks by reason; a reason left out is 0."""
        for reason in counts:
            _check(reason, STALE_REASONS, "stale exception reason")
        for reason in STALE_REASONS:
            self._stale.labels(reason).set(counts.get(reason, 0))

    # -- drift ---------------------------------------------------------------------------

    def set_drift(self, control: str, scope: str, active: bool) -> None:
        """Whether `control` on `scope` currently differs from its approved baseline."""
        self._drift_active.labels(control, scope).set(1 if active else 0)

    def baseline_approved(self, scope: str, approved: bool) -> None:
        """Whether `scope` has an approved baseline (its own alert: drift cannot be judged without)."""
        self._baseline.labels(scope).set(1 if approved else 0)

    def drift_event(self, control: str, scope: str, change: str, count: int = 1) -> None:
        """`count` drifted items seen, `change` being `added`, `removed` or `changed`."""
        _check(change, DRIFT_CHANGES, "drift change")
        self._drift_events.labels(control, scope, change).inc(count)

    def forget_drift(self, control: str, scope: str) -> None:
        """Drop a pair's drift series (its control or scope was removed by a reload)."""
        try:
            self._drift_active.remove(control, scope)
        except KeyError:
            pass
        for change in DRIFT_CHANGES:
            try:
                self._drift_events.remove(control, scope, change)
            except KeyError:
                pass

    # -- evidence ------------------------------------------------------------------------

    def evidence_appended(self, chain_length: int, records: int = 1) -> None:
        """`records` were appended; the chain now holds `chain_length` records."""
        self._evidence_records.inc(records)
        self._evidence_length.set(chain_length)

    def evidence_write_error(self) -> None:
        """An append to the ledger failed."""
        self._evidence_errors.inc()

    def evidence_checkpoint(self, ts: float) -> None:
        """A signed checkpoint of the chain head was written at unix time `ts`."""
        self._evidence_checkpoint.set(ts)

    def evidence_verify_failure(self) -> None:
        """Self-verification of the chain found a break."""
        self._evidence_verify.inc()


AREAS = tuple(a.value for a in Area)
"""Every area, each exported by `controlwatch_controls_configured` even at 0."""
