"""The run's hard deadline: a dripping server is cut off from outside, its thread counted as stuck."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from checks.snapshot import Kind
from monitor.collect import RetryPolicy, StuckCalls, collect_snapshot, make_clients
from monitor.standin import Fault, StandIn
from tests.collect.conftest import NOW, PROJECT, Recorder, fast

FW = "compute.firewalls.list"


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
