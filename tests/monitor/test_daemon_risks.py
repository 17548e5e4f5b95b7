"""Accepted risks through the daemon: excepted results, metrics, stale risks in metrics and logs."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from monitor.collect import StuckCalls
from monitor.daemon import Daemon
from monitor.sinks.logs import configure_logging
from monitor.standin import StandIn
from tests.monitor.conftest import config_for

MakeDaemon = Callable[..., tuple[Daemon, StuckCalls]]
WEB1 = "//compute.googleapis.com/projects/shop-prod/zones/europe-west1-b/instances/web-1"
# Expiries relative to the tests' clock: a fixed date would expire (or stop being expired) some day.
IN_A_YEAR = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
A_YEAR_AGO = (datetime.now(UTC) - timedelta(days=365)).date().isoformat()
RISKS = f"""
exceptions:
  - {{control: FW-09, scope: shop-prod, resource: "{WEB1}", reason: payment callbacks, approver: ciso@example.be,
     expires: "{IN_A_YEAR}"}}
  - {{control: FW-09, scope: shop-prod, resource: "*/instances/gone-*", reason: decommissioned, approver: a@example.be,
     expires: "{IN_A_YEAR}"}}
  - {{control: FW-06, scope: shop-prod, resource: "*", reason: old waiver, approver: b@example.be,
     expires: "{A_YEAR_AGO}"}}
"""


def value(daemon: Daemon, name: str, labels: dict[str, str]) -> float | None:
    got: float | None = daemon.metrics.registry.get_sample_value(name, labels)
    return got


def test_excepted_failure_stays_fail_leaves_the_count_and_stale_risks_are_reported(
    standin: StandIn, make_daemon: MakeDaemon
) -> None:
    out = io.StringIO()
    configure_logging("info", stream=out)
    try:
        daemon, _ = make_daemon(config_for(["shop-prod"], RISKS))
        daemon.run_scope("shop-prod")
    finally:
        configure_logging("info")
    fw09 = daemon.store.results(control="FW-09", scope="shop-prod")
    [web1] = [r for r in fw09 if r.resource == WEB1]
    assert web1.verdict.value == "fail" and web1.excepted and "ciso@example.be" in (web1.exception_reason or "")
    others = [r for r in fw09 if r.verdict.value == "fail" and not r.excepted]
    labels = {"control": "FW-09", "scope": "shop-prod"}
    assert value(daemon, "controlwatch_control_excepted_resources", labels) == 1
    assert value(daemon, "controlwatch_control_failing_resources", labels) == len(others)
    # The expired FW-06 waiver no longer applies: FW-06 failures are plain failures.
    assert not any(r.excepted for r in daemon.store.results(control="FW-06", scope="shop-prod"))
    assert value(daemon, "controlwatch_exceptions_stale", {"reason": "expired"}) == 1
    assert value(daemon, "controlwatch_exceptions_stale", {"reason": "unmatched"}) == 1
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    [stale] = [r for r in records if r["message"] == "accepted_risks_stale"]
    assert {(r["why"], r["control"]) for r in stale["risks"]} == {("expired", "FW-06"), ("unmatched", "FW-09")}
