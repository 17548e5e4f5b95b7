"""`make bench`: an organisation of 1 to 1,000 projects of ~600 resources each, through the daemon.

For each size in `CONTROLWATCH_BENCH_SIZES` (default `1,10,100,1000`) the synthetic
organisation (`benchmarks/synthetic_org.py`: 24 nested folders, every kind) is served
by the stand-in in its own process (`benchmarks/standin_process.py`), and a daemon
(`python -m monitor run`) with `scopes.organization` pointing at it and every other
setting at its default starts as a subprocess. Measured:

- start to `daemon_started` (imports, first discovery) and start to ready (`/readyz`
  200: every discovered scope's first run has ended, the first full sweep); the sweep
  is ready minus started. The stand-in's own serving time over the same window (its
  handlers' summed seconds, and its CPU seconds) is reported beside it;
- the API requests of that sweep counted at the stand-in (discovery and the audit-log
  poller apart), against the theoretical minimum: one paginated listing per kind per
  scope, aggregated across zones, plus each ancestor's get, policy and sinks once; and
  the ancestor reads alone against their minimum;
- `/metrics` (median of 3 scrapes: seconds, bytes, series) and `/results` (seconds and
  bytes of its first page of 500 pairs; the pairs in `error` are counted over every page)
  once the sweep is done;
- the daemon's peak RSS (`VmHWM`), the evidence ledger's bytes after the sweep;
- `controlwatch check --scenario` on the same organisation exported as a JSON scenario;
- the floor the default `gcp.rate_limits` put under that sweep (each API's calls ÷ its
  rate): the sweep itself runs with the limits lifted (`CONTROLWATCH_BENCH_RATES=unlimited`,
  the default here; `default` keeps them), as the naive collector has none either;
- the naive sequential collector (`benchmarks/naive_collector.py`) over the same stand-in,
  and the daemon's sweep against it.

It prints each figure next to the goal of issue 11 and the figure the issue measured
before ("today"), a cost curve per scope across sizes, and writes everything as JSON to
`.controlwatch/bench/org_scale.json`. With `CONTROLWATCH_BENCH_PROFILE=1` the daemon runs
under the stack sampler of `benchmarks/sampled_daemon.py` and the hotspots are printed.
Every wait is bounded (`CONTROLWATCH_BENCH_TIMEOUT`, default 1,800 s for a sweep). Machine
noise applies: 2 shared cores. Run alone: `python -m benchmarks.org_scale`.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from benchmarks import synthetic_org
from benchmarks.naive_collector import NaiveCollector
from benchmarks.standin_process import StandInProcess
from checks.kinds import Holder, Kind, Shape
from monitor.config.rates import DEFAULT_RATES
from monitor.standin.control import StandInControl

ROOT = Path(__file__).resolve().parents[1]
DRIFT_CONTROLS = ("DRIFT-01", "DRIFT-02", "DRIFT-03")
OUT = ROOT / ".controlwatch" / "bench" / "org_scale.json"
PAGE = 500  # Compute's and the collectors' default page size
DISCOVERY = frozenset({"cloudresourcemanager.folders.list", "cloudresourcemanager.projects.list"})
POLLER = frozenset({"logging.entries.list"})
ANCESTOR_READS = frozenset(
    {
        "cloudresourcemanager.folders.get",
        "cloudresourcemanager.folders.getIamPolicy",
        "cloudresourcemanager.organizations.get",
        "cloudresourcemanager.organizations.getIamPolicy",
        "logging.folders.sinks.list",
        "logging.organizations.sinks.list",
        "compute.firewallPolicies.list",  # by parentId: the organisation's and each folder's
    }
)

#: issue 11's goals at 1,000 projects: (figure key, goal text, passes?)
GOALS: Mapping[str, str] = {
    "sweep_s": "≤ 60 s",
    "naive_ratio": "daemon ≥ 10× faster",
    "requests_ratio": "1.00",
    "ancestor_ratio": "1.00 (once per sweep)",
    "metrics_s": "≤ 0.25 s",
    "results_s": "≤ 0.5 s, paged",
    "rss_mb": "≤ 300 MB",
    "startup_s": "≤ 3 s + sweep",
    "evidence_mb": "—",
    "check_s": "≤ 60 s",
}
#: issue 11's figures before this work ("today"), by size
TODAY: Mapping[str, Mapping[int, str]] = {
    "sweep_s": {10: "3.9 s", 100: "28.5 s", 1000: "517 s"},
    "naive_s": {10: "1.3 s", 100: "13 s", 1000: "~200 s"},
    "requests_ratio": {10: "1.32", 100: "1.65", 1000: "1.74"},
    "metrics_s": {10: "0.019 s", 100: "0.171 s", 1000: "3.3 s (31 MB)"},
    "results_s": {10: "0.36 s", 100: "2.5 s", 1000: "47 s (690 MB)"},
    "rss_mb": {10: "236 MB", 100: "564 MB", 1000: "3.9 GB"},
    "evidence_mb": {10: "6.3 MB", 100: "63 MB", 1000: "632 MB"},
    "check_s": {10: "4.3 s", 100: "26 s", 1000: "425 s"},
}


def sizes() -> list[int]:
    raw = os.environ.get("CONTROLWATCH_BENCH_SIZES", "1,10,100,1000")
    try:
        found = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"CONTROLWATCH_BENCH_SIZES: expected sizes like 1,10,100, got {raw!r}") from None
    if not found or any(n < 1 for n in found):
        raise SystemExit(f"CONTROLWATCH_BENCH_SIZES: every size must be at least 1, got {raw!r}")
    return found


def latency() -> float:
    """`CONTROLWATCH_BENCH_LATENCY`: seconds the stand-in waits before each answer in the latency pass."""
    raw = os.environ.get("CONTROLWATCH_BENCH_LATENCY", "0.05")
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"CONTROLWATCH_BENCH_LATENCY: expected seconds such as 0.05, got {raw!r}") from None
    if not 0 <= value <= 5:
        raise SystemExit(f"CONTROLWATCH_BENCH_LATENCY: expected 0 (no latency pass) to 5 seconds, got {raw!r}")
    return value


def naive_sample() -> int:
    """`CONTROLWATCH_BENCH_NAIVE_SAMPLE`: projects the naive collector reads in the latency pass."""
    raw = os.environ.get("CONTROLWATCH_BENCH_NAIVE_SAMPLE", "20")
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"CONTROLWATCH_BENCH_NAIVE_SAMPLE: expected a number of projects ≥ 1, got {raw!r}")
    return int(raw)


def with_latency(
    standin: StandInProcess, work: Path, projects: int, seconds: float, timeout: float, rates: str
) -> dict[str, Any]:
    """The daemon's sweep and the naive collector again, every answer `seconds` late, as Google's are.

    Against a stand-in on the same machine an answer takes a millisecond, so a sequential
    collector waits on nothing and only CPU is compared. Google answers a Compute listing
    in tens to hundreds of milliseconds: the time a collector spends waiting is what
    concurrency saves. The naive collector, one project after the other, costs the same for
    every project, so it reads a sample of projects and is scaled to the organisation
    (`naive_latency_s`); the daemon sweeps every project.
    """
    found: dict[str, Any] = {"latency_s": seconds}
    evidence = work / "evidence-latency"
    evidence.mkdir()
    config = work / "controlwatch-latency.yaml"
    config.write_text(yaml.safe_dump(config_document(standin.url, evidence / "evidence.sqlite3", rates)))
    standin.reset()
    with StandInControl(standin.url) as control:
        control.add_fault("*", kind="latency", delay=seconds)
    workdir = work / "latency"
    workdir.mkdir()
    daemon = Daemon(config, workdir, None)
    try:
        started = daemon.wait_started(timeout)
        found["latency_sweep_s"] = daemon.wait_ready(timeout) - started
    finally:
        daemon.stop()
    sample = min(projects, naive_sample())
    naive = NaiveCollector(standin.url, synthetic_org.ZONE_LIST, synthetic_org.REGION_LIST)
    swept = naive.sweep([synthetic_org.project_id(n) for n in range(sample)], budget=timeout)
    found["latency_naive_sample"] = sample
    found["latency_naive_sample_s"] = swept.seconds
    found["naive_latency_s"] = swept.seconds * projects / sample
    found["latency_naive_errors"] = swept.errors[:3]
    found["latency_ratio"] = found["naive_latency_s"] / found["latency_sweep_s"] if found["latency_sweep_s"] else None
    standin.reset()
    print(f"  {projects} projects, every answer {seconds * 1000:.0f} ms late: sweep {found['latency_sweep_s']:.1f}s, "
          f"naive {found['naive_latency_s']:.0f}s ({sample} projects read)", flush=True)  # fmt: skip
    return found


def minimum_requests(
    projects: int,
    mix: Mapping[tuple[str, str], int] = synthetic_org.DEFAULT_MIX,
    data_mix: Mapping[tuple[str, str], int] = synthetic_org.DATA_MIX,
) -> dict[str, int]:
    """The fewest requests one sweep can make: per scope its single reads, one paged
    listing per kind (zones aggregated), the Cloud SQL listing with its primary's backup
    runs, the second catalogue's reads of each resource (a bucket's IAM policy, an account's
    keys, one effective policy per constraint, beside the bucket and account listings), its
    sinks' destination, the listings of the networks kinds (backend services, DNS) and the
    identity kinds' reads (KMS location by location); per ancestor in use its get, policy,
    sinks and firewall policies once."""
    listings = sum(max(1, math.ceil(count / PAGE)) for count in mix.values())
    sql = 2  # the instances, and the backup runs of the one primary
    data = (
        1 + data_mix["storage", "buckets"]  # the listing, then each bucket's IAM policy
        + 1 + data_mix["iam", "serviceAccounts"]  # the listing, then each account's keys
        + data_mix["orgPolicy", "effectivePolicies"]  # one getEffectivePolicy per constraint
        + 2  # alert policies, enabled services: one listing each (Access Approval's read is a single)
    )  # fmt: skip
    destinations = 1  # every sink of a project writes to its one locked Logging bucket
    # the networks kinds of issue 13: backend services, managed zones, DNS policies, one listing each
    networks = sum(
        max(1, math.ceil(data_mix[key] / PAGE))
        for key in (("compute", "backendServices"), ("dns", "managedZones"), ("dns", "policies"))
    )
    # the single reads: the project, its IAM policy, Compute's view of it (common instance metadata),
    # its Access Approval settings
    singles = sum(1 for kind in Kind if kind.spec.shape is Shape.SINGLE and kind.spec.holder is Holder.PROJECT)
    # the identity kinds: Cloud KMS has no listing across locations, so its locations once, each
    # location's rings (the stand-in lists `global` and the one region the synthetic ring sits in),
    # each ring's IAM policy and keys, each key's IAM policy; one API-key listing, one contacts:compute
    rings = data_mix["kms", "keyRings"]
    identity = (1 + 2 + 2 * rings + rings * synthetic_org.KEYS_PER_RING) + 1 + 1
    # BigQuery: the datasets listing (shared by its two kinds), each dataset's get and tables listing,
    # each table's get; Dataproc: the listing of the one allowed region (europe-west1)
    analytics = (
        1 + 2 * data_mix["bigquery", "datasets"] + data_mix["bigquery", "tables"]
        + 1
    )  # fmt: skip
    per_scope = singles + listings + sql + data + destinations + networks + identity + analytics
    parents = dict(synthetic_org.folder_numbers())
    leaves = synthetic_org.leaf_folders()
    ancestors: set[str] = set()
    for n in range(projects):
        node = leaves[n % len(leaves)]
        while node.startswith("folders/"):
            ancestors.add(node)
            node = parents[node]
        ancestors.add(node)
    reads = 4 * len(ancestors)
    archive = 1  # the ancestors' sinks all write to one Logging bucket: its read is shared by every scope
    return {"per_scope": per_scope, "ancestors": reads, "total": per_scope * projects + reads + archive}


def config_document(endpoint: str, evidence: Path, rates: str = "unlimited") -> dict[str, Any]:
    """The daemon's config: the organisation, the stand-in, a private ledger; defaults otherwise.

    The DRIFT controls are off (without an approved baseline they are `error` by design).
    `rates` "unlimited" lifts `gcp.rate_limits` far above what the stand-in can serve, so
    the sweep measures the process, not the buckets (whose floor is reported apart);
    "default" keeps the defaults.
    """
    gcp: dict[str, Any] = {"api_endpoint": endpoint}
    if rates == "unlimited":
        gcp["rate_limits"] = {api: "10000/s" for api in DEFAULT_RATES}
    elif rates != "default":
        raise SystemExit(f"CONTROLWATCH_BENCH_RATES: expected unlimited or default, got {rates!r}")
    return {
        "scopes": {"organization": str(synthetic_org.ORG_NUMBER)},
        "gcp": gcp,
        "evidence": {"path": str(evidence)},
        "metrics": {"listen": "127.0.0.1:0"},
        "disabled_controls": list(DRIFT_CONTROLS),
    }


def rate_floor(by_method: Mapping[str, int]) -> float:
    """Seconds the default `gcp.rate_limits` need at least for these requests: the slowest API's calls ÷ its rate."""
    calls = {api: sum(n for m, n in by_method.items() if m.startswith(api + ".")) for api in DEFAULT_RATES}
    return max(calls[api] / rate for api, rate in DEFAULT_RATES.items())


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (`VmHWM`), in MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def fetch(url: str, timeout: float) -> tuple[float, bytes]:
    """(seconds, body) of one GET, read to the end; `IncompleteAnswer` when the server cut it short."""
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        try:
            body = answer.read()
        except http.client.IncompleteRead as exc:
            raise IncompleteAnswer(time.perf_counter() - start, len(exc.partial), exc.expected) from None
    return time.perf_counter() - start, body


