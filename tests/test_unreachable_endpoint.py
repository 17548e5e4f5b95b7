"""An unreachable `gcp.api_endpoint` is said once, in one line, at once: `check` exits, the daemon
logs it and keeps running (its controls report error until the endpoint answers)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.collect.endpoint_probe import unreachable
from tests.test_cli import invoke
from tests.test_lifecycle import Daemon
from tests.tools import wait_until


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: every connection to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def write_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "cw.yaml"
    path.write_text(
        "scopes: {projects: [{id: shop-prod}]}\n"
        f"gcp: {{api_endpoint: 'http://127.0.0.1:{port}'}}\n"
        f"evidence: {{path: '{tmp_path / 'evidence.sqlite3'}'}}\n"
        "schedule: {interval: 1h, jitter: 0s}\n"
    )
    return path


def test_the_probe_tells_refused_from_listening(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    assert unreachable(url) == f"cannot reach {url}: connection refused"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        assert unreachable(f"http://127.0.0.1:{listening.getsockname()[1]}/") is None


def test_check_stops_at_once_in_one_line(tmp_path: Path, closed_port: int) -> None:
    started = time.monotonic()
    code, out, err = invoke("check", "--config", str(write_config(tmp_path, closed_port)))
    took = time.monotonic() - started
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"Error: cannot reach http://127.0.0.1:{closed_port}: connection refused (gcp.api_endpoint)"
    ]
    assert took < 10, f"took {took:.1f}s"


def test_the_daemon_says_it_once_and_keeps_running(tmp_path: Path, closed_port: int) -> None:
    daemon = Daemon(write_config(tmp_path, closed_port))
    try:
        assert wait_until(lambda: any('"daemon_started"' in line for line in daemon.lines), 30)
        said = [r for r in daemon.records() if r.get("message") == "endpoint_unreachable"]
        assert len(said) == 1 and said[0]["severity"] == "ERROR"
        assert str(said[0]["detail"]).startswith(f"cannot reach http://127.0.0.1:{closed_port}: connection refused")
        assert daemon.proc.poll() is None and daemon.get("/healthz")[0] == 200
        # The unsigned ledger's warning says what it means (its text used to be lost to the event name).
        [unsigned] = [r for r in daemon.records() if r.get("message") == "evidence_unsigned"]
        assert "evidence.signing_key_file" in str(unsigned["detail"])
    finally:
        daemon.stop()
