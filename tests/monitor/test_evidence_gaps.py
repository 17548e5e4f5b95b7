"""Every run that should have happened and did not is in the evidence with its cause: a run
skipped because calls are stuck (`run_skipped`), and records an append lost to a full disk
(`evidence_lost`, written once the ledger takes writes again)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from checks import default_registry
from monitor.daemon import Daemon
from monitor.drift.baselines import BaselineStore
from monitor.evidence import Ledger, LedgerError, Record, demo_key, keyring, verify_ledger
from monitor.evidence.canonical import format_time
from monitor.evidence.losses import LostEvidence
from monitor.run.runtime import Runtime
from monitor.sinks.evidence_writer import EvidenceWriter
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore
from tests.monitor.conftest import config_for
from tests.tools import wait_until

SCOPE = "shop-prod"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def records(path: Path) -> list[Record]:
    with Ledger(path, readonly=True) as ledger:
        return list(ledger.records())


def writer_at(path: Path, metrics: Metrics, clock: Clock | None = None) -> EvidenceWriter:
    return EvidenceWriter(
        path,
        metrics,
        key=demo_key(),
        checkpoint_interval=timedelta(hours=1),
        retention=timedelta(days=400),
        **({"clock": clock} if clock is not None else {}),
    )


def test_a_run_skipped_for_stuck_calls_is_recorded_with_its_cause(tmp_path: Path) -> None:
    def never(*args: Any) -> Any:
        raise AssertionError("a scope with stuck calls is not collected")

    path = tmp_path / "evidence.sqlite3"
    daemon = Daemon(
        config_for([SCOPE]),
        default_registry(),
        Runtime(collect=never, stuck_calls=lambda scope: 2),
        baselines=BaselineStore(tmp_path / "b.sqlite3"),
        evidence=lambda metrics: writer_at(path, metrics),
    )
    assert daemon.evidence is not None
    daemon.evidence.start()
    try:
        daemon.run_scope(SCOPE)
        assert daemon.evidence.flush(10)
    finally:
        daemon.evidence.close()
    enabled = sorted(i for i in default_registry().ids() if not i.startswith("DRIFT"))
    [skipped] = [record for record in records(path) if record.kind == "run_skipped"]
    body = skipped.data
    assert (body["scope"], body["controls"], body["stuck_calls"]) == (SCOPE, enabled, 2)
    assert body["cause"] == "not run: 2 call(s) of an earlier run are still stuck past its deadline"
    assert body["interval_seconds"] == 3600.0 and body["skipped_at"] <= skipped.time
    assert not any(record.kind == "control_run" for record in records(path))
    # The store says the same, per control (as before).
    assert {r.verdict.value for r in daemon.store.results(scope=SCOPE)} == {"error"}
    assert verify_ledger(path, keyring([demo_key()]), max_unanchored=timedelta(hours=2)).ok


class Disk:
    """The writer's ledger on a disk that fills up and is freed again: while full, every append
    fails as SQLite's does (`LedgerError` from SQLITE_FULL) and nothing is written."""

    def __init__(self, writer: EvidenceWriter, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        ledger = writer.ledger
        append_many = ledger.append_many

        def append(entries: Any, **kwargs: Any) -> Any:
            if self.full:
                raise LedgerError(f"{ledger.path}: append failed: database or disk is full")
            return append_many(entries, **kwargs)

        monkeypatch.setattr(ledger, "append_many", append)


def test_a_run_that_raised_is_recorded_with_its_cause(tmp_path: Path) -> None:
    def starved(*args: Any) -> Any:
        raise RuntimeError("can't start new thread")

    path = tmp_path / "evidence.sqlite3"
    daemon = Daemon(
        config_for([SCOPE]),
        default_registry(),
        Runtime(collect=starved, stuck_calls=lambda scope: 0),
        baselines=BaselineStore(tmp_path / "b.sqlite3"),
        evidence=lambda metrics: writer_at(path, metrics),
    )
    assert daemon.evidence is not None
    daemon.evidence.start()
    try:
        with pytest.raises(RuntimeError):
            daemon.run_scope(SCOPE)
        assert daemon.evidence.flush(10)
    finally:
        daemon.evidence.close()
    [skipped] = [record for record in records(path) if record.kind == "run_skipped"]
    assert skipped.data["cause"] == "not judged: the run failed: RuntimeError: can't start new thread"
    assert skipped.data["stuck_calls"] == 0


def _run(scope: str, n: int) -> tuple[str, dict[str, Any]]:
    return ("control_run", {"control": "FW-01", "scope": scope, "n": n})


def test_appends_lost_to_a_full_disk_are_recorded_ahead_of_the_next_append(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    metrics = Metrics(ResultStore(), version="t")
    path = tmp_path / "evidence.sqlite3"
    writer = writer_at(path, metrics, clock)
    disk = Disk(writer, monkeypatch)
    writer.start()
    try:
        writer.submit([("daemon_start", {"pid": 1})])
        assert writer.flush(10)
        disk.full = True
        first = clock.now
        writer.submit([_run("shop-prod", 1), _run("shop-dev", 1)])
        assert writer.flush(10)
        clock.now += timedelta(seconds=10)
        writer.submit([_run("shop-prod", 2), ("sweep_population", {"scopes": ["shop-prod"]})])
        assert writer.flush(10)
        errors = metrics.registry.get_sample_value("controlwatch_evidence_write_errors_total", {})
        assert errors is not None and errors >= 6  # three attempts per batch, and the idle tries
        assert [r.kind for r in records(path)] == ["daemon_start", "checkpoint"]
        disk.full = False
        writer.submit([_run("shop-prod", 3)])
        assert writer.flush(10)
    finally:
        writer.close()
    kinds = [r.kind for r in records(path)]
    assert kinds == ["daemon_start", "checkpoint", "evidence_lost", "control_run", "checkpoint"]
    lost = records(path)[2].data
    assert lost["records"] == 4 and lost["batches"] == 2
    assert lost["kinds"] == {"control_run": 3, "sweep_population": 1}
    assert lost["scopes"] == ["shop-dev", "shop-prod"] and lost["unlisted_scope_records"] == 0
    assert (lost["first_lost"], lost["last_lost"]) == (format_time(first), format_time(first + timedelta(seconds=10)))
    assert "database or disk is full" in lost["error"] and "database or disk is full" in lost["first_error"]
    assert verify_ledger(path, keyring([demo_key()])).ok


def test_an_idle_writer_records_the_loss_once_the_disk_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    metrics = Metrics(ResultStore(), version="t")
    path = tmp_path / "evidence.sqlite3"
    writer = writer_at(path, metrics, clock)
    disk = Disk(writer, monkeypatch)
    writer.start()
    try:
        writer.submit([("daemon_start", {"pid": 1})])
        assert writer.flush(10)
        disk.full = True
        writer.submit([_run("shop-prod", 1)])
        assert writer.flush(10)
        disk.full = False
        assert not any(r.kind == "evidence_lost" for r in records(path))  # not retried before 30s
        clock.now += timedelta(seconds=31)
        assert wait_until(lambda: any(r.kind == "evidence_lost" for r in records(path)), 10)
    finally:
        writer.close()
    lost = [r for r in records(path) if r.kind == "evidence_lost"]
    assert len(lost) == 1 and lost[0].data["records"] == 1


def test_the_tally_of_a_long_outage_stays_bounded() -> None:
    lost = LostEvidence()
    assert not lost
    moment = datetime(2026, 11, 25, tzinfo=UTC)
    for n in range(1000):
        lost.add([("control_run", {"scope": f"project-{n:04d}"}), (f"kind-{n % 50}", {})], "E" * 2000, moment)
    body = lost.body()
    assert body["records"] == 2000 and body["batches"] == 1000
    assert len(body["scopes"]) == 100 and body["unlisted_scope_records"] == 900
    assert len(body["kinds"]) == 33 and body["kinds"]["(other)"] == 19 * 20  # kind-31..kind-49, 20 times each
    assert len(body["error"]) == 500
    lost.clear()
    assert not lost
