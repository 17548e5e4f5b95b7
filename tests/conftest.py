"""Session-wide test settings: the clock the whole run sees.

With CONTROLWATCH_TEST_CLOCK_SHIFT set (`make test` sets 400d for its second pass), every
wall-clock read in this process — `time.time()`, `datetime.now()`, in every thread — runs
that far ahead of the real clock, while monotonic clocks (timeouts, deadlines) are left
alone. A fixture whose freshness quietly depends on today's date then fails today, not a
year from now in someone else's CI. Child processes keep the real clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.clock import SHIFT_VARIABLE, clock_shift

_TRAVELLER: list[Any] = []  # time_machine.travel, imported only when asked for


def pytest_configure(config: pytest.Config) -> None:
    shift = clock_shift()
    if shift:
        import time_machine

        traveller = time_machine.travel(datetime.now(UTC) + shift, tick=True)
        traveller.start()
        _TRAVELLER.append(traveller)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _TRAVELLER:
        _TRAVELLER.pop().stop()


def pytest_report_header(config: pytest.Config) -> str:
    shift = clock_shift()
    if not shift:
        return "clock: the real wall clock"
    return f"clock: {shift.days} days ahead of the real wall clock ({SHIFT_VARIABLE}), now {datetime.now(UTC):%Y-%m-%d}"
