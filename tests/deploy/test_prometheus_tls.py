"""A real Prometheus scrapes the daemon's metrics port over TLS, with a client certificate and basic
auth, configured as the README says: the target is up; a wrong password or no client
certificate leaves it down. The certificates and the bcrypt hash are made in the test."""

from __future__ import annotations

import http.client
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from monitor.demo import DEMO_SCENARIO
from monitor.standin import StandIn, load_scenario
from tests.deploy.conftest import READY_TIMEOUT, Prometheus, free_port, start_and_wait, stop
from tests.tools import require_tool, wait_until
from tests.webcerts import Pki, bcrypt_hash, make_pki

ROOT = Path(__file__).resolve().parents[2]
SCOPE = "ledger-clean"  # a demo project
PASSWORD = "scrape-me-please"
JOBS = {"good": 1, "wrong-password": 0, "no-client-cert": 0}
UP_TIMEOUT = 60.0


@pytest.fixture
def protected_daemon(tmp_path: Path) -> Iterator[tuple[int, Pki]]:
    """`controlwatch run --config` with `metrics.web_config_file`, watching a demo project through the stand-in."""
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
    standin = StandIn(load_scenario(DEMO_SCENARIO))
    standin.start()
    port = free_port()
    config = tmp_path / "controlwatch.yaml"
    config.write_text(
        f"scopes: {{projects: [{{id: {SCOPE}}}]}}\n"
        f"gcp: {{api_endpoint: '{standin.url}'}}\n"
        f"evidence: {{path: '{tmp_path / 'state' / 'evidence.sqlite3'}'}}\n"
        f"metrics: {{listen: '127.0.0.1:{port}', web_config_file: '{web}'}}\n"
        "disabled_controls: [DRIFT-01, DRIFT-02, DRIFT-03]\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "controlwatch.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        up = wait_until(lambda: daemon.poll() is not None or healthz(port, pki), READY_TIMEOUT)
        assert up and daemon.poll() is None, log.read_text(errors="replace")[-3000:]
        yield port, pki
    finally:
        stop(daemon)
        standin.stop()


def healthz(port: int, pki: Pki) -> bool:
    """The daemon answers over TLS (with the client certificate mTLS asks for)."""
    context = ssl.create_default_context(cafile=str(pki.ca))
    context.load_cert_chain(pki.client.cert, pki.client.key)
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=context)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


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


def test_prometheus_scrapes_the_daemon_over_tls_with_a_client_certificate_and_basic_auth(
    tmp_path: Path, protected_daemon: tuple[int, Pki]
) -> None:
    binary = require_tool("prometheus")
    daemon_port, pki = protected_daemon
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump({"scrape_configs": [scrape_job(name, daemon_port, pki) for name in JOBS]}), encoding="utf-8"
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
        # ...and the daemon's own results: the controls it judged on the demo project.
        status = f'controlwatch_control_status{{job="good", scope="{SCOPE}"}}'
        assert wait_until(lambda: bool(prometheus.query(status)["data"]["result"]), UP_TIMEOUT, interval=0.5)
    finally:
        stop(proc)
