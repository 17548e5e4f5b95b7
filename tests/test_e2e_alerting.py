"""End to end, all on loopback: stand-in → daemon → real Prometheus (the shipped rules) → real
Alertmanager (the shipped example, only its timers shortened) → a webhook served here.

A firewall rule widened at the stand-in must reach the webhook as ControlwatchDriftActive for
DRIFT-01 and the right scope, and resolve after the change is reverted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.commands.baseline import baseline
from monitor.demo import DEMO_SCENARIO
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
SCOPE = "ledger-clean"


def drift(hook: Webhook, status: str) -> list[dict[str, Any]]:
    return [
        alert
        for note in list(hook.notifications)
        for alert in note["alerts"]
        if alert["labels"].get("alertname") == "ControlwatchDriftActive" and alert["status"] == status
    ]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with webhook_server() as hook:
        yield hook


def widen(client: Any, compute_v1: Any, rule: str, ranges: list[str]) -> None:
    widen_firewall(client, compute_v1, SCOPE, rule, ranges)


def test_drift_alert_reaches_the_webhook_and_resolves(tmp_path: Path, webhook: Webhook) -> None:
    require_tool("prometheus")
    require_tool("prometheus-alertmanager")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import compute_v1

    standin = StandIn(load_scenario(DEMO_SCENARIO))
    standin.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # The shipped Alertmanager example, timers shortened, receivers pointed at the webhook.
        alertmanager, am_port = start_alertmanager(tmp_path, alertmanager_config(webhook))
        procs.append(alertmanager)

        # The daemon, with an approved baseline; the audit log is polled every second.
        metrics_port = free_port()
        cw = tmp_path / "controlwatch.yaml"
        cw.write_text(
            f"scopes: {{projects: [{{id: {SCOPE}}}]}}\n"
            f"gcp: {{api_endpoint: '{standin.url}'}}\n"
            f"evidence: {{path: '{tmp_path / 'state' / 'evidence.sqlite3'}'}}\n"
            f"metrics: {{listen: '127.0.0.1:{metrics_port}'}}\n"
            "drift: {audit_poll_interval: 1s}\n"
        )
        approved = CliRunner().invoke(baseline, ["approve", "--yes", "--config", str(cw), "--approver", "e2e"])
        assert approved.exit_code == 0, approved.output
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(cw)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        procs.append(daemon)
        assert wait_until(lambda: http_get(f"http://127.0.0.1:{metrics_port}/readyz")[0] == 200, 60)

        # Prometheus scraping the daemon every second with the shipped rules.
        procs.append(start_prometheus(tmp_path, metrics_port, am_port))

        client = compute_v1.FirewallsClient(
            credentials=AnonymousCredentials(), client_options={"api_endpoint": standin.url}
        )
        [project] = [p for p in standin.scenario.document["projects"] if p["projectId"] == SCOPE]
        rule = next(r for r in project["compute"]["firewalls"] if r.get("sourceRanges"))
        original = list(rule["sourceRanges"])
        widen(client, compute_v1, rule["name"], ["0.0.0.0/0"])

        # The rule has `for: 1m`: firing within about 80 s of the change.
        assert wait_until(lambda: bool(drift(webhook, "firing")), 150, interval=0.5), webhook.notifications
        [alert] = drift(webhook, "firing")[:1]
        assert alert["labels"]["control"] == "DRIFT-01" and alert["labels"]["scope"] == SCOPE
        assert alert["labels"]["severity"] == "critical" and alert["annotations"]["runbook_url"].endswith(
            "ControlwatchDriftActive.md"
        )
        # It reached on-call through the pager receiver, and through no other.
        delivered_to = {
            n["path"]
            for n in list(webhook.notifications)
            for a in n["alerts"]
            if a["labels"].get("alertname") == "ControlwatchDriftActive" and a["status"] == "firing"
        }
        assert delivered_to == {"/pager"}, webhook.notifications

        widen(client, compute_v1, rule["name"], original)  # the revert
        assert wait_until(lambda: bool(drift(webhook, "resolved")), 120, interval=0.5), webhook.notifications
        [resolved] = drift(webhook, "resolved")[:1]
        assert resolved["labels"]["control"] == "DRIFT-01" and resolved["labels"]["scope"] == SCOPE
        daemon.send_signal(signal.SIGTERM)
    finally:
        for proc in reversed(procs):
            stop(proc)
        standin.stop()
