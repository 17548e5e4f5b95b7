"""A change approved before it is made, through the daemon and the stand-in (SOC 2 CC8.1).

`baseline approve --expect FILE --change CHG-7` before the change; the change made at the
stand-in through the real Compute client: the run the Admin Activity log triggers records
"approved change CHG-7 (approved by alice at T, before the change)", DRIFT passes and the
baseline moves. A change nobody pre-approved (a pending pre-approval expecting another
state does not cover it) fails DRIFT until someone approves it after the change. The
evidence report lists both changes: who made them, when, approved before or after.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from checks import default_registry
from checks.driftstate import kinds_for, watched_state
from monitor.collect import CollectSettings, NullObserver, StuckCalls, make_clients
from monitor.commands.baseline import make_baseline_group, record_approval
from monitor.commands.main import cli as main_cli
from monitor.config.model import parse_config
from monitor.daemon import Daemon
from monitor.demo import DEMO_SCENARIO
from monitor.drift.baselines import BaselineStore
from monitor.evidence import Ledger, demo_key, summarize
from monitor.run.runtime import Runtime, make_collect
from monitor.sinks.evidence_writer import EvidenceWriter
from monitor.sinks.metrics import Metrics
from monitor.standin import StandIn
from tests.monitor.conftest import FAST_RETRY
from tests.tools import wait_until

SCOPE = "ledger-clean"
PLANNED, UNPLANNED = "allow-iap-ssh", "allow-api-to-db"
WAIT = 20.0  # seconds for the audit poller (every 1s) to see a change and the run it triggers to end


def config_text(standin: StandIn, tmp_path: Path) -> str:
    return f"""
scopes:
  projects:
    - id: {SCOPE}
schedule: {{interval: 1h, jitter: 0s}}
gcp: {{call_timeout: 1s, run_deadline: 3s, max_workers: 4, api_endpoint: "{standin.url}"}}
metrics: {{listen: "127.0.0.1:0"}}
drift: {{audit_poll_interval: 1s}}
evidence: {{path: "{tmp_path / 'evidence.sqlite3'}"}}
"""


class Baselines:
    """`controlwatch baseline …` with the config the daemon runs (its store, its ledger)."""

    def __init__(self, config: Path) -> None:
        self.config = str(config)
        self.group = make_baseline_group(record=record_approval, interactive=lambda: False)

    def __call__(self, *args: str) -> str:
        result = CliRunner().invoke(self.group, [*args, "--config", self.config], catch_exceptions=False)
        assert result.exit_code == 0, result.output + result.stderr
        return result.stdout


@pytest.fixture
def daemon(standin: StandIn, tmp_path: Path) -> Iterator[tuple[Daemon, Baselines]]:
    original = yaml.safe_load(DEMO_SCENARIO.read_text())
    text = config_text(standin, tmp_path)
    (tmp_path / "config.yaml").write_text(text)
    config = parse_config(text, "config.yaml")
    clients = make_clients(standin.url)
    stuck = StuckCalls()
    collect = make_collect(clients, CollectSettings(call_timeout=1, run_deadline=5, retry=FAST_RETRY), stuck)
    store = BaselineStore(tmp_path / "baselines.sqlite3")  # beside evidence.path: where the commands write
    snapshot, _, _ = collect(SCOPE, kinds_for(["DRIFT-01", "DRIFT-02", "DRIFT-03"]), NullObserver(), datetime.now(UTC))
    store.approve(SCOPE, watched_state(snapshot), "bob@example.be", now=datetime.now(UTC) - timedelta(minutes=5))

    def writer(metrics: Metrics) -> EvidenceWriter:
        return EvidenceWriter(config.evidence.path, metrics, key=demo_key(), checkpoint_interval=timedelta(hours=1),
                              retention=timedelta(days=400))  # fmt: skip

    runtime = Runtime(collect=collect, stuck_calls=stuck.busy, clients=clients)
    made = Daemon(config, default_registry(), runtime, baselines=store, evidence=writer)
    try:
        yield made, Baselines(tmp_path / "config.yaml")
    finally:
        made.stop(grace=2)
        standin.load(original)


def patch(standin: StandIn, rule: str, ranges: list[str], who: str) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import compute_v1

    firewalls = compute_v1.FirewallsClient(
        credentials=AnonymousCredentials(), client_options={"api_endpoint": standin.url}
    )
    firewalls.patch(
        project=SCOPE,
        firewall=rule,
        firewall_resource=compute_v1.Firewall(source_ranges=ranges),
        metadata=[("x-standin-principal", who)],
    ).result(timeout=10)


def drift01(daemon: Daemon) -> list[Any]:
    return daemon.store.results(control="DRIFT-01", scope=SCOPE)


def status(daemon: Daemon) -> str | None:
    [state] = [s for s in daemon.store.states() if s.control == "DRIFT-01" and s.scope == SCOPE]
    return state.status.value if state.status else None


def last_run(daemon: Daemon, tmp_path: Path) -> list[dict[str, Any]]:
    """The results of DRIFT-01's latest run, as the evidence ledger recorded them."""
    assert daemon.evidence is not None and daemon.evidence.flush(10)
    with Ledger(tmp_path / "evidence.sqlite3", create=False) as ledger:
        runs = [r.data for r in ledger.records() if r.kind == "control_run" and r.data["control"] == "DRIFT-01"]
    results: list[dict[str, Any]] = runs[-1]["results"] if runs else []
    return results


