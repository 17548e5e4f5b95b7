"""A 30,000-rule estate is judged by every firewall control within a bound.

The engine that compared every rule with every other took about 100 s on this estate for
FW-01 to FW-08 (and minutes more on denser ones); the shadow index takes about 6 s
(`make bench` measures it). The bound is the run's own evaluation deadline, generous for
a loaded two-core machine: a quadratic engine runs past it, a near-linear one does not come near.
"""

from __future__ import annotations

import time
from datetime import timedelta

from benchmarks.firewall_scale import CONTROLS, SCOPE, estate
from checks import default_registry
from checks.model import Verdict
from checks.params import Params
from monitor.run.budget import EvaluationBudget
from monitor.run.runner import run_control
from tests.builders import make_snapshot

RULES = 30_000
BOUND = timedelta(seconds=60)


def test_30k_rules_are_judged_by_every_firewall_control_within_a_bound() -> None:
    # no firewall policy: the VPC rules alone decide, as the benchmark measures them
    compute = {**estate(RULES), "firewallPolicies": [], "regionFirewallPolicies": []}
    snapshot = make_snapshot({"compute": compute}, scope=SCOPE, firewall_policies=[])
    budget = EvaluationBudget(deadline=BOUND, max_resources=50_000)  # the configured defaults' limit
    registry = default_registry()
    started = time.monotonic()
    deadline = budget.start()
    counts = {}
    for control_id in CONTROLS:
        results = run_control(registry.get(control_id), snapshot, Params(), budget, deadline)
        cut = [r.reason for r in results if r.verdict is Verdict.ERROR and "evaluation deadline" in r.reason]
        assert not cut, f"{control_id} after {time.monotonic() - started:.1f} s: {cut}"
        counts[control_id] = len(results)
    assert all(counts[c] == RULES for c in ("FW-01", "FW-02", "FW-03", "FW-04", "FW-05", "FW-06")), counts
