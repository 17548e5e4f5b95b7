"""ResultStore: roll-up, counts, transitions, timestamps, reload and readiness."""

from __future__ import annotations

import threading

import pytest

from checks.model import Area, Result, Severity, Verdict
from checks.registry import ControlMeta
from monitor.sinks.store import ControlState, ResultStore

FW01 = ControlMeta(
    id="FW-01",
    title="No SSH from the internet",
    area=Area.FW,
    severity=Severity.CRITICAL,
    kinds=("firewalls",),
    rationale="r",
    remediation="r",
)
IAM02 = ControlMeta(
    id="IAM-02",
    title="No basic roles",
    area=Area.IAM,
    severity=Severity.HIGH,
    kinds=("project",),
    rationale="r",
    remediation="r",
)
FW10 = ControlMeta(
    id="FW-10",
    title="t",
    area=Area.FW,
    severity=Severity.LOW,
    kinds=("firewalls",),
    rationale="r",
    remediation="r",
)


def res(meta: ControlMeta, scope: str, verdict: Verdict, name: str = "f", *, excepted: bool = False) -> Result:
    return Result(
        control=meta.id,
        scope=scope,
        resource=f"//compute.googleapis.com/projects/{scope}/global/firewalls/{name}",
        subject="",
        verdict=verdict,
        reason="because",
        excepted=excepted,
    )


@pytest.fixture
def store() -> ResultStore:
    s = ResultStore()
    s.configure([(FW01, "shop-prod", 900.0), (IAM02, "shop-prod", 900.0), (FW01, "shop-dev", 300.0)])
    return s


def state(store: ResultStore, control: str, scope: str) -> ControlState:
    return next(s for s in store.states() if s.control == control and s.scope == scope)


def test_configured_pairs_are_listed_before_any_run(store: ResultStore) -> None:
    states = store.states()
    assert [(s.control, s.scope) for s in states] == [
        ("FW-01", "shop-dev"),
        ("FW-01", "shop-prod"),
        ("IAM-02", "shop-prod"),
    ]
    first = states[0]
    assert first.status is None and first.last_run is None and first.last_success is None
    assert first.interval == 300.0 and first.area is Area.FW and first.severity is Severity.CRITICAL
    assert (first.failing, first.excepted, first.checked, first.results) == (0, 0, 0, ())


def test_ids_sort_numerically() -> None:
    s = ResultStore()
    s.configure([(FW10, "p", 60.0), (FW01, "p", 60.0)])
    assert [st.control for st in s.states()] == ["FW-01", "FW-10"]


@pytest.mark.parametrize(
    ("verdicts", "status"),
    [
        ([(Verdict.PASS, False)], Verdict.PASS),
        ([(Verdict.PASS, False), (Verdict.FAIL, True)], Verdict.PASS),
        ([(Verdict.PASS, False), (Verdict.FAIL, False)], Verdict.FAIL),
        ([(Verdict.FAIL, False), (Verdict.ERROR, False)], Verdict.ERROR),
        ([(Verdict.ERROR, False), (Verdict.PASS, False)], Verdict.ERROR),
    ],
)
def test_roll_up(store: ResultStore, verdicts: list[tuple[Verdict, bool]], status: Verdict) -> None:
    results = [res(FW01, "shop-prod", v, f"r{i}", excepted=e) for i, (v, e) in enumerate(verdicts)]
    assert store.record("shop-prod", FW01, results, 100.0).status is status


def test_empty_run_is_error_not_pass(store: ResultStore) -> None:
    got = store.record("shop-prod", FW01, [], 100.0)
    assert got.status is Verdict.ERROR and got.last_success is None and got.checked == 0


def test_counts(store: ResultStore) -> None:
    results = [
        res(FW01, "shop-prod", Verdict.FAIL, "a"),
        res(FW01, "shop-prod", Verdict.FAIL, "b"),
        res(FW01, "shop-prod", Verdict.FAIL, "c", excepted=True),
        res(FW01, "shop-prod", Verdict.PASS, "d"),
        res(FW01, "shop-prod", Verdict.PASS, "e", excepted=True),  # excepted but passing: not counted
        res(FW01, "shop-prod", Verdict.ERROR, "f"),
    ]
    got = store.record("shop-prod", FW01, results, 100.0)
    assert (got.failing, got.excepted, got.checked) == (2, 1, 6)
    assert got.status is Verdict.ERROR  # failures stay counted beside the error
    assert state(store, "FW-01", "shop-prod") == got


