"""The stale accepted-risk sink reads only the pairs the risks name, and reports what it did before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from checks import default_registry
from checks.model import Result, Verdict
from checks.snapshot import Snapshot
from monitor.run.plans import build_plans
from monitor.run.sweep import ScopeRun
from monitor.sinks.base import FinishedRun
from monitor.sinks.metrics import Metrics
from monitor.sinks.stale_risks import StaleRisks
from monitor.sinks.store import ControlState, ResultStore
from tests.monitor.conftest import config_for

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
SCOPES = ["shop-prod", "shop-dev"]


class CountingStore(ResultStore):
    """A real store that counts whole-store reads (what the sink must not do after every run)."""

    def __init__(self) -> None:
        super().__init__()
        self.full_reads = 0

    def states(self) -> list[ControlState]:
        self.full_reads += 1
        return super().states()


def risks(expired: str, in_a_year: str) -> str:
    return f"""
exceptions:
  - {{control: FW-09, scope: shop-prod, resource: "*/instances/web-1", reason: callbacks, approver: a@example.be,
     expires: "{in_a_year}"}}
  - {{control: FW-09, scope: shop-prod, resource: "*/instances/gone-*", reason: gone, approver: a@example.be,
     expires: "{in_a_year}"}}
  - {{control: FW-06, scope: shop-dev, resource: "*", reason: old, approver: b@example.be, expires: "{expired}"}}
"""


def setup(extra: str) -> tuple[CountingStore, Metrics, StaleRisks, FinishedRun]:
    config = config_for(SCOPES, extra)
    plans = build_plans(config, default_registry())
    store = CountingStore()
    store.configure((c.meta, scope, 3600.0) for scope, plan in plans.items() for c in plan.controls)
    metas = {c.meta.id: c.meta for c in plans["shop-prod"].controls}
    web1 = "//compute.googleapis.com/projects/shop-prod/zones/z/instances/web-1"
    store.record("shop-prod", metas["FW-09"], [Result("FW-09", "shop-prod", web1, "", Verdict.FAIL, "open")], 1.0)
    # A failure named like the second risk's glob, but of another pair: it must not keep that risk alive.
    gone = "//compute.googleapis.com/projects/shop-dev/zones/z/instances/gone-1"
    store.record("shop-dev", metas["FW-09"], [Result("FW-09", "shop-dev", gone, "", Verdict.FAIL, "open")], 1.0)
    metrics = Metrics(store, version="test")
    sink = StaleRisks(store, metrics, lambda: NOW)
    snapshot = Snapshot(scope="shop-prod", now=NOW)
    run = ScopeRun(scope="shop-prod", started=0.0, ended=1.0, snapshot=snapshot, results={})
    return store, metrics, sink, FinishedRun(plans["shop-prod"], run, {}, config, lambda: True)


def stale(metrics: Metrics, reason: str) -> float | None:
    got: float | None = metrics.registry.get_sample_value("controlwatch_exceptions_stale", {"reason": reason})
    return got


def test_expired_and_unmatched_risks_are_reported_from_their_own_pairs_only() -> None:
    expired = (NOW - timedelta(days=365)).date().isoformat()
    in_a_year = (NOW + timedelta(days=365)).date().isoformat()
    store, metrics, sink, finished = setup(risks(expired, in_a_year))
    sink.on_run(finished)
    assert stale(metrics, "expired") == 1  # FW-06 on shop-dev
    assert stale(metrics, "unmatched") == 1  # gone-* matches shop-dev's failure, not shop-prod's
    assert store.full_reads == 0


def test_with_no_accepted_risks_nothing_is_read_and_nothing_is_stale() -> None:
    store, metrics, sink, finished = setup("")
    sink.on_run(finished)
    assert stale(metrics, "expired") == 0 and stale(metrics, "unmatched") == 0
    assert store.full_reads == 0
