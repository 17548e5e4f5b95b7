"""The year-long ledger generator of `make bench`, at a small size: a ledger the daemon could have written."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from benchmarks import evidence_year as bench
from monitor.evidence import Ledger, SigningKey, keyring
from monitor.evidence.references import References
from monitor.evidence.repeats import REPEATED, RUN, iso_week
from monitor.evidence.verify import verify_ledger


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory, key: SigningKey) -> tuple[Path, bench.Stats]:
    path = tmp_path_factory.mktemp("year") / "evidence.sqlite3"
    return path, bench.generate(path, key, projects=2, days=8)


def test_the_generated_ledger_verifies_with_its_key(year: tuple[Path, bench.Stats], key: SigningKey) -> None:
    path, stats = year
    report = verify_ledger(path, keyring([key]), clock=lambda: bench.START + timedelta(days=8))
    assert report.ok, report.problems
    runs = 2 * 8 * 96
    assert stats.repeated_runs + stats.full == runs * len(bench.controls())
    assert report.records == stats.full + stats.repeated_records + stats.checkpoints
    assert stats.checkpoints == 8 * 24


def test_every_control_is_written_in_full_on_the_first_run_of_each_week(year: tuple[Path, bench.Stats]) -> None:
    path, _ = year
    controls = len(bench.controls())
    with Ledger(path, readonly=True) as ledger:
        fulls = Counter(
            (record.data["scope"], iso_week(record.time))
            for record in ledger.records()
            if record.kind == RUN and record.data["ended"] == record.time
        )
        monday = bench.START + timedelta(days=7)
        first_of_week = list(ledger.query(monday, monday + timedelta(minutes=15), kinds=[RUN, REPEATED]))
    assert {r.kind for r in first_of_week} == {RUN} and len(first_of_week) == 2 * controls
    for week in (iso_week(bench.START.strftime("%Y-%m-%dT%H:%M:%S.%fZ")), iso_week(first_of_week[0].time)):
        for scope in ("estate-0000", "estate-0001"):
            assert fulls[(scope, week)] >= controls


def test_repeated_runs_read_back_as_whole_runs(year: tuple[Path, bench.Stats]) -> None:
    path, _ = year
    controls = {control.id for control in bench.controls()}
    start = bench.START + timedelta(days=6, hours=20)
    with Ledger(path, readonly=True) as ledger:
        runs = list(References(ledger).runs(start, start + timedelta(hours=8)))
    assert len(runs) == 2 * 32 * len(controls)  # every run of both projects, none lost to a reference
    for run in runs:
        data = run.data
        assert data["control"] in controls and data["ended"] == run.time
        assert len(data["results"]) == data["counts"]["checked"] and len(data["input_digest"]) == 64


def test_sizes_come_from_the_environment_or_fail_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTROLWATCH_BENCH_EVIDENCE_PROJECTS", "3")
    monkeypatch.delenv("CONTROLWATCH_BENCH_EVIDENCE_DAYS", raising=False)
    assert bench.sizes() == (3, bench.DAYS)
    monkeypatch.setenv("CONTROLWATCH_BENCH_EVIDENCE_DAYS", "a year")
    with pytest.raises(SystemExit, match="CONTROLWATCH_BENCH_EVIDENCE_DAYS='a year': expected a positive integer"):
        bench.sizes()


def test_the_measurement_reports_figures_next_to_goals(tmp_path: Path) -> None:
    result = bench.measure(1, 1, tmp_path)
    assert result["verified_ok"] is True and result["problems"] == []
    size = result["bytes_per_project_year"]
    assert size["goal"] == 200 * 10**6 and size["figure"] == round(result["ledger_bytes"] * 364)
    verify = result["verify_seconds_50_project_years"]
    assert verify["goal"] == 300.0 and verify["figure"] >= result["verify_seconds"]
