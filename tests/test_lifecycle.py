"""The daemon as a real process: probes, real signals, reload, bounded shutdown, log lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks import default_registry
from monitor.demo import DEMO_SCENARIO
from monitor.standin import Fault, StandIn, load_scenario
from tests.tools import require_tool, wait_until

ROOT = Path(__file__).resolve().parents[1]
SCOPES = ["shop-prod", "ledger-clean"]


def config_text(endpoint: str, scopes: list[str], run_deadline: str = "20s", state: Path | None = None) -> str:
    projects = "".join(f"    - id: {s}\n" for s in scopes)
    evidence = f"evidence: {{path: '{state / 'evidence.sqlite3'}'}}\n" if state else ""
    return evidence + (
        f"scopes:\n  projects:\n{projects}"
        "schedule: {interval: 1h, jitter: 0s}\n"
        f"gcp: {{call_timeout: 2s, run_deadline: {run_deadline}, api_endpoint: '{endpoint}'}}\n"
        "params: {firewall: {public_ports: ['tcp:443']}}\n"
    )


class Daemon:
    """A `controlwatch run` child process and what it printed."""

    def __init__(self, config: Path | None, *extra: str) -> None:
        """`controlwatch run --config CONFIG` (or, with None, just the `extra` options such as --demo)."""
        given = ["--config", str(config)] if config is not None else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", *given, "--listen", "127.0.0.1:0", *extra],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self.url = ""
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        if not wait_until(lambda: bool(self.url) or self.proc.poll() is not None, 30) or not self.url:
            self.close()
            raise AssertionError(f"no metrics URL printed (exit code {self.proc.returncode})")

    def _read(self, stream: object, is_stdout: bool) -> None:
        for line in stream:  # type: ignore[attr-defined]
            if is_stdout:
                self.lines.append(line.rstrip("\n"))
            elif "metrics at " in line:
                self.url = line.split("metrics at ", 1)[1].split("/metrics", 1)[0]

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:  # an HTTPError holds the response open until closed
                return exc.code, exc.read().decode()

    def metric(self, name: str, labels: str = "") -> float | None:
        _, body = self.get("/metrics")
        for line in body.splitlines():
            if line.startswith(name + ("{" + labels if labels else "")) and (
                labels or line.startswith(name + " ") or line.startswith(name + "{")
            ):
                return float(line.rsplit(" ", 1)[1])
        return None

    def status(self, scope: str, control: str) -> str | None:
        code, body = self.get(f"/results?scope={scope}&control={control}")
        if code != 200:
            return None
        [state] = json.loads(body)["controls"]
        return state["status"]  # type: ignore[no-any-return]

    def records(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in list(self.lines)]

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15) -> int:
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        """Reap the child (killed if still running) and close its pipes once the readers are done."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for reader in getattr(self, "_readers", ()):
            reader.join(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn(load_scenario(DEMO_SCENARIO))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config(tmp_path: Path, standin: StandIn) -> Path:
    path = tmp_path / "controlwatch.yaml"
    path.write_text(config_text(standin.url, SCOPES, state=tmp_path))
    return path


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_probes_metrics_logs_and_clean_stop(config: Path, signum: int) -> None:
    daemon = Daemon(config)
    try:
        assert daemon.get("/healthz")[0] == 200
        assert wait_until(lambda: daemon.get("/readyz")[0] == 200, 30), daemon.get("/readyz")
        _, body = daemon.get("/metrics")
        for scope in SCOPES:  # every control of every area, for every scope
            for control in default_registry().ids():
                assert f'control="{control}",scope="{scope}",severity=' in body, (control, scope)
        assert 'controlwatch_control_status{area="firewall",control="FW-01",scope="shop-prod"' in body
        assert 'controlwatch_build_info{mode="live",version="0.1.0"} 1.0' in body
        if signum == signal.SIGTERM:
            promtool = require_tool("promtool")
            lint = subprocess.run(
                [promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=30, check=False
            )
            assert (lint.returncode, lint.stdout + lint.stderr) == (0, "")
    finally:
        started = time.monotonic()
        code = daemon.stop(signum)
    assert code == 0
    assert time.monotonic() - started < 12
    records = daemon.records()  # every stdout line is one JSON object
    assert all("severity" in r and "message" in r and "time" in r for r in records)
    runs = [r for r in records if r["message"] == "scope_run"]
    assert sorted(str(r["scope"]) for r in runs) == sorted(SCOPES)  # one summary line per run, not per resource
    assert any(r["message"] == "daemon_stopped" for r in records)
    assert not any(word in line.lower() for line in daemon.lines for word in ("access_token", "bearer "))


def test_sighup_reload_keeps_old_config_on_bad_file_and_applies_a_good_one(config: Path, standin: StandIn) -> None:
    daemon = Daemon(config)
    try:
        assert wait_until(lambda: daemon.get("/readyz")[0] == 200, 30)
        good = config.read_text()
        config.write_text(good + "unknown_key: 1\n")
        daemon.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: daemon.metric("controlwatch_config_reloads_total", 'result="failure"') == 1, 10)
        assert daemon.proc.poll() is None
        failed = [r for r in daemon.records() if r["message"] == "config_reload_failed"]
        assert failed and "unknown_key" in str(failed[0]["error"]) and failed[0]["severity"] == "ERROR"
        assert daemon.get("/results?scope=shop-prod")[0] == 200  # the old config still runs

        config.write_text(config_text(standin.url, [*SCOPES, "data-platform"], state=config.parent))
        daemon.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: daemon.metric("controlwatch_config_reloads_total", 'result="success"') == 1, 10)
        assert wait_until(lambda: daemon.status("data-platform", "FW-03") == "fail", 30)
    finally:
        assert daemon.stop() == 0


