"""End to end, all on loopback: stand-in → daemon → real Prometheus (the shipped rules) → real
Alertmanager (the shipped example, only its timers shortened) → a webhook served here.

A firewall rule widened at the stand-in must reach the webhook as ControlwatchDriftActive for
DRIFT-01 and the right scope, and resolve after the change is reverted.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from monitor.commands.baseline import baseline
from monitor.demo import DEMO_SCENARIO
from monitor.standin import StandIn, load_scenario
from tests.deploy.conftest import ALERTMANAGER_EXAMPLE, RULES, free_port, http_get, start_and_wait, stop
from tests.tools import require_tool, wait_until

ROOT = Path(__file__).resolve().parents[1]
SCOPE = "ledger-clean"
TIMERS = ("group_wait", "group_interval", "repeat_interval")


def strip_timers(node: Any) -> Any:
    """The routing tree without its timers: what the shortened copy must leave unchanged."""
    if isinstance(node, dict):
        return {k: strip_timers(v) for k, v in node.items() if k not in TIMERS}
    if isinstance(node, list):
        return [strip_timers(v) for v in node]
    return node


def shorten_timers(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("1s" if k in TIMERS else shorten_timers(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [shorten_timers(v) for v in node]
    return node


class Webhook:
    """Receives Alertmanager's webhook notifications on 127.0.0.1."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.notifications.append({"path": self.path, **json.loads(body)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def drift(self, status: str) -> list[dict[str, Any]]:
        return [
            alert
            for note in list(self.notifications)
            for alert in note["alerts"]
            if alert["labels"].get("alertname") == "ControlwatchDriftActive" and alert["status"] == status
        ]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def widen(client: Any, compute_v1: Any, rule: str, ranges: list[str]) -> None:
    patch = compute_v1.Firewall(source_ranges=ranges)
    client.patch(
        project=SCOPE, firewall=rule, firewall_resource=patch, metadata=[("x-standin-principal", "mallory@example.be")]
    ).result(timeout=10)


def test_drift_alert_reaches_the_webhook_and_resolves(tmp_path: Path, webhook: Webhook) -> None:
    prometheus_bin = require_tool("prometheus")
    alertmanager_bin = require_tool("prometheus-alertmanager")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import compute_v1

    standin = StandIn(load_scenario(DEMO_SCENARIO))
    standin.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # The shipped Alertmanager example, timers shortened, receivers pointed at the webhook.
        shipped = yaml.safe_load(ALERTMANAGER_EXAMPLE.read_text())
        config = shorten_timers(copy.deepcopy(shipped))
        config["global"]["resolve_timeout"] = "10s"
        for receiver in config["receivers"]:
            for hook in receiver.get("webhook_configs", []):
                hook["url"] = f"{webhook.url}/{receiver['name']}"
        assert strip_timers(config["route"]) == strip_timers(shipped["route"])
        assert config["inhibit_rules"] == shipped["inhibit_rules"]
        (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
        am_port = free_port()
        procs.append(
            start_and_wait(
                [
                    alertmanager_bin,
                    f"--config.file={tmp_path / 'alertmanager.yml'}",
                    f"--storage.path={tmp_path / 'am'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                    "--log.level=warn",
                ],
                f"http://127.0.0.1:{am_port}",
                tmp_path / "alertmanager.log",
            )
        )

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
        approved = CliRunner().invoke(baseline, ["approve", "--config", str(cw), "--approver", "e2e"])
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
        prom_port = free_port()
        (tmp_path / "prometheus.yml").write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "rule_files": [str(RULES)],
                    "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
                    "scrape_configs": [
                        {"job_name": "controlwatch", "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}
                    ],
                }
            )
        )
        procs.append(
            start_and_wait(
                [
                    prometheus_bin,
                    f"--config.file={tmp_path / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--log.level=warn",
                ],
                f"http://127.0.0.1:{prom_port}",
                tmp_path / "prometheus.log",
            )
        )

        client = compute_v1.FirewallsClient(
            credentials=AnonymousCredentials(), client_options={"api_endpoint": standin.url}
        )
        [project] = [p for p in standin.scenario.document["projects"] if p["projectId"] == SCOPE]
        rule = next(r for r in project["compute"]["firewalls"] if r.get("sourceRanges"))
        original = list(rule["sourceRanges"])
        widen(client, compute_v1, rule["name"], ["0.0.0.0/0"])

        # The rule has `for: 1m`: firing within about 80 s of the change.
        assert wait_until(lambda: bool(webhook.drift("firing")), 150, interval=0.5), webhook.notifications
        [alert] = webhook.drift("firing")[:1]
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
        assert wait_until(lambda: bool(webhook.drift("resolved")), 120, interval=0.5), webhook.notifications
        [resolved] = webhook.drift("resolved")[:1]
        assert resolved["labels"]["control"] == "DRIFT-01" and resolved["labels"]["scope"] == SCOPE
        daemon.send_signal(signal.SIGTERM)
    finally:
        for proc in reversed(procs):
            stop(proc)
        standin.stop()
