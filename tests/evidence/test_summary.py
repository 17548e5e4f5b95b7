"""Report data: shares of time, failure and error intervals, gaps, drift, accepted risks,
per-area timelines and daily coverage, from a history with each of them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.evidence import Ledger, summarize, sweep_population_body
from monitor.evidence.canonical import format_time
from tests.evidence.conftest import INTERVAL, T0, run_body

H = timedelta(hours=1)
RISK = "accepted risk: legacy RDP jump host (approved by ciso@example.be, expires 2026-06-30)"


@pytest.fixture
def history(ledger: Ledger) -> Ledger:
    """Over 24 h from T0 (FW-01 in shop-prod unless said):
    00-04 pass, 04-06 fail, 06-08 pass, 08-09 error, 09-12 no runs (daemon down), 12-24 pass.
    DRIFT-01 fails 10:00-11:00 with one change, then another change, then passes.
    From 14:00 FW-01 carries an accepted risk. shop-dev is declared but only checked on day 1.
    """
    ledger.append(
        "sweep_population", sweep_population_body(["shop-prod", "shop-dev"], T0, T0, interval=INTERVAL), time=T0
    )
    moment = T0
    while moment < T0 + 48 * H:
        hour = (moment - T0) / H
        if moment < T0 + 24 * H:
            if not 9 <= hour < 12:
                status = "fail" if 4 <= hour < 6 else "error" if 8 <= hour < 9 else "pass"
                excepted = RISK if hour >= 14 else None
                ledger.append(
                    "control_run", run_body("FW-01", "shop-prod", moment, status, excepted=excepted), time=moment
                )
            elif hour == 9:
                ledger.append("daemon_stop", {"reason": "upgrade"}, time=moment)
            if 6 <= hour < 12:
                drift = "fail" if 10 <= hour < 11 else "pass"
                reason = "rule allow-ssh added" if hour < 10.5 else "rule allow-rdp added"
                ledger.append(
                    "control_run", run_body("DRIFT-01", "shop-prod", moment, drift, reason=reason), time=moment
                )
            if hour < 24 and moment.hour == 0 and moment.minute == 0:
                ledger.append("control_run", run_body("FW-01", "shop-dev", moment), time=moment)
        moment += INTERVAL
    return ledger


def test_shares_and_intervals_of_one_control(history: Ledger) -> None:
    summary = summarize(history, T0, T0 + 24 * H)
    fw = summary.get("FW-01", "shop-prod")
    assert fw.area == "firewall" and fw.interval_seconds == 900
    assert sum(fw.shares.values()) == pytest.approx(1.0)
    # the last pre-outage run (08:45, error) holds until 2 intervals later: 09:15
    assert fw.shares["fail"] == pytest.approx(2 / 24)
    assert fw.shares["error"] == pytest.approx(1.25 / 24)
    assert fw.shares["gap"] == pytest.approx(2.75 / 24)
    assert fw.shares["pass"] == pytest.approx(1 - (2 + 1.25 + 2.75) / 24)
    [failure] = fw.failures
    assert (failure.start, failure.end, failure.ended_by) == (
        format_time(T0 + 4 * H),
        format_time(T0 + 6 * H),
        "pass",
    )
    [error] = fw.errors
    assert (error.start, error.end, error.ended_by) == (
        format_time(T0 + 8 * H),
        format_time(T0 + 9 * H + 15 * timedelta(minutes=1)),
        "gap",
    )
    [gap] = fw.gaps
    assert (gap.start, gap.end, gap.ended_by) == (
        format_time(T0 + 9 * H + timedelta(minutes=15)),
        format_time(T0 + 12 * H),
        "pass",
    )
    assert fw.timeline[-1].end is None  # still passing at the end of the period
    assert fw.last_status == "pass"


def test_gaps_are_explained_by_daemon_events(history: Ledger) -> None:
    summary = summarize(history, T0, T0 + 24 * H)
    assert [(e["kind"], e["time"]) for e in summary.events] == [("daemon_stop", format_time(T0 + 9 * H))]


def test_drift_events_are_new_sets_of_changes(history: Ledger) -> None:
    drift = summarize(history, T0, T0 + 24 * H).get("DRIFT-01", "shop-prod")
    assert [(event.time, event.changes[0]["reason"]) for event in drift.drift] == [
        (format_time(T0 + 10 * H), "rule allow-ssh added"),
        (format_time(T0 + 10.5 * H), "rule allow-rdp added"),
    ]
    assert all(event.seq > 0 and len(event.hash) == 64 for event in drift.drift)
    assert drift.area == "drift"


def test_accepted_risks_with_approver_and_expiry(history: Ledger) -> None:
    fw = summarize(history, T0, T0 + 24 * H).get("FW-01", "shop-prod")
    [risk] = fw.accepted_risks
    assert (risk.reason, risk.approver, risk.expires) == ("legacy RDP jump host", "ciso@example.be", "2026-06-30")
    assert risk.first_seen == format_time(T0 + 14 * H)
    assert risk.runs == 40


def test_area_timeline_takes_the_worst_member(history: Ledger) -> None:
    summary = summarize(history, T0, T0 + 24 * H)
    firewall = summary.areas["firewall"]
    assert firewall[0].start == format_time(T0) and firewall[-1].end == format_time(T0 + 24 * H)
    states = [(segment.start, segment.state) for segment in firewall]
    assert (format_time(T0 + 4 * H), "fail") in states
    assert (format_time(T0 + 8 * H), "error") in states
    # shop-dev runs once a day: a gap for most of the day, shown in the counts
    assert firewall[1].counts["gap"] == 1


def test_daily_coverage_answers_was_every_project_checked(history: Ledger) -> None:
    summary = summarize(history, T0, T0 + 48 * H)
    day1, day2 = summary.coverage
    assert day1.expected == ("shop-dev", "shop-prod") and day1.missing == ()
    assert day2.missing == ("shop-dev", "shop-prod")


def test_narrowed_summary_and_json(history: Ledger) -> None:
    summary = summarize(history, T0, T0 + 24 * H, controls=["FW-01"], scopes=["shop-prod"])
    assert [(c.control, c.scope) for c in summary.controls] == [("FW-01", "shop-prod")]
    data = summary.to_json()
    assert data["controls"][0]["failures"][0]["ended_by"] == "pass"
    assert set(data) == {"from", "to", "controls", "areas", "coverage", "events", "first_seq", "last_seq", "changes"}


def test_a_population_stated_before_the_period_still_counts(history: Ledger) -> None:
    """Day 2 has no sweep_population record and no runs: the one from day 1 says who was due."""
    [day2] = summarize(history, T0 + 24 * H, T0 + 48 * H).coverage
    assert day2.expected == ("shop-dev", "shop-prod")
    assert day2.missing == ("shop-dev", "shop-prod")


def test_time_passing_only_under_an_accepted_risk_is_told_apart(history: Ledger) -> None:
    """From 14:00 FW-01 passes only because its one failure is under an accepted risk: the SOC 2
    view's `excepted`; the other states are the same as in `shares`."""
    fw = summarize(history, T0, T0 + 24 * H).get("FW-01", "shop-prod")
    detailed = fw.detailed_shares
    assert detailed["excepted"] == pytest.approx(10 / 24)
    assert detailed["pass"] == pytest.approx(fw.shares["pass"] - 10 / 24)
    assert all(detailed[state] == pytest.approx(fw.shares[state]) for state in ("fail", "error", "gap"))
    assert sum(detailed.values()) == pytest.approx(1.0)


def test_the_failing_resources_of_the_period_with_their_records(history: Ledger) -> None:
    fw = summarize(history, T0 + 3 * H, T0 + 24 * H).get("FW-01", "shop-prod")
    by_state = {item.state: item for item in fw.failing_resources}
    assert set(by_state) == {"fail", "excepted", "error"}
    failing = by_state["fail"]  # 04:00-06:00, eight runs; the run at 03:45 is not in the period
    assert (failing.first_seen, failing.last_seen, failing.runs) == (
        format_time(T0 + 4 * H), format_time(T0 + 5.75 * H), 8,
    )  # fmt: skip
    seqs = {r.seq: r for r in history.records()}
    assert seqs[failing.first_seq].data["ended"] == failing.first_seen
    assert seqs[failing.last_seq].data["ended"] == failing.last_seen
    excepted = by_state["excepted"]
    assert excepted.approver == "ciso@example.be" and excepted.expires == "2026-06-30" and excepted.runs == 40
    assert by_state["error"].runs == 4  # 08:00-08:45
