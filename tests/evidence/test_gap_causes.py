"""The auditor's coverage view explains a missing run from the records that say why: a run
skipped because calls were stuck, and evidence lost to a full disk (recorded later)."""

from __future__ import annotations

from datetime import timedelta

from monitor.evidence import Ledger, run_skipped_body, sample, summarize, sweep_population_body
from monitor.evidence.canonical import format_time
from monitor.evidence.report_html import render_report
from tests.evidence.conftest import INTERVAL, T0, run_body
from tests.evidence.test_report_html import visible_text

H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
STUCK = "not run: 1 call(s) of an earlier run are still stuck past its deadline"


def build(ledger: Ledger) -> dict[str, int]:
    """Day 1: shop-prod runs every 15 minutes until 20:00; shop-dev is skipped twice (stuck
    calls) and never runs. The disk is full from 20:00 to 02:00 on day 2: the loss is
    recorded at 08:00 on day 2, when the ledger takes writes again."""
    due = {"shop-prod": ["FW-01"], "shop-dev": ["FW-01"]}
    ledger.append("sweep_population", sweep_population_body(["shop-prod", "shop-dev"], T0, T0, controls=due), time=T0)
    seqs = {}
    for at in (T0, T0 + INTERVAL):
        body = run_skipped_body(scope="shop-dev", controls=["FW-01"], cause=STUCK, at=at, stuck_calls=1)
        seqs["last_skipped"] = ledger.append("run_skipped", body, time=at).seq
        seqs.setdefault("skipped", seqs["last_skipped"])
    moment = T0
    while moment < T0 + 20 * H:
        ledger.append("control_run", run_body("FW-01", "shop-prod", moment), time=moment)
        moment += INTERVAL
    lost = {
        "records": 24,
        "batches": 24,
        "kinds": {"control_run": 24},
        "scopes": ["shop-prod"],
        "unlisted_scope_records": 0,
        "first_lost": format_time(T0 + 20 * H),
        "last_lost": format_time(T0 + 26 * H),
        "first_error": "LedgerError: database or disk is full",
        "error": "LedgerError: database or disk is full",
    }
    seqs["lost"] = ledger.append("evidence_lost", lost, time=T0 + 32 * H).seq
    return seqs


def test_daily_coverage_names_the_recorded_causes(ledger: Ledger) -> None:
    seqs = build(ledger)
    summary = summarize(ledger, T0, T0 + 24 * H)  # the loss record itself is stamped after the period
    [day] = summary.coverage
    assert day.missing == ("shop-dev",) and day.checked == ("shop-prod",)
    lost = (
        "evidence lost: 24 record(s) (control_run) between 2026-03-02T20:00:00.000000Z and "
        f"2026-03-03T02:00:00.000000Z: LedgerError: database or disk is full (record {seqs['lost']})"
    )
    assert day.explained == {
        "shop-dev": (f"2 run(s) skipped: {STUCK} (record {seqs['skipped']})",),
        "shop-prod": (lost,),
    }
    assert [event["kind"] for event in summary.events] == ["run_skipped", "run_skipped"]
    # The next day: the loss (until 02:00) explains why shop-prod has no run either.
    [day2] = summarize(ledger, T0 + 24 * H, T0 + 48 * H).coverage
    assert day2.missing == ("shop-dev", "shop-prod") and day2.explained == {"shop-prod": (lost,)}
    assert [event["kind"] for event in summarize(ledger, T0 + 24 * H, T0 + 48 * H).events] == ["evidence_lost"]
    # Narrowed to a scope, only its causes.
    [narrow] = summarize(ledger, T0, T0 + 24 * H, scopes=["shop-prod"]).coverage
    assert narrow.explained == {"shop-prod": (lost,)}


def test_the_report_shows_the_causes_in_its_coverage_table(ledger: Ledger) -> None:
    seqs = build(ledger)
    summary = summarize(ledger, T0, T0 + 24 * H)
    page = render_report(summary.to_json(), title="gaps", period=(T0, T0 + 24 * H), ledger_head=None, verified=None)
    text = visible_text(page)
    assert f"missing: shop-dev shop-dev: 2 run(s) skipped: {STUCK} (record {seqs['skipped']})" in text
    assert "shop-prod: evidence lost: 24 record(s) (control_run) between 2026-03-02T20:00" in text


def test_a_sampled_gap_names_the_record_that_explains_it(ledger: Ledger) -> None:
    seqs = build(ledger)
    skipped = sample(ledger, T0 + MINUTE * 16, T0 + MINUTE * 30, 3, "s", scopes=["shop-dev"])
    assert {(s.state, s.context["kind"], s.context["seq"]) for s in skipped if s.context} == {
        ("gap", "run_skipped", seqs["last_skipped"])
    }
    assert all(s.context is not None for s in skipped)
    # 20:15 (the last run's two intervals) to 02:30 (the last lost run's), the loss recorded at 08:00 next day
    lost = sample(ledger, T0 + 21 * H, T0 + 22 * H, 3, "s", scopes=["shop-prod"])
    assert {(s.state, s.context["kind"], s.context["seq"]) for s in lost if s.context} == {
        ("gap", "evidence_lost", seqs["lost"])
    }
    assert all(s.context is not None for s in lost)
