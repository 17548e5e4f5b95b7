"""`make bench`: a sweep of many projects through the daemon at the default quotas settings.

An estate of `SCOPES` copies of the demo's reference project (one folder under the
organisation, as most projects sit) is served by the stand-in; a daemon with the default
`gcp.max_concurrent_scopes` (8) and `gcp.rate_limits` (compute 20/s, Resource Manager 8/s,
Logging 8/s) starts, and every scope's first run is due at once. Measured from the
stand-in's request log: how long the sweep took against the floor the rate limits set
(each API's calls divided by its rate), the most requests of one API in any second and in
any minute against what its bucket allows (rate × window + one second's burst), and the
most runs collecting at once. From the calls one project costs, it says how many projects
one `schedule.interval` (15 min) covers at these rates. Run alone: `python -m benchmarks.estate_sweep`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import yaml

SCOPES = 40
REFERENCE = "ledger-clean"
TIMEOUT = 300.0  # seconds the sweep may take before the benchmark gives up
SLACK = 2  # requests: the stand-in logs a request when it answers, not when it arrives


def estate(count: int) -> dict[str, Any]:
    """The demo organisation with its projects replaced by `count` copies of the reference project."""
    from monitor.demo import DEMO_SCENARIO

    document: dict[str, Any] = yaml.safe_load(Path(DEMO_SCENARIO).read_text())
    reference = next(p for p in document["projects"] if p["projectId"] == REFERENCE)
    text = yaml.safe_dump(reference)
    projects = []
    for n in range(count):
        clone = yaml.safe_load(text.replace(REFERENCE, f"estate-{n:04d}"))
        clone["name"] = f"projects/{700000000 + n}"
        projects.append(clone)
    document["projects"] = projects
    return document


def most_in_any_window(times: Sequence[float], window: float) -> int:
    ordered = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] > window:
            start += 1
        most = max(most, end - start + 1)
    return most


def measure(count: int = SCOPES) -> dict[str, Any]:
    from checks import default_registry
    from monitor.collect import StuckCalls, make_clients
    from monitor.config.model import parse_config
    from monitor.daemon import Daemon
    from monitor.drift.baselines import BaselineStore
    from monitor.run.runtime import Runtime, collect_settings, make_collect, preload_clients
    from monitor.sinks.logs import configure_logging
    from monitor.standin import StandIn, load_scenario

    configure_logging("error", fmt="console")  # one line per run of 40 scopes says nothing here

    document = estate(count)
    scopes = [p["projectId"] for p in document["projects"]]
    projects = "\n".join(f"    - id: {scope}" for scope in scopes)
    config = parse_config(
        f"scopes:\n  projects:\n{projects}\nschedule: {{interval: 15m}}\nmetrics: {{listen: '127.0.0.1:0'}}\n"
        "disabled_controls: [DRIFT-01, DRIFT-02, DRIFT-03]\n",
        "bench.yaml",
    )
    preload_clients()
    lock = threading.Lock()
    running = [0, 0]  # now, peak

    with StandIn(load_scenario(document), shift_time=True) as server, TemporaryDirectory() as tmp:
        stuck = StuckCalls()
        real = make_collect(make_clients(server.url), collect_settings(config), stuck)

        def collect(scope: str, kinds: Sequence[str], observer: Any, now: datetime) -> Any:
            with lock:
                running[0] += 1
                running[1] = max(running[1], running[0])
            try:
                return real(scope, kinds, observer, now)
            finally:
                with lock:
                    running[0] -= 1

        runtime = Runtime(collect=collect, stuck_calls=stuck.busy)
        daemon = Daemon(config, default_registry(), runtime, baselines=BaselineStore(Path(tmp) / "b.sqlite3"))
        server.reset()
        started = time.monotonic()
        daemon.start()
        try:
            while not daemon.store.ready()[0] and time.monotonic() - started < TIMEOUT:
                time.sleep(0.1)
            seconds = time.monotonic() - started
            ready = daemon.store.ready()[0]
            errors = len(daemon.store.results(verdict="error"))
        finally:
            daemon.stop(grace=5.0)
        sent = server.requests
    rates = dict(config.gcp.rate_limits)
    by_api = {api: [r.time for r in sent if (r.method or "").startswith(api + ".")] for api in rates}
    return {
        "scopes": count,
        "ready": ready,
        "errors": errors,
        "seconds": seconds,
        "rates": rates,
        "calls": {api: len(times) for api, times in by_api.items()},
        "floor": max(len(times) / rates[api] for api, times in by_api.items()),
        "per_second": {api: most_in_any_window(times, 1.0) for api, times in by_api.items()},
        "per_minute": {api: most_in_any_window(times, 60.0) for api, times in by_api.items()},
        "peak_runs": running[1],
        "concurrent": config.gcp.max_concurrent_scopes,
        "statuses": Counter(r.status for r in sent),
    }


def run_benchmark() -> bool:
    found = measure()
    ok = found["ready"] and found["errors"] == 0 and found["peak_runs"] <= found["concurrent"]
    print(
        f"estate sweep: {found['scopes']} projects, default limits: {found['seconds']:.1f}s "
        f"(the rate limits' floor {found['floor']:.1f}s), {found['peak_runs']} runs at once at most "
        f"(limit {found['concurrent']}), {found['errors']} errors"
    )
    for api, rate in found["rates"].items():
        burst = max(1.0, rate)
        second, minute = found["per_second"][api], found["per_minute"][api]
        allowed_second, allowed_minute = rate + burst + SLACK, rate * 60 + burst + SLACK
        within = second <= allowed_second and minute <= allowed_minute
        ok &= within
        per_project = found["calls"][api] / found["scopes"]
        covered = rate * 900 / per_project if per_project else float("inf")
        print(
            f"  {api:<22} {found['calls'][api]:>5} calls ({per_project:.0f} a project): at most {second} in a second "
            f"(bucket: {allowed_second - SLACK:.0f}), {minute} in a minute (bucket: {allowed_minute - SLACK:.0f}); "
            f"15 min at {rate:g}/s covers {covered:,.0f} projects{'  ok' if within else '  OVER THE BUCKET'}"
        )
    # The sweep is held by the slowest API's bucket, not by anything else: within half again its floor.
    paced = found["seconds"] <= 1.5 * found["floor"] + 5
    ok &= paced
    print(f"  sweep within 1.5 x its floor + 5 s: {'ok' if paced else 'NO'}")
    return bool(ok)


if __name__ == "__main__":
    import sys

    sys.exit(0 if run_benchmark() else 1)
