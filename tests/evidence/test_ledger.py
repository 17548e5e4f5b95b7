"""The ledger: chain construction, canonical bodies, queries, durability settings, and
two processes appending at once without forking the chain."""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
import statistics
import struct
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.evidence import GENESIS, Ledger, LedgerError, verify_ledger
from monitor.evidence.canonical import canonical_json, format_time, parse_time
from tests.evidence.conftest import T0, run_body
from tests.evidence.workers import append_many


def test_records_form_a_chain_from_genesis(ledger: Ledger) -> None:
    first = ledger.append("daemon_start", {"version": "0.1.0"}, time=T0)
    second = ledger.append("control_run", run_body("FW-01", "shop-prod", T0), time=T0 + timedelta(seconds=1))
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert ledger.head() == second
    assert [r.seq for r in ledger.records()] == [1, 2]
    assert all(r.computed_hash() == r.hash for r in ledger.records())
    assert ledger.length() == 2


def test_hash_is_the_documented_encoding(ledger: Ledger) -> None:
    """A known-answer test written from the docstring, so another verifier can be checked against it.

    (Format 1's known answer is checked on a ledger written before format 2: test_formats.py.)
    """
    record = ledger.append("daemon_stop", {"reason": "SIGTERM", "pid": 7, "after": 24.0}, time=T0)
    body = b'{"after":24,"pid":7,"reason":"SIGTERM"}'
    assert record.body.encode() == body
    assert record.format == 2
    expected = hashlib.sha256(
        b"controlwatch-evidence/record/v2\x00"
        + struct.pack(">Q", 1)
        + struct.pack(">I", 11)
        + b"daemon_stop"
        + struct.pack(">I", 27)
        + b"2026-03-02T00:00:00.000000Z"
        + hashlib.sha256(body).digest()
        + bytes(32)
    ).hexdigest()
    assert record.hash == expected


def test_bodies_are_stored_as_canonical_json(ledger: Ledger) -> None:
    record = ledger.append("config_reload", {"b": 1, "a": {"z": "é", "y": [1, 2]}}, time=T0)
    assert record.body == '{"a":{"y":[1,2],"z":"é"},"b":1}'
    assert record.body == canonical_json(record.data)


@pytest.mark.parametrize(
    "body",
    [{"when": datetime(2026, 1, 1, tzinfo=UTC)}, {"x": float("nan")}, {"s": {1, 2}}],
    ids=["datetime", "nan", "set"],
)
def test_non_json_bodies_are_refused(ledger: Ledger, body: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        ledger.append("config_reload", body)
    assert ledger.head() is None


def test_unknown_kind_and_naive_time_are_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="unknown evidence record kind"):
        ledger.append("coffee_break", {})
    with pytest.raises(ValueError, match="naive"):
        ledger.append("daemon_start", {}, time=datetime(2026, 1, 1))


def test_time_never_goes_backwards(ledger: Ledger) -> None:
    ledger.append("daemon_start", {}, time=T0)
    stepped_back = ledger.append("daemon_stop", {}, time=T0 - timedelta(hours=1))
    assert stepped_back.time == format_time(T0)
    assert parse_time(stepped_back.time) == T0


def test_append_many_is_one_transaction(ledger: Ledger) -> None:
    ledger.append_many([("daemon_start", {"i": 1}), ("daemon_stop", {"i": 2})], time=T0)
    with pytest.raises(TypeError):
        ledger.append_many([("daemon_start", {"i": 3}), ("daemon_stop", {"bad": object()})], time=T0)
    assert [r.data["i"] for r in ledger.records()] == [1, 2]


def test_query_by_time_kind_control_and_scope(ledger: Ledger) -> None:
    ledger.append("daemon_start", {}, time=T0)
    for minute, (control, scope) in enumerate([("FW-01", "a-proj"), ("FW-02", "a-proj"), ("FW-01", "b-proj")], 1):
        ended = T0 + timedelta(minutes=minute)
        ledger.append("control_run", run_body(control, scope, ended), time=ended)
    window = (T0, T0 + timedelta(minutes=3))
    assert [r.seq for r in ledger.query(*window)] == [1, 2, 3]
    assert [r.seq for r in ledger.query(*window, kinds=["control_run"])] == [2, 3]
    assert [r.seq for r in ledger.query(T0, T0 + timedelta(hours=1), control="FW-01")] == [2, 4]
    assert [r.seq for r in ledger.query(T0, T0 + timedelta(hours=1), control="FW-01", scope="b-proj")] == [4]
    latest = ledger.latest_run("FW-01", "a-proj", T0 + timedelta(minutes=30))
    assert latest is not None and latest.seq == 2
    assert ledger.latest_run("FW-01", "a-proj", T0) is None


