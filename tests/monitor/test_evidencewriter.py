"""The daemon's evidence writer: appends off-thread, checkpoints, self-verifies on a schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.evidence import demo_key
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
