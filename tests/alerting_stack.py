"""The monitoring stack of the end-to-end alerting tests, all on loopback: a real Prometheus with the
shipped rules, a real Alertmanager with the shipped example (only its timers changed, receivers pointed
at a webhook served here), and that webhook, which records every notification it receives."""

from __future__ import annotations

import copy
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.conftest import ALERTMANAGER_EXAMPLE, RULES, free_port, start_and_wait
from tests.tools import require_tool

TIMERS = ("group_wait", "group_interval", "repeat_interval")


def strip_timers(node: Any) -> Any:
    """The routing tree without its timers: what a shortened copy must leave unchanged."""
    if isinstance(node, dict):
        return {k: strip_timers(v) for k, v in node.items() if k not in TIMERS}
    if isinstance(node, list):
        return [strip_timers(v) for v in node]
    return node


def shorten_timers(node: Any, timers: tuple[str, ...] = TIMERS) -> Any:
    """Every one of `timers` in the routing tree set to 1s (a test cannot wait 30 s per group)."""
    if isinstance(node, dict):
        return {k: ("1s" if k in timers else shorten_timers(v, timers)) for k, v in node.items()}
    if isinstance(node, list):
        return [shorten_timers(v, timers) for v in node]
    return node


class Webhook:
    """Receives Alertmanager's webhook notifications on 127.0.0.1; `notifications` in arrival order."""

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

    def to(self, receiver: str) -> list[dict[str, Any]]:
        """The notifications sent to one receiver (`pager`, `ticket`, `deadmans-switch`)."""
        return [note for note in list(self.notifications) if note["path"] == f"/{receiver}"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def webhook_server() -> Iterator[Webhook]:
    hook = Webhook()
    try:
        yield hook
    finally:
        hook.close()


def alertmanager_config(webhook: Webhook, timers: tuple[str, ...] = TIMERS) -> dict[str, Any]:
    """The shipped example with `timers` shortened and every receiver sent to `webhook`; routes and
    inhibitions otherwise as shipped (checked here)."""
    shipped = yaml.safe_load(ALERTMANAGER_EXAMPLE.read_text(encoding="utf-8"))
    config: dict[str, Any] = shorten_timers(copy.deepcopy(shipped), timers)
    config["global"]["resolve_timeout"] = "10s"
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = f"{webhook.url}/{receiver['name']}"
    assert strip_timers(config["route"]) == strip_timers(shipped["route"])
    assert config["inhibit_rules"] == shipped["inhibit_rules"]
    return config


def start_alertmanager(tmp_path: Path, config: dict[str, Any]) -> tuple[subprocess.Popen[bytes], int]:
    """A real Alertmanager on loopback (clustering off) with `config`; the process and its port."""
    binary = require_tool("prometheus-alertmanager")
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    proc = start_and_wait(
        [
            binary,
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        f"http://127.0.0.1:{port}",
        tmp_path / "alertmanager.log",
    )
    return proc, port


def start_prometheus(
    tmp_path: Path, metrics_port: int, alertmanager_port: int, scrape_interval: str = "1s"
) -> subprocess.Popen[bytes]:
    """A real Prometheus on loopback scraping the daemon (every second by default) with the shipped rules.

    A scrape slower than the interval fails, and a failed scrape marks every series stale, which
    resolves alerts and fires them again: a daemon with a large /metrics on a loaded machine needs a
    longer interval than one second.
    """
    binary = require_tool("prometheus")
    prom_port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": scrape_interval, "evaluation_interval": "1s"},
                "rule_files": [str(RULES)],
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]},
                "scrape_configs": [
                    {"job_name": "controlwatch", "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}
                ],
            }
        ),
        encoding="utf-8",
    )
    return start_and_wait(
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            "--log.level=warn",
        ],
        f"http://127.0.0.1:{prom_port}",
        tmp_path / "prometheus.log",
    )


def widen_firewall(client: Any, compute_v1: Any, project: str, rule: str, ranges: list[str]) -> None:
    """Change a firewall rule's source ranges at the stand-in through the real Compute client, as a person would."""
    patch = compute_v1.Firewall(source_ranges=ranges)
    principal = [("x-standin-principal", "mallory@example.be")]
    client.patch(project=project, firewall=rule, firewall_resource=patch, metadata=principal).result(timeout=10)
