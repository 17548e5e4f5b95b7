"""Metrics: every exported family read back through the Metrics' own registry."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, generate_latest

from checks.kinds import APIS
from checks.model import Area, Severity, Verdict
from checks.registry import ControlMeta
from monitor.collect.observer import ApiObserver
from monitor.sinks.metrics import AREAS, COLLECTION_BUCKETS, Metrics
from monitor.sinks.store import ResultStore, StoreView
from tests.monitor.test_store import FW01, IAM02, res

BKP01 = ControlMeta(
    id="BKP-01",
    title="Disks have snapshot schedules",
    area=Area.BKP,
    severity=Severity.MEDIUM,
    kinds=("disks", "resourcePolicies"),
    rationale="r",
    remediation="r",
)


def realistic_store() -> ResultStore:
    """Three controls on two scopes: pass, fail, error, excepted, one never run, one transition."""
    store = ResultStore()
    store.configure(
        [
            (FW01, "shop-prod", 900.0),
            (FW01, "shop-dev", 900.0),
            (IAM02, "shop-prod", 900.0),
            (IAM02, "shop-dev", 900.0),
            (BKP01, "shop-prod", 3600.0),
        ]
    )
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.PASS, "a")], 1_700_000_000.0)
    store.record(
        "shop-prod",
        FW01,
        [
            res(FW01, "shop-prod", Verdict.FAIL, "a"),
            res(FW01, "shop-prod", Verdict.FAIL, "b"),
            res(FW01, "shop-prod", Verdict.FAIL, "c", excepted=True),
            res(FW01, "shop-prod", Verdict.PASS, "d"),
        ],
        1_700_000_900.0,
    )
    store.record(
        "shop-dev",
        FW01,
        [res(FW01, "shop-dev", Verdict.FAIL, "x", excepted=True), res(FW01, "shop-dev", Verdict.PASS, "y")],
        1_700_000_901.0,
    )
    store.record("shop-prod", IAM02, [res(IAM02, "shop-prod", Verdict.ERROR, "p")], 1_700_000_902.0)
    store.mark_scope_run_finished("shop-prod")
    store.mark_scope_run_finished("shop-dev")
    return store  # IAM-02/shop-dev and BKP-01/shop-prod never ran


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(realistic_store(), version="0.1.0", mode="demo")


def value(m: Metrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_control_status_is_one_hot_with_all_statuses(metrics: Metrics) -> None:
    name = "controlwatch_control_status"
    base = {"control": "FW-01", "scope": "shop-prod", "area": "firewall", "severity": "critical"}
    assert value(metrics, name, **base, status="fail") == 1
    assert value(metrics, name, **base, status="pass") == 0
    assert value(metrics, name, **base, status="error") == 0
    iam = {"control": "IAM-02", "scope": "shop-prod", "area": "iam", "severity": "high"}
    assert [value(metrics, name, **iam, status=s) for s in ("pass", "fail", "error")] == [0, 0, 1]
    dev = {"control": "FW-01", "scope": "shop-dev", "area": "firewall", "severity": "critical"}
    assert value(metrics, name, **dev, status="pass") == 1  # excepted failure leaves it passing


def test_pairs_that_never_ran_export_only_their_interval(metrics: Metrics) -> None:
    labels = {"control": "BKP-01", "scope": "shop-prod"}
    assert value(metrics, "controlwatch_control_interval_seconds", **labels) == 3600
    for name in (
        "controlwatch_control_failing_resources",
        "controlwatch_control_checked_resources",
        "controlwatch_control_last_run_timestamp_seconds",
        "controlwatch_control_last_success_timestamp_seconds",
    ):
        assert value(metrics, name, **labels) is None, name
    for status in ("pass", "fail", "error"):
        assert (
            value(
                metrics,
                "controlwatch_control_status",
                **labels,
                area="backup",
                severity="medium",
                status=status,
            )
            is None
        )


def test_counts_and_timestamps(metrics: Metrics) -> None:
    prod = {"control": "FW-01", "scope": "shop-prod"}
    assert value(metrics, "controlwatch_control_failing_resources", **prod) == 2
    assert value(metrics, "controlwatch_control_excepted_resources", **prod) == 1
    assert value(metrics, "controlwatch_control_checked_resources", **prod) == 4
    assert value(metrics, "controlwatch_control_last_run_timestamp_seconds", **prod) == 1_700_000_900
    assert value(metrics, "controlwatch_control_last_success_timestamp_seconds", **prod) == 1_700_000_900
    assert value(metrics, "controlwatch_control_interval_seconds", **prod) == 900
    iam = {"control": "IAM-02", "scope": "shop-prod"}
    assert value(metrics, "controlwatch_control_last_run_timestamp_seconds", **iam) == 1_700_000_902
    assert value(metrics, "controlwatch_control_last_success_timestamp_seconds", **iam) is None


def test_verdict_changes_counter(metrics: Metrics) -> None:
    name = "controlwatch_verdict_changes_total"
    assert value(metrics, name, control="FW-01", scope="shop-prod", **{"from": "pass", "to": "fail"}) == 1
    assert value(metrics, name, control="FW-01", scope="shop-prod", **{"from": "fail", "to": "pass"}) is None


def test_scrape_reads_the_store_live() -> None:
    store = ResultStore()
    m = Metrics(store, version="x")
    store.configure([(FW01, "p", 60.0)])
    assert value(m, "controlwatch_control_interval_seconds", control="FW-01", scope="p") == 60
    store.record("p", FW01, [res(FW01, "p", Verdict.PASS)], 5.0)
    store.record("p", FW01, [res(FW01, "p", Verdict.ERROR)], 6.0)
    labels = {"control": "FW-01", "scope": "p", "area": "firewall", "severity": "critical"}
    assert value(m, "controlwatch_control_status", **labels, status="error") == 1
    assert (
        value(m, "controlwatch_verdict_changes_total", control="FW-01", scope="p", **{"from": "pass", "to": "error"})
        == 1
    )
    store.configure([])  # reload removed everything: series go with it
    assert value(m, "controlwatch_control_interval_seconds", control="FW-01", scope="p") is None
    assert value(m, "controlwatch_control_status", **labels, status="error") is None


def test_controls_configured_has_every_area(metrics: Metrics) -> None:
    got = {a: value(metrics, "controlwatch_controls_configured", area=a) for a in AREAS}
    assert got == {"firewall": 2, "iam": 2, "org": 0, "backup": 1, "region": 0, "logging": 0, "drift": 0, "data": 0,
                   "compute": 0}  # fmt: skip


def test_observer_methods(metrics: Metrics) -> None:
    observer: ApiObserver = metrics  # the protocol is satisfied (checked by mypy)
    observer.request("compute", "compute.firewalls.list", "200")
    observer.request("compute", "compute.firewalls.list", "200")
    observer.request("compute", "compute.instances.aggregatedList", "timeout")
    observer.retry("compute", "rate_limit")
    observer.collection("firewalls", 0.3)
    observer.collection("firewalls", 400.0)
    req = "controlwatch_api_requests_total"
    assert value(metrics, req, service="compute", method="compute.firewalls.list", code="200") == 2
    assert value(metrics, req, service="compute", method="compute.instances.aggregatedList", code="timeout") == 1
    assert value(metrics, "controlwatch_api_retries_total", service="compute", reason="rate_limit") == 1
    hist = "controlwatch_collection_duration_seconds"
    assert value(metrics, hist + "_count", kind="firewalls") == 2
    assert value(metrics, hist + "_sum", kind="firewalls") == pytest.approx(400.3)
    assert value(metrics, hist + "_bucket", kind="firewalls", le="0.5") == 1
    assert value(metrics, hist + "_bucket", kind="firewalls", le="300.0") == 1
    assert value(metrics, hist + "_bucket", kind="firewalls", le="+Inf") == 2
    assert COLLECTION_BUCKETS[0] == 0.05 and COLLECTION_BUCKETS[-1] == 300


def test_rate_limit_waits_add_up_per_api_from_zero(metrics: Metrics) -> None:
    wait = "controlwatch_api_rate_limit_wait_seconds_total"
    assert {api: value(metrics, wait, service=api) for api in APIS} == dict.fromkeys(APIS, 0.0)
    observer: ApiObserver = metrics
    observer.throttled("compute", 0.25)
    observer.throttled("compute", 1.5)
    assert value(metrics, wait, service="compute") == pytest.approx(1.75)
    assert value(metrics, wait, service="logging") == 0


def test_scheduler_metrics(metrics: Metrics) -> None:
    name = "controlwatch_scheduler_job_events_total"
    assert {e: value(metrics, name, event=e) for e in ("executed", "error", "missed", "max_instances")} == {
        "executed": 0,
        "error": 0,
        "missed": 0,
        "max_instances": 0,
    }
    metrics.job_event("max_instances")
    assert value(metrics, name, event="max_instances") == 1
    with pytest.raises(ValueError, match="job event"):
        metrics.job_event("exploded")
    assert value(metrics, "controlwatch_scheduler_heartbeat_timestamp_seconds") == 0
    metrics.heartbeat(1_700_000_123.5)
    assert value(metrics, "controlwatch_scheduler_heartbeat_timestamp_seconds") == 1_700_000_123.5


def test_deadline_counter_is_preinitialised_per_scope(metrics: Metrics) -> None:
    name = "controlwatch_run_deadline_exceeded_total"
    metrics.set_scopes(["shop-prod", "shop-dev"])
    assert value(metrics, name, scope="shop-dev") == 0
    metrics.deadline_exceeded("shop-prod")
    assert value(metrics, name, scope="shop-prod") == 1
    metrics.set_scopes(["shop-prod"])
    assert value(metrics, name, scope="shop-dev") is None
    assert value(metrics, name, scope="shop-prod") == 1


def test_config_reloads(metrics: Metrics) -> None:
    name = "controlwatch_config_reloads_total"
    assert (value(metrics, name, result="success"), value(metrics, name, result="failure")) == (0, 0)
    metrics.config_reload(True)
    metrics.config_reload(False)
    metrics.config_reload(False)
    assert (value(metrics, name, result="success"), value(metrics, name, result="failure")) == (1, 2)


def test_exceptions_stale(metrics: Metrics) -> None:
    name = "controlwatch_exceptions_stale"
    assert (value(metrics, name, reason="expired"), value(metrics, name, reason="unmatched")) == (0, 0)
    metrics.exceptions_stale({"expired": 2, "unmatched": 1})
    assert (value(metrics, name, reason="expired"), value(metrics, name, reason="unmatched")) == (2, 1)
    metrics.exceptions_stale({"unmatched": 3})  # a reason left out is back to 0
    assert (value(metrics, name, reason="expired"), value(metrics, name, reason="unmatched")) == (0, 3)
    with pytest.raises(ValueError, match="stale exception reason"):
        metrics.exceptions_stale({"forgotten": 1})


def test_drift(metrics: Metrics) -> None:
    metrics.set_drift("DRIFT-01", "shop-prod", True)
    metrics.drift_event("DRIFT-01", "shop-prod", "added", 2)
    metrics.drift_event("DRIFT-01", "shop-prod", "changed")
    pair = {"control": "DRIFT-01", "scope": "shop-prod"}
    assert value(metrics, "controlwatch_drift_active", **pair) == 1
    assert value(metrics, "controlwatch_drift_events_total", **pair, change="added") == 2
    assert value(metrics, "controlwatch_drift_events_total", **pair, change="changed") == 1
    metrics.set_drift("DRIFT-01", "shop-prod", False)
    assert value(metrics, "controlwatch_drift_active", **pair) == 0
    with pytest.raises(ValueError, match="drift change"):
        metrics.drift_event("DRIFT-01", "shop-prod", "moved")
    metrics.forget_drift("DRIFT-01", "shop-prod")
    metrics.forget_drift("DRIFT-01", "shop-prod")  # idempotent
    assert value(metrics, "controlwatch_drift_active", **pair) is None
    assert value(metrics, "controlwatch_drift_events_total", **pair, change="added") is None


def test_evidence(metrics: Metrics) -> None:
    names = (
        "controlwatch_evidence_records_total",
        "controlwatch_evidence_write_errors_total",
        "controlwatch_evidence_chain_length",
        "controlwatch_evidence_last_checkpoint_timestamp_seconds",
        "controlwatch_evidence_verify_failures_total",
    )
    assert [value(metrics, n) for n in names] == [0, 0, 0, 0, 0]
    metrics.evidence_appended(chain_length=41)
    metrics.evidence_appended(chain_length=43, records=2)
    metrics.evidence_write_error()
    metrics.evidence_checkpoint(1_700_000_000.0)
    metrics.evidence_verify_failure()
    assert [value(metrics, n) for n in names] == [3, 1, 43, 1_700_000_000, 1]


def test_build_info(metrics: Metrics) -> None:
    assert value(metrics, "controlwatch_build_info", version="0.1.0", mode="demo") == 1
    with pytest.raises(ValueError, match="mode"):
        Metrics(ResultStore(), version="0.1.0", mode="staging")


def test_own_registry_without_created_series(metrics: Metrics) -> None:
    metrics.request("compute", "compute.firewalls.list", "200")
    text = generate_latest(metrics.registry).decode()
    assert "_created" not in text
    assert "controlwatch_" not in generate_latest(REGISTRY).decode()
    Metrics(ResultStore(), version="0.1.0")  # a second instance does not clash: no shared registry


def test_every_family_is_exported_with_help_and_type(metrics: Metrics) -> None:
    text = generate_latest(metrics.registry).decode()
    families = {line.split()[2]: line.split()[3] for line in text.splitlines() if line.startswith("# TYPE")}
    assert families == {
        "controlwatch_baseline_approved": "gauge",
        "controlwatch_control_status": "gauge",
        "controlwatch_control_failing_resources": "gauge",
        "controlwatch_control_excepted_resources": "gauge",
        "controlwatch_control_checked_resources": "gauge",
        "controlwatch_control_last_run_timestamp_seconds": "gauge",
        "controlwatch_control_last_success_timestamp_seconds": "gauge",
        "controlwatch_control_new_failure_timestamp_seconds": "gauge",
        "controlwatch_control_interval_seconds": "gauge",
        "controlwatch_verdict_changes_total": "counter",
        "controlwatch_controls_configured": "gauge",
        "controlwatch_collection_duration_seconds": "histogram",
        "controlwatch_api_requests_total": "counter",
        "controlwatch_api_retries_total": "counter",
        "controlwatch_api_rate_limit_wait_seconds_total": "counter",
        "controlwatch_run_deadline_exceeded_total": "counter",
        "controlwatch_drift_active": "gauge",
        "controlwatch_drift_events_total": "counter",
        "controlwatch_exceptions_stale": "gauge",
        "controlwatch_config_reloads_total": "counter",
        "controlwatch_scopes": "gauge",
        "controlwatch_scope_discoveries_total": "counter",
        "controlwatch_scope_discovery_last_success_timestamp_seconds": "gauge",
        "controlwatch_scope_owned": "gauge",
        "controlwatch_shard_info": "gauge",
        "controlwatch_result_sink_failures_total": "counter",
        "controlwatch_evidence_records_total": "counter",
        "controlwatch_evidence_write_errors_total": "counter",
        "controlwatch_evidence_chain_length": "gauge",
        "controlwatch_evidence_last_checkpoint_timestamp_seconds": "gauge",
        "controlwatch_evidence_verify_failures_total": "counter",
        "controlwatch_scheduler_job_events_total": "counter",
        "controlwatch_scheduler_heartbeat_timestamp_seconds": "gauge",
        "controlwatch_build_info": "gauge",
        "process_virtual_memory_bytes": "gauge",
        "process_resident_memory_bytes": "gauge",
        "process_start_time_seconds": "gauge",
        "process_cpu_seconds_total": "counter",
        "process_open_fds": "gauge",
        "process_max_fds": "gauge",
        "python_info": "gauge",
        "python_gc_objects_collected_total": "counter",
        "python_gc_objects_uncollectable_total": "counter",
        "python_gc_collections_total": "counter",
    }


def test_process_and_runtime_families_describe_this_process(metrics: Metrics) -> None:
    """The registry's own process_* and python_* families: read from /proc/self, not made up."""
    import os
    import platform
    import resource

    assert (value(metrics, "process_resident_memory_bytes") or 0) > 1_000_000
    assert value(metrics, "process_max_fds") == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    before = value(metrics, "process_open_fds")
    with open(os.devnull, "rb"):  # one more descriptor while this is open
        assert value(metrics, "process_open_fds") == (before or 0) + 1
    major, minor, patch = platform.python_version_tuple()
    info = {"implementation": platform.python_implementation(), "major": major, "minor": minor,
            "patchlevel": patch, "version": platform.python_version()}  # fmt: skip
    assert value(metrics, "python_info", **info) == 1
    assert value(metrics, "python_gc_collections_total", generation="0") is not None


