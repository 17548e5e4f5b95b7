"""First-seen times of failures: since when each fails, and whether it is new (worth a page).

Each case is a sequence of runs of FW-01 on one scope; a run is the names of its failing
resources (a trailing `!` marks one excepted), `pass` for none, or `error` for a run that
could not judge. The expectation is each resource's (first-seen run, new) after the last
run, and the run whose time `new_failure_at` holds.
"""

from __future__ import annotations

import pytest

from checks.model import Result, Verdict
from monitor.sinks.store import ResultStore
from tests.monitor.test_store import FW01, res

SCOPE = "shop-prod"
T0 = 1_700_000_000.0
STEP = 900.0


def run_results(run: str) -> list[Result]:
    if run == "pass":
        return [res(FW01, SCOPE, Verdict.PASS, "ok")]
    if run == "error":
        return [res(FW01, SCOPE, Verdict.ERROR, "unread")]
    return [
        res(FW01, SCOPE, Verdict.FAIL, name.rstrip("!"), excepted=name.endswith("!")) for name in run.split()
    ] + [res(FW01, SCOPE, Verdict.PASS, "ok")]


CASES = {
    # runs, {resource: (index of the run it was first seen in, new)}, run of new_failure_at
    "a scope's first run finds standing failures, however recent": (["a b"], {"a": (0, False), "b": (0, False)}, None),
    "a failure after a passing run is new": (["pass", "a"], {"a": (1, True)}, 1),
    "a failure keeps its first time while it lasts": (["pass", "a", "a", "a"], {"a": (1, True)}, 1),
    "a standing failure stays standing beside a new one": (["a", "a b"], {"a": (0, False), "b": (1, True)}, 1),
    "a failure that resolved and came back is new again": (["a", "pass", "a"], {"a": (2, True)}, 2),
    "a run in error carries every time: no new failure afterwards": (["a", "error", "a"], {"a": (0, False)}, None),
    "an error before any judgement leaves the next failures standing": (["error", "a"], {"a": (1, False)}, None),
    "a new failure under an accepted risk keeps its time but pages nobody": (["pass", "a!"], {"a": (1, True)}, None),
    "the newest new failure is the one the gauge holds": (["pass", "a", "a b"], {"a": (1, True), "b": (2, True)}, 2),
}


@pytest.mark.parametrize("runs, expected, newest", CASES.values(), ids=CASES.keys())
def test_first_seen(runs: list[str], expected: dict[str, tuple[int, bool]], newest: int | None) -> None:
    store = ResultStore()
    store.configure([(FW01, SCOPE, STEP)])
    for index, run in enumerate(runs):
        state = store.record(SCOPE, FW01, run_results(run), T0 + index * STEP)
    seen = {resource.rsplit("/", 1)[1]: (entry.at, entry.new) for (resource, _), entry in state.first_seen().items()}
    assert seen == {name: (T0 + index * STEP, new) for name, (index, new) in expected.items()}
    assert state.new_failure_at == (T0 + newest * STEP if newest is not None else None)


def test_a_reload_keeps_the_first_seen_times() -> None:
    store = ResultStore()
    store.configure([(FW01, SCOPE, STEP)])
    store.record(SCOPE, FW01, run_results("pass"), T0)
    store.record(SCOPE, FW01, run_results("a"), T0 + STEP)
    store.configure([(FW01, SCOPE, 2 * STEP)])  # SIGHUP with a new interval
    state = store.record(SCOPE, FW01, run_results("a"), T0 + 2 * STEP)
    assert [(entry.at, entry.new) for entry in state.first_seen().values()] == [(T0 + STEP, True)]
    assert state.new_failure_at == T0 + STEP
