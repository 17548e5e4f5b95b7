"""The real daemon killed with SIGKILL while it writes evidence: the ledger always verifies.

Complements test_reliability (55 kills of a tight append loop through the same Ledger and
Checkpointer): here the victim is `controlwatch run` itself, killed at random moments of
its first sweeps, restarted on the same ledger each time.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.evidence import Ledger, demo_key, keyring, verify_ledger

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 6


@pytest.mark.slow
def test_sigkilled_daemon_leaves_a_ledger_that_verifies(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    ledger_path = tmp_path / ".controlwatch" / "evidence.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    lengths = []
    for _ in range(ROUNDS):
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--demo", "--listen", "127.0.0.1:0"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        before = lengths[-1] if lengths else 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and length(ledger_path) <= before:  # this daemon started writing
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 3.0))  # somewhere in its first sweeps' appends and checkpoints
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=10)
        report = verify_ledger(ledger_path, keyring([demo_key()]))
        assert report.ok, report.summary()
        lengths.append(length(ledger_path))
    assert all(a < b for a, b in zip(lengths, lengths[1:], strict=False)), lengths  # every daemon appended


def length(path: Path) -> int:
    if not path.exists():
        return 0
    with Ledger(path, create=False) as ledger:
        return ledger.length()
