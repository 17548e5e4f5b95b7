"""`make bench`: drift detection latency, from a mutation at the stand-in to `/metrics`.

The daemon runs as a real subprocess (`python -m monitor run --config …`) with default
settings (`drift.audit_poll_interval` 10s, `schedule.interval` 15m, `gcp.*` defaults)
against a `StandIn` serving the demo organisation. After a baseline is approved for every
scope, firewall rules of one scope are changed through the real `compute_v1.FirewallsClient`
(widen a rule's `sourceRanges` to 0.0.0.0/0 and revert it; one insert/delete pair), and
each change is timed until `controlwatch_drift_active{control="DRIFT-01",scope=…}` on
`/metrics` shows it (1 after a widening or insert, 0 after a revert or delete), polling
every 100 ms. The clock starts when the mutating call starts.

Some mutations must land while a sweep of that scope is running. The scope's sweep is made
slow with a stand-in `latency` fault on its disk listing, and in every other widen/revert
pair the revert is sent as soon as the re-check caused by the widening has listed the
firewalls (seen in the stand-in's request log): that run can no longer see the revert, so
only the re-check requested while a run is in flight (the scheduler's dirty flag) or the
next poll can. Which mutations did land mid-sweep is decided afterwards from the daemon's
own `scope_run` log lines (end time and duration of every run), not from the plan. Every
other mutation waits a random (seeded) part of the poll interval first, so that it lands
at a random phase of the audit poller.

Against the stand-in, audit entries are listable the moment the mutation returns; real
Cloud Logging adds its ingestion delay on top (docs/drift-latency.md).

Bounded: 22 mutations, each waited for at most 35 s, and no new one is started after 6.5
minutes (about 4.5 minutes are spent normally); the daemon and the stand-in are stopped on
any exit, SIGTERM included. Run alone: `python -m benchmarks.drift_latency`.
"""

from __future__ import annotations

import json
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

SCOPE = "ledger-clean"  # the demo's clean project: no drift once its baseline is approved
RULE = "allow-api-to-db"  # sourceRanges [10.50.0.0/24]: widened to the internet and back
EXTRA_RULE = "bench-open-ssh"  # inserted, then deleted
NETWORK = "global/networks/ledger-vpc"
OPEN = ["0.0.0.0/0"]
PRINCIPAL = [("x-standin-principal", "drift-bench@example.be")]
CONTROL = "DRIFT-01"
SLOW_METHOD = "compute.disks.aggregatedList"
SLOW_DELAY = 3.5  # seconds added to every disk listing of SCOPE: each run of it takes ~3.5 s
PAIRS = 10  # widen/revert pairs; every second one is "chained" (the revert lands mid-sweep)
MEDIAN_GOAL, WORST_GOAL = 15.0, 30.0
MIN_MUTATIONS = 20
MIN_MID_SWEEP = 3
MUTATION_TIMEOUT = 35.0
BUDGET = 390.0  # seconds for the whole mutation phase
METRICS_POLL = 0.1
READ_SLACK = 0.25  # s; runs of SCOPE last >= SLOW_DELAY, so a listing this close to one's start is its own
SEED = 20261125


@dataclass
class Mutation:
    """One change at the stand-in and when `/metrics` showed it."""

    index: int
    change: str  # "widen", "revert", "insert", "delete"
    expect: int  # drift_active once the daemon has seen it
    plan: str  # "quiet": no run meant to be in flight; "chained": sent while a re-check runs
    start_wall: float  # time.time() when the mutating call started
    start: float  # time.perf_counter() alike
    end_wall: float  # time.time() when it returned (the change is committed before that)
    latency: float | None = None  # None: not seen within MUTATION_TIMEOUT
    mid_sweep: bool = False  # a run of SCOPE was in flight when it landed
    after_read: bool = False  # ... and that run had already listed the firewalls


@dataclass(frozen=True)
class Run:
    """One run of a scope, from the daemon's `scope_run` log line."""

    scope: str
    started: float  # wall clock
    ended: float


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    p90: float
    worst: float
    mid_sweep: int
    after_read: int
    unseen: int
    planned: int

    def problems(self) -> list[str]:
        found = []
        if self.unseen:
            found.append(f"{self.unseen} mutation(s) not seen within {MUTATION_TIMEOUT:.0f} s")
        if self.n < MIN_MUTATIONS:
            found.append(f"only {self.n} mutations measured (want >= {MIN_MUTATIONS} of {self.planned})")
        if self.median >= MEDIAN_GOAL:
            found.append(f"median {self.median:.2f} s >= {MEDIAN_GOAL:.0f} s")
        if self.worst >= WORST_GOAL:
            found.append(f"worst {self.worst:.2f} s >= {WORST_GOAL:.0f} s")
        if self.mid_sweep < MIN_MID_SWEEP:
            found.append(f"only {self.mid_sweep} mutation(s) landed mid-sweep (want >= {MIN_MID_SWEEP})")
        return found


