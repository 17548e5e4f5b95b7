"""Evidence through the daemon: every run, start, stop, reload and population is in a ledger
that verifies, checkpoints are signed, and the Cloud Logging copy survives a failed write."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from checks import default_registry
from monitor.collect import CollectSettings, StuckCalls, make_clients
from monitor.config.model import Config
from monitor.daemon import Daemon
from monitor.drift.baselines import BaselineStore
from monitor.evidence import Ledger, demo_key, keyring, verify_ledger
from monitor.run.runtime import Runtime, make_collect
from monitor.sinks.evidence_copy import CloudCopy
from monitor.sinks.evidence_writer import EvidenceWriter
from monitor.sinks.metrics import Metrics
from monitor.standin import Fault, StandIn
from tests.monitor.conftest import FAST_RETRY, config_for

SCOPES = ["shop-prod", "ledger-clean"]
LOG = "projects/ledger-clean/logs/controlwatch-evidence"
RISK = """
exceptions:
  - {control: FW-09, scope: shop-prod, resource: "*/instances/web-1", reason: callbacks, approver: ciso@example.be,
     expires: "2099-03-31"}
"""


def build(standin: StandIn, tmp_path: Path, config: Config, *, cloud: bool = False) -> tuple[Daemon, Path]:
    clients = make_clients(standin.url)
    settings = CollectSettings(call_timeout=0.5, run_deadline=3.0, retry=FAST_RETRY)
    stuck = StuckCalls()
    runtime = Runtime(collect=make_collect(clients, settings, stuck), stuck_calls=stuck.busy, clients=clients)
    path = tmp_path / "evidence.sqlite3"

    def writer(metrics: Metrics) -> EvidenceWriter:
        copy = (
            CloudCopy(
                clients.get("logging"), LOG, metrics, on_failure=metrics.evidence_write_error, backoff_initial=0.0
            )
            if cloud
            else None
        )
        return EvidenceWriter(
            path,
            metrics,
            key=demo_key(),
            checkpoint_interval=timedelta(hours=1),
            retention=timedelta(days=400),
            copy=copy,
        )

    daemon = Daemon(
        config,
        default_registry(),
        runtime,
        baselines=BaselineStore(tmp_path / "b.sqlite3"),
        evidence=writer,
    )
    return daemon, path


def kinds(path: Path) -> list[str]:
    ledger = Ledger(path, create=False)
    try:
        return [record.kind for record in ledger.records()]
    finally:
        ledger.close()


def value(daemon: Daemon, name: str) -> float | None:
    got: Any = daemon.metrics.registry.get_sample_value(name, {})
    return got


def test_every_run_is_recorded_and_the_ledger_verifies(standin: StandIn, tmp_path: Path) -> None:
    config = config_for(SCOPES, RISK)
    daemon, path = build(standin, tmp_path, config)
    daemon.start()
    try:
        for scope in SCOPES:
            daemon.run_scope(scope)
        assert daemon.evidence is not None and daemon.evidence.flush(10)
    finally:
        daemon.stop(grace=2)
    recorded = kinds(path)
    enabled = len([c for c in default_registry() if not c.meta.id.startswith("DRIFT-")])
    assert recorded[0] == "daemon_start" and "sweep_population" in recorded
    assert recorded.count("control_run") >= enabled * len(SCOPES)
    assert recorded[-2:] == ["daemon_stop", "checkpoint"]
    report = verify_ledger(path, keyring([demo_key()]))
    assert report.ok and report.unanchored == 0, report.summary()
    assert value(daemon, "controlwatch_evidence_records_total") == len(recorded)
    assert value(daemon, "controlwatch_evidence_chain_length") == len(recorded)
    assert (value(daemon, "controlwatch_evidence_last_checkpoint_timestamp_seconds") or 0) > 0
    ledger = Ledger(path, create=False)
    try:
        runs = [
            r.data
            for r in ledger.records()
            if r.kind == "control_run" and r.data["control"] == "FW-09" and r.data["scope"] == "shop-prod"
        ]
    finally:
        ledger.close()
    excepted = [res for res in runs[0]["results"] if res.get("excepted")]
    assert excepted and "ciso@example.be" in str(excepted[0])
    assert runs[0]["source"] == "live" and runs[0]["input_digest"]


def test_reload_records_the_reload_and_exception_changes(standin: StandIn, tmp_path: Path) -> None:
    daemon, path = build(standin, tmp_path, config_for(SCOPES))
    daemon.start()
    try:
        assert daemon.reload(lambda: config_for(SCOPES, RISK))
        assert daemon.evidence is not None and daemon.evidence.flush(10)
    finally:
        daemon.stop(grace=2)
    recorded = kinds(path)
    assert "config_reload" in recorded and "exceptions_changed" in recorded
    assert recorded.count("sweep_population") == 2


def test_cloud_logging_copy_retries_a_failed_write_and_loses_nothing(standin: StandIn, tmp_path: Path) -> None:
    standin.add_fault(Fault(method="logging.entries.write", status=503, times=1))
    daemon, path = build(standin, tmp_path, config_for(["ledger-clean"]), cloud=True)
    daemon.start()
    try:
        daemon.run_scope("ledger-clean")
        assert daemon.evidence is not None and daemon.evidence.flush(10)
    finally:
        daemon.stop(grace=2)
    ledger = Ledger(path, create=False)
    try:
        seqs = {record.seq for record in ledger.records()}
    finally:
        ledger.close()
    copied = {int(e["labels"]["controlwatch_seq"]) for e in standin.written_entries(LOG)}
    assert copied == seqs
    assert (value(daemon, "controlwatch_evidence_write_errors_total") or 0) >= 1
    assert (
        daemon.metrics.registry.get_sample_value(
            "controlwatch_api_requests_total", {"service": "logging", "method": "logging.entries.write", "code": "503"}
        )
        == 1
    )
