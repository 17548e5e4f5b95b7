"""The clock the tests run on is the one `make test` asked for (tests/conftest.py)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

from tests.clock import clock_shift


def test_the_wall_clock_runs_the_asked_shift_ahead_of_a_child_process() -> None:
    # A child process keeps the real clock, whatever this one was moved to.
    real = float(subprocess.run(["date", "+%s"], capture_output=True, text=True, check=True, timeout=10).stdout)
    ahead = datetime.now(UTC).timestamp() - real
    assert abs(ahead - clock_shift().total_seconds()) < 60
