"""Our own per-API rate limits (`gcp.rate_limits`): the token bucket, and the calls that take its tokens.

The bucket is driven by an injected clock; the calls go through the real clients to the
stand-in, whose request log shows what was sent when.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from checks.snapshot import Kind
from monitor.collect import GcpClients, collect_snapshot
from monitor.collect.ratelimit import RateLimits, TokenBucket
from monitor.standin import Fault, StandIn
from tests.collect.conftest import NOW, PROJECT, Recorder, fast

FW = "compute.firewalls.list"
COMPUTE_KINDS = (Kind.FIREWALLS, Kind.NETWORKS, Kind.SUBNETWORKS, Kind.INSTANCES)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_its_burst_through_then_hands_out_one_moment_per_token() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, clock=clock)  # burst: one second's worth
    assert bucket.burst == 10
    assert [bucket.reserve(within=60) for _ in range(10)] == [0.0] * 10
    assert [bucket.reserve(within=60) for _ in range(3)] == pytest.approx([0.1, 0.2, 0.3])
    clock.now += 1.0  # the debt of 3 is paid off, 7 tokens saved
    assert [bucket.reserve(within=60) for _ in range(7)] == [0.0] * 7
    assert bucket.reserve(within=60) == pytest.approx(0.1)


def test_a_slow_bucket_saves_at_least_one_token_and_never_more_than_its_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(0.5, clock=clock)  # 30/m
    assert bucket.burst == 1
    assert bucket.reserve(within=60) == 0.0
    assert bucket.reserve(within=60) == pytest.approx(2.0)
    clock.now += 3600  # an idle hour saves one token, not 1,800
    assert bucket.reserve(within=60) == 0.0
    assert bucket.reserve(within=60) == pytest.approx(2.0)


def test_a_wait_that_would_reach_the_deadline_takes_nothing() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, clock=clock)
    assert bucket.reserve(within=1) == 0.0 and bucket.reserve(within=1) == 0.0
    assert bucket.reserve(within=0.5) is None  # the next token comes in 0.5 s: too late
    assert bucket.reserve(within=0.6) == pytest.approx(0.5)  # nothing was taken by the refusal
    bucket.refund()  # an abandoned waiter gives its token back
    assert bucket.reserve(within=0.6) == pytest.approx(0.5)


def test_concurrent_takers_each_get_their_own_moment() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100.0, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        mine = [bucket.reserve(within=60) for _ in range(50)]
        with lock:
            waits.extend(w for w in mine if w is not None)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # 400 tokens at 100/s with 100 saved: 100 at once, then one every 10 ms, none shared
    assert sorted(waits) == pytest.approx([0.0] * 100 + [k / 100 for k in range(1, 301)])


def _most_in_any_window(times: Sequence[float], window: float) -> int:
    ordered = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] > window:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_runs_sharing_the_limits_send_no_faster_than_the_rate(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    rate = 10.0
    limits = RateLimits({"compute": rate})
    started = time.monotonic()

    def run() -> None:
        collect_snapshot(PROJECT, COMPUTE_KINDS, clients, settings=fast(), observer=recorder, now=NOW, limits=limits)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    elapsed = time.monotonic() - started

    sent = [r.time for r in standin.requests if (r.method or "").startswith("compute.")]
    assert len(sent) == 6 * len(COMPUTE_KINDS)  # 24 calls: 10 at once, 14 more at 10 a second
    assert elapsed >= (len(sent) - rate) / rate - 0.05
    # Logged when answered, not when sent: a little slack for the answer's own time.
    assert _most_in_any_window(sent, 1.0) <= rate * 1.0 + rate + 2
    assert _most_in_any_window(sent, 0.5) <= rate * 0.5 + rate + 2
    assert recorder.waits and {service for service, _ in recorder.waits} == {"compute"}
    assert sum(seconds for _, seconds in recorder.waits) > 0


def test_other_apis_are_not_held_back_by_a_slow_one(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    limits = RateLimits({"compute": 0.5, "cloudresourcemanager": 100.0})
    kinds = (Kind.FIREWALLS, Kind.NETWORKS, Kind.PROJECT, Kind.IAM_POLICY)
    collection = collect_snapshot(
        PROJECT, kinds, clients, settings=fast(run_deadline=1.0), observer=recorder, now=NOW, limits=limits
    )
    snapshot = collection.snapshot
    assert snapshot.kinds[Kind.PROJECT].ok and snapshot.kinds[Kind.IAM_POLICY].ok
    errors = [snapshot.kinds[k].error for k in (Kind.FIREWALLS, Kind.NETWORKS) if not snapshot.kinds[k].ok]
    assert len(errors) == 1  # one compute token in 2 s: one listing gets it, the other cannot in time
    assert "deadline exceeded waiting for the compute rate limit" in str(errors[0])
    assert collection.deadline_exceeded and collection.abandoned == 0
    compute_sent = [r for r in standin.requests if (r.method or "").startswith("compute.")]
    assert len(compute_sent) == 1  # the refused call sent nothing


def test_a_call_without_a_token_in_time_fails_at_once_not_at_the_deadline(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    limits = RateLimits({"compute": 1 / 60})
    started = time.monotonic()
    collection = collect_snapshot(
        PROJECT,
        (Kind.FIREWALLS, Kind.NETWORKS),
        clients,
        settings=fast(run_deadline=5.0, max_workers=1),
        observer=recorder,
        now=NOW,
        limits=limits,
    )
    assert time.monotonic() - started < 2.5  # the next token is a minute away: no waiting for it
    errors = [data.error for data in collection.snapshot.kinds.values() if not data.ok]
    assert len(errors) == 1 and "waiting for the compute rate limit" in str(errors[0])


def test_every_retry_takes_a_token_too(standin: StandIn, clients: GcpClients, recorder: Recorder) -> None:
    standin.add_fault(Fault(method=FW, status=429, times=2))
    limits = RateLimits({"compute": 4.0})  # 4 saved, then one every 250 ms
    for _ in range(3):  # spend the saved tokens
        assert limits.bucket("compute").reserve(within=1) == 0.0  # type: ignore[union-attr]

    collection = collect_snapshot(
        PROJECT, (Kind.FIREWALLS,), clients, settings=fast(), observer=recorder, now=NOW, limits=limits
    )

    assert collection.snapshot.kinds[Kind.FIREWALLS].ok
    sent = sorted(r.time for r in standin.requests_for(FW))
    assert len(sent) == 3 and recorder.reasons() == ["429", "429"]
    gaps = [later - earlier for earlier, later in zip(sent, sent[1:], strict=False)]
    assert all(gap >= 0.2 for gap in gaps), gaps  # the retry table's 50 ms waits, stretched to the rate
