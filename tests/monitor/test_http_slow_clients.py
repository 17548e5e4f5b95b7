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