# -- pure parts (tested in tests/test_bench_smoke.py) ---------------------------------------------

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def metric_value(text: str, name: str, labels: dict[str, str]) -> float | None:
    """The value of sample `name{labels}` in Prometheus text exposition, or None when absent."""
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or match["name"] != name:
            continue
        if dict(_LABEL.findall(match["labels"])) == labels:
            return float(match["value"])
    return None


def scope_runs(log_lines: Sequence[str], scope: str) -> list[Run]:
    """Every run of `scope` the daemon logged (`scope_run`: emitted at its end, with its duration)."""
    runs = []
    for line in log_lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("message") != "scope_run" or record.get("scope") != scope:
            continue
        ended = datetime.fromisoformat(str(record["time"])).timestamp()
        runs.append(Run(scope, ended - float(record["duration_s"]), ended))
    return runs


def classify(mutations: Sequence[Mutation], runs: Sequence[Run], firewall_reads: Sequence[float]) -> None:
    """Mark the mutations that landed while a run was in flight, and those whose in-flight run
    had already listed the firewalls (`firewall_reads`: when each listing of the scope answered).

    A run's start is its log line's time less its duration, a few ms late (the line is written
    after the results are stored), so a listing up to READ_SLACK before it counts as the run's.
    """
    for m in mutations:
        for run in runs:
            if run.started < m.end_wall and m.start_wall < run.ended:
                m.mid_sweep = True
                read = any(run.started - READ_SLACK <= t < m.start_wall for t in firewall_reads)
                m.after_read = m.after_read or read


def summarise(mutations: Sequence[Mutation], planned: int) -> Summary:
    seen = [m.latency for m in mutations if m.latency is not None]
    ordered = sorted(seen) or [float("inf")]
    p90 = statistics.quantiles(ordered, n=10, method="inclusive")[-1] if len(ordered) > 1 else ordered[0]
    return Summary(
        n=len(seen),
        median=statistics.median(ordered),
        p90=p90,
        worst=ordered[-1],
        mid_sweep=sum(m.mid_sweep for m in mutations),
        after_read=sum(m.after_read for m in mutations),
        unseen=len(mutations) - len(seen),
        planned=planned,
    )


def plan(pairs: int = PAIRS) -> list[tuple[str, str]]:
    """(change, plan) in order: widen/revert pairs, every second one chained, and one insert/delete pair."""
    steps: list[tuple[str, str]] = []
    for pair in range(pairs):
        mode = "chained" if pair % 2 else "quiet"
        steps += [("widen", mode), ("revert", mode)]
        if pair == pairs // 2:
            steps += [("insert", "quiet"), ("delete", "quiet")]
    return steps


def config_document(scopes: Sequence[str], endpoint: str, evidence: Path) -> dict[str, Any]:
    """The daemon's config: the scopes, the stand-in, a private evidence path, defaults otherwise."""
    return {
        "scopes": {"projects": [{"id": scope} for scope in scopes]},
        "gcp": {"api_endpoint": endpoint},
        "evidence": {"path": str(evidence)},
        "metrics": {"listen": "127.0.0.1:0"},
    }


# -- the harness --------------------------------------------------------------------------------


class BenchFailed(Exception):
    """The benchmark could not be set up or run (not a missed target)."""


