"""Reproducible sampling: same seed, same sample; gaps are reported, never assumed passes."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from monitor.evidence import Ledger, sample, sweep_population_body
from monitor.evidence.canonical import format_time, parse_time
from monitor.evidence.sample import draw, population
from tests.evidence.conftest import INTERVAL, T0, run_body

DAY = timedelta(days=1)


@pytest.fixture
def history(ledger: Ledger) -> Ledger:
    """Two controls in two scopes, every 15 minutes for a day, except a 3-hour outage."""
    ledger.append(
        "sweep_population",
        sweep_population_body(
            ["shop-prod", "shop-dev", "shop-new"],
            T0,
            T0,
            controls={"shop-prod": ["FW-01", "IAM-01"], "shop-dev": ["FW-01"], "shop-new": ["FW-01"]},
            interval=INTERVAL,
        ),
        time=T0,
    )
    moment = T0
    while moment < T0 + DAY:
        if not (T0 + timedelta(hours=6) <= moment < T0 + timedelta(hours=9)):
            status = "fail" if T0 + timedelta(hours=12) <= moment < T0 + timedelta(hours=14) else "pass"
            for control, scope in (("FW-01", "shop-prod"), ("IAM-01", "shop-prod"), ("FW-01", "shop-dev")):
                ledger.append("control_run", run_body(control, scope, moment, status), time=moment)
        elif moment == T0 + timedelta(hours=6):
            ledger.append("daemon_stop", {"reason": "maintenance"}, time=moment)
        moment += INTERVAL
    return ledger


def test_same_seed_same_sample(history: Ledger) -> None:
    first = sample(history, T0, T0 + DAY, 25, seed="audit-2026-q1")
    again = sample(history, T0, T0 + DAY, 25, seed="audit-2026-q1")
    other = sample(history, T0, T0 + DAY, 25, seed="another seed")
    assert [s.to_json() for s in first] == [s.to_json() for s in again]
    assert [(s.moment, s.control, s.scope) for s in first] != [(s.moment, s.control, s.scope) for s in other]
    assert len(first) == 25
    assert all(format_time(T0) <= s.moment < format_time(T0 + DAY) for s in first)


def test_the_draw_is_the_documented_one() -> None:
    """Redrawn here from the module docstring alone, as an auditor's own script would."""
    digest = hashlib.sha256(b"controlwatch-sample/v1|42|3").digest()
    span_us = 86_400 * 1_000_000
    expected_moment = T0 + timedelta(microseconds=int.from_bytes(digest[:8], "big") * span_us // 2**64)
    expected_pick = int.from_bytes(digest[8:16], "big") * 5 // 2**64
    assert draw(42, 3, T0, T0 + DAY, 5) == (expected_moment, expected_pick)


def test_population_is_what_was_monitored_or_declared(history: Ledger) -> None:
    assert population(history, T0, T0 + DAY) == [
        ("FW-01", "shop-dev"),
        ("FW-01", "shop-new"),  # declared by the sweep population, never run: its samples are gaps
        ("FW-01", "shop-prod"),
        ("IAM-01", "shop-prod"),
    ]
    assert population(history, T0, T0 + DAY, controls=["FW-01"], scopes=["shop-prod"]) == [("FW-01", "shop-prod")]


def test_each_sample_gives_the_latest_run_before_the_moment(history: Ledger) -> None:
    for item in sample(history, T0, T0 + DAY, 60, seed=7):
        if item.scope == "shop-new":
            assert item.state == "gap" and "no earlier run" in item.note
            continue
        moment = parse_time(item.moment)
        if T0 + timedelta(hours=6, minutes=30) < moment < T0 + timedelta(hours=9):
            assert item.state == "gap"
            assert "no evidence: not monitored at that moment" in item.note
            assert item.context is not None and item.context["kind"] == "daemon_stop"
            continue
        assert item.state in ("pass", "fail")
        assert item.seq is not None and item.hash is not None and item.ended is not None
        ended = parse_time(item.ended)
        assert ended <= moment < ended + INTERVAL or moment >= T0 + timedelta(hours=6)
        record = history.get(item.seq)
        assert record is not None and record.hash == item.hash
        assert record.data["control"] == item.control and record.data["scope"] == item.scope
        if item.state == "fail":
            assert item.reasons and item.reasons[0]["verdict"] == "fail"
            assert item.counts["fail"] == 1


def test_samples_narrowed_to_controls_and_scopes(history: Ledger) -> None:
    drawn = sample(history, T0, T0 + DAY, 10, seed=1, controls=["IAM-01"])
    assert {(s.control, s.scope) for s in drawn} == {("IAM-01", "shop-prod")}
    assert sample(history, T0, T0 + DAY, 10, seed=1, scopes=["nowhere"]) == []


def test_bad_arguments(history: Ledger) -> None:
    with pytest.raises(ValueError, match="empty"):
        sample(history, T0, T0, 1, seed=1)