def test_last_success_absent_until_first_success_and_kept_through_errors(store: ResultStore) -> None:
    err = [res(FW01, "shop-prod", Verdict.ERROR)]
    s1 = store.record("shop-prod", FW01, err, 100.0)
    assert (s1.last_run, s1.last_success) == (100.0, None)
    s2 = store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.FAIL)], 200.0)
    assert (s2.last_run, s2.last_success) == (200.0, 200.0)  # fail is a successful run
    s3 = store.record("shop-prod", FW01, err, 300.0)
    assert (s3.last_run, s3.last_success) == (300.0, 200.0)


def test_transitions(store: ResultStore) -> None:
    seq = [Verdict.PASS, Verdict.PASS, Verdict.FAIL, Verdict.ERROR, Verdict.FAIL, Verdict.PASS, Verdict.FAIL]
    for i, verdict in enumerate(seq):
        store.record("shop-prod", FW01, [res(FW01, "shop-prod", verdict)], float(i))
    assert store.transitions() == {
        ("FW-01", "shop-prod", "pass", "fail"): 2,
        ("FW-01", "shop-prod", "fail", "error"): 1,
        ("FW-01", "shop-prod", "error", "fail"): 1,
        ("FW-01", "shop-prod", "fail", "pass"): 1,
    }


def test_first_run_is_no_transition(store: ResultStore) -> None:
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.FAIL)], 1.0)
    assert store.transitions() == {}


def test_only_latest_results_are_kept(store: ResultStore) -> None:
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.FAIL, "old")], 1.0)
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.ERROR, "new")], 2.0)
    assert [r.resource.rsplit("/", 1)[1] for r in store.results(control="FW-01")] == ["new"]
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.PASS, "newer")], 3.0)
    assert store.results(control="FW-01") == []


def test_passes_are_counted_not_kept(store: ResultStore) -> None:
    results = [res(FW01, "shop-prod", Verdict.PASS, f"ok-{n}") for n in range(3)]
    results += [res(FW01, "shop-prod", Verdict.FAIL, "open")]
    results += [res(FW01, "shop-prod", Verdict.FAIL, "waived", excepted=True)]
    recorded = store.record("shop-prod", FW01, results, 1.0)
    kept = state(store, "FW-01", "shop-prod")
    assert kept == recorded
    assert (kept.status, kept.checked, kept.passing, kept.failing, kept.excepted) == (Verdict.FAIL, 5, 3, 1, 1)
    assert [r.resource.rsplit("/", 1)[1] for r in kept.results] == ["open", "waived"]
    store.record("shop-prod", FW01, results[:3], 2.0)
    passed = state(store, "FW-01", "shop-prod")
    assert (passed.status, passed.checked, passed.passing, passed.results) == (Verdict.PASS, 3, 3, ())


def test_results_filters(store: ResultStore) -> None:
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.FAIL, "a")], 1.0)
    store.record("shop-dev", FW01, [res(FW01, "shop-dev", Verdict.PASS, "b")], 1.0)
    store.record("shop-prod", IAM02, [res(IAM02, "shop-prod", Verdict.ERROR, "c")], 1.0)
    assert len(store.results()) == 2  # the pass is counted, not kept
    assert [r.scope for r in store.results(control="FW-01")] == ["shop-prod"]
    assert [r.control for r in store.results(scope="shop-prod")] == ["FW-01", "IAM-02"]
    assert [r.control for r in store.results(verdict="error")] == ["IAM-02"]
    assert store.results(control="FW-01", scope="shop-prod", verdict="pass") == []
    with pytest.raises(ValueError):
        store.results(verdict="bogus")


def test_record_rejects_results_of_another_pair(store: ResultStore) -> None:
    with pytest.raises(ValueError, match="recorded as FW-01/shop-prod"):
        store.record("shop-prod", FW01, [res(FW01, "shop-dev", Verdict.PASS)], 1.0)


def test_configure_drops_stale_pairs_and_keeps_the_rest(store: ResultStore) -> None:
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.PASS)], 1.0)
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.FAIL)], 2.0)
    store.record("shop-dev", FW01, [res(FW01, "shop-dev", Verdict.PASS)], 1.0)
    store.record("shop-dev", FW01, [res(FW01, "shop-dev", Verdict.FAIL)], 2.0)
    store.configure([(FW01, "shop-prod", 600.0), (IAM02, "shop-stage", 600.0)])
    assert [(s.control, s.scope) for s in store.states()] == [("FW-01", "shop-prod"), ("IAM-02", "shop-stage")]
    kept = state(store, "FW-01", "shop-prod")
    assert kept.status is Verdict.FAIL and kept.interval == 600.0 and kept.last_run == 2.0
    assert store.transitions() == {("FW-01", "shop-prod", "pass", "fail"): 1}
    assert store.configured_by_area() == {a.value: 0 for a in Area} | {"firewall": 1, "iam": 1}


