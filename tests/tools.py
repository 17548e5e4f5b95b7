"""Helpers shared by tests that drive real processes and outside tools."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

import pytest


def require_tool(name: str) -> str:
    """Path of an outside tool; skip without it on a laptop, fail under CI (the Makefile installs it)."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required under CI=true (make tools installs it)")
        pytest.skip(f"{name} not installed")
    return path


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass (bounded in time and count)."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 2):
        if predicate():
            return True
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    return predicate()
