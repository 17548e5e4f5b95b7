"""A real Prometheus scrapes the metrics port over TLS, with a client certificate and basic
auth, configured as the README says: the target is up; a wrong password or no client
certificate leaves it down. The certificates and the bcrypt hash are made in the test."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from monitor.sinks.http_server import MetricsServer
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore
from monitor.sinks.web_protection import load_protection
from tests.deploy.conftest import Prometheus, free_port, start_and_wait, stop
from tests.tools import require_tool, wait_until
from tests.webcerts import Pki, bcrypt_hash, make_pki

PASSWORD = "scrape-me-please"
JOBS = {"good": 1, "wrong-password": 0, "no-client-cert": 0}
UP_TIMEOUT = 60.0


@pytest.fixture
def protected_port(tmp_path: Path) -> Iterator[tuple[MetricsServer, Pki]]:
    pki = make_pki(tmp_path / "pki")
    web = tmp_path / "web-config.yml"
    web.write_text(
        yaml.safe_dump(
            {
                "tls_server_config": {
                    "cert_file": "pki/server.crt",  # relative: read from the web config's directory
                    "key_file": "pki/server.key",
                    "client_auth_type": "RequireAndVerifyClientCert",
                    "client_ca_file": "pki/ca.crt",
                },
                "basic_auth_users": {"prometheus": bcrypt_hash(PASSWORD, cost=10)},
            }
        ),
        encoding="utf-8",
    )
    promtool = require_tool("promtool")
    checked = subprocess.run(
        [promtool, "check", "web-config", str(web)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked
    store = ResultStore()
    server = MetricsServer(
        "127.0.0.1:0", Metrics(store, version="0.1.0", mode="demo"), store, protection=load_protection(web)
    )
    server.start()
    try:
        yield server, pki
    finally:
        server.stop()


def scrape_job(name: str, port: int, pki: Pki) -> dict[str, object]:
    """A scrape config as an operator writes it for controlwatch (README: the metrics port)."""
    tls: dict[str, object] = {"ca_file": str(pki.ca)}
    if name != "no-client-cert":
        tls |= {"cert_file": str(pki.client.cert), "key_file": str(pki.client.key)}
    password = "not-the-password" if name == "wrong-password" else PASSWORD
    return {
        "job_name": name,
        "scheme": "https",
        "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "tls_config": tls,
        "basic_auth": {"username": "prometheus", "password": password},
        "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
    }


def up_by_job(prometheus: Prometheus) -> dict[str, int]:
    answer = prometheus.query("up")
    if answer.get("status") != "success":
        return {}
    return {sample["metric"]["job"]: int(float(sample["value"][1])) for sample in answer["data"]["result"]}


def test_prometheus_scrapes_over_tls_with_a_client_certificate_and_basic_auth(
    tmp_path: Path, protected_port: tuple[MetricsServer, Pki]
) -> None:
    binary = require_tool("prometheus")
    server, pki = protected_port
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump({"scrape_configs": [scrape_job(name, server.port, pki) for name in JOBS]}), encoding="utf-8"
    )
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    proc = start_and_wait(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        base_url,
        tmp_path / "prometheus.log",
    )
    try:
        prometheus = Prometheus(base_url)
        assert wait_until(lambda: up_by_job(prometheus) == JOBS, UP_TIMEOUT, interval=0.5), up_by_job(prometheus)
        # The good job read the exposition itself, not just a TCP connection.
        info = prometheus.query('controlwatch_build_info{job="good"}')
        assert info["status"] == "success" and len(info["data"]["result"]) == 1, info
        assert server.handshakes_failed >= 1  # the job without a client certificate was refused in the handshake
    finally:
        stop(proc)
