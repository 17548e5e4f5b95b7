"""`make bench`: how long controlwatch takes to do its work, against the loopback stand-in.

- cold start of a command that needs no Google client (`controlwatch controls`): the
  collectors import the clients lazily, so this must stay well under their ~2.6 s;
- one sweep of every demo scope (collect + judge), warm, median and worst of N;
- `controlwatch check --scenario` on the demo organisation, end to end (cold process);
- the firewall controls on 1k, 10k and 30k rules: time and peak memory
  (`benchmarks/firewall_scale.py`);
- drift detection latency: a firewall change at the stand-in until `/metrics` shows it,
  through a real daemon subprocess with default settings (`benchmarks/drift_latency.py`);
- a sweep of 40 projects through the daemon at the default concurrency and rate limits:
  each API's request rate against its bucket, and the sweep against the limits' floor
  (`benchmarks/estate_sweep.py`);
- an organisation of 1, 10, 100 and 1,000 projects of ~600 resources each (sizes from
  `CONTROLWATCH_BENCH_SIZES`), served by the stand-in in its own process, through a daemon
  subprocess: sweep, requests, `/metrics`, `/results`, RSS, evidence, `check --scenario`
  and a naive sequential collector, beside issue 11's goals (`benchmarks/org_scale.py`).
- the evidence ledger of a year (50 projects at the default 15-minute interval): bytes per
  project-year and a full verify, generated through the ledger API (`benchmarks/evidence_year.py`;
  CONTROLWATCH_BENCH_EVIDENCE_PROJECTS / _DAYS make it smaller).

Everything runs on 127.0.0.1 and every loop is bounded in count.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def report(name: str, times: list[float], goal: float | None = None) -> bool:
    median, worst = statistics.median(times), max(times)
    verdict = "" if goal is None else ("  ok" if median <= goal else f"  OVER GOAL ({goal:.2f}s)")
    print(f"{name:<52} n={len(times):<3} median {median:7.3f}s  worst {worst:7.3f}s{verdict}")
    return goal is None or median <= goal


def command(*args: str) -> Callable[[], object]:
    def run() -> object:
        return subprocess.run(
            [sys.executable, "-m", "monitor", *args], cwd=ROOT, capture_output=True, timeout=120, check=False
        )

    return run


def sweep_benchmark(runs: int) -> list[float]:
    from checks import default_registry
    from monitor.collect import CollectSettings, StuckCalls, make_clients
    from monitor.collect.observer import NullObserver
    from monitor.config.model import load_config
    from monitor.demo import DEMO_CONFIG, DEMO_SCENARIO
    from monitor.run.plans import build_plans
    from monitor.run.runtime import make_collect
    from monitor.run.sweep import run_scope
    from monitor.standin import StandIn, load_scenario

    config = load_config(DEMO_CONFIG)
    plans = build_plans(config, default_registry())
    with StandIn(load_scenario(DEMO_SCENARIO), shift_time=True) as server:
        collect = make_collect(make_clients(server.url), CollectSettings(), StuckCalls())

        def sweep() -> None:
            for plan in plans.values():
                run_scope(plan, collect, NullObserver())

        sweep()  # warm: imports and connections
        return timed(sweep, runs)


def main() -> int:
    ok = True
    print("controlwatch benchmarks (loopback stand-in, this machine)")
    ok &= report("cold start: controlwatch controls", timed(command("controls"), 5), goal=1.5)
    ok &= report("warm sweep: 4 demo scopes, every control", sweep_benchmark(20), goal=1.0)
    from monitor.demo import DEMO_CONFIG, DEMO_SCENARIO

    check = command("check", "--scenario", str(DEMO_SCENARIO), "--config", str(DEMO_CONFIG), "--format", "json")
    ok &= report("cold check --scenario demo organisation", timed(check, 3), goal=8.0)
    from benchmarks.firewall_scale import run_benchmark as firewall_benchmark

    ok &= firewall_benchmark()
    from benchmarks.drift_latency import run_benchmark

    ok &= run_benchmark()
    from benchmarks.estate_sweep import run_benchmark as estate_benchmark

    ok &= estate_benchmark()
    from benchmarks.org_scale import run_benchmark as org_benchmark

    ok &= org_benchmark()
    from benchmarks.evidence_year import run_benchmark as evidence_benchmark

    ok &= evidence_benchmark()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
