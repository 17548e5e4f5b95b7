"""How far ahead of the real wall clock the tests run (see tests/conftest.py)."""

from __future__ import annotations

import os
from datetime import timedelta

from monitor.config.durations import parse_duration

SHIFT_VARIABLE = "CONTROLWATCH_TEST_CLOCK_SHIFT"


def clock_shift() -> timedelta:
    """The shift CONTROLWATCH_TEST_CLOCK_SHIFT asks for (`400d`), or none."""
    text = os.environ.get(SHIFT_VARIABLE, "").strip()
    return parse_duration(text) if text else timedelta(0)
