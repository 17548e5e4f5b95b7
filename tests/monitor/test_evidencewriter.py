"""The daemon's evidence writer: appends off-thread, checkpoints, self-verifies on a schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.evidence import Checkpointer, Ledger, demo_key
from monitor.sinks.evidence_writer import EvidenceWriter
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore
from tests.evidence.conftest import tamper
from tests.tools import wait_until


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def sample(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name, {})
    return float(value or 0)


def test_self_verification_catches_tampering_on_schedule(tmp_path: Path) -> None:
    clock = Clock()
    metrics = Metrics(ResultStore(), version="t")
    path = tmp_path / "ev.sqlite3"
    writer = EvidenceWriter(
        path,
        metrics,
        key=demo_key(),
        checkpoint_interval=timedelta(minutes=5),
        retention=timedelta(days=400),
        clock=clock,
    )
    writer.start()
    try:
        writer.submit([("daemon_start", {"n": i}) for i in range(5)])
        assert writer.flush(10)
        assert sample(metrics, "controlwatch_evidence_chain_length") >= 6  # 5 records and a checkpoint
        assert sample(metrics, "controlwatch_evidence_last_checkpoint_timestamp_seconds") == clock.now.timestamp()
        assert sample(metrics, "controlwatch_evidence_verify_failures_total") == 0
        tamper(path, "UPDATE records SET body = '{\"n\":99}' WHERE seq = 2")
        clock.now += timedelta(minutes=6)  # an incremental check is due: it starts after the edit
        writer.submit([("daemon_start", {"n": 5})])
        assert writer.flush(10)
        assert sample(metrics, "controlwatch_evidence_verify_failures_total") == 0
        clock.now += timedelta(days=1)  # the daily full re-verification reads the whole chain
        writer.submit([("daemon_start", {"n": 6})])
        assert writer.flush(10)
        assert wait_until(lambda: sample(metrics, "controlwatch_evidence_verify_failures_total") == 1, 10)
    finally:
        writer.close()


def test_self_verification_fails_when_the_head_stays_unsigned_past_max_unanchored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon holds its ledger to what `evidence verify` will: a signer that stopped
    working leaves an unsigned tail, which fails the self-check once the last checkpoint
    is older than max_unanchored (default: two checkpoint intervals)."""
    clock = Clock()
    clock.now = datetime.now(UTC)  # records are stamped by the wall clock; checkpoints by this one
    metrics = Metrics(ResultStore(), version="t")
    writer = EvidenceWriter(
        tmp_path / "ev.sqlite3",
        metrics,
        key=demo_key(),
        checkpoint_interval=timedelta(minutes=5),
        retention=timedelta(days=400),
        clock=clock,
    )
    writer.start()
    try:
        writer.submit([("daemon_start", {"n": 0})])
        assert writer.flush(10)
        assert sample(metrics, "controlwatch_evidence_last_checkpoint_timestamp_seconds") == clock.now.timestamp()
        checkpointer = writer._checkpointer
        assert checkpointer is not None
        monkeypatch.setattr(checkpointer, "maybe_checkpoint", lambda now, interval: None)  # signing broke
        for n, failures in ((1, 0), (2, 1)):  # the last checkpoint 6 minutes old, then 12 (limit: 10)
            clock.now += timedelta(minutes=6)
            writer.submit([("daemon_start", {"n": n})])
            assert writer.flush(10)
            assert wait_until(lambda f=failures: sample(metrics, "controlwatch_evidence_verify_failures_total") == f, 5)
    finally:
        writer.close()


def test_a_self_check_that_cannot_complete_counts_as_a_verify_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to be counted as an evidence *write* error, so ControlwatchEvidenceVerifyFailed never fired."""

    def cannot_complete(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the verifier broke")

    monkeypatch.setattr("monitor.sinks.evidence_writer.verify_ledger", cannot_complete)
    metrics = Metrics(ResultStore(), version="t")
    writer = EvidenceWriter(
        tmp_path / "ev.sqlite3",
        metrics,
        key=demo_key(),
        checkpoint_interval=timedelta(minutes=5),
        retention=timedelta(days=400),
        clock=Clock(),
    )
    writer.start()
    try:
        writer.submit([("daemon_start", {"n": 0})])
        assert writer.flush(10)
        assert wait_until(lambda: sample(metrics, "controlwatch_evidence_verify_failures_total") == 1, 10)
        assert sample(metrics, "controlwatch_evidence_write_errors_total") == 0
    finally:
        writer.close()


def test_a_head_checkpoint_stamped_in_no_ledger_form_is_not_believed_and_fails_the_self_check(tmp_path: Path) -> None:
    """Read with the ledger's strict parser (`fromisoformat` took it): the gauge stays unset, start-up goes
    on, and the self-check runs and fails even though checkpointing after that record fails too."""
    clock = Clock()
    path = tmp_path / "ev.sqlite3"
    with Ledger(path) as ledger:
        ledger.append("daemon_start", {"n": 0}, time=clock.now)
        assert Checkpointer(ledger, demo_key()).checkpoint(clock.now) is not None
    tamper(path, "UPDATE records SET time = '2026-11-25T12:00:00+00:00' WHERE kind = 'checkpoint'")
    metrics = Metrics(ResultStore(), version="t")
    writer = EvidenceWriter(
        path,
        metrics,
        key=demo_key(),
        checkpoint_interval=timedelta(minutes=5),
        retention=timedelta(days=400),
        clock=clock,
    )
    writer.start()
    try:
        assert sample(metrics, "controlwatch_evidence_last_checkpoint_timestamp_seconds") == 0
        writer.submit([("daemon_start", {"n": 1})])
        assert writer.flush(10)
        assert wait_until(lambda: sample(metrics, "controlwatch_evidence_verify_failures_total") == 1, 10)
    finally:
        writer.close()
