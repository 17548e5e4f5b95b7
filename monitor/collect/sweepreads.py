"""Reads shared by every run of a sweep: the ancestors (folders, organisation) above the projects.

A thousand projects under a few folders would otherwise read each folder's `get`,
`getIamPolicy` and sinks, and the organisation's, once per project: most of a sweep's
requests, all of them answering the same thing. Here each (method, resource) is read once
per sweep interval by whichever run asks first; the runs asking meanwhile wait for that
read (single flight) and every asker gets its own copy.

A failed read is kept for `failure_ttl` (30 s) so that a storm of runs does not ask again
and again for what just failed; each run still reports it as its own error (fail closed).
A failure the caller says not to keep (the reading run's own deadline or abandonment says
nothing about the ancestor) is dropped at once: a waiting run then reads it itself.
`clear()` (SIGHUP) forgets everything, so an operator who fixed a permission need not wait.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: seconds a failed read is answered from memory before it is tried again
FAILURE_TTL = 30.0
#: times one asker may find the read it waited for dropped before it gives up waiting on others
_MAX_ROUNDS = 8


class _Read:
    """One read in flight or done; `expires` is set once it is done."""

    __slots__ = ("done", "error", "expires", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.expires = float("inf")


class SweepReads:
    """(method, resource) -> its latest read, kept `ttl` seconds (the sweep interval)."""

    def __init__(
        self, ttl: float, failure_ttl: float = FAILURE_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not ttl > 0 or not failure_ttl >= 0:
            raise ValueError(f"ttl must be > 0 and failure_ttl >= 0, got {ttl} and {failure_ttl}")
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._reads: dict[tuple[str, str], _Read] = {}

    def clear(self) -> None:
        """Forget every read: the next asker of each reads it again. Reads in flight finish for their waiters."""
        with self._lock:
            self._reads.clear()

    def read(
        self,
        method: str,
        resource: str,
        load: Callable[[], T],
        wait: Callable[[threading.Event], None],
        *,
        keep_failure: Callable[[BaseException], bool],
        renew: Callable[[BaseException], BaseException],
    ) -> T:
        """A copy of the read of (method, resource): kept, awaited, or made now by `load()`.

        `wait(done)` returns once `done` is set, or raises when the asker may wait no longer
        (its run's deadline). A kept failure is raised as `renew(failure)`, a fresh exception.
        """
        key = (method, resource)
        for _ in range(_MAX_ROUNDS):
            with self._lock:
                read = self._reads.get(key)
                mine = read is None or (read.done.is_set() and self._clock() >= read.expires)
                if mine:
                    read = self._reads[key] = _Read()
            assert read is not None
            if mine:
                return self._load(key, read, load, keep_failure)
            wait(read.done)
            if read.error is None:
                return copy.deepcopy(read.value)  # type: ignore[no-any-return]
            if read.expires > self._clock():
                raise renew(read.error)
            # Dropped (not kept): read it ourselves, or wait for whoever claimed it first.
        return load()

    def _load(
        self, key: tuple[str, str], read: _Read, load: Callable[[], T], keep_failure: Callable[[BaseException], bool]
    ) -> T:
        try:
            value = load()
        except BaseException as exc:
            kept = keep_failure(exc)
            read.error = exc
            read.expires = self._clock() + self._failure_ttl if kept else float("-inf")
            if not kept:
                with self._lock:
                    if self._reads.get(key) is read:
                        del self._reads[key]
            read.done.set()
            raise
        read.value = value
        read.expires = self._clock() + self._ttl
        read.done.set()
        return copy.deepcopy(value)
