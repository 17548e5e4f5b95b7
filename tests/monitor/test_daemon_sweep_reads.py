"""SIGHUP makes the daemon read the ancestors again: the reads shared by a sweep are forgotten."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from checks import default_registry
from monitor.collect import CollectSettings, StuckCalls, make_clients
from monitor.collect.sweepreads import SweepReads
from monitor.daemon import Daemon
from monitor.drift.baselines import BaselineStore
from monitor.run.runtime import Runtime, make_collect
from monitor.standin import StandIn
from tests.monitor.conftest import FAST_RETRY, config_for


def test_a_reload_forgets_the_ancestors_read_this_sweep(standin: StandIn, tmp_path: Path) -> None:
    reads = SweepReads(ttl=3600.0)
    stuck = StuckCalls()
    settings = CollectSettings(call_timeout=0.5, run_deadline=3.0, max_workers=4, retry=FAST_RETRY)
    collect = make_collect(make_clients(standin.url), settings, stuck, sweep=reads)
    runtime = Runtime(collect=collect, stuck_calls=stuck.busy, sweep_reads=reads)
    config = config_for(["shop-prod"])
    daemon = Daemon(config, default_registry(), runtime, baselines=BaselineStore(tmp_path / "b.sqlite3"))
    try:
        method = "cloudresourcemanager.organizations.get"
        daemon.run_scope("shop-prod")
        daemon.run_scope("shop-prod")
        assert len(standin.requests_for(method)) == 1  # kept for the interval
        assert daemon.reload(lambda: config)
        daemon.run_scope("shop-prod")
        assert len(standin.requests_for(method)) == 2  # read again after SIGHUP
    finally:
        daemon.scheduler.shutdown(wait=False)


DEMO_SCOPES = ["shop-prod", "ledger-clean", "shop-staging", "data-platform"]


def test_hierarchical_firewall_policies_are_listed_once_per_ancestor_per_sweep(
    standin: StandIn, tmp_path: Path
) -> None:
    """Every demo project, one run each: the organisation's and each folder's firewall policies are
    listed once and shared by every scope below them, and what they open is judged in each."""
    reads = SweepReads(ttl=3600.0)
    stuck = StuckCalls()
    settings = CollectSettings(call_timeout=0.5, run_deadline=3.0, max_workers=4, retry=FAST_RETRY)
    collect = make_collect(make_clients(standin.url), settings, stuck, sweep=reads)
    runtime = Runtime(collect=collect, stuck_calls=stuck.busy, sweep_reads=reads)
    daemon = Daemon(config_for(DEMO_SCOPES), default_registry(), runtime, baselines=BaselineStore(tmp_path / "b"))
    try:
        for scope in DEMO_SCOPES:
            daemon.run_scope(scope)
        listed = Counter(r.query["parentId"] for r in standin.requests_for("compute.firewallPolicies.list"))
        assert listed == {"organizations/4242": 1, "folders/5501": 1, "folders/5502": 1}
        folder_policy = "//compute.googleapis.com/locations/global/firewallPolicies/550200117"
        staging = daemon.store.results(control="FW-01", scope="shop-staging")
        assert [r.verdict.value for r in staging if r.resource == folder_policy] == ["fail"]
        clean = {s.control: s.status.value for s in daemon.store.states() if s.scope == "ledger-clean" and s.status}
        assert {clean[f"FW-0{n}"] for n in range(1, 7)} == {"pass"}  # the organisation's policy logs, opens nothing
    finally:
        daemon.scheduler.shutdown(wait=False)