def expecting(baselines: Baselines, tmp_path: Path, rule: str, ranges: list[str], name: str) -> str:
    """`baseline show --format json`, the rule's source ranges edited: the intended state."""
    out = baselines("show", "--format", "json", "--scope", SCOPE)
    start = out.index("{\n")  # the daemon running beside it logs to the same stdout
    shown, _ = json.JSONDecoder().raw_decode(out[start:])
    document = copy.deepcopy(shown)
    for part in document["baselines"][0]["controls"]:
        if part["control"] == "DRIFT-01":
            part["state"]["firewalls"][rule]["sourceRanges"] = ranges
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def test_a_pre_approved_change_passes_and_an_unapproved_one_fails_until_approved(
    standin: StandIn, daemon: tuple[Daemon, Baselines], tmp_path: Path
) -> None:
    running, baselines = daemon
    started = datetime.now(UTC) - timedelta(minutes=10)
    running.start()
    assert wait_until(lambda: running.store.ready()[0], WAIT)
    assert status(running) == "pass"

    # 1. Approved before the change: the intended state of DRIFT-01, a ticket, a window.
    expect = expecting(baselines, tmp_path, PLANNED, ["35.235.240.0/20", "10.0.0.0/8"], "chg-7.json")
    out = baselines("approve", "--expect", expect, "--change", "CHG-7", "--window", "1h", "--control", "DRIFT-01",
                    "--approver", "alice@example.be", "--yes")  # fmt: skip
    assert "pre-approved change CHG-7 for ledger-clean: DRIFT-01" in out
    patch(standin, PLANNED, ["35.235.240.0/20", "10.0.0.0/8"], "carol@example.be")

    def approved() -> list[dict[str, Any]]:  # passes are not kept by /results: the evidence has them
        return [r for r in last_run(running, tmp_path) if str(r["reason"]).startswith("approved change CHG-7")]

    assert wait_until(lambda: bool(approved()), WAIT)
    [done] = approved()
    assert done["verdict"] == "pass" and done["subject"] == "changed"
    assert "(approved by alice@example.be at " in done["reason"]
    assert ", before the change): firewall allow-iap-ssh changed: sourceRanges" in done["reason"]
    assert "changed by carol@example.be" in done["reason"] and status(running) == "pass"
    events = {"control": "DRIFT-01", "scope": SCOPE, "change": "changed"}
    assert not running.metrics.registry.get_sample_value("controlwatch_drift_events_total", events)
    moved = running.baselines.get(SCOPE)
    assert moved is not None and moved["controls"]["DRIFT-01"]["approved_by"] == "alice@example.be"
    assert moved["controls"]["DRIFT-01"]["state"]["firewalls"][PLANNED]["sourceRanges"] == [
        "10.0.0.0/8", "35.235.240.0/20"]  # fmt: skip
    running.run_scope(SCOPE)  # the next run: simply at the (new) baseline
    assert status(running) == "pass" and not approved()
    assert any("matches the baseline approved by alice@example.be" in r["reason"] for r in last_run(running, tmp_path))

    # 2. A pending pre-approval expects another state: the change made is not it, so it stays a drift.
    expect = expecting(baselines, tmp_path, UNPLANNED, ["10.50.0.0/24", "10.60.0.0/24"], "chg-8.json")
    baselines("approve", "--expect", expect, "--change", "CHG-8", "--control", "DRIFT-01",
              "--approver", "alice@example.be", "--yes")  # fmt: skip
    patch(standin, UNPLANNED, ["0.0.0.0/0"], "mallory@example.be")
    assert wait_until(lambda: status(running) == "fail", WAIT)
    assert wait_until(lambda: any("changed by mallory@example.be" in r.reason for r in drift01(running)), WAIT)
    running.run_scope(SCOPE)
    [drifted] = [r for r in drift01(running) if r.verdict.value == "fail"]
    assert status(running) == "fail" and "allow-api-to-db changed" in drifted.reason
    assert "not the change CHG-8 pre-approved by alice@example.be" in drifted.reason
    assert "approved change" not in drifted.reason
    assert running.metrics.registry.get_sample_value("controlwatch_drift_active", {"control": "DRIFT-01",
                                                                                  "scope": SCOPE}) == 1  # fmt: skip

    # 3. Approved after the change: the next run passes.
    baselines("approve", "--control", "DRIFT-01", "--change", "CHG-9", "--approver", "dave@example.be", "--yes")
    running.run_scope(SCOPE)
    assert status(running) == "pass"
    assert running.evidence is not None and running.evidence.flush(10)

    # 4. The evidence: both changes, who made them, when, approved before or after.
    ended = datetime.now(UTC) + timedelta(seconds=1)
    with Ledger(tmp_path / "evidence.sqlite3", create=False) as ledger:
        summary = summarize(ledger, started, ended, controls=["DRIFT-01"])
        approvals = [r.data for r in ledger.records() if r.kind == "baseline_approved"]
    assert [(a.get("change"), a.get("before_change"), "expires" in a) for a in approvals] == [
        ("CHG-7", True, True), ("CHG-7", True, False), ("CHG-8", True, True), ("CHG-9", None, False)]  # fmt: skip
    changes = {c.resource.rsplit("/", 1)[-1]: c for c in summary.changes}
    assert set(changes) == {PLANNED, UNPLANNED}
    planned, unplanned = changes[PLANNED], changes[UNPLANNED]
    assert (planned.approval, planned.ticket, planned.approved_by, planned.made_by) == (
        "before", "CHG-7", "alice@example.be", "carol@example.be")  # fmt: skip
    assert (unplanned.approval, unplanned.ticket, unplanned.approved_by, unplanned.made_by) == (
        "after", "CHG-9", "dave@example.be", "mallory@example.be")  # fmt: skip
    assert planned.detected < unplanned.detected < (unplanned.approved_at or "")
    assert "sourceRanges" in planned.what and "0.0.0.0/0" in unplanned.what

    out = tmp_path / "report.html"
    result = CliRunner().invoke(main_cli, ["evidence", "report", "--ledger", str(tmp_path / "evidence.sqlite3"),
                                           "--from", started.isoformat(), "--to", ended.isoformat(),
                                           "--out", str(out), "--no-verify"])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = out.read_text()
    section = page[page.index('<section id="changes">') :]
    assert "<strong>approved before the change</strong>: change CHG-7, by alice@example.be" in section
    assert "approved after the change, by dave@example.be" in section and "(change CHG-9)" in section
    assert "carol@example.be" in section and "mallory@example.be" in section
    cc81 = page[page.index('id="cc81-changes"') :]
    assert "2 changes</a> of the\ndrift-watched state: <strong>1 approved before the change</strong>, 1" in cc81
