"""The server's lifecycle, its control API, and the request log."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from monitor.standin import ControlError, StandIn, StandInControl, load_scenario, rfc3339
from tests.standin.conftest import MINIMAL, SHOP

ROOT = Path(__file__).resolve().parents[2]


def test_only_loopback_is_served() -> None:
    standin = StandIn(MINIMAL)
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        standin.start(host="0.0.0.0")
    with pytest.raises(RuntimeError, match="not running"):
        _ = standin.url


def test_context_manager_starts_and_stops() -> None:
    with StandIn(MINIMAL) as standin:
        url = standin.url
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/_standin/health", timeout=5).json()["projects"] == [SHOP]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/_standin/health", timeout=2)


def test_control_api_through_the_client(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: dict[str, Any]
) -> None:
    with StandInControl(standin.url) as control:
        assert control.health()["status"] == "ok"
        fault_id = control.add_fault("compute.firewalls.list", status=503, times=1)
        assert [(f["id"], f["remaining"]) for f in control.faults()] == [(fault_id, 1)]
        client = compute_v1.FirewallsClient(**client_kwargs)
        assert len(list(client.list(project=SHOP))) == 7  # retried past the one 503
        list(compute_v1.NetworksClient(**client_kwargs).list(project=SHOP))
        calls = control.requests("compute.firewalls.list")
        assert [(c.status, c.fault) for c in calls] == [(503, fault_id), (200, None)]
        assert calls[0].path == f"/compute/v1/projects/{SHOP}/global/firewalls"
        assert calls[0].http_method == "GET" and calls[0].project == SHOP and calls[0].time > 0
        assert len(control.requests()) == 3
        control.clear_requests()
        assert control.requests() == []
        second = control.add_fault(kind="latency", delay=0.01)
        assert control.remove_fault(second) is True
        control.add_fault(kind="drop")
        assert control.clear_faults() == 1
        control.add_fault(kind="drop")
        control.reset()
        assert control.faults() == [] and control.requests() == []
        with pytest.raises(ControlError, match="kind 'drip' needs"):
            control.add_fault(kind="drip")
        with pytest.raises(ControlError, match="404"):
            control._call("GET", "nothing")


def test_control_api_loads_a_scenario(standin: StandIn) -> None:
    from tests.standin.conftest import minimal_document

    with StandInControl(standin.url) as control:
        assert control.load(minimal_document()) == [SHOP]
        bad = minimal_document()
        bad["projects"][0]["compute"]["firewalls"][0]["priority"] = "high"
        with pytest.raises(ControlError, match=r"firewalls\[0\]\.priority: expected integer"):
            control.load(bad)
        assert control.health()["projects"] == [SHOP]


def test_an_invalid_response_is_a_500_naming_the_problem(standin: StandIn) -> None:
    scenario = standin.scenario
    shop = scenario.projects[SHOP]
    assert shop.compute is not None
    broken = shop.with_list("compute", "networks", ({"name": "n", "mtu": "big"},))
    standin.load(dataclasses.replace(scenario, projects={**scenario.projects, SHOP: broken}))
    answer = requests.get(f"{standin.url}/compute/v1/projects/{SHOP}/global/networks", timeout=5)
    assert answer.status_code == 500
    assert answer.json()["error"]["message"] == (
        "stand-in produced an invalid NetworkList for compute.networks.list: "
        'items[0].mtu: expected integer, got string "big"'
    )


def test_shift_time_moves_the_estate_to_the_wall_clock() -> None:
    with StandIn(MINIMAL, shift_time=True) as standin:
        body = requests.get(f"{standin.url}/compute/v1/projects/{SHOP}/global/snapshots", timeout=5).json()
    created = rfc3339.parse(body["items"][0]["creationTimestamp"])
    assert created is not None
    # The snapshot was taken 1 h before the scenario's `now`: so, 1 h before the wall clock.
    assert abs(datetime.now(UTC) - timedelta(hours=1) - created) < timedelta(seconds=30)


def test_stop_is_prompt_and_idempotent() -> None:
    standin = StandIn(load_scenario(MINIMAL))
    standin.start()
    session = requests.Session()
    assert session.get(f"{standin.url}/_standin/health", timeout=5).ok  # leaves a keep-alive connection open
    standin.stop()
    standin.stop()
    standin.start()  # and it can start again
    assert requests.get(f"{standin.url}/_standin/health", timeout=5).ok
    standin.stop()


def test_python_m_standin_serves_until_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "monitor.standin", "--scenario", str(MINIMAL)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    ) as process:  # leaving the block closes the pipes and reaps the child
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            with StandInControl(url) as control:
                assert control.health()["projects"] == [SHOP]
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
    bad = tmp_path / "bad.json"
    bad.write_text('{"now": "soon"}')
    failed = subprocess.run(
        [sys.executable, "-m", "monitor.standin", "--scenario", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=30,
    )
    assert failed.returncode == 2
    assert f"{bad}: now: required" in failed.stderr