def test_run_of_an_unconfigured_pair_is_not_kept(store: ResultStore) -> None:
    store.configure([(IAM02, "shop-prod", 900.0)])
    got = store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.FAIL)], 5.0)
    assert got.status is Verdict.FAIL
    assert [s.control for s in store.states()] == ["IAM-02"]


def test_configure_rejects_duplicates_and_bad_intervals() -> None:
    s = ResultStore()
    with pytest.raises(ValueError, match="twice"):
        s.configure([(FW01, "p", 60.0), (FW01, "p", 30.0)])
    with pytest.raises(ValueError, match="> 0"):
        s.configure([(FW01, "p", 0.0)])


def test_configured_by_area_counts_pairs_in_every_area(store: ResultStore) -> None:
    assert store.configured_by_area() == {
        "firewall": 2,
        "iam": 1,
        "org": 0,
        "backup": 0,
        "region": 0,
        "logging": 0,
        "drift": 0,
        "data": 0,
        "compute": 0,
    }


def test_readiness() -> None:
    s = ResultStore()
    assert s.ready() == (False, [])  # not configured yet
    s.configure([(FW01, "b", 60.0), (FW01, "a", 60.0)])
    assert s.ready() == (False, ["a", "b"])
    s.mark_scope_run_finished("a")
    s.mark_scope_run_finished("unknown")
    assert s.ready() == (False, ["b"])
    s.mark_scope_run_finished("b")
    assert s.ready() == (True, [])
    s.configure([(FW01, "b", 60.0), (FW01, "c", 60.0)])  # reload adds c, removes a
    assert s.ready() == (False, ["c"])
    s.mark_scope_run_finished("c")
    assert s.ready() == (True, [])


def test_view_is_one_consistent_copy(store: ResultStore) -> None:
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.PASS)], 1.0)
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.FAIL)], 2.0)
    view = store.view()
    assert list(view.states) == store.states()
    assert view.transitions == store.transitions()
    assert view.configured_by_area == store.configured_by_area()


def test_concurrent_writers_and_readers(store: ResultStore) -> None:
    errors: list[BaseException] = []

    def write(scope: str) -> None:
        try:
            for i in range(300):
                verdict = Verdict.PASS if i % 2 else Verdict.FAIL
                store.record(scope, FW01, [res(FW01, scope, verdict)], float(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(300):
                store.view()
                store.results(verdict="fail")
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s,)) for s in ("shop-prod", "shop-dev")]
    threads.append(threading.Thread(target=read))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads) and errors == []
    assert sum(store.transitions().values()) == 2 * 299


def test_kept_results_read_back_exactly_and_are_kept_compact(store: ResultStore) -> None:
    scope, url = "shop-prod", "//compute.googleapis.com/projects/shop-prod"
    reasons = [f"rule allow-ssh-{n} admits tcp:22 from 0.0.0.0/0 (ingress, priority 1000) — «é» 😀" for n in range(300)]
    failing = [
        Result("FW-01", scope, f"{url}/global/firewalls/allow-ssh-{n}", f"allow-ssh-{n}", Verdict.FAIL, reason,
               excepted=n % 7 == 0, latent=n % 5 == 0,
               exception_reason="accepted until 2027-01-01 by ops" if n % 7 == 0 else None)
        for n, reason in enumerate(reasons)
    ] + [Result("FW-01", scope, url, "", Verdict.ERROR, "firewalls: 503")]  # fmt: skip
    passing = Result("FW-01", scope, "x", "x", Verdict.PASS, "ok")
    recorded = store.record(scope, FW01, [*failing, passing], 5.0)
    assert recorded.results == tuple(failing) == state(store, "FW-01", scope).results
    assert store.results(verdict="error") == failing[-1:]
    as_text = sum(len(r.resource) + len(r.subject) + len(r.reason) for r in failing)
    assert 0 < len(recorded.packed) < as_text / 10  # what repeats between results is kept once
    assert store.record(scope, FW01, [passing], 6.0).packed == b""
