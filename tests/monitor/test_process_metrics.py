"""A real `controlwatch run --demo` process exports the process and Python runtime families on its
/metrics, describing itself (its own pid's memory, start time and descriptors), and the whole scrape
still passes `promtool check metrics`."""

from __future__ import annotations

import os
import subprocess

import pytest
from prometheus_client import ProcessCollector

from tests.test_lifecycle import Daemon
from tests.tools import require_tool


def _sample(body: str, name: str) -> float | None:
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def _own_start_time() -> float:
    """This test process's start time, as prometheus_client reads it from /proc."""
    [family] = [f for f in ProcessCollector(registry=None).collect() if f.name == "process_start_time_seconds"]
    return float(family.samples[0].value)


@pytest.mark.slow
def test_a_real_daemon_exports_its_own_process_metrics() -> None:
    daemon = Daemon(None, "--demo")
    try:
        status, body = daemon.get("/metrics")
        assert status == 200
        rss = _sample(body, "process_resident_memory_bytes")
        assert rss is not None and rss > 10_000_000, rss  # a Python daemon with Google's clients loaded
        with open(f"/proc/{daemon.proc.pid}/status", encoding="ascii") as status_file:
            vm_rss_kib = next(int(line.split()[1]) for line in status_file if line.startswith("VmRSS:"))
        assert abs(rss - vm_rss_kib * 1024) < 64 * 1024 * 1024, (rss, vm_rss_kib)  # the child's, not ours
        # The child started after this test process: both read the kernel's clock, never the (maybe
        # shifted, see tests/conftest.py) wall clock of the test.
        start = _sample(body, "process_start_time_seconds")
        assert start is not None and start > _own_start_time()
        open_fds = _sample(body, "process_open_fds")
        assert open_fds is not None and 0 < open_fds <= len(os.listdir(f"/proc/{daemon.proc.pid}/fd")) + 5
        assert (_sample(body, "process_max_fds") or 0) >= open_fds
        assert _sample(body, "process_cpu_seconds_total") is not None
        assert 'python_info{implementation="CPython"' in body
        assert 'python_gc_collections_total{generation="2"}' in body
        assert "controlwatch_build_info{" in body  # beside, not instead of, the daemon's own families
        lint = subprocess.run(
            [require_tool("promtool"), "check", "metrics"], input=body, capture_output=True, text=True, timeout=30
        )
        assert (lint.returncode, lint.stdout + lint.stderr) == (0, "")
    finally:
        daemon.stop()
