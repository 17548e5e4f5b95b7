"""The run's hard deadline: a dripping server is cut off from outside, its thread counted as stuck."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from checks.snapshot import Kind
from monitor.collect import RetryPolicy, StuckCalls, collect_snapshot, make_clients
from monitor.collect.collector import spawn_daemon
from monitor.standin import Fault, StandIn
from tests.collect.conftest import NOW, PROJECT, Recorder, fast
from tests.tools import wait_until

FW = "compute.firewalls.list"
NW = "compute.networks.list"


@pytest.fixture
def own_standin(session_standin: StandIn) -> Iterator[StandIn]:
    """A stand-in of its own: stopping it is what ends a drip (clearing faults does not)."""
    standin = StandIn(session_standin.scenario)
    standin.start()
    yield standin
    standin.stop()


def test_a_drip_is_cut_at_the_run_deadline_and_its_thread_counted_until_it_ends(
    own_standin: StandIn, recorder: Recorder
) -> None:
    clients = make_clients(own_standin.url)
    own_standin.add_fault(Fault(method=FW, kind="drip", delay=0.1))  # a byte per 0.1 s < call_timeout
    stuck = StuckCalls()

    started = time.monotonic()
    collection = collect_snapshot(
        PROJECT,
        [Kind.FIREWALLS, Kind.NETWORKS, Kind.PROJECT],
        clients,
        settings=fast(call_timeout=1.0, run_deadline=1.5),
        observer=recorder,
        now=NOW,
        stuck=stuck,
    )
    took = time.monotonic() - started

    assert 1.4 <= took < 2.5
    assert collection.deadline_exceeded and collection.abandoned == 1
    snapshot = collection.snapshot
    assert snapshot.kinds[Kind.FIREWALLS].error == "deadline exceeded (run_deadline 1.5s)"
    assert snapshot.kinds[Kind.NETWORKS].ok and snapshot.kinds[Kind.PROJECT].ok
    assert stuck.busy(PROJECT) == 1 and stuck.busy("another-project") == 0

    own_standin.stop()  # ends the drip: the abandoned call returns, and is no longer stuck

    assert stuck.wait_idle(PROJECT, timeout=5.0)
    assert stuck.busy(PROJECT) == 0 and stuck.total() == 0
    # the late end neither retried nor reported the kind a second time
    assert [k for k, _ in recorder.collections].count(Kind.FIREWALLS) == 1
    assert recorder.retries == []


def test_kinds_queued_behind_a_stuck_call_are_cut_without_starting(own_standin: StandIn, recorder: Recorder) -> None:
    clients = make_clients(own_standin.url)
    own_standin.add_fault(Fault(method=FW, kind="drip", delay=0.1))
    stuck = StuckCalls()

    collection = collect_snapshot(
        PROJECT,
        [Kind.FIREWALLS, Kind.NETWORKS],
        clients,
        settings=fast(call_timeout=1.0, run_deadline=0.8, max_workers=1),
        observer=recorder,
        now=NOW,
        stuck=stuck,
    )

    assert collection.abandoned == 1 and collection.deadline_exceeded
    assert collection.snapshot.kinds[Kind.NETWORKS].error == "deadline exceeded (run_deadline 0.8s): not started"
    assert own_standin.requests_for("compute.networks.list") == []
    own_standin.stop()
    assert stuck.wait_idle(PROJECT, timeout=5.0)


def test_retries_never_sleep_past_the_run_deadline(standin: StandIn, recorder: Recorder) -> None:
    clients = make_clients(standin.url)
    standin.add_fault(Fault(method=FW, status=503))
    slow = RetryPolicy(initial=0.4, maximum=5.0, multiplier=2.0, max_attempts=50)

    started = time.monotonic()
    collection = collect_snapshot(
        PROJECT, [Kind.FIREWALLS], clients, settings=fast(run_deadline=1.0, retry=slow), observer=recorder, now=NOW
    )
    took = time.monotonic() - started

    data = collection.snapshot.kinds[Kind.FIREWALLS]
    assert took < 1.3
    assert not data.ok and "HTTP 503" in str(data.error)
    assert collection.deadline_exceeded and collection.abandoned == 0


class _FailingStart:
    """A `spawn` seam whose `fail_at`-th start raises as a process out of threads does.

    Before failing it waits until the threads already started are inside their calls, so
    which kinds are running and which no thread took is certain.
    """

    def __init__(self, fail_at: int, ready: Callable[[], bool] = lambda: True) -> None:
        self.fail_at = fail_at
        self.ready = ready
        self.starts = 0

    def __call__(self, target: Callable[[], None], name: str) -> None:
        self.starts += 1
        if self.starts == self.fail_at:
            assert wait_until(self.ready, timeout=5.0)
            raise RuntimeError("can't start new thread")
        spawn_daemon(target, name)


def test_a_thread_that_cannot_start_errors_the_kinds_no_thread_took_and_counts_the_running_ones(
    own_standin: StandIn, recorder: Recorder
) -> None:
    """It used to raise out of collect_snapshot, leaving the started threads running uncounted."""
    clients = make_clients(own_standin.url)
    for method in (FW, NW):
        own_standin.add_fault(Fault(method=method, kind="drip", delay=0.1))
    both_dripping = lambda: len(own_standin.requests_for(FW)) + len(own_standin.requests_for(NW)) == 2  # noqa: E731
    spawn = _FailingStart(3, both_dripping)
    stuck = StuckCalls()

    collection = collect_snapshot(
        PROJECT,
        [Kind.FIREWALLS, Kind.NETWORKS, Kind.SUBNETWORKS, Kind.PROJECT],
        clients,
        settings=fast(call_timeout=1.0, run_deadline=1.5, max_workers=4),
        observer=recorder,
        now=NOW,
        stuck=stuck,
        spawn=spawn,
    )

    kinds = collection.snapshot.kinds
    assert spawn.starts == 3
    assert kinds[Kind.FIREWALLS].error == kinds[Kind.NETWORKS].error == "deadline exceeded (run_deadline 1.5s)"
    unstarted = "could not start a collection thread: RuntimeError: can't start new thread"
    assert kinds[Kind.SUBNETWORKS].error == kinds[Kind.PROJECT].error == unstarted
    assert collection.abandoned == 2 and collection.deadline_exceeded
    assert stuck.busy(PROJECT) == 2  # the scope's next run is held back while they hang
    assert own_standin.requests_for("compute.subnetworks.aggregatedList") == []
    own_standin.stop()
    assert stuck.wait_idle(PROJECT, timeout=5.0)


def test_when_no_thread_starts_every_kind_is_an_error_at_once(standin: StandIn, recorder: Recorder) -> None:
    stuck = StuckCalls()
    started = time.monotonic()

    collection = collect_snapshot(
        PROJECT,
        [Kind.FIREWALLS, Kind.PROJECT],
        make_clients(standin.url),
        settings=fast(),
        observer=recorder,
        now=NOW,
        stuck=stuck,
        spawn=_FailingStart(1),
    )

    assert time.monotonic() - started < 1.0
    unstarted = "could not start a collection thread: RuntimeError: can't start new thread"
    assert {kind: data.error for kind, data in collection.snapshot.kinds.items()} == {
        Kind.FIREWALLS: unstarted,
        Kind.PROJECT: unstarted,
    }
    assert not collection.deadline_exceeded and collection.abandoned == 0 and stuck.total() == 0
    assert standin.requests == []
