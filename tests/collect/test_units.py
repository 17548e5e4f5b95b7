"""The retry arithmetic, the stuck-call tracker and the last-resort error path."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from checks.snapshot import Kind
from monitor.collect import GcpClients, RetryPolicy, StuckCalls, collect_snapshot
from tests.collect.conftest import NOW, PROJECT, Recorder, fast


def test_backoff_is_full_jitter_capped_by_maximum() -> None:
    policy = RetryPolicy(initial=1.0, maximum=10.0, multiplier=2.0)

    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.backoff(3, lambda: 0.0) == 0.0
    assert policy.backoff(2, lambda: 0.5) == 2.0


def test_a_rate_limit_waits_until_just_past_the_next_quota_minute() -> None:
    policy = RetryPolicy(initial=1.0, quota_window=60.0)

    assert policy.past_quota_boundary(125.0, lambda: 0.0) == pytest.approx(55.0)
    assert policy.past_quota_boundary(179.5, lambda: 1.0) == pytest.approx(1.5)


def test_stuck_calls_count_per_scope_and_wake_waiters() -> None:
    stuck = StuckCalls()
    stuck.add("a")
    stuck.add("a")
    stuck.add("b")

    assert (stuck.busy("a"), stuck.busy("b"), stuck.busy("c"), stuck.total()) == (2, 1, 0, 3)
    assert not stuck.wait_idle("a", timeout=0.01)

    def release() -> None:
        stuck.done("a")
        stuck.done("a")

    timer = threading.Timer(0.05, release)
    timer.start()
    assert stuck.wait_idle("a", timeout=2.0)
    timer.join()
    assert stuck.busy("a") == 0 and stuck.busy("b") == 1 and not stuck.wait_idle(timeout=0.01)


class _BrokenClients(GcpClients):
    """Hands out an object that is no client at all: a bug, which must become an error."""

    def __init__(self) -> None:
        super().__init__(credentials=None, endpoint="http://127.0.0.1:9")

    def get(self, name: str) -> Any:
        return object()


def test_a_bug_in_collection_is_an_error_naming_the_exception() -> None:
    recorder = Recorder()

    collection = collect_snapshot(
        PROJECT, [Kind.FIREWALLS, "bogusKind"], _BrokenClients(), settings=fast(), observer=recorder, now=NOW
    )

    firewalls = collection.snapshot.kinds[Kind.FIREWALLS]
    assert not firewalls.ok and "AttributeError" in str(firewalls.error)
    assert collection.snapshot.kinds["bogusKind"].error == "no collector for kind 'bogusKind'"
    assert recorder.requests == []  # no HTTP call was made, none is counted
    assert not collection.deadline_exceeded


def test_an_empty_kind_list_is_an_empty_snapshot() -> None:
    collection = collect_snapshot(PROJECT, [], _BrokenClients(), settings=fast(), observer=Recorder(), now=NOW)

    assert dict(collection.snapshot.kinds) == {} and collection.snapshot.now == NOW