def test_records_are_read_in_batches_across_appends(ledger: Ledger) -> None:
    ledger.append_many([("daemon_start", {"i": i}) for i in range(4500)], time=T0)
    seen = []
    for record in ledger.records():
        seen.append(record.seq)
        if record.seq == 10:
            ledger.append("daemon_stop", {}, time=T0)  # the iteration holds no lock between batches
    assert seen == list(range(1, 4502))
    assert [r.seq for r in ledger.records(4499, 4500)] == [4499, 4500]


def test_durability_settings(ledger: Ledger, ledger_path: Path) -> None:
    ledger.append("daemon_start", {}, time=T0)
    conn = ledger._conn  # noqa: SLF001 - the pragmas are per connection
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10000


def test_triggers_refuse_update_and_delete(ledger: Ledger, ledger_path: Path) -> None:
    ledger.append("daemon_start", {}, time=T0)
    conn = sqlite3.connect(ledger_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE records SET body = '{}' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="prune"):
        conn.execute("DELETE FROM records WHERE seq = 1")
    conn.close()


def test_reopening_continues_the_chain(ledger_path: Path) -> None:
    with Ledger(ledger_path) as ledger:
        first = ledger.append("daemon_start", {}, time=T0)
    with Ledger(ledger_path) as ledger:
        second = ledger.append("daemon_stop", {}, time=T0)
    assert second.prev_hash == first.hash


def test_missing_ledger_is_not_created_for_readers(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Ledger(tmp_path / "nope.sqlite3", create=False)
    with pytest.raises(FileNotFoundError):
        verify_ledger(tmp_path / "nope.sqlite3")
    assert not (tmp_path / "nope.sqlite3").exists()


def test_a_locked_ledger_makes_writers_wait_then_fail_cleanly(ledger_path: Path) -> None:
    with Ledger(ledger_path, busy_timeout=0.2) as ledger:
        ledger.append("daemon_start", {}, time=T0)
        blocker = sqlite3.connect(ledger_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(LedgerError, match="write transaction"):
            ledger.append("daemon_stop", {}, time=T0)
        assert time.monotonic() - started >= 0.15  # it waited for the busy timeout
        blocker.execute("ROLLBACK")
        blocker.close()
        assert ledger.append("daemon_stop", {}, time=T0).seq == 2


def test_threads_share_one_ledger(ledger: Ledger) -> None:
    def work(name: str) -> None:
        for index in range(100):
            ledger.append("control_run", {"control": name, "scope": "p", "index": index})

    threads = [threading.Thread(target=work, args=(f"T-0{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = verify_ledger(ledger.path)
    assert report.ok, report.summary()
    assert report.records == 400


@pytest.mark.slow
def test_two_processes_appending_concurrently_never_fork_the_chain(ledger_path: Path) -> None:
    Ledger(ledger_path).close()  # create the schema once; the writers race on appends, not on setup
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    writers = [context.Process(target=append_many, args=(str(ledger_path), name, 200, barrier)) for name in ("a", "b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
        assert writer.exitcode == 0
    report = verify_ledger(ledger_path)
    assert report.ok, report.summary()
    assert (report.records, report.first_seq, report.last_seq) == (400, 1, 400)
    with Ledger(ledger_path) as ledger:
        records = list(ledger.records())
    by_writer = {"a": [], "b": []}  # type: dict[str, list[int]]
    for record in records:
        by_writer[record.data["writer"]].append(record.data["index"])
    assert by_writer == {"a": list(range(200)), "b": list(range(200))}
    # they really interleaved: neither wrote all of its records in one block
    writers_in_order = [r.data["writer"] for r in records]
    assert sum(1 for x, y in zip(writers_in_order, writers_in_order[1:], strict=False) if x != y) > 1


def test_append_latency(ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    """One fsync'd transaction per append: it must stay short for the scheduler thread."""
    body = run_body("FW-01", "shop-prod", T0)
    samples = []
    for _ in range(300):
        started = time.perf_counter()
        ledger.append("control_run", body)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p50, p99 = statistics.median(samples), samples[int(len(samples) * 0.99) - 1]
    with capsys.disabled():
        print(f"\nevidence append latency: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {samples[-1]:.2f} ms")
    assert p99 < 250  # generous: CI disks vary; the real figure is printed above


def test_utc_times_for_any_zone(ledger: Ledger) -> None:
    from datetime import timezone

    record = ledger.append("daemon_start", {}, time=datetime(2026, 3, 2, 1, 0, tzinfo=timezone(timedelta(hours=1))))
    assert record.time == "2026-03-02T00:00:00.000000Z"


def test_a_newer_ledger_format_is_not_written_to(ledger_path: Path) -> None:
    Ledger(ledger_path).close()
    conn = sqlite3.connect(ledger_path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(LedgerError, match="newer"):
        Ledger(ledger_path)


def test_a_clock_that_ran_ahead_is_noted(ledger: Ledger) -> None:
    ledger.append("daemon_start", {}, time=datetime.now(UTC) + timedelta(days=3))
    report = verify_ledger(ledger.path)
    assert report.ok
    assert any("in the future" in note for note in report.notes)
