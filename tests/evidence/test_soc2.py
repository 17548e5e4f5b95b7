"""The SOC 2 view: per Trust Services Criterion, the share of the period each control × scope was
passing, excepted, failing, in error or unmonitored (a table of cases over real ledgers), the
failing resources named with their records, and every criterion of the period's controls in
`evidence report` and `evidence soc2`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.commands.main import cli
from monitor.evidence import Checkpointer, Ledger, SigningKey, summarize
from monitor.evidence.failing import FailingTracker
from monitor.evidence.signing import public_key_pem
from monitor.evidence.soc2 import (
    CRITERIA_TITLES,
    UNMAPPED,
    ControlRef,
    Soc2View,
    catalogue_refs,
    criteria_of,
    criterion_order,
    soc2_view,
)
from tests.evidence.conftest import INTERVAL, T0, run_body

H = timedelta(hours=1)
END = T0 + 4 * H
RISK = "accepted risk: legacy jump host (approved by ciso@example.be, expires 2026-06-30)"
FROM, TO = "2026-03-02", "2026-03-02T04:00:00Z"

# What a control × scope does at each hour of the period [0, 4): (status, under an accepted risk?),
# or None for no run at all.
Plan = Callable[[float], tuple[str, bool] | None]


def passes(hour: float) -> tuple[str, bool] | None:
    return ("pass", False)


def fails_in_second_hour(hour: float) -> tuple[str, bool] | None:
    return ("fail" if 1 <= hour < 2 else "pass", False)


def excepted_from_two(hour: float) -> tuple[str, bool] | None:
    return ("pass", hour >= 2)


def fails_with_a_risk_too(hour: float) -> tuple[str, bool] | None:
    return ("fail", True)  # a failure beside an excepted one is a failure, not "excepted"


def error_from_two(hour: float) -> tuple[str, bool] | None:
    return ("error" if hour >= 2 else "pass", False)


def stops_after_1_45(hour: float) -> tuple[str, bool] | None:
    return ("pass", False) if hour <= 1.75 else None


def fails(hour: float) -> tuple[str, bool] | None:
    return ("fail", False)


@dataclass(frozen=True)
class Case:
    name: str
    plans: dict[tuple[str, str], Plan]
    shares: dict[str, dict[str, float]]  # criterion -> the non-zero shares
    attention: dict[str, int]  # criterion -> pairs not passing throughout


# FW-01 evidences CC6.1 and CC6.6; IAM-01 CC6.1 and CC6.3; BKP-01 A1.2 and CC9.1 (the catalogue).
CASES = [
    Case("passing throughout", {("FW-01", "p"): passes}, {"CC6.1": {"pass": 1}, "CC6.6": {"pass": 1}}, {"CC6.1": 0}),
    Case(
        "failing one hour of four",
        {("FW-01", "p"): fails_in_second_hour},
        {"CC6.1": {"pass": 0.75, "fail": 0.25}, "CC6.6": {"pass": 0.75, "fail": 0.25}},
        {"CC6.6": 1},
    ),
    Case(
        "passing only under an accepted risk is excepted",
        {("FW-01", "p"): excepted_from_two},
        {"CC6.6": {"pass": 0.5, "excepted": 0.5}},
        {"CC6.6": 1},
    ),
    Case(
        "an excepted failure beside a plain one is failing",
        {("FW-01", "p"): fails_with_a_risk_too},
        {"CC6.6": {"fail": 1}},
        {"CC6.6": 1},
    ),
    Case(
        "in error half the period",
        {("IAM-01", "p"): error_from_two},
        {"CC6.1": {"pass": 0.5, "error": 0.5}, "CC6.3": {"pass": 0.5, "error": 0.5}},
        {"CC6.3": 1},
    ),
    Case(
        # the last run, at 01:45, holds for two intervals: to 02:15; then nothing is known
        "unmonitored after the runs stop",
        {("BKP-01", "p"): stops_after_1_45},
        {"A1.2": {"pass": 2.25 / 4, "gap": 1.75 / 4}, "CC9.1": {"pass": 2.25 / 4, "gap": 1.75 / 4}},
        {"A1.2": 1},
    ),
    Case(
        "a criterion is the mean of its pairs",
        {("FW-01", "p"): fails, ("FW-01", "q"): passes},
        {"CC6.6": {"pass": 0.5, "fail": 0.5}},
        {"CC6.6": 1},
    ),
    Case(
        "each criterion counts only its own controls",
        {("FW-01", "p"): fails, ("BKP-01", "p"): passes, ("IAM-01", "p"): passes},
        {"CC6.6": {"fail": 1}, "CC6.3": {"pass": 1}, "A1.2": {"pass": 1}, "CC6.1": {"pass": 0.5, "fail": 0.5}},
        {"CC6.1": 1, "CC6.3": 0, "A1.2": 0},
    ),
]


def build(path: Path, plans: dict[tuple[str, str], Plan], key: SigningKey | None = None) -> None:
    with Ledger(path) as ledger:
        moment = T0
        while moment < END:
            hour = (moment - T0) / H
            for (control, scope), plan in plans.items():
                planned = plan(hour)
                if planned is None:
                    continue
                status, excepted = planned
                body = run_body(
                    control,
                    scope,
                    moment,
                    status,
                    resource=f"//compute.googleapis.com/projects/{scope}/global/firewalls/{control.lower()}",
                    excepted=RISK if excepted else None,
                )
                ledger.append("control_run", body, time=moment)
            moment += INTERVAL
        if key is not None:
            Checkpointer(ledger, key).checkpoint(END + timedelta(seconds=1))


def view_of(path: Path) -> Soc2View:
    with Ledger(path, readonly=True) as ledger:
        return soc2_view(summarize(ledger, T0, END), catalogue_refs())


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_shares_of_each_criterion(case: Case, tmp_path: Path) -> None:
    build(tmp_path / "l.sqlite3", case.plans)
    view = view_of(tmp_path / "l.sqlite3")
    by_id = {criterion.id: criterion for criterion in view.criteria}
    for criterion, expected in case.shares.items():
        shares = by_id[criterion].shares
        assert sum(shares.values()) == pytest.approx(1.0)
        assert {state: share for state, share in shares.items() if share > 1e-9} == pytest.approx(expected), criterion
    for criterion, count in case.attention.items():
        assert len(by_id[criterion].attention) == count, criterion
    # every criterion any of the case's controls declares is there, and no other
    assert set(by_id) == criteria_of(catalogue_refs(), {control for control, _ in case.plans})


def test_pairs_needing_attention_come_worst_first_and_clean_ones_are_kept_apart(tmp_path: Path) -> None:
    plans: dict[tuple[str, str], Plan] = {
        ("FW-01", "a"): fails_in_second_hour,
        ("FW-01", "b"): fails,
        ("FW-01", "c"): passes,
        ("FW-01", "d"): error_from_two,
    }
    build(tmp_path / "l.sqlite3", plans)
    criterion = next(c for c in view_of(tmp_path / "l.sqlite3").criteria if c.id == "CC6.6")
    assert [pair.scope for pair in criterion.attention] == ["b", "a", "d"]
    assert [pair.scope for pair in criterion.clean] == ["c"] and criterion.clean[0].throughout
    assert criterion.controls == ("FW-01",)


def test_a_control_the_catalogue_does_not_know_is_listed_as_unmapped(tmp_path: Path) -> None:
    build(tmp_path / "l.sqlite3", {("FW-01", "p"): passes, ("ZZ-99", "p"): fails})
    view = view_of(tmp_path / "l.sqlite3")
    assert view.criteria[-1].id == UNMAPPED and view.criteria[-1].controls == ("ZZ-99",)
    assert view.criteria[-1].shares["fail"] == pytest.approx(1)


def test_criteria_are_in_the_order_of_the_trust_services_criteria() -> None:
    ids = ["C1.1", "A1.2", UNMAPPED, "CC6.10", "CC6.6", "CC2.3", "CC6.1", "PI1.3", "P4.1", "CC9.2"]
    assert sorted(ids, key=criterion_order) == [
        "CC2.3", "CC6.1", "CC6.6", "CC6.10", "CC9.2", "A1.2", "PI1.3", "C1.1", "P4.1", UNMAPPED,
    ]  # fmt: skip


def test_every_criterion_the_catalogue_declares_has_a_title() -> None:
    refs = catalogue_refs()
    assert refs and all(ref.criteria for ref in refs.values())  # every control evidences a criterion
    declared = {criterion for ref in refs.values() for criterion in ref.criteria}
    assert declared - set(CRITERIA_TITLES) == set()


# --- failing resources, with their records --------------------------------------------------


def test_the_tracker_names_each_failing_resource_with_its_first_and_last_record() -> None:
    tracker = FailingTracker("FW-01", "p")

    def run(ended: str, *results: dict[str, object]) -> dict[str, object]:
        return {"ended": ended, "results": list(results)}

    ssh = {"resource": "fw/ssh", "subject": "tcp:22", "verdict": "fail", "reason": "open", "excepted": False}
    rdp = {
        "resource": "fw/rdp",
        "subject": "tcp:3389",
        "verdict": "fail",
        "reason": "RDP",
        "excepted": True,
        "exception": {"reason": "jump host", "approver": "ciso@example.be", "expires": "2026-06-30"},
    }
    unread = {"resource": "fw/x", "subject": "", "verdict": "error", "reason": "403"}
    fine = {"resource": "fw/web", "subject": "tcp:443", "verdict": "pass", "reason": "ok"}
    tracker.note(10, run("t1", ssh, rdp, fine))
    tracker.note(12, run("t2", {**ssh, "reason": "still open"}, rdp, unread))
    tracker.note(15, run("t3", rdp, fine))
    found = {(item.resource, item.state): item for item in tracker.resources()}
    assert [(item.resource, item.state) for item in tracker.resources()] == [
        ("fw/ssh", "fail"),
        ("fw/rdp", "excepted"),
        ("fw/x", "error"),
    ]
    ssh_seen = found[("fw/ssh", "fail")]
    assert (ssh_seen.first_seq, ssh_seen.last_seq, ssh_seen.runs) == (10, 12, 2)
    assert (ssh_seen.first_seen, ssh_seen.last_seen, ssh_seen.reason) == ("t1", "t2", "still open")
    rdp_seen = found[("fw/rdp", "excepted")]
    assert (rdp_seen.first_seq, rdp_seen.last_seq, rdp_seen.runs, rdp_seen.approver) == (10, 15, 3, "ciso@example.be")
    assert found[("fw/x", "error")].runs == 1


def test_failing_resources_of_the_period_are_in_the_view_with_their_anchor(tmp_path: Path) -> None:
    build(tmp_path / "l.sqlite3", {("FW-01", "p"): fails_in_second_hour, ("FW-01", "q"): passes})
    view = view_of(tmp_path / "l.sqlite3")
    (group,) = view.failing
    assert (group.control, group.scope) == ("FW-01", "p")
    (resource,) = group.resources
    assert resource.resource == "//compute.googleapis.com/projects/p/global/firewalls/fw-01"
    assert resource.runs == 4 and resource.first_seen < resource.last_seen
    pair = next(c for c in view.criteria if c.id == "CC6.6").attention[0]
    assert pair.anchor == group.anchor and pair.failing == {"fail": 1, "excepted": 0, "error": 0}


# --- the commands -----------------------------------------------------------------------------


@pytest.fixture
def signed(tmp_path: Path, key: SigningKey) -> tuple[Path, Path]:
    path, pub = tmp_path / "evidence.sqlite3", tmp_path / "evidence.pub"
    build(
        path,
        {
            ("FW-01", "shop-prod"): fails_in_second_hour,
            ("IAM-01", "shop-prod"): error_from_two,
            ("BKP-01", "shop-prod"): stops_after_1_45,
            ("DRIFT-01", "shop-prod"): passes,
            ("LOG-01", "shop-dev"): excepted_from_two,
            ("DATA-01", "shop-dev"): passes,
            ("ORG-01", "shop-dev"): fails,
        },
        key,
    )
    pub.write_bytes(public_key_pem(key.public_key))
    return path, pub


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["evidence", *(str(a) for a in args)], catch_exceptions=False)


def test_the_report_shows_every_criterion_of_the_controls_in_the_period(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    """`grep CC6 report.html` finds the criteria now; every criterion of every control in the period is there."""
    path, pub = signed
    out = tmp_path / "report.html"
    result = invoke("report", "--ledger", path, "--from", FROM, "--to", TO, "--out", out, "--public-key", pub)
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert sum(1 for line in page.splitlines() if "CC6" in line) > 0  # grep -c CC6 report.html
    with Ledger(path, readonly=True) as ledger:
        controls = {control for control, _ in ledger.monitored_pairs(T0, END)}
    expected = criteria_of(catalogue_refs(), controls)
    assert expected >= {"CC6.1", "CC6.3", "CC6.6", "CC6.7", "CC7.1", "CC7.2", "CC8.1", "A1.2", "C1.1", "CC9.1"}
    for criterion in expected:
        assert f'id="soc2-{criterion}"' in page and f'href="#soc2-{criterion}"' in page, criterion
    # the failing resource is named, linked from its criterion row, with the records that show it
    anchor = re.search(r'<a href="#(fr-\d+)">1 failing</a>', page)
    assert anchor is not None and f'id="{anchor[1]}"' in page
    assert "//compute.googleapis.com/projects/shop-prod/global/firewalls/fw-01" in page
    assert re.search(r"seq \d+ … \d+", page)


def test_evidence_soc2_json(signed: tuple[Path, Path]) -> None:
    path, pub = signed
    result = invoke("soc2", "--ledger", path, "--from", FROM, "--to", TO, "--public-key", pub, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["from"] == "2026-03-02T00:00:00.000000Z" and doc["open"] is False
    assert doc["verification"]["ok"] is True and doc["ledgers"][0]["head"]["seq"] > 0
    by_id = {criterion["id"]: criterion for criterion in doc["criteria"]}
    assert by_id["C1.1"]["shares"]["fail"] == pytest.approx(1)  # ORG-01 fails throughout
    assert by_id["CC7.2"]["shares"]["excepted"] == pytest.approx(0.5)  # LOG-01 under an accepted risk from 02:00
    assert by_id["CC6.7"]["clean"][0]["throughout"] is True  # DATA-01 passes throughout
    fw = next(pair for pair in by_id["CC6.6"]["attention"] if pair["control"] == "FW-01")
    assert fw["shares"]["fail"] == pytest.approx(0.25) and fw["anchor"] is not None
    group = next(group for group in doc["failing"] if group["anchor"] == fw["anchor"])
    assert group["resources"][0]["state"] == "fail" and group["resources"][0]["runs"] == 4


def test_evidence_soc2_html_to_a_file(signed: tuple[Path, Path], tmp_path: Path) -> None:
    path, pub = signed
    out = tmp_path / "soc2.html"
    result = invoke("soc2", "--ledger", path, "--from", FROM, "--to", TO, "--public-key", pub, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out}: 7 (control, scope) pairs; verified")
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "https://" not in page
    assert "Verified: every hash, link and checkpoint signature checks out." in page
    assert 'id="soc2-CC6.1"' in page and "<details" in page


def test_evidence_soc2_bad_usage_exits_2(signed: tuple[Path, Path], tmp_path: Path) -> None:
    path, _ = signed
    bad = invoke("soc2", "--ledger", path, "--from", FROM, "--to", TO, "--format", "pdf")
    assert bad.exit_code == 2 and "pdf" in bad.output
    empty = invoke("soc2", "--ledger", path, "--from", TO, "--to", FROM)
    assert empty.exit_code == 2 and "is not after --from" in empty.stderr
    missing = invoke("soc2", "--ledger", tmp_path / "none.sqlite3", "--from", FROM, "--to", TO)
    assert missing.exit_code == 2 and "no evidence ledger" in missing.stderr


HOSTILE = 'fw/<script>alert(1)</script> & "x"'


def test_failing_resource_names_are_escaped(tmp_path: Path) -> None:
    from monitor.evidence.report_soc2 import render_soc2

    path = tmp_path / "l.sqlite3"
    with Ledger(path) as ledger:
        ledger.append("control_run", run_body("FW-01", "p", T0, "fail", resource=HOSTILE), time=T0)
    with Ledger(path, readonly=True) as ledger:
        view = soc2_view(summarize(ledger, T0, END), {"FW-01": ControlRef("No SSH", ("CC6.6",))})
    page = render_soc2(view.to_json(), title="t", ledger_head=None, verified=None)
    assert "<script>" not in page and "fw/&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;" in page


def test_evidence_soc2_of_an_open_period_reports_up_to_now_only(signed: tuple[Path, Path]) -> None:
    import time_machine

    from monitor.evidence.canonical import format_time

    path, pub = signed
    now = T0 + 90 * timedelta(minutes=1)  # FW-01 has failed since 01:00; nothing after now is known
    with time_machine.travel(now, tick=False):
        result = invoke("soc2", "--ledger", path, "--from", FROM, "--to", TO, "--public-key", pub, "--format", "json")
        page = invoke("soc2", "--ledger", path, "--from", FROM, "--to", TO, "--public-key", pub).stdout
    doc = json.loads(result.stdout)
    assert doc["open"] is True and doc["to"] == format_time(now)
    fw = next(p for c in doc["criteria"] if c["id"] == "CC6.6" for p in c["attention"] if p["control"] == "FW-01")
    assert fw["shares"]["fail"] == pytest.approx(0.5 / 1.5) and fw["shares"]["gap"] == 0  # the future is no gap
    assert "open, up to NOW" in page


def test_evidence_soc2_signed_with_the_test_key_says_it_proves_nothing(tmp_path: Path) -> None:
    from monitor.evidence.signing import demo_key

    path, pub = tmp_path / "demo.sqlite3", tmp_path / "demo.pub"
    key = demo_key()
    build(path, {("FW-01", "p"): passes}, key)
    pub.write_bytes(public_key_pem(key.public_key))
    result = invoke("soc2", "--ledger", path, "--from", FROM, "--to", TO, "--public-key", pub)
    assert result.exit_code == 0, result.output
    assert '<div class="verdict bad"><strong>Signed with the bundled public TEST key' in result.stdout
    assert "warning: the signatures were checked with the bundled TEST key" in result.stderr