class IncompleteAnswer(Exception):
    """The daemon closed the connection before the whole answer was read (its I/O timeout)."""

    def __init__(self, seconds: float, received: int, missing: int | None) -> None:
        super().__init__(f"cut after {seconds:.1f}s: {received} bytes read, {missing} more expected")
        self.seconds, self.received, self.missing = seconds, received, missing


def series(exposition: bytes) -> int:
    return sum(1 for line in exposition.splitlines() if line and not line.startswith(b"#"))


def scopes_run(exposition: bytes) -> set[str]:
    """The scopes with a last-run time on `/metrics`: those whose first run has ended."""
    found = re.findall(rb'^controlwatch_control_last_run_timestamp_seconds\{[^}]*scope="([^"]+)"', exposition, re.M)
    return {scope.decode() for scope in found}


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


class Daemon:
    """`controlwatch run` as a subprocess, logging JSON lines to a file; stopped by `stop()`."""

    def __init__(self, config: Path, workdir: Path, profile_out: Path | None) -> None:
        self.stdout = workdir / "daemon.jsonl"
        self.stderr = workdir / "daemon.stderr"
        module = "benchmarks.sampled_daemon" if profile_out else "monitor"
        env = {**os.environ, **({"CONTROLWATCH_BENCH_PROFILE_OUT": str(profile_out)} if profile_out else {})}
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, "run", "--config", str(config), "--grace", "5"],
                cwd=ROOT, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
            )  # fmt: skip
        self.started = time.monotonic()
        self.base = ""

    def records(self) -> Iterator[dict[str, Any]]:
        for line in self.stdout.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record

    def alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.stderr.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the daemon exited {self.process.returncode}: {tail}")

    def wait_started(self, timeout: float) -> float:
        while time.monotonic() - self.started < timeout:
            self.alive()
            for record in self.records():
                if record.get("message") == "daemon_started":
                    self.base = str(record["metrics_url"]).removesuffix("/metrics")
                    return time.monotonic() - self.started
            time.sleep(0.2)
        raise TimeoutError(f"the daemon did not log daemon_started within {timeout:.0f}s")

    def wait_ready(self, timeout: float) -> float:
        while time.monotonic() - self.started < timeout:
            self.alive()
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=10):
                    return time.monotonic() - self.started
            except (urllib.error.URLError, OSError):
                pass  # 503 until every scope's first run has ended
            time.sleep(0.5)
        raise TimeoutError(f"the daemon was not ready within {timeout:.0f}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def measure(
    projects: int, timeout: float, profile: bool, rates: str = "unlimited", found: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every figure for one size, filled into `found` as it is measured (kept if a later step fails)."""
    found = {} if found is None else found
    found |= {"projects": projects, "resources_per_project": sum(synthetic_org.DEFAULT_MIX.values()), "rates": rates}
    minimum = minimum_requests(projects)
    with tempfile.TemporaryDirectory(prefix="controlwatch-org-scale-") as tmp:
        work = Path(tmp)
        scenario_file = work / "org.json"
        evidence_dir = work / "evidence"
        evidence_dir.mkdir()
        started = time.perf_counter()
        with StandInProcess(projects, export=scenario_file, timeout=timeout) as standin:
            found["standin_load_s"] = time.perf_counter() - started
            config = work / "controlwatch.yaml"
            config.write_text(yaml.safe_dump(config_document(standin.url, evidence_dir / "evidence.sqlite3", rates)))
            standin.reset()
            profile_out = work / "profile.json" if profile else None
            daemon = Daemon(config, work, profile_out)
            try:
                found["startup_s"] = daemon.wait_started(timeout)
                found["ready_s"] = daemon.wait_ready(timeout)
                stats = standin.stats()
                if profile_out is not None:
                    found["profile"] = sweep_profile(profile_out, time.time())
                found["sweep_s"] = found["ready_s"] - found["startup_s"]
                found["rss_mb_at_ready"] = peak_rss_mb(daemon.process.pid)
                found.update(_requests(stats, minimum))
                found["standin_handler_s"] = stats["handler_seconds"]
                found["standin_cpu_s"] = stats["cpu_seconds"]
                scrapes = [fetch(daemon.base + "/metrics", timeout=120) for _ in range(3)]
                found["scopes_run"] = len(scopes_run(scrapes[-1][1]))
                found["metrics_s"] = statistics.median(s for s, _ in scrapes)
                found["metrics_bytes"] = len(scrapes[-1][1])
                found["metrics_series"] = series(scrapes[-1][1])
                print(f"  {projects} projects: ready after {found['ready_s']:.1f}s (sweep {found['sweep_s']:.1f}s), "
                      f"{found['requests']} requests, /metrics {found['metrics_s']:.2f}s", flush=True)  # fmt: skip
                try:
                    seconds, body = fetch(daemon.base + "/results", timeout=600)  # the first page (500 pairs)
                    found["results_s"], found["results_bytes"] = seconds, len(body)
                    del body
                    found["results_errors"] = errored_pairs(daemon.base)
                except IncompleteAnswer as exc:
                    found["results_s"], found["results_bytes"] = exc.seconds, exc.received + (exc.missing or 0)
                    found["results_cut"] = str(exc)
                    found["results_errors"] = None
                found["evidence_bytes"] = dir_bytes(evidence_dir)
                found["rss_mb"] = peak_rss_mb(daemon.process.pid)
            finally:
                daemon.stop()
            standin.reset()
            naive = NaiveCollector(standin.url, synthetic_org.ZONE_LIST, synthetic_org.REGION_LIST)
            swept = naive.sweep([synthetic_org.project_id(n) for n in range(projects)], budget=timeout)
            naive_stats = standin.stats()
            found["naive_s"], found["naive_calls"], found["naive_errors"] = swept.seconds, swept.calls, swept.errors[:3]
            found["naive_standin_handler_s"] = naive_stats["handler_seconds"]
            if latency() > 0:
                found |= with_latency(standin, work, projects, latency(), timeout, rates)
        found["naive_ratio"] = found["naive_s"] / found["sweep_s"] if found["sweep_s"] else None
        found["check_s"], found["check_exit"] = _check(config, scenario_file, work, timeout)
    return found


def sweep_profile(path: Path, ready: float, wait: float = 8.0) -> dict[str, Any] | None:
    """The sampler's counts as of ready: its next dump (every 5 s) after `ready` (Unix time)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_mtime >= ready:
            found: dict[str, Any] = json.loads(path.read_text())
            return found
        time.sleep(0.2)
    return None


def _requests(stats: Mapping[str, Any], minimum: Mapping[str, int]) -> dict[str, Any]:
    by_method: Mapping[str, int] = stats["by_method"]
    sweep = sum(n for m, n in by_method.items() if m not in DISCOVERY | POLLER)
    ancestors = sum(n for m, n in by_method.items() if m in ANCESTOR_READS)
    return {
        "requests": sweep,
        "requests_min": minimum["total"],
        "requests_ratio": sweep / minimum["total"],
        "ancestor_reads": ancestors,
        "ancestor_min": minimum["ancestors"],
        "ancestor_ratio": ancestors / minimum["ancestors"],
        "discovery_requests": sum(n for m, n in by_method.items() if m in DISCOVERY),
        "requests_by_method": dict(sorted(by_method.items())),
        "rate_floor_s": rate_floor({m: n for m, n in by_method.items() if m not in POLLER}),
        "non_2xx": {k: v for k, v in stats["statuses"].items() if not k.startswith("2")},
    }


def _check(config: Path, scenario: Path, work: Path, timeout: float) -> tuple[float | None, int | None]:
    """Seconds and exit code of `controlwatch check --scenario` (1: something fails, as planted)."""
    start = time.perf_counter()
    with (work / "check.json").open("wb") as out:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "monitor", "check", "--scenario", str(scenario), "--config", str(config),
                 "--format", "json"],
                cwd=ROOT, stdout=out, stderr=subprocess.DEVNULL, timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return None, None
    return time.perf_counter() - start, done.returncode


