"""The drift-latency benchmark's own logic (the benchmark itself runs under `make bench`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest

from benchmarks import drift_latency as bench
from benchmarks import firewall_scale
from monitor.config.model import load_config
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore


def test_metric_value_reads_the_daemons_exposition() -> None:
    metrics = Metrics(ResultStore(), version="0.0.0")
    metrics.set_drift("DRIFT-01", "ledger-clean", True)
    metrics.set_drift("DRIFT-01", "shop-prod", False)
    text = generate_latest(metrics.registry).decode()
    name = "controlwatch_drift_active"
    assert bench.metric_value(text, name, {"control": "DRIFT-01", "scope": "ledger-clean"}) == 1
    assert bench.metric_value(text, name, {"control": "DRIFT-01", "scope": "shop-prod"}) == 0
    assert bench.metric_value(text, name, {"control": "DRIFT-02", "scope": "ledger-clean"}) is None


def _run_line(scope: str, ended: str, duration: float) -> str:
    return json.dumps({"scope": scope, "duration_s": duration, "message": "scope_run", "time": ended})


def test_mid_sweep_comes_from_the_daemons_run_log() -> None:
    lines = [
        "not json",
        _run_line("shop-prod", "2026-01-01T00:00:20Z", 5.0),
        _run_line("ledger-clean", "2026-01-01T00:00:10Z", 4.0),  # in flight 6..10 (epoch offsets below)
        json.dumps({"message": "daemon_started", "time": "2026-01-01T00:00:00Z"}),
    ]
    runs = bench.scope_runs(lines, "ledger-clean")
    assert len(runs) == 1
    base = runs[0].ended - 10
    assert runs[0].started == pytest.approx(base + 6)

    def mutation(at: float) -> bench.Mutation:
        return bench.Mutation(1, "revert", 0, "chained", base + at, 0.0, base + at + 0.01)

    between, early, late = mutation(3.0), mutation(6.5), mutation(8.0)
    bench.classify([between, early, late], runs, firewall_reads=[base + 2.0, base + 7.0])
    assert not between.mid_sweep and not between.after_read
    assert early.mid_sweep and not early.after_read  # the run listed the firewalls after it
    assert late.mid_sweep and late.after_read

    # the logged start is a few ms late: a listing just before it is still the run's own
    soon = mutation(6.2)
    bench.classify([soon], runs, firewall_reads=[base + 5.95])
    assert soon.mid_sweep and soon.after_read


def test_summary_and_verdict() -> None:
    def measured(latencies: list[float | None], mid: int) -> list[bench.Mutation]:
        found = [bench.Mutation(i, "widen", 1, "quiet", 0.0, 0.0, 0.0, v) for i, v in enumerate(latencies)]
        for m in found[:mid]:
            m.mid_sweep = True
        return found

    good = bench.summarise(measured([5.0] * 10 + [10.0] * 10 + [14.0], mid=3), planned=21)
    assert (good.n, good.median, good.worst, good.mid_sweep) == (21, 10.0, 14.0, 3)
    assert good.problems() == []
    slow = bench.summarise(measured([16.0] * 20 + [31.0], mid=3), planned=21)
    assert any("median" in p for p in slow.problems()) and any("worst" in p for p in slow.problems())
    lost = bench.summarise(measured([5.0] * 20 + [None], mid=0), planned=21)
    assert any("not seen" in p for p in lost.problems()) and any("mid-sweep" in p for p in lost.problems())


def test_plan_has_enough_mutations_and_chained_reverts() -> None:
    steps = bench.plan()
    assert len(steps) >= bench.MIN_MUTATIONS
    assert sum(step == ("revert", "chained") for step in steps) >= bench.MIN_MID_SWEEP
    state = 0
    for change, _ in steps:  # every change flips the drift state
        expected = {"widen": 1, "insert": 1, "revert": 0, "delete": 0}[change]
        assert expected != state
        state = expected
    assert state == 0


def test_config_keeps_the_default_intervals(tmp_path: Path) -> None:
    path = tmp_path / "cw.yaml"
    document = bench.config_document(["ledger-clean", "shop-prod"], "http://127.0.0.1:8085", tmp_path / "ev.sqlite3")
    path.write_text(yaml.safe_dump(document))
    config = load_config(path)
    assert config.drift.audit_poll_interval.total_seconds() == 10
    assert config.schedule.interval.total_seconds() == 15 * 60
    assert config.gcp.api_endpoint == "http://127.0.0.1:8085"


def test_the_firewall_estate_is_seeded_and_every_rule_is_judged() -> None:
    project = firewall_scale.estate(300)
    assert project == firewall_scale.estate(300) and len(project["firewalls"]) == 300
    assert len({rule["name"] for rule in project["firewalls"]}) == 300
    measured = firewall_scale.measure(300)
    assert measured["rules"] == 300 and measured["seconds"] > 0 and measured["rss_mb"] >= measured["rss_before_mb"]
    assert measured["results"] >= 6 * 300  # FW-01 to FW-06 give every rule a result


def test_the_estate_sweeps_estate_is_a_valid_scenario_of_distinct_projects() -> None:
    from benchmarks import estate_sweep
    from monitor.standin import load_scenario

    document = estate_sweep.estate(3)
    ids = [p["projectId"] for p in document["projects"]]
    assert ids == ["estate-0000", "estate-0001", "estate-0002"]
    assert len({p["name"] for p in document["projects"]}) == 3
    load_scenario(document)  # the stand-in takes it
    assert estate_sweep.most_in_any_window([0.0, 0.5, 0.9, 2.0, 2.05], 1.0) == 3
