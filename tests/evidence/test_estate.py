"""Several ledgers read as one estate: the replicas of a sharded deployment each keep their own.

Replica A watches shop-prod and ledger-prod, replica B shop-dev; at 12:00 the replica count
changes and shop-prod moves to B, which runs it from then on. Each ledger alone shows
shop-prod half unwatched; the estate shows it watched all day. Each ledger is verified on
its own chain: a tampered one fails the estate and is named.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.evidence import Ledger, summarize, sweep_population_body
from monitor.evidence.estate import Estate
from monitor.evidence.sample import population
from tests.evidence.conftest import INTERVAL, T0, run_body, tamper
from tests.test_cli import invoke

H = timedelta(hours=1)
DAY = (T0, T0 + 24 * H)


def _population(ledger: Ledger, scopes: list[str], at: timedelta) -> None:
    controls = {scope: ["FW-01"] for scope in scopes}
    moment = T0 + at
    ledger.append("sweep_population", sweep_population_body(scopes, moment, moment, controls=controls), time=moment)


def _runs(ledger: Ledger, scope: str, start: timedelta, end: timedelta) -> None:
    moment = T0 + start
    while moment < T0 + end:
        ledger.append("control_run", run_body("FW-01", scope, moment, "pass"), time=moment)
        moment += INTERVAL


@pytest.fixture
def replicas(tmp_path: Path) -> tuple[Path, Path]:
    """Two replicas' ledgers, in the layout of a StatefulSet's volumes copied out."""
    a, b = (
        tmp_path / "ledgers" / "controlwatch-0" / "evidence.sqlite3",
        tmp_path / "ledgers" / "controlwatch-1" / "evidence.sqlite3",
    )
    for path in (a, b):
        path.parent.mkdir(parents=True)
    with Ledger(a) as ledger:
        _population(ledger, ["ledger-prod", "shop-prod"], timedelta(0))
        _runs(ledger, "ledger-prod", timedelta(0), 24 * H)
        _runs(ledger, "shop-prod", timedelta(0), 12 * H)
        _population(ledger, ["ledger-prod"], 12 * H)  # shop-prod moved to the other replica
    with Ledger(b) as ledger:
        _population(ledger, ["shop-dev"], timedelta(0))
        _runs(ledger, "shop-dev", timedelta(0), 24 * H)
        _population(ledger, ["shop-dev", "shop-prod"], 12 * H)
        _runs(ledger, "shop-prod", 12 * H, 24 * H)
    return a, b


def test_a_scope_that_moved_between_replicas_has_one_unbroken_timeline(replicas: tuple[Path, Path]) -> None:
    a, b = replicas
    with Ledger(a, readonly=True) as first, Ledger(b, readonly=True) as second:
        alone = summarize(first, *DAY).get("FW-01", "shop-prod")
        estate = summarize(Estate([first, second]), *DAY)
    assert alone.gaps, "one replica's ledger alone shows shop-prod unwatched after it moved"
    moved = estate.get("FW-01", "shop-prod")
    assert moved.gaps == () and moved.runs == 96 and moved.shares["pass"] == pytest.approx(1.0)
    assert {(c.control, c.scope) for c in estate.controls} == {
        ("FW-01", "ledger-prod"),
        ("FW-01", "shop-dev"),
        ("FW-01", "shop-prod"),
    }
    [day] = estate.coverage
    assert set(day.expected) == {"ledger-prod", "shop-dev", "shop-prod"} and day.missing == ()


def test_the_population_in_force_is_the_union_of_every_replica(replicas: tuple[Path, Path]) -> None:
    a, b = replicas
    with Ledger(a, readonly=True) as first, Ledger(b, readonly=True) as second:
        estate = Estate([first, second])
        afternoon = estate.last_of_kinds_before(["sweep_population"], T0 + 13 * H)
        assert afternoon is not None
        assert afternoon.data["scopes"] == ["ledger-prod", "shop-dev", "shop-prod"]
        assert afternoon.data["controls"] == {s: ["FW-01"] for s in ("ledger-prod", "shop-dev", "shop-prod")}
        declared = [r.data["scopes"] for r in estate.query(T0, T0 + 24 * H, kinds=["sweep_population"])]
        assert declared[-1] == ["ledger-prod", "shop-dev", "shop-prod"]
        assert declared[1] == ["ledger-prod", "shop-dev", "shop-prod"]  # both replicas' first, together
        assert population(estate, *DAY) == [("FW-01", "ledger-prod"), ("FW-01", "shop-dev"), ("FW-01", "shop-prod")]


def test_records_come_in_time_order_with_distinct_numbers(replicas: tuple[Path, Path]) -> None:
    a, b = replicas
    with Ledger(a, readonly=True) as first, Ledger(b, readonly=True) as second:
        records = list(Estate([first, second]).query(*DAY))
        assert len(records) == len(list(first.query(*DAY))) + len(list(second.query(*DAY)))
    assert [r.at for r in records] == sorted(r.at for r in records)
    assert len({r.seq for r in records}) == len(records)


def test_verify_reads_repeated_ledgers_and_a_directory_each_on_its_own_chain(replicas: tuple[Path, Path]) -> None:
    a, b = replicas
    code, out, _ = invoke("evidence", "verify", "--ledger", str(a), "--ledger", str(b))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith(f"{a}: ") and any(line.startswith(f"{b}: ") for line in lines)
    assert lines[-1] == "estate of 2 ledgers: every ledger verified"
    sqlite3.connect(a.parent.parent / "baselines.sqlite3").close()  # the drift store beside: not a ledger
    code, out, _ = invoke("evidence", "verify", "--ledger", str(a.parent.parent), "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["ok"] is True
    assert [entry["ledger"] for entry in document["ledgers"]] == [str(a), str(b)]


def test_one_tampered_ledger_fails_the_estate_and_is_named(replicas: tuple[Path, Path]) -> None:
    a, b = replicas
    tamper(b, "UPDATE records SET body = replace(body, 'pass', 'fail') WHERE seq = 5")
    code, out, _ = invoke("evidence", "verify", "--ledger", str(a.parent.parent))
    assert code == 1
    assert out.splitlines()[-1] == "estate of 2 ledgers: 1 of 2 ledgers FAILED"
    assert out.splitlines()[0].startswith(f"{a}: OK")
    failed = out[out.index(f"{b}: FAILED") :]
    assert "record 5" in failed


def test_the_report_reads_every_ledger_as_one(replicas: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = replicas
    out = tmp_path / "report.html"
    args = ["--from", "2026-03-02", "--to", "2026-03-03", "--out", str(out)]
    code, said, _ = invoke("evidence", "report", "--ledger", str(a), "--ledger", str(b), *args)
    assert code == 0, said
    assert said.startswith(f"wrote {out}: 3 (control, scope) pairs over ")
    assert "heads of 2 ledgers read as one estate" in said
    html = out.read_text()
    assert "read as one estate" in html and str(a) in html and str(b) in html


def test_bad_sets_of_ledgers_are_usage_errors(replicas: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = replicas
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = invoke("evidence", "verify", "--ledger", str(empty))
    assert code == 2 and f"no evidence ledger (*.sqlite3) in the directory {empty}" in err
    code, _, err = invoke("evidence", "verify", "--ledger", str(a), "--ledger", str(a.parent.parent))
    assert code == 2 and f"the ledger {a} is named twice" in err
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(a, copy)
    code, _, _ = invoke("evidence", "verify", "--ledger", str(a), "--ledger", str(copy))
    assert code == 0  # a copy is another file: read as a second ledger