def test_no_label_holds_a_resource_name(metrics: Metrics) -> None:
    assert "//compute.googleapis.com" not in generate_latest(metrics.registry).decode()


def test_describe_does_not_read_the_store() -> None:
    class Exploding(ResultStore):
        def view(self) -> StoreView:
            raise AssertionError("describe must not read the store")

    Metrics(Exploding(), version="0.1.0")  # registering calls describe()


def test_baseline_approved_per_scope_and_dropped_with_the_scope(metrics: Metrics) -> None:
    metrics.set_scopes(["shop-prod", "shop-dev"])
    metrics.baseline_approved("shop-prod", True)
    metrics.baseline_approved("shop-dev", False)
    assert value(metrics, "controlwatch_baseline_approved", scope="shop-prod") == 1
    assert value(metrics, "controlwatch_baseline_approved", scope="shop-dev") == 0
    metrics.set_scopes(["shop-prod"])
    assert value(metrics, "controlwatch_baseline_approved", scope="shop-dev") is None


def test_scopes_by_state_with_unreadable_read_from_the_store(metrics: Metrics) -> None:
    name = "controlwatch_scopes"
    assert {state: value(metrics, name, state=state) for state in ("watched", "excluded", "unreadable")} == {
        "watched": 0,
        "excluded": 0,
        "unreadable": 0,  # shop-prod has one error among passes and fails: readable
    }
    metrics.scope_counts(watched=7, excluded=2)
    assert (value(metrics, name, state="watched"), value(metrics, name, state="excluded")) == (7, 2)
    store = ResultStore()
    blind = Metrics(store, version="t")
    store.configure([(FW01, "blind", 60.0), (IAM02, "blind", 60.0), (FW01, "fine", 60.0)])
    assert value(blind, name, state="unreadable") == 0  # nothing has run yet
    store.record("blind", FW01, [res(FW01, "blind", Verdict.ERROR)], 5.0)
    assert value(blind, name, state="unreadable") == 0  # IAM-02 has not run: not known to be blind
    store.record("blind", IAM02, [res(IAM02, "blind", Verdict.ERROR)], 5.0)
    store.record("fine", FW01, [res(FW01, "fine", Verdict.PASS)], 5.0)
    assert value(blind, name, state="unreadable") == 1
    store.configure([(FW01, "fine", 60.0)])  # the blind project left the watched set: so does its count
    assert value(blind, name, state="unreadable") == 0


def test_scope_discoveries_are_counted_by_result(metrics: Metrics) -> None:
    name = "controlwatch_scope_discoveries_total"
    stamp = "controlwatch_scope_discovery_last_success_timestamp_seconds"
    assert (value(metrics, name, result="success"), value(metrics, name, result="failure"), value(metrics, stamp)) == (
        0,
        0,
        0,
    )
    metrics.scope_discovery(True, 1_700_000_000.0)
    metrics.scope_discovery(False, 1_700_000_600.0)
    assert (value(metrics, name, result="success"), value(metrics, name, result="failure")) == (1, 1)
    assert value(metrics, stamp) == 1_700_000_000  # a failure does not move it