# -- the report --------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f} s" if value < 1 else f"{value:.1f} s"


def rows(found: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, figure, goal at 1,000, today at this size) for one size."""
    n = found["projects"]

    def today(key: str) -> str:
        return TODAY.get(key, {}).get(n, "")

    ratio = found.get("naive_ratio")
    return [
        ("first full sweep", _seconds(found["sweep_s"]), GOALS["sweep_s"], today("sweep_s")),
        ("  floor of the default rate limits", _seconds(found["rate_floor_s"]), "", ""),
        ("  stand-in serving (handlers summed / CPU)",
         f"{found['standin_handler_s']:.1f} s / {found['standin_cpu_s']:.1f} s", "", ""),
        ("start to ready (started + sweep)", f"{_seconds(found['startup_s'])} + sweep", GOALS["startup_s"], ""),
        ("naive sequential collector", _seconds(found["naive_s"]), "", today("naive_s")),
        ("  naive ÷ daemon sweep", f"{ratio:.2f}×" if ratio else "—", GOALS["naive_ratio"], ""),
        *_latency_rows(found),
        ("requests per sweep ÷ minimum",
         f"{found['requests_ratio']:.2f} ({found['requests']} / {found['requests_min']})",
         GOALS["requests_ratio"], today("requests_ratio")),
        ("ancestor reads ÷ once per sweep",
         f"{found['ancestor_ratio']:.2f} ({found['ancestor_reads']} / {found['ancestor_min']})",
         GOALS["ancestor_ratio"], ""),
        ("/metrics scrape",
         f"{_seconds(found['metrics_s'])} ({found['metrics_bytes'] / 1e6:.1f} MB, {found['metrics_series']} series)",
         GOALS["metrics_s"], today("metrics_s")),
        ("/results (first page, 500 pairs)",
         f"{_seconds(found['results_s'])} ({found['results_bytes'] / 1e6:.1f} MB)"
         + (", cut short by the daemon" if found.get("results_cut") else ""),
         GOALS["results_s"], today("results_s")),
        ("daemon peak RSS", f"{found['rss_mb']:.0f} MB" if found.get("rss_mb") else "—", GOALS["rss_mb"],
         today("rss_mb")),
        ("evidence ledger after the sweep", f"{found['evidence_bytes'] / 1e6:.1f} MB", GOALS["evidence_mb"],
         today("evidence_mb")),
        ("check --scenario", _seconds(found["check_s"]), GOALS["check_s"], today("check_s")),
    ]  # fmt: skip


def _latency_rows(found: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    if "latency_s" not in found:
        return []
    late = f"every answer {found['latency_s'] * 1000:.0f} ms late"
    ratio = found.get("latency_ratio")
    sample = found["latency_naive_sample"]
    scaled = f" ({sample} projects read, scaled)" if sample < found["projects"] else ""
    return [
        (f"{late}: daemon sweep", _seconds(found["latency_sweep_s"]), "", ""),
        (f"{late}: naive collector", _seconds(found["naive_latency_s"]) + scaled, "", ""),
        (f"{late}: naive ÷ daemon sweep", f"{ratio:.2f}×" if ratio else "—", GOALS["naive_ratio"], ""),
    ]


def print_size(found: Mapping[str, Any]) -> None:
    print(f"\norganisation of {found['projects']} projects × {found['resources_per_project']} resources "
          f"(stand-in ready in {found['standin_load_s']:.1f}s; {found['scopes_run']} scopes ran, "
          f"{found['results_errors']} pairs in error, {sum(found['non_2xx'].values())} non-2xx answers)")  # fmt: skip
    print(f"  {'':<44} {'figure':<34} {'goal at 1,000':<22} today")
    for what, figure, goal, today in rows(found):
        print(f"  {what:<44} {figure:<34} {goal:<22} {today}")
    if found.get("naive_errors"):
        print(f"  naive collector errors: {found['naive_errors']}")


def print_curve(runs: Sequence[Mapping[str, Any]]) -> None:
    print("\ncost per scope:")
    print(
        f"  {'projects':>8} {'sweep s/scope':>14} {'requests/scope':>15} {'RSS MB/scope':>13} {'/metrics KB/scope':>18}"
    )
    for found in runs:
        n = found["projects"]
        print(f"  {n:>8} {found['sweep_s'] / n:>14.3f} {found['requests'] / n:>15.1f} "
              f"{(found['rss_mb'] or 0) / n:>13.2f} {found['metrics_bytes'] / n / 1e3:>18.1f}")  # fmt: skip


def print_profile(profile: Mapping[str, Any], top: int = 20) -> None:
    busy = profile["busy"] or 1
    print(f"\nwhere the daemon's time goes ({profile['busy']} busy samples of {profile['samples']}, every thread):")
    for name, count in sorted(profile["inclusive"].items(), key=lambda item: -item[1])[:top]:
        print(f"  {100 * count / busy:5.1f}%  {name}")
    print("  by the library the busy frame is in:")
    for name, count in sorted(profile["leaf"].items(), key=lambda item: -item[1])[:10]:
        print(f"  {100 * count / busy:5.1f}%  {name}")
    print("  by the function the busy frame is in:")
    for name, count in sorted(profile.get("functions", {}).items(), key=lambda item: -item[1])[:top]:
        print(f"  {100 * count / busy:5.1f}%  {name}")


def errored_pairs(base: str, *, max_pages: int = 100) -> int:
    """Pairs in `error` after the sweep, over every page of `/results?status=error` (bounded)."""
    count, token = 0, None
    for _ in range(max_pages):
        url = base + "/results?status=error&limit=5000" + (f"&page_token={quote(token)}" if token else "")
        _, body = fetch(url, timeout=600)
        page = json.loads(body)
        count += len(page["controls"])
        token = page["next_page_token"]
        if token is None:
            return count
    raise SystemExit(f"/results?status=error: more than {max_pages} pages")


def run_benchmark() -> bool:
    timeout = float(os.environ.get("CONTROLWATCH_BENCH_TIMEOUT", "1800"))
    profile = os.environ.get("CONTROLWATCH_BENCH_PROFILE") == "1"
    rates = os.environ.get("CONTROLWATCH_BENCH_RATES", "unlimited")
    print("organisation scale: synthetic organisation, stand-in in its own process, daemon as a subprocess, "
          f"rate limits {rates} (2 shared cores: timings are noisy)")  # fmt: skip
    runs: list[dict[str, Any]] = []
    for n in sizes():
        found: dict[str, Any] = {}
        runs.append(found)
        try:
            measure(n, timeout, profile, rates, found)
        except Exception as exc:  # noqa: BLE001 - keep what was measured, say what failed, go on
            found["failed"] = f"{type(exc).__name__}: {exc}"
            so_far = {k: v for k, v in found.items() if k != "requests_by_method"}
            print(f"\norganisation of {n} projects: FAILED ({found['failed']})")
            print(f"  measured so far: {json.dumps(so_far, default=str)}")
            OUT.parent.mkdir(parents=True, exist_ok=True)
            OUT.write_text(json.dumps({"runs": runs, "goals": GOALS, "today": TODAY}, indent=1, default=str))
            continue
        print_size(found)
        if profile and found.get("profile"):
            print_profile(found["profile"])
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps({"runs": runs, "goals": GOALS, "today": TODAY}, indent=1, default=str))
    print_curve([r for r in runs if "failed" not in r])
    print(f"\nwritten to {OUT}")
    ok = all(
        "failed" not in r and r["scopes_run"] == r["projects"] and not r["results_errors"] and not r["naive_errors"]
        for r in runs
    )
    return ok


if __name__ == "__main__":
    sys.exit(0 if run_benchmark() else 1)
