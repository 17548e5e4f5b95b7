"""A writer behind the runs makes them wait (bounded memory); a stuck one never loses a batch."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from monitor.evidence import Ledger, demo_key
from monitor.sinks.evidence_writer import EvidenceWriter
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore


def slow_writer(tmp_path: Path, *, max_pending: int, wait: float) -> tuple[EvidenceWriter, threading.Event]:
    writer = EvidenceWriter(
        tmp_path / "ev.sqlite3",
        Metrics(ResultStore(), version="t"),
        key=demo_key(),
        checkpoint_interval=timedelta(hours=1),
        retention=timedelta(days=400),
        max_pending=max_pending,
        backpressure_wait=wait,
    )
    gate = threading.Event()
    append = writer.ledger.append_many

    def held(entries: Any, **options: Any) -> Any:
        gate.wait(10)  # the disk is slow until the gate opens
        return append(entries, **options)

    writer.ledger.append_many = held  # type: ignore[method-assign]
    return writer, gate


def submitted_in_background(writer: EvidenceWriter, count: int) -> tuple[threading.Thread, list[int]]:
    done: list[int] = []

    def run() -> None:
        for n in range(count):
            writer.submit([("daemon_start", {"n": n})])
            done.append(n)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done


def test_a_writer_behind_makes_the_submitter_wait_for_room(tmp_path: Path) -> None:
    writer, gate = slow_writer(tmp_path, max_pending=3, wait=30.0)
    writer.start()
    try:
        thread, done = submitted_in_background(writer, 6)
        thread.join(0.5)
        assert thread.is_alive() and len(done) == 3  # three batches wait; the fourth waits for room
        gate.set()
        thread.join(10)
        assert not thread.is_alive() and len(done) == 6
        assert writer.flush(10)
        assert writer.ledger.length() >= 6
    finally:
        gate.set()
        writer.close()


def test_a_stuck_writer_delays_the_submitter_a_bounded_time_and_loses_nothing(tmp_path: Path) -> None:
    writer, gate = slow_writer(tmp_path, max_pending=1, wait=0.1)
    writer.start()
    try:
        thread, done = submitted_in_background(writer, 4)
        thread.join(5)
        assert not thread.is_alive() and len(done) == 4  # each waited 0.1 s at most, then queued anyway
        gate.set()
        assert writer.flush(10)
        bodies = [r.data for r in writer.ledger.records() if r.kind == "daemon_start"]
        assert sorted(b["n"] for b in bodies) == [0, 1, 2, 3]
    finally:
        gate.set()
        writer.close()


def test_a_close_that_stops_waiting_never_closes_the_ledger_under_the_writer(tmp_path: Path) -> None:
    """Shutdown's wait is bounded, but the batches still queued are appended, not lost."""
    writer, gate = slow_writer(tmp_path, max_pending=100, wait=1.0)
    writer.start()
    for n in range(20):
        writer.submit([("daemon_start", {"n": n})])
    thread = writer._thread
    writer.close(timeout=0.05)  # the disk is still slow: close gives up waiting
    assert thread is not None and thread.is_alive()
    gate.set()
    thread.join(20)
    assert not thread.is_alive()
    with Ledger(tmp_path / "ev.sqlite3", readonly=True) as ledger:
        started = [r.data["n"] for r in ledger.records() if r.kind == "daemon_start"]
    assert started == list(range(20))
