"""Crash safety: a writer SIGKILLed at random moments never leaves a forked or broken chain.

A child process appends records (and a checkpoint every seventh) in a loop, printing each
committed seq. It is killed 5-60 ms after it says it is ready, 55 times over. After every
kill the ledger must verify, every acknowledged record must be there, and at most the one
record in flight (committed but not yet acknowledged) may be beyond the last acknowledgement.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.evidence import demo_key, keyring, verify_ledger

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 55


@pytest.mark.slow
def test_sigkill_at_random_moments_never_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "evidence.sqlite3"
    seed = int(os.environ.get("EVIDENCE_CRASH_SEED", "20260302"))
    rng = random.Random(seed)
    keys = keyring([demo_key()])
    head = 0
    appended_rounds = 0
    started = time.monotonic()
    for round_number in range(ROUNDS):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.evidence.workers", str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.005, 0.060))
        child.kill()  # SIGKILL: no cleanup, no atexit, mid-transaction or not
        child.wait(timeout=10)
        acknowledged = [int(line) for line in child.stdout.read().split()]
        child.stdout.close()

        report = verify_ledger(path, keys)
        context = f"round {round_number} (seed {seed}): {report.summary()}"
        assert report.ok, context
        assert report.first_seq in (None, 1), context
        new_head = report.last_seq or 0
        last_ack = acknowledged[-1] if acknowledged else head
        assert new_head >= head, f"committed records were lost: {context}"
        assert new_head in (last_ack, last_ack + 1), f"acknowledged {last_ack}, head {new_head}: {context}"
        if acknowledged:
            appended_rounds += 1
            assert acknowledged == list(range(acknowledged[0], last_ack + 1)), context
        head = new_head
    elapsed = time.monotonic() - started
    assert appended_rounds >= ROUNDS // 2, "the child was mostly killed before it appended anything"
    assert head > ROUNDS
    assert elapsed < 60
