"""The runner's bulkhead and the accepted-risk marking: never a silent pass."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from checks.model import Area, Finding, Result, Severity, Verdict, roll_up
from checks.params import Params
from checks.registry import control
from checks.snapshot import Kind, Snapshot
from monitor.run.risks import AcceptedRisk, apply_risks, stale_risks
from monitor.run.runner import run_control
from tests.builders import make_snapshot

META = dict(
    area=Area.FW,
    severity=Severity.HIGH,
    kinds=(Kind.FIREWALLS,),
    rationale="r",
    remediation="gcloud x",
    unit="firewall rule",
)


def _fail_every_rule(snapshot: Snapshot, params: Params) -> Iterable[Finding]:
    for rule in snapshot.get(Kind.FIREWALLS):
        yield Finding(resource=f"//x/{rule['name']}", verdict=Verdict.FAIL, reason="bad", subject="tcp:22")


FAIL_ALL = control(id="T-01", title="t", **META)(_fail_every_rule)


@control(id="T-02", title="raises", **META)
def _raises(snapshot: Snapshot, params: Params) -> Iterable[Finding]:
    raise ValueError("bug in control")


def test_failed_kind_reports_error_without_calling_control() -> None:
    snap = make_snapshot({}, errors={Kind.FIREWALLS: "403 Forbidden: permission denied"})
    [result] = run_control(FAIL_ALL, snap, Params())
    assert result.verdict is Verdict.ERROR
    assert "firewalls: 403 Forbidden: permission denied" in result.reason
    assert result.resource == "//cloudresourcemanager.googleapis.com/projects/shop-prod"


def test_kind_not_collected_is_error() -> None:
    snap = Snapshot(scope="p", now=datetime(2026, 1, 1, tzinfo=UTC))
    [result] = run_control(FAIL_ALL, snap, Params())
    assert result.verdict is Verdict.ERROR and "not collected" in result.reason


def test_raising_control_is_error_with_cause() -> None:
    snap = make_snapshot({"compute": {"firewalls": [{"name": "a"}]}})
    [result] = run_control(_raises, snap, Params())
    assert result.verdict is Verdict.ERROR
    assert "ValueError: bug in control" in result.reason


def test_nothing_in_scope_is_one_pass_naming_the_unit_and_disabled_api() -> None:
    snap = make_snapshot({"compute": {"firewalls": []}}, notes={Kind.FIREWALLS: "Compute Engine API not enabled"})
    [result] = run_control(FAIL_ALL, snap, Params())
    assert result.verdict is Verdict.PASS
    assert "no firewall rule" in result.reason and "Compute Engine API not enabled" in result.reason


def test_findings_are_stamped_with_control_and_scope() -> None:
    snap = make_snapshot({"compute": {"firewalls": [{"name": "a"}, {"name": "b"}]}}, scope="shop-dev")
    results = run_control(FAIL_ALL, snap, Params())
    assert [(r.control, r.scope, r.resource) for r in results] == [
        ("T-01", "shop-dev", "//x/a"),
        ("T-01", "shop-dev", "//x/b"),
    ]


def _result(resource: str, verdict: Verdict = Verdict.FAIL, subject: str = "tcp:22") -> Result:
    return Result(control="FW-01", scope="shop-prod", resource=resource, subject=subject, verdict=verdict, reason="r")


RISK = AcceptedRisk(
    control="FW-01",
    scope="shop-prod",
    resource="//compute.googleapis.com/*/firewalls/bastion-*",
    reason="bastion during migration",
    approver="ciso@example.be",
    expires=date(2026, 12, 31),
)


def test_accepted_risk_marks_failure_excepted_but_keeps_fail() -> None:
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    results = apply_risks(
        [
            _result("//compute.googleapis.com/projects/p/global/firewalls/bastion-1"),
            _result("//compute.googleapis.com/projects/p/global/firewalls/web"),
        ],
        [RISK],
        now,
    )
    assert [(r.verdict, r.excepted) for r in results] == [(Verdict.FAIL, True), (Verdict.FAIL, False)]
    assert "bastion during migration" in (results[0].exception_reason or "")
    assert "ciso@example.be" in (results[0].exception_reason or "")
    assert roll_up(results[:1]) is Verdict.PASS  # an excepted failure alone leaves the status
    assert roll_up(results) is Verdict.FAIL


def test_expired_risk_turns_back_into_plain_failure() -> None:
    now = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)  # the end of the expiry day has passed
    [result] = apply_risks([_result("//compute.googleapis.com/projects/p/global/firewalls/bastion-1")], [RISK], now)
    assert not result.excepted
    stale = stale_risks([RISK], [result], now, {("FW-01", "shop-prod")})
    assert stale["expired"] == [RISK]


def test_subject_glob_and_passing_results_are_not_marked() -> None:
    risk = AcceptedRisk(
        control="FW-01",
        scope="shop-prod",
        resource="*",
        subject="udp:*",
        reason="x",
        approver="y",
        expires=date(2030, 1, 1),
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    results = apply_risks([_result("//a", subject="tcp:22"), _result("//b", Verdict.PASS, "udp:1")], [risk], now)
    assert [r.excepted for r in results] == [False, False]
    stale = stale_risks([risk], results, now, {("FW-01", "shop-prod")})
    assert stale["unmatched"] == [risk]
    assert stale_risks([risk], results, now, set())["unmatched"] == []


def test_error_beats_failure_in_roll_up() -> None:
    assert roll_up([_result("//a"), _result("//b", Verdict.ERROR)]) is Verdict.ERROR
    assert roll_up([_result("//a", Verdict.PASS)]) is Verdict.PASS
