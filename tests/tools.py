"""Helpers shared by tests that drive real processes and outside tools."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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


@contextlib.contextmanager
def fifo_released_after(path: Path, seconds: float) -> Iterator[Path]:
    """A FIFO at `path` that a helper thread opens for writing (and closes) after `seconds`.

    Code that waits on the FIFO is released then instead of hanging the suite, so a test
    can assert it was refused at once; the helper never blocks (non-blocking open, no reader
    waiting: nothing to release).
    """
    os.mkfifo(path)
    stop = threading.Event()

    def release() -> None:
        if stop.wait(seconds):
            return
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    helper = threading.Thread(target=release, name="fifo-release", daemon=True)
    helper.start()
    try:
        yield path
    finally:
        stop.set()
        helper.join(timeout=seconds + 1)