class Harness:
    """A stand-in in this process and the daemon as a subprocess, both stopped by `close()`."""

    def __init__(self, workdir: Path) -> None:
        from monitor.demo import DEMO_SCENARIO
        from monitor.standin import StandIn, load_scenario

        self.workdir = workdir
        self.standin = StandIn(load_scenario(DEMO_SCENARIO), shift_time=True)
        self.standin.start()
        self.daemon: subprocess.Popen[bytes] | None = None
        self.stdout_path = workdir / "daemon.stdout.jsonl"
        self.stderr_path = workdir / "daemon.stderr.log"
        self.metrics_url = ""
        self.config_path = workdir / "controlwatch.yaml"
        self.poll_interval = 0.0
        self.describe = ""

    def close(self) -> None:
        daemon, self.daemon = self.daemon, None
        if daemon is not None and daemon.poll() is None:
            daemon.terminate()
            try:
                daemon.wait(timeout=15)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(timeout=5)
        self.standin.stop()

    # -- set-up --

    def write_config(self) -> None:
        import yaml

        from monitor.config.model import load_config

        scopes = sorted(self.standin.scenario.projects)
        document = config_document(scopes, self.standin.url, self.workdir / "evidence.sqlite3")
        self.config_path.write_text(yaml.safe_dump(document, sort_keys=False))
        config = load_config(self.config_path)
        self.poll_interval = config.drift.audit_poll_interval.total_seconds()
        self.describe = (
            f"{len(scopes)} scopes, audit_poll_interval {self.poll_interval:g}s, "
            f"schedule.interval {config.schedule.interval.total_seconds() / 60:g}m, "
            f"run_deadline {config.gcp.run_deadline.total_seconds():g}s (defaults)"
        )

    def approve_baselines(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "baseline", "approve", "--config", str(self.config_path),
             "--approver", "drift-bench", "--yes"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BenchFailed(f"baseline approve exited {done.returncode}: {done.stderr.strip()[-2000:]}")

    def slow_down_scope(self) -> None:
        from monitor.standin import Fault

        self.standin.add_fault(Fault(method=SLOW_METHOD, kind="latency", delay=SLOW_DELAY, project=SCOPE))

    def start_daemon(self) -> None:
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.daemon = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", "--config", str(self.config_path), "--grace", "2"],
                cwd=ROOT, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while not self.metrics_url:
            self._check_alive()
            for record in self._log_records():
                if record.get("message") == "daemon_started":
                    self.metrics_url = str(record["metrics_url"]).removesuffix("/metrics")
            if time.monotonic() > deadline:
                raise BenchFailed("the daemon did not log daemon_started within 60 s")
            time.sleep(0.1)
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(self.metrics_url + "/readyz", timeout=5):
                    return
            except (urllib.error.URLError, OSError):
                pass  # 503 until the first run of every scope has ended
            if time.monotonic() > deadline:
                raise BenchFailed("the daemon was not ready within 60 s")
            time.sleep(0.1)

    def _check_alive(self) -> None:
        if self.daemon is not None and self.daemon.poll() is not None:
            tail = self.stderr_path.read_text(errors="replace")[-2000:]
            raise BenchFailed(f"the daemon exited {self.daemon.returncode}: {tail}")

    def _log_records(self) -> Iterator[dict[str, Any]]:
        for line in self.log_lines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record

    def log_lines(self) -> list[str]:
        return self.stdout_path.read_text(errors="replace").splitlines()

    # -- measuring --

    def drift_active(self) -> float | None:
        with urllib.request.urlopen(self.metrics_url + "/metrics", timeout=5) as response:
            text = response.read().decode()
        return metric_value(text, "controlwatch_drift_active", {"control": CONTROL, "scope": SCOPE})

    def wait_for_drift(self, expect: int, since: float) -> float | None:
        """Seconds from `since` (perf_counter) until /metrics shows `expect`; None on timeout."""
        while True:
            value = self.drift_active()
            now = time.perf_counter()
            if value == expect:
                return now - since
            if now - since > MUTATION_TIMEOUT:
                return None
            self._check_alive()
            time.sleep(METRICS_POLL)

    def firewall_reads(self, after: float = 0.0) -> list[float]:
        """When each firewall listing of SCOPE was answered (wall clock), after `after`."""
        return [
            r.time
            for r in self.standin.requests_for("compute.firewalls.list")
            if r.project == SCOPE and r.status == 200 and r.time > after
        ]

    def wait_for_firewall_read(self, after: float) -> bool:
        """Wait until a run of SCOPE has listed the firewalls after `after` (wall clock)."""
        deadline = time.monotonic() + MUTATION_TIMEOUT
        while not self.firewall_reads(after):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


def _mutator(standin_url: str) -> Callable[[str], None]:
    """Changes at the stand-in through the real Compute client, as a person would make them."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import compute_v1

    anonymous: Any = AnonymousCredentials  # untyped in google-auth
    client = compute_v1.FirewallsClient(credentials=anonymous(), client_options={"api_endpoint": standin_url})
    original = list(client.get(project=SCOPE, firewall=RULE).source_ranges)

    def mutate(change: str) -> None:
        operation: Any
        if change in ("widen", "revert"):
            ranges = OPEN if change == "widen" else original
            patch = compute_v1.Firewall(source_ranges=ranges)
            operation = client.patch(project=SCOPE, firewall=RULE, firewall_resource=patch, metadata=PRINCIPAL)
        elif change == "insert":
            rule = compute_v1.Firewall(
                name=EXTRA_RULE,
                network=NETWORK,
                allowed=[compute_v1.Allowed(I_p_protocol="tcp", ports=["22"])],
                source_ranges=OPEN,
                target_tags=["bench"],
            )
            operation = client.insert(project=SCOPE, firewall_resource=rule, metadata=PRINCIPAL)
        elif change == "delete":
            operation = client.delete(project=SCOPE, firewall=EXTRA_RULE, metadata=PRINCIPAL)
        else:
            raise ValueError(change)
        operation.result(timeout=10)

    return mutate


def _measure(harness: Harness, steps: Sequence[tuple[str, str]]) -> list[Mutation]:
    mutate = _mutator(harness.standin.url)
    rng = random.Random(SEED)
    expects = {"widen": 1, "insert": 1, "revert": 0, "delete": 0}
    done: list[Mutation] = []
    phase_end = time.monotonic() + BUDGET

    def change(index: int, what: str, mode: str) -> Mutation:
        start_wall, start = time.time(), time.perf_counter()
        mutate(what)
        m = Mutation(index, what, expects[what], mode, start_wall, start, time.time())
        done.append(m)
        return m

    i = 0
    while i < len(steps):
        if time.monotonic() > phase_end:
            print(f"  (budget of {BUDGET:.0f} s spent: {len(steps) - i} mutation(s) not made)")
            break
        what, mode = steps[i]
        time.sleep(rng.uniform(0, harness.poll_interval))  # a random phase of the audit poller
        first = change(i + 1, what, mode)
        if mode == "chained" and what == "widen" and i + 1 < len(steps):
            # The revert lands while the re-check caused by the widening runs, after it listed the firewalls.
            if harness.wait_for_firewall_read(first.end_wall):
                second = change(i + 2, steps[i + 1][0], mode)
                first.latency = harness.wait_for_drift(first.expect, first.start)
                second.latency = harness.wait_for_drift(second.expect, second.start)
                i += 2
                continue
        first.latency = harness.wait_for_drift(first.expect, first.start)
        i += 1
    return done


@contextmanager
def _sigterm_exits() -> Iterator[None]:
    """Turn SIGTERM into SystemExit, so that `finally` stops the daemon (main thread only)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_table(mutations: Sequence[Mutation]) -> None:
    print(f"  {'#':>3}  {'change':<7} {'plan':<8} {'landed':<22} {'latency':>9}")
    for m in mutations:
        landed = ("mid-sweep, after read" if m.after_read else "mid-sweep") if m.mid_sweep else "between runs"
        latency = f"{m.latency:8.2f}s" if m.latency is not None else f">{MUTATION_TIMEOUT:.0f}s"
        print(f"  {m.index:>3}  {m.change:<7} {m.plan:<8} {landed:<22} {latency:>9}")


def run_benchmark(pairs: int = PAIRS) -> bool:
    """Set up, measure, report; True when the targets are met."""
    steps = plan(pairs)
    name = "drift detection: mutation → /metrics (daemon)"
    with tempfile.TemporaryDirectory(prefix="controlwatch-drift-bench-") as tmp, _sigterm_exits():
        harness = Harness(Path(tmp))
        try:
            harness.write_config()
            harness.approve_baselines()
            harness.slow_down_scope()
            harness.start_daemon()
            if harness.drift_active() != 0:
                raise BenchFailed(f"{CONTROL} drift_active for {SCOPE} is not 0 right after approving the baseline")
            print(
                f"{name}: {harness.describe}; {len(steps)} firewall changes in {SCOPE}, "
                f"its runs slowed by {SLOW_DELAY:g}s ({SLOW_METHOD} latency fault)"
            )
            mutations = _measure(harness, steps)
            reads = harness.firewall_reads()
            harness.close()  # the daemon first (its log is complete once it has stopped), then the stand-in
            classify(mutations, scope_runs(harness.log_lines(), SCOPE), reads)
        except BenchFailed as exc:
            print(f"{name:<52} FAILED TO RUN: {exc}")
            return False
        finally:
            harness.close()
    _print_table(mutations)
    s = summarise(mutations, len(steps))
    problems = s.problems()
    verdict = "  ok" if not problems else "  MISSED: " + "; ".join(problems)
    print(
        f"{'drift detection latency':<52} n={s.n:<3} median {s.median:7.3f}s  p90 {s.p90:7.3f}s  "
        f"worst {s.worst:7.3f}s  mid-sweep {s.mid_sweep} ({s.after_read} after the run's firewall read)"
    )
    print(f"{'  targets: median < 15 s, worst < 30 s':<52}{verdict}")
    return not problems


def main() -> int:
    return 0 if run_benchmark() else 1


if __name__ == "__main__":
    sys.exit(main())
