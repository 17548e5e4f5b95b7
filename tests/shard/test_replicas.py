"""Replicas as real processes: `controlwatch run` × N over one stand-in serving an organisation of
1,000 projects, each replica reading its shard as a StatefulSet pod does (its pod name and
CONTROLWATCH_SHARDS). Every scope is owned by exactly one replica, as each replica's own
`/metrics` says, with 4 replicas and again after restarting them as 3 and as 5.

Every control is disabled: what is shown is who owns what (discovery, sharding, `/metrics`),
not the runs, which `tests/monitor/test_daemon_shard.py` shows in-process.
"""

from __future__ import annotations

import os
import re
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
from monitor.run.shard import owner
from monitor.standin import StandIn, load_scenario
from tests.estate import ORG, project
from tests.tools import wait_until

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PROJECTS = [f"proj-{n:04d}" for n in range(1000)]
FOLDERS = ["7001", "7002", "7003", "7004"]
BUDGET = 240.0  # seconds for the whole test, starts and stops included (about 50 on an idle 2-core machine)
OWNED = re.compile(r'^controlwatch_scope_owned\{scope="([^"]+)"\} (\S+)$', re.MULTILINE)


def organisation() -> dict[str, object]:
    """1,000 ACTIVE projects spread over four folders below one organisation (no resources: discovery only)."""
    return {
        "now": "2026-11-25T12:00:00Z",
        "organization": {"name": ORG, "displayName": "example.be", "state": "ACTIVE"},
        "folders": [
            {"name": f"folders/{f}", "parent": ORG, "displayName": f"f{f}", "state": "ACTIVE"} for f in FOLDERS
        ],
        "projects": [_numbered(n, project(p, f"folders/{FOLDERS[n % len(FOLDERS)]}")) for n, p in enumerate(PROJECTS)],
    }


def _numbered(n: int, resource: dict[str, object]) -> dict[str, object]:
    """A project number of its own (the helper's, from the id's letters, repeats over 1,000 ids)."""
    return {**resource, "name": f"projects/{600000000000 + n}"}


class Replica:
    """One `controlwatch run` child, as pod `controlwatch-INDEX` of a StatefulSet of COUNT."""

    def __init__(self, config: Path, index: int, count: int) -> None:
        environ = {**os.environ, "PYTHONUNBUFFERED": "1"}
        environ.update({"CONTROLWATCH_POD_NAME": f"controlwatch-{index}", "CONTROLWATCH_SHARDS": str(count)})
        self.index = index
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config), "--listen", "127.0.0.1:0"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=environ,
        )
        self.url = ""
        self.errors: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if "metrics at " in line and not self.url:
                self.url = line.split("metrics at ", 1)[1].split("/metrics", 1)[0]
            else:
                self.errors.append(line)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def ready(self) -> bool:
        return bool(self.url) and self.get("/readyz")[0] == 200

    def owned(self) -> dict[str, float]:
        code, body = self.get("/metrics")
        assert code == 200
        return {scope: float(value) for scope, value in OWNED.findall(body)}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    with StandIn(load_scenario(organisation())) as server:
        yield server


def config_for(standin: StandIn, tmp_path: Path, index: int) -> Path:
    """The same file for every replica but its ledger (each has its own volume in a StatefulSet)."""
    state = tmp_path / f"controlwatch-{index}"
    state.mkdir(exist_ok=True)
    path = state / "controlwatch.yaml"
    disabled = ", ".join(default_registry().ids())
    path.write_text(
        f"scopes: {{organization: '{ORG.removeprefix('organizations/')}'}}\n"
        "shard: statefulset\n"
        "schedule: {interval: 1h, jitter: 0s}\n"
        f"gcp: {{api_endpoint: '{standin.url}', call_timeout: 5s, run_deadline: 20s,"
        " rate_limits: {cloudresourcemanager: 100/s}}\n"
        f"disabled_controls: [{disabled}]\n"
        f"evidence: {{path: '{state / 'evidence.sqlite3'}'}}\n"
        "log: {level: warning}\n"
    )
    return path


def run_replicas(standin: StandIn, tmp_path: Path, count: int, deadline: float) -> dict[int, dict[str, float]]:
    """Start `count` replicas at once (podManagementPolicy: Parallel), wait until each is ready, read
    each one's `controlwatch_scope_owned`, stop them all."""
    replicas = [Replica(config_for(standin, tmp_path, i), i, count) for i in range(count)]
    try:
        left = deadline - time.monotonic()
        assert wait_until(lambda: all(r.ready() for r in replicas), max(left, 1.0), interval=0.2), [
            (r.index, r.proc.poll(), r.errors[-3:]) for r in replicas
        ]
        return {r.index: r.owned() for r in replicas}
    finally:
        for replica in replicas:
            replica.stop()


def assert_owned_exactly_once(seen: dict[int, dict[str, float]], count: int) -> None:
    for index, owned in seen.items():
        assert sorted(owned) == PROJECTS, f"replica {index} does not know every scope"
        assert {s for s, v in owned.items() if v == 1.0} == {s for s in PROJECTS if owner(s, count) == index}
    per_scope = {scope: sum(seen[i][scope] for i in seen) for scope in PROJECTS}
    assert set(per_scope.values()) == {1.0}, "a scope owned by no replica or by several"
    shares = [sum(owned.values()) for owned in seen.values()]
    assert all(share > 0.7 * len(PROJECTS) / count for share in shares), shares


def test_every_scope_is_owned_exactly_once_by_4_then_3_then_5_replicas(standin: StandIn, tmp_path: Path) -> None:
    deadline = time.monotonic() + BUDGET
    four = run_replicas(standin, tmp_path, 4, deadline)
    assert_owned_exactly_once(four, 4)
    three = run_replicas(standin, tmp_path, 3, deadline)
    assert_owned_exactly_once(three, 3)
    moved_down = {s for s in PROJECTS if four[owner(s, 4)][s] == 1.0 and owner(s, 3) != owner(s, 4)}
    assert moved_down == {s for s in PROJECTS if owner(s, 4) == 3}  # only the removed replica's scopes moved
    five = run_replicas(standin, tmp_path, 5, deadline)
    assert_owned_exactly_once(five, 5)
    moved_up = {s for s in PROJECTS if owner(s, 4) != owner(s, 5)}
    assert all(five[4][s] == 1.0 for s in moved_up)  # every scope that moved went to the new replica
    assert time.monotonic() < deadline
