"""The evaluation budget: an input over its size limit, and a run past its deadline, are `error`.

The deadline runs on a fake monotonic clock that the test's controls move as they yield,
standing for the time their work takes, so the cut falls at a known result.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import MappingProxyType

from structlog.testing import capture_logs

from checks import default_registry
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import Control, control
from checks.snapshot import Kind, Snapshot
from monitor.collect.observer import NullObserver
from monitor.config.model import parse_config
from monitor.run.budget import EvaluationBudget
from monitor.run.plans import build_plans
from monitor.run.runner import run_control
from monitor.run.sweep import ScopePlan, ScopeRun, run_scope
from tests.builders import NOW, make_snapshot

PROJECT = "//cloudresourcemanager.googleapis.com/projects/shop-prod"
RULES = [{"name": f"r{i}"} for i in range(3)]


class FakeClock:
    """A monotonic clock that moves only when a control says its work took time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _worker(id: str, results: int, seconds_each: float, clock: FakeClock) -> Control:
    """A control yielding `results` failures, each taking `seconds_each` on `clock`."""

    def judge(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
        for i in range(results):
            clock.now += seconds_each
            yield Finding(f"//x/{id}/{i}", Verdict.FAIL, f"finding {i}")

    return control(id=id, title=id, area=Area.FW, severity=Severity.LOW, kinds=(Kind.FIREWALLS,),
                   rationale="r", remediation="gcloud x")(judge)  # fmt: skip


@control(id="T-09", title="must not run", area=Area.FW, severity=Severity.LOW, kinds=(Kind.FIREWALLS,),
         rationale="r", remediation="gcloud x")  # fmt: skip
def _must_not_run(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    raise AssertionError("a control over its input limit was called")


def _run(plan: ScopePlan, snapshot: Snapshot, clock: FakeClock) -> ScopeRun:
    return run_scope(plan, lambda scope, kinds, observer, now: (snapshot, False, 0), NullObserver(), now=NOW,
                     monotonic=clock)  # fmt: skip


# --- the input-size limit ---------------------------------------------------------------------


def test_a_control_over_its_input_limit_is_an_error_without_running() -> None:
    snapshot = make_snapshot({"compute": {"firewalls": RULES}})
    [result] = run_control(_must_not_run, snapshot, Params(), EvaluationBudget(max_resources=2))
    assert (result.verdict, result.resource) == (Verdict.ERROR, PROJECT)
    assert result.reason == "too large to judge: 3 firewalls (limit 2, evaluation.max_resources)"


def test_a_control_at_its_input_limit_runs() -> None:
    snapshot = make_snapshot({"compute": {"firewalls": RULES}})
    results = run_control(_worker("T-01", 3, 0, FakeClock()), snapshot, Params(), EvaluationBudget(max_resources=3))
    assert [r.verdict for r in results] == [Verdict.FAIL] * 3


def test_a_kind_limit_replaces_the_general_one_and_is_named() -> None:
    snapshot = make_snapshot({"compute": {"firewalls": RULES}})
    raised = EvaluationBudget(max_resources=1, max_resources_by_kind=MappingProxyType({"firewalls": 3}))
    assert len(run_control(_worker("T-01", 3, 0, FakeClock()), snapshot, Params(), raised)) == 3
    lowered = EvaluationBudget(max_resources=100, max_resources_by_kind=MappingProxyType({"firewalls": 2}))
    [result] = run_control(_must_not_run, snapshot, Params(), lowered)
    assert result.reason == "too large to judge: 3 firewalls (limit 2, evaluation.max_resources_by_kind.firewalls)"


def test_only_the_kinds_over_their_limit_are_named() -> None:
    """FW-08 reads firewalls, networks and subnetworks: the reason names the kind that is too large."""
    networks = [{"name": f"vpc-{i}"} for i in range(5)]
    snapshot = make_snapshot({"compute": {"firewalls": RULES, "networks": networks, "subnetworks": []}})
    [result] = run_control(default_registry().get("FW-08"), snapshot, Params(), EvaluationBudget(max_resources=4))
    assert result.reason == "too large to judge: 5 networks (limit 4, evaluation.max_resources)"


def test_a_kind_that_failed_is_reported_as_not_collected_before_any_limit() -> None:
    snapshot = make_snapshot({}, errors={Kind.FIREWALLS: "403 Forbidden"})
    [result] = run_control(_must_not_run, snapshot, Params(), EvaluationBudget(max_resources=0))
    assert result.reason == "cannot judge, input not collected (firewalls: 403 Forbidden)"


# --- the deadline -----------------------------------------------------------------------------


def test_past_the_deadline_the_unfinished_controls_are_errors_and_the_others_keep_their_verdicts() -> None:
    clock = FakeClock()
    controls = (
        _worker("T-01", 2, 10, clock),  # done at 20 s
        _worker("T-02", 5, 10, clock),  # passes the 25 s deadline at its first result
        _worker("T-03", 1, 0, clock),  # never starts
    )
    plan = ScopePlan("shop-prod", controls, Params(), budget=EvaluationBudget(deadline=timedelta(seconds=25)))
    with capture_logs() as logs:
        run = _run(plan, make_snapshot({"compute": {"firewalls": RULES}}), clock)
    kept = [(Verdict.FAIL, "finding 0"), (Verdict.FAIL, "finding 1")]
    assert [(r.verdict, r.reason) for r in run.results["T-01"]] == kept
    [stopped] = run.results["T-02"]
    assert (stopped.verdict, stopped.resource) == (Verdict.ERROR, PROJECT)
    assert stopped.reason == "evaluation deadline exceeded (evaluation.deadline 25s) after 1 result(s): not finished"
    [skipped] = run.results["T-03"]
    assert skipped.verdict is Verdict.ERROR
    assert skipped.reason == "evaluation deadline exceeded (evaluation.deadline 25s): not judged"
    assert run.statuses() == {"T-01": "fail", "T-02": "error", "T-03": "error"}
    [line] = [entry for entry in logs if entry["event"] == "evaluation_deadline_exceeded"]
    assert line == {"event": "evaluation_deadline_exceeded", "log_level": "warning", "scope": "shop-prod",
                    "deadline": "evaluation.deadline 25s", "controls": ["T-02", "T-03"]}  # fmt: skip


def test_the_deadline_counts_from_the_end_of_collection() -> None:
    clock = FakeClock()
    snapshot = make_snapshot({"compute": {"firewalls": RULES}})

    def slow_collect(scope: str, kinds: object, observer: object, now: object) -> tuple[Snapshot, bool, int]:
        clock.now += 600  # collection has its own deadline, gcp.run_deadline
        return snapshot, False, 0

    plan = ScopePlan("shop-prod", (_worker("T-01", 2, 10, clock),), Params(),
                     budget=EvaluationBudget(deadline=timedelta(seconds=25)))  # fmt: skip
    with capture_logs() as logs:
        run = run_scope(plan, slow_collect, NullObserver(), now=NOW, monotonic=clock)
    assert [r.verdict for r in run.results["T-01"]] == [Verdict.FAIL, Verdict.FAIL]
    assert not [entry for entry in logs if entry["event"] == "evaluation_deadline_exceeded"]


def test_without_a_budget_nothing_is_cut() -> None:
    clock = FakeClock()
    plan = ScopePlan("shop-prod", (_worker("T-01", 3, 3600, clock),), Params())
    run = _run(plan, make_snapshot({"compute": {"firewalls": RULES}}), clock)
    assert [r.verdict for r in run.results["T-01"]] == [Verdict.FAIL] * 3


# --- from the config --------------------------------------------------------------------------


def test_plans_carry_the_configured_budget() -> None:
    config = parse_config(
        "scopes: {projects: [{id: shop-prod}]}\n"
        "evaluation: {deadline: 90s, max_resources: 1000, max_resources_by_kind: {snapshots: 5000}}\n",
        "cw.yaml",
    )
    [plan] = build_plans(config, default_registry()).values()
    assert plan.budget == EvaluationBudget(timedelta(seconds=90), 1000, MappingProxyType({"snapshots": 5000}))
    minimal = parse_config("scopes: {projects: [{id: shop-prod}]}\n", "cw.yaml")
    [default] = build_plans(minimal, default_registry()).values()
    assert (default.budget.deadline, default.budget.max_resources) == (timedelta(minutes=2), 50_000)
