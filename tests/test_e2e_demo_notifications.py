"""End to end with the demo organisation, which already fails about 130 control/scope pairs: how many
notifications on-call gets (stand-in → daemon → real Prometheus with the shipped rules → real
Alertmanager with the shipped example → a webhook served here).

Starting on an estate that already fails must page nobody and open one ticket per failing scope,
listing its failing controls; one firewall rule opened to the internet afterwards must page exactly
once. Alertmanager's group_wait and group_interval are shortened to 1 s (so a group that changes is
notified again at once: more notifications than in production, never fewer); repeat_interval stays
as shipped, so a notification counted here is one a person would get.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from monitor.demo import DEMO_CONFIG, DEMO_SCENARIO
from monitor.standin import StandIn, load_scenario
from tests.alerting_stack import (
    Webhook,
    alertmanager_config,
    start_alertmanager,
    start_prometheus,
    webhook_server,
    widen_firewall,
)
from tests.deploy.conftest import free_port, http_get, stop
from tests.tools import require_tool, wait_until

ROOT = Path(__file__).resolve().parents[1]
PLANTED = "ledger-clean"  # the demo's project where every control passes
FAILING_SCOPES = {"shop-prod", "shop-staging", "data-platform"}
STARTUP_TIMEOUT = 330.0  # first runs (≤ 45 s run deadline) + the ticket's `for: 2m` + slack on a loaded machine
PAGE_TIMEOUT = 150.0  # the next run (interval 1m, jitter 5s) + scrape, evaluation and delivery


def demo_config(standin: StandIn, written_now: datetime, tmp_path: Path, metrics_port: int) -> Path:
    """The demo's own config, pointed at this stand-in, with its accepted risk moved with the estate
    (as `run --demo` does) so the test reads the same on any date."""
    config: dict[str, Any] = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    config["gcp"] = {**config.get("gcp", {}), "api_endpoint": standin.url}
    config["evidence"] = {"path": str(tmp_path / "state" / "evidence.sqlite3")}
    config["metrics"] = {"listen": f"127.0.0.1:{metrics_port}"}
    days = datetime.now(UTC).date() - written_now.date()  # the stand-in moved the estate by as much
    for risk in config.get("exceptions", []):
        risk["expires"] = (datetime.fromisoformat(str(risk["expires"])).date() + timedelta(days=days.days)).isoformat()
    path = tmp_path / "controlwatch.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def last_run(metrics_url: str, scope: str) -> float:
    """The newest end of a run of `scope` the daemon reports (0 before the first)."""
    status, body = http_get(metrics_url)
    if status != 200:
        return 0.0
    times = [
        sample.value
        for family in text_string_to_metric_families(body.decode("utf-8"))
        if family.name == "controlwatch_control_last_run_timestamp_seconds"
        for sample in family.samples
        if sample.labels.get("scope") == scope
    ]
    return max(times, default=0.0)


def firing(notes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(alertname, scope) of every firing alert in `notes`, for failure messages."""
    return [
        (alert["labels"].get("alertname", ""), alert["labels"].get("scope", ""))
        for note in notes
        for alert in note["alerts"]
        if alert["status"] == "firing"
    ]


def tickets_by_scope(hook: Webhook) -> Counter[str]:
    return Counter(note["groupLabels"].get("scope", "") for note in hook.to("ticket"))


@pytest.mark.slow
@pytest.mark.timeout(STARTUP_TIMEOUT + 2 * PAGE_TIMEOUT + 120)  # the bounded waits below, plus starting the stack
def test_demo_start_pages_nobody_and_a_new_exposure_pages_once(tmp_path: Path) -> None:
    require_tool("prometheus")
    require_tool("prometheus-alertmanager")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import compute_v1

    scenario = load_scenario(DEMO_SCENARIO)
    standin = StandIn(scenario, shift_time=True)
    standin.start()
    procs: list[subprocess.Popen[bytes]] = []
    with webhook_server() as hook:
        try:
            alertmanager, am_port = start_alertmanager(
                tmp_path, alertmanager_config(hook, timers=("group_wait", "group_interval"))
            )
            procs.append(alertmanager)
            metrics_port = free_port()
            metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
            config = demo_config(standin, scenario.now, tmp_path, metrics_port)
            daemon = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", "--config", str(config)],
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
            )
            procs.append(daemon)
            procs.append(start_prometheus(tmp_path, metrics_port, am_port, scrape_interval="5s"))

            # Start-up: one ticket per failing scope, each listing the scope's failing controls; no page.
            startup = wait_until(lambda: set(tickets_by_scope(hook)) >= FAILING_SCOPES, STARTUP_TIMEOUT, interval=1.0)
            assert startup, f"tickets by scope: {tickets_by_scope(hook)}; firing: {firing(hook.notifications)}"
            pages_at_startup = hook.to("pager")
            print(f"\nstart-up: {len(pages_at_startup)} page(s), tickets by scope {dict(tickets_by_scope(hook))}")
            assert pages_at_startup == [], f"start-up paged: {firing(pages_at_startup)}"
            assert tickets_by_scope(hook) == Counter(dict.fromkeys(FAILING_SCOPES, 1)), firing(hook.to("ticket"))
            for note in hook.to("ticket"):
                [alert] = note["alerts"]
                assert alert["labels"]["alertname"] == "ControlwatchScopeFailing"
                assert alert["labels"]["severity"] == "warning"
                listed = alert["annotations"]["description"].split(":", 1)[1]
                assert listed.count("(critical)") + listed.count("(high)") >= 1, alert["annotations"]
                assert int(alert["annotations"]["summary"].split()[0]) > 1, alert["annotations"]
                assert alert["annotations"]["results_url"].endswith(f"/results?scope={alert['labels']['scope']}")

            # One firewall rule of the clean project opened to the internet: exactly one more page.
            client = compute_v1.FirewallsClient(
                credentials=AnonymousCredentials(), client_options={"api_endpoint": standin.url}
            )
            [project] = [p for p in standin.scenario.document["projects"] if p["projectId"] == PLANTED]
            rule = next(r for r in project["compute"]["firewalls"] if r.get("sourceRanges"))
            widen_firewall(client, compute_v1, PLANTED, rule["name"], ["0.0.0.0/0"])
            planted_at = last_run(metrics_url, PLANTED)
            assert wait_until(lambda: bool(hook.to("pager")), PAGE_TIMEOUT, interval=0.5), firing(hook.notifications)
            [page] = hook.to("pager")
            assert page["groupLabels"] == {"scope": PLANTED}, page["groupLabels"]
            assert {a["labels"]["alertname"] for a in page["alerts"]} == {"ControlwatchControlNewFailure"}
            assert {a["labels"]["control_severity"] for a in page["alerts"]} <= {"critical", "high"}
            assert all(a["annotations"]["results_url"].split("?")[1].startswith(f"scope={PLANTED}&control=")
                       for a in page["alerts"])  # fmt: skip

            # The run after the one that found it: the exposure is no longer new to it, and nothing pages again.
            found_at = last_run(metrics_url, PLANTED)
            assert found_at > planted_at
            assert wait_until(lambda: last_run(metrics_url, PLANTED) > found_at, PAGE_TIMEOUT, interval=1.0)
            wait_until(lambda: len(hook.to("pager")) > 1, 10, interval=0.5)  # scrape, evaluation, delivery
            print(f"after one new exposure: {len(hook.to('pager'))} page(s)")
            assert len(hook.to("pager")) == 1, firing(hook.to("pager"))
            daemon.send_signal(signal.SIGTERM)
        finally:
            for proc in reversed(procs):
                stop(proc)
            standin.stop()
