"""SIGHUP makes the daemon read the ancestors again: the reads shared by a sweep are forgotten."""

from __future__ import annotations

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
