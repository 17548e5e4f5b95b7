"""Slow clients cost the metrics port a socket each, never a thread: scrapes answer while
hundreds of connections dribble or say nothing, and the scheduler's threads are never starved."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from monitor.sinks.http_dispatch import Limits
from monitor.sinks.http_server import MetricsServer
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore
from tests.monitor.conftest import config_for
from tests.monitor.test_daemon_faults import MakeDaemon, statuses
from tests.tools import wait_until

SLOW = 200


def scrape(port: int, path: str = "/metrics", timeout: float = 5.0) -> tuple[int, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        conn.close()


def slow_clients(port: int, count: int, stack: ExitStack) -> list[socket.socket]:
    """`count` connections: half send nothing, half the start of a request line and no more."""
    opened = []
    for i in range(count):
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        if i % 2:
            sock.sendall(b"GET /metr")
        opened.append(sock)
    return opened


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    store = ResultStore()
    served = MetricsServer("127.0.0.1:0", Metrics(store, version="0.1.0", mode="live"), store)
    served.start()
    yield served
    served.stop()


def test_scrapes_answer_at_once_while_200_connections_dribble(server: MetricsServer) -> None:
    threads_before = threading.active_count()
    with ExitStack() as stack:
        slow_clients(server.port, SLOW, stack)
        time.sleep(0.3)
        for path in ("/metrics", "/healthz", "/results"):
            status, took = scrape(server.port, path)
            assert status == 200 and took < 2.0, (path, took)
        # 200 open connections, and not one thread more than the fixed pool answering requests
        assert threading.active_count() <= threads_before + Limits().workers


def test_a_head_that_never_arrives_is_closed_at_its_timeout() -> None:
    store = ResultStore()
    limits = Limits(head_timeout=0.3)
    served = MetricsServer("127.0.0.1:0", Metrics(store, version="0.1.0", mode="live"), store, limits=limits)
    served.start()
    try:
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as idle:
            idle.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # the blank line never comes
            assert idle.recv(1) == b""  # closed by the server, not answered
        assert wait_until(lambda: served.slow_clients_dropped == 1, 5)
        assert scrape(served.port)[0] == 200
    finally:
        served.stop()


def test_past_max_pending_the_oldest_waiting_connection_is_dropped() -> None:
    store = ResultStore()
    served = MetricsServer(
        "127.0.0.1:0", Metrics(store, version="0.1.0", mode="live"), store, limits=Limits(max_pending=10)
    )
    served.start()
    try:
        with ExitStack() as stack:
            first, *rest = slow_clients(served.port, 15, stack)
            assert wait_until(lambda: served.slow_clients_dropped >= 5, 5)
            assert first.recv(1) == b""  # the oldest went first
            assert scrape(served.port)[0] == 200
    finally:
        served.stop()


def test_a_huge_head_is_refused_not_buffered_without_bound(server: MetricsServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * (Limits().max_head + 10))
        reply = client.recv(64)
    assert reply.startswith(b"HTTP/1.0 431 "), reply


def test_runs_go_on_and_scrapes_answer_while_200_slow_clients_hold_the_daemon_port(make_daemon: MakeDaemon) -> None:
    daemon, _ = make_daemon(config_for(["shop-prod", "ledger-clean"]))
    daemon.start()
    with ExitStack() as stack:
        slow_clients(daemon.server.port, SLOW, stack)
        assert wait_until(lambda: daemon.store.ready()[0], 30)  # the first run of every scope ended
        daemon.scheduler.request_run("ledger-clean")
        assert wait_until(lambda: statuses(daemon, "ledger-clean").get("FW-01") == "pass", 30)
        status, took = scrape(daemon.server.port)
        assert status == 200 and took < 2.0


def big_store(results: int = 20_000) -> ResultStore:
    """One control with many failing results: a `/results` answer of a few megabytes."""
    from checks.model import Verdict
    from tests.monitor.test_store import FW01, res

    store = ResultStore()
    store.configure([(FW01, "shop-prod", 900.0)])
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.FAIL, f"rule-{i}") for i in range(results)], 1.0)
    return store


def never_reading(port: int, count: int, stack: ExitStack) -> None:
    """`count` clients that ask for the big answer and never read a byte of it."""
    for _ in range(count):
        sock = stack.enter_context(socket.socket())
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"GET /results HTTP/1.1\r\nHost: x\r\n\r\n")


def test_clients_that_never_read_their_answer_hold_no_worker() -> None:
    """Workers answer into memory; the dispatcher writes as clients take it. Eight clients that
    never read a multi-megabyte answer used to hold every worker in a blocking send."""
    store = big_store()
    limits = Limits(write_timeout=1.0)
    served = MetricsServer("127.0.0.1:0", Metrics(store, version="0.1.0", mode="live"), store, limits=limits)
    served.start()
    try:
        with ExitStack() as stack:
            never_reading(served.port, 2 * Limits().workers, stack)
            time.sleep(0.3)
            status, took = scrape(served.port, "/healthz")
            assert status == 200 and took < 5.0, took  # blocked behind the stalled sends: ~20 s
            # ... and each stalled answer is cut at its write deadline, freeing its socket.
            assert wait_until(lambda: served.slow_clients_dropped >= 2 * Limits().workers, 10)
    finally:
        served.stop()


def test_past_max_in_flight_new_requests_are_answered_503_at_once() -> None:
    store = big_store()
    limits = Limits(max_in_flight=3, write_timeout=5.0)
    served = MetricsServer("127.0.0.1:0", Metrics(store, version="0.1.0", mode="live"), store, limits=limits)
    served.start()
    try:
        with ExitStack() as stack:
            never_reading(served.port, 3, stack)
            time.sleep(0.3)
            status, took = scrape(served.port, "/healthz")
            assert status == 503 and took < 2.0
    finally:
        served.stop()
    assert served.slow_clients_dropped == 0  # stopped before their write deadline: not counted