def test_a_fifo_in_place_of_the_config_fails_the_reload_at_once_and_sigterm_still_stops(config: Path) -> None:
    """Opening a FIFO waits for a writer: the reload used to hang, and the daemon to ignore SIGTERM."""
    daemon = Daemon(config)
    try:
        assert wait_until(lambda: daemon.get("/readyz")[0] == 200, 30)
        config.unlink()
        os.mkfifo(config)
        daemon.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: daemon.metric("controlwatch_config_reloads_total", 'result="failure"') == 1, 10)
        [failed] = [r for r in daemon.records() if r["message"] == "config_reload_failed"]
        assert "is a FIFO (named pipe), not a regular file" in str(failed["error"])
        started = time.monotonic()
    finally:
        assert daemon.stop(signal.SIGTERM, timeout=20) == 0
    assert time.monotonic() - started < 12


def test_shutdown_is_bounded_while_a_call_is_stuck(tmp_path: Path, standin: StandIn) -> None:
    path = tmp_path / "controlwatch.yaml"
    path.write_text(config_text(standin.url, ["shop-prod"], run_deadline="60s", state=tmp_path))
    standin.add_fault(Fault(method="compute.firewalls.list", kind="drip", delay=0.5))
    daemon = Daemon(path, "--grace", "1")
    assert wait_until(lambda: bool(standin.requests_for("compute.firewalls.list")), 20)
    started = time.monotonic()
    assert daemon.stop(signal.SIGTERM, timeout=20) == 0
    assert time.monotonic() - started < 8
    stopped = [r for r in daemon.records() if r["message"] == "daemon_stopped"]
    assert stopped and stopped[0]["abandoned_runs"] == ["shop-prod"]


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_second_signal_cuts_the_graceful_stop_short(tmp_path: Path, standin: StandIn, second: int) -> None:
    """As uvicorn does: the first signal waits up to --grace for in-flight runs, the second leaves now."""
    path = tmp_path / "controlwatch.yaml"
    path.write_text(config_text(standin.url, ["shop-prod"], run_deadline="120s", state=tmp_path))
    standin.add_fault(Fault(method="compute.firewalls.list", kind="drip", delay=0.5))
    daemon = Daemon(path, "--grace", "60")
    assert wait_until(lambda: bool(standin.requests_for("compute.firewalls.list")), 20)
    daemon.proc.send_signal(signal.SIGTERM)
    assert wait_until(lambda: any(r["message"] == "signal_received" for r in daemon.records()), 10)
    time.sleep(0.5)
    assert daemon.proc.poll() is None  # still waiting out its 60 s grace for the stuck run
    started = time.monotonic()
    assert daemon.stop(second, timeout=20) == 0
    assert time.monotonic() - started < 8
    messages = [r["message"] for r in daemon.records()]
    assert "signal_received_again" in messages
    [stopped] = [r for r in daemon.records() if r["message"] == "daemon_stopped"]
    assert stopped["forced"] is True and stopped["abandoned_runs"] == ["shop-prod"]


def test_run_without_config_or_demo_refuses_with_a_hint() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "CONTROLWATCH_CONFIG"},
        check=False,
    )
    assert proc.returncode == 2
    assert "--demo" in proc.stderr and "--config" in proc.stderr and "Traceback" not in proc.stderr


def test_make_run_demo_serves_every_fw_control_with_the_planted_failures(tmp_path: Path) -> None:
    daemon = Daemon(None, "--demo")  # what `make run` runs; it must print where its metrics are
    try:
        assert wait_until(lambda: daemon.get("/readyz")[0] == 200, 60)
        _, body = daemon.get("/metrics")
        assert 'controlwatch_build_info{mode="demo",version="0.1.0"} 1.0' in body
        for scope in ("shop-prod", "shop-staging", "data-platform", "ledger-clean"):
            for control in (c for c in default_registry().ids() if c.startswith("FW-")):
                assert f'control="{control}",scope="{scope}",severity=' in body
        assert daemon.status("shop-staging", "FW-01") == "fail"
        _, results = daemon.get("/results?scope=shop-staging&control=FW-01")
        failing = [r for state in json.loads(results)["controls"] for r in state["results"] if r["verdict"] == "fail"]
        assert any(r["resource"].endswith("/firewalls/default-allow-ssh") and "tcp:22" in r["reason"] for r in failing)
        assert any(r["message"].startswith("DEMO MODE") for r in daemon.records())
    finally:
        assert daemon.stop() == 0


def test_metrics_port_in_use_is_a_clear_error(tmp_path: Path, standin: StandIn) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = tmp_path / "controlwatch.yaml"
        path.write_text(config_text(standin.url, ["shop-prod"], state=tmp_path))
        proc = subprocess.run(
            [sys.executable, "-m", "monitor", "run", "--config", str(path), "--listen", f"127.0.0.1:{port}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 2
    assert f"127.0.0.1:{port}" in proc.stderr and "in use" in proc.stderr and "Traceback" not in proc.stderr
