"""Shared pieces of the deploy/ tests: paths, and a real Prometheus on loopback that checks PromQL."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tools import require_tool, wait_until

ROOT = Path(__file__).parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "controlwatch-alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "controlwatch-alerts.test.yml"
PROMETHEUS_EXAMPLE = PROMETHEUS_DIR / "prometheus.example.yml"
ALERTMANAGER_EXAMPLE = ROOT / "deploy" / "alertmanager" / "alertmanager.example.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "controlwatch-dashboard.json"
DASHBOARD_SCRIPT = ROOT / "deploy" / "grafana" / "generate_dashboard.py"
RUNBOOKS = ROOT / "deploy" / "runbooks"
ONCALL = ROOT / "README.md"  # the on-call section lives in the README
RUNBOOK_BASE = "https://github.com/example/controlwatch/blob/main/deploy/runbooks/"
RESULTS_BASE = "http://controlwatch.controlwatch.svc:9797"  # the daemon's external URL in `results_url`

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"] if "alert" in rule]


def alert_names() -> list[str]:
    return sorted({rule["alert"] for rule in alert_rules()})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the response open until closed
            return int(exc.code), exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a child we started, bounded: SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)


def start_and_wait(args: list[str], base_url: str, log: Path) -> subprocess.Popen[bytes]:
    """Start a server (loopback only), wait (bounded) for its /-/ready, fail with its log otherwise."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    ready = wait_until(lambda: proc.poll() is not None or http_get(base_url + "/-/ready")[0] == 200, READY_TIMEOUT)
    if not ready or proc.poll() is not None:
        stop(proc)
        pytest.fail(f"{args[0]} did not become ready in {READY_TIMEOUT}s:\n{log.read_text(errors='replace')[-3000:]}")
    return proc


class Prometheus:
    """A real Prometheus on 127.0.0.1, with the alert rules loaded and nothing scraped."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def query(self, expr: str) -> dict[str, Any]:
        """The parsed /api/v1/query answer (a syntax error is status "error", errorType "bad_data")."""
        status, body = http_get(f"{self.base_url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}")
        assert status in (200, 400, 422), f"HTTP {status} for {expr!r}: {body[:300]!r}"
        answer: dict[str, Any] = json.loads(body)
        return answer

    def rules(self) -> list[dict[str, Any]]:
        status, body = http_get(f"{self.base_url}/api/v1/rules")
        assert status == 200, body[:300]
        return [rule for group in json.loads(body)["data"]["groups"] for rule in group["rules"]]


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    binary = require_tool("prometheus")
    tmp = tmp_path_factory.mktemp("prometheus")
    config = tmp / "prometheus.yml"
    config.write_text(
        yaml.safe_dump({"global": {"evaluation_interval": "1s"}, "rule_files": [str(RULES)], "scrape_configs": []}),
        encoding="utf-8",
    )
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    proc = start_and_wait(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        base_url,
        tmp / "prometheus.log",
    )
    try:
        yield Prometheus(base_url)
    finally:
        stop(proc)
