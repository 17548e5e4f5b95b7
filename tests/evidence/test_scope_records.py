"""The watched set changing in the ledger: discovered and removed projects explain coverage and gaps."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor.evidence import Ledger, sample, summarize, sweep_population_body, verify_ledger
from monitor.evidence.bodies import scope_discovered_body, scope_discovery_failed_body, scope_removed_body
from monitor.evidence.records import KINDS
from monitor.evidence.report_text import describe_event
from tests.evidence.conftest import INTERVAL, T0, run_body

H = timedelta(hours=1)


def history(ledger: Ledger) -> Ledger:
    """Day one: shop-prod and old-shop watched; old-shop deleted at 06:00; shop-new found at 23:50."""
    population = {"shop-prod": ["FW-01"], "old-shop": ["FW-01"]}
    ledger.append("sweep_population", sweep_population_body(sorted(population), T0, T0, controls=population), time=T0)
    moment = T0
    while moment < T0 + 24 * H:
        ledger.append("control_run", run_body("FW-01", "shop-prod", moment, "pass"), time=moment)
        if moment < T0 + 6 * H:
            ledger.append("control_run", run_body("FW-01", "old-shop", moment, "pass"), time=moment)
        moment += INTERVAL
    gone = scope_removed_body(
        scope="old-shop",
        why="state DELETE_REQUESTED (only ACTIVE projects are watched)",
        cause="refresh",
        state="DELETE_REQUESTED",
    )
    ledger.append("scope_removed", gone, time=T0 + 6 * H)
    ledger.append(
        "sweep_population",
        sweep_population_body(["shop-prod"], T0 + 6 * H, T0 + 6 * H, controls={"shop-prod": ["FW-01"]}),
        time=T0 + 6 * H,
    )
    failed = scope_discovery_failed_body(
        error="HTTP 403", cause="refresh", roots=["organizations/1"], kept=["shop-prod"]
    )
    ledger.append("scope_discovery_failed", failed, time=T0 + 12 * H)
    late = T0 + 23 * H + 50 * timedelta(minutes=1)
    found = scope_discovered_body(scope="shop-new", why="found below organizations/1", cause="refresh")
    ledger.append("scope_discovered", found, time=late)
    both = {"shop-prod": ["FW-01"], "shop-new": ["FW-01"]}
    ledger.append("sweep_population", sweep_population_body(sorted(both), late, late, controls=both), time=late)
    return ledger


def test_the_ledger_accepts_and_verifies_the_scope_records(ledger: Ledger, ledger_path: Path) -> None:
    assert {"scope_discovered", "scope_removed", "scope_discovery_failed"} <= KINDS
    history(ledger)
    report = verify_ledger(ledger_path)
    assert report.ok, report.summary()


def test_daily_coverage_names_the_arrival_and_departure_of_a_project(ledger: Ledger) -> None:
    [day] = summarize(history(ledger), T0, T0 + 24 * H).coverage
    assert set(day.expected) == {"shop-prod", "old-shop", "shop-new"}
    assert set(day.missing) == {"shop-new"}  # old-shop ran before it left
    [why] = day.explained["shop-new"]
    assert why.startswith("watched from at ") and "found below organizations/1" in why
    [left] = day.explained["old-shop"]
    assert left.startswith("no longer watched at ") and "DELETE_REQUESTED" in left


def test_a_gap_after_a_removal_is_explained_by_it(ledger: Ledger) -> None:
    history(ledger)
    drawn = sample(ledger, T0 + 8 * H, T0 + 24 * H, 40, seed="s", scopes=["old-shop"])
    assert drawn and all(s.state == "gap" for s in drawn)
    assert {s.context["kind"] for s in drawn if s.context is not None} == {"scope_removed"}


def test_the_report_words_each_scope_event(ledger: Ledger) -> None:
    events = summarize(history(ledger), T0, T0 + 24 * H).events
    words = [line for event in events for line in describe_event(event).lines]
    assert "scope old-shop no longer watched (refresh): state DELETE_REQUESTED (only ACTIVE projects are watched)" in (
        words
    )
    assert "scope shop-new watched from now on (refresh): found below organizations/1" in words
    assert "scope discovery failed (refresh): HTTP 403; the 1 watched scope(s) were kept" in words
