"""`make bench`: the evidence ledger of a year, its size per project and the time to verify it.

A ledger as the daemon writes it at default settings (one run per project every 15
minutes, repeated runs folded into `control_runs_repeated` records, a signed checkpoint
every hour) is generated for PROJECTS projects of about 600 resources each over DAYS days,
with a small, realistic churn: a few resources edited a day (the input digest changes,
the verdicts do not), a resource created or deleted about every other day (the verdicts of
the controls reading that kind change: those are written in full), and the full rewrite
of every control on the first run of each ISO week. Records are written straight through
the ledger API with an injected clock, never through a daemon, so a year takes minutes.

Then the whole ledger is verified (`verify_ledger`, signatures checked), and the figures
are printed as JSON next to their goals: bytes per project-year (≤ 200 MB) and a full
verify of one year of 50 projects (≤ 5 min; smaller runs are scaled to it linearly).
Sizes come from the environment for a quick run:
CONTROLWATCH_BENCH_EVIDENCE_PROJECTS (default 50), CONTROLWATCH_BENCH_EVIDENCE_DAYS (364).
Run alone: `python -m benchmarks.evidence_year`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from monitor.evidence.canonical import canonical_json, format_time
from monitor.evidence.checkpoint import sign_checkpoint
from monitor.evidence.ledger import Ledger, Transaction
from monitor.evidence.repeats import REPEATED, RUN, RepeatEntry, iso_week, repeat_body
from monitor.evidence.signing import SigningKey, generate_key, keyring
from monitor.evidence.verify import verify_ledger

PROJECTS = 50
DAYS = 364
INTERVAL = timedelta(minutes=15)
CHECKPOINT_EVERY = timedelta(hours=1)
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
GOAL_BYTES_PER_PROJECT_YEAR = 200 * 10**6
GOAL_VERIFY_SECONDS = 300.0  # one year of 50 projects
EDITS_PER_DAY = 3.0  # resources edited in place: inputs change, verdicts do not
CREATES_PER_DAY = 0.5  # resources created or deleted: the verdicts of their kind change
FAILING_SHARE = 0.02
# About 600 resources per project across the kinds the controls read.
RESOURCES: Mapping[str, int] = {
    "firewalls": 150,
    "instances": 90,
    "disks": 110,
    "snapshots": 60,
    "resourcePolicies": 20,
    "subnetworks": 40,
    "networks": 8,
    "addresses": 40,
    "logMetrics": 12,
    "sinks": 5,
    "ancestorSinks": 3,
    "iamPolicy": 60,
    "ancestry": 2,
}
_STARTED, _ENDED, _DIGEST = "@@STARTED@@", "@@ENDED@@", "@@INPUT_DIGEST@@"


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    area: str
    kinds: tuple[str, ...]
    params: tuple[str, ...]
    logic_version: int


def controls() -> list[Control]:
    """Every control of the registry, as the evidence of a run names it."""
    from checks import default_registry

    found = []
    for control in default_registry():
        meta = control.meta
        found.append(Control(meta.id, meta.area.value, tuple(meta.kinds), tuple(meta.params), meta.logic_version))
    return found


@dataclass
class Project:
    """One project's resources and, per control, the full run the next repeats refer to."""

    name: str
    counts: dict[str, int]
    versions: dict[str, int] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)  # control -> canonical text with placeholders
    fulls: dict[str, list[Any]] = field(default_factory=dict)  # seq, hash, week, digest of the previous run

    digests: dict[str, str] = field(default_factory=dict)

    def digest(self, control: Control) -> str:
        """Stands for the input digest: it changes whenever a resource of a kind the control reads does."""
        known = self.digests.get(control.id)
        if known is None:
            state = "|".join(f"{k}:{self.counts.get(k, 0)}:{self.versions.get(k, 0)}" for k in control.kinds)
            known = self.digests[control.id] = hashlib.sha256(f"{self.name}|{state}".encode()).hexdigest()
        return known


def _results(project: Project, control: Control) -> list[dict[str, Any]]:
    kind = control.kinds[0]
    results = []
    for index in range(project.counts.get(kind, 0)):
        failing = (index * 7919 + len(control.id)) % 1000 < FAILING_SHARE * 1000
        results.append(
            {
                "resource": f"//compute.googleapis.com/projects/{project.name}/global/{kind}/{kind[:-1]}-{index:04d}",
                "subject": "tcp:22" if kind == "firewalls" else "",
                "verdict": "fail" if failing else "pass",
                "reason": f"{control.id}: {'does not meet' if failing else 'meets'} the policy for {kind}",
                "excepted": False,
                "latent": False,
            }
        )
    return results


def template(project: Project, control: Control) -> str:
    """The canonical text of the control's full run, with its times and input digest left as placeholders."""
    results = _results(project, control)
    failed = sum(1 for result in results if result["verdict"] == "fail")
    body = {
        "control": control.id,
        "scope": project.name,
        "area": control.area,
        "started": _STARTED,
        "ended": _ENDED,
        "status": "fail" if failed else "pass",
        "counts": {"pass": len(results) - failed, "fail": failed, "excepted": 0, "error": 0, "checked": len(results)},
        "results": results,
        "params": {name: ["tcp:443"] for name in control.params},
        "input_digest": _DIGEST,
        "inputs": {kind: {"resources": project.counts.get(kind, 0)} for kind in control.kinds},
        "logic_version": control.logic_version,
        "controlwatch_version": "0.9.0",
        "source": "live",
        "interval_seconds": INTERVAL.total_seconds(),
    }
    return canonical_json(body)


def _full_text(text: str, started: str, ended: str, digest: str) -> str:
    return text.replace(_STARTED, started, 1).replace(_ENDED, ended, 1).replace(_DIGEST, digest, 1)


@dataclass
class Stats:
    full: int = 0
    repeated_records: int = 0
    repeated_runs: int = 0
    checkpoints: int = 0


def _run(txn: Transaction, project: Project, catalogue: list[Control], moment: datetime, stats: Stats) -> None:
    stamp = format_time(moment)
    started = format_time(moment - timedelta(seconds=4))
    week = iso_week(stamp)
    entries = []
    for control in catalogue:
        digest = project.digest(control)
        full = project.fulls.get(control.id)
        if control.id not in project.templates:
            project.templates[control.id] = template(project, control)
            full = None  # its verdicts changed: written in full
        if full is None or full[2] != week:
            text = _full_text(project.templates[control.id], started, stamp, digest)
            record = txn.append_canonical(RUN, text, time=moment)
            project.fulls[control.id] = [record.seq, record.hash, week, digest]
            stats.full += 1
        else:
            changed = {"input_digest": digest} if digest != full[3] else None  # against the previous run
            full[3] = digest
            entries.append(RepeatEntry(control.id, full[0], full[1], changed))
    if entries:
        # Only ASCII strings and small integers: the C encoder gives RFC 8785's very text (verify checks it).
        body = repeat_body(project.name, started, stamp, entries)
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        txn.append_canonical(REPEATED, text, time=moment)
        stats.repeated_records += 1
        stats.repeated_runs += len(entries)


def _churn(project: Project, catalogue: list[Control], rng: random.Random, runs_per_day: float) -> None:
    kinds = list(RESOURCES)
    weights = list(RESOURCES.values())
    if rng.random() < EDITS_PER_DAY / runs_per_day:
        kind = rng.choices(kinds, weights)[0]
        project.versions[kind] = project.versions.get(kind, 0) + 1
        project.digests.clear()
    if rng.random() < CREATES_PER_DAY / runs_per_day:
        kind = rng.choices(kinds, weights)[0]
        project.counts[kind] = max(1, project.counts[kind] + rng.choice((-1, 1)))
        project.digests.clear()
        for control in catalogue:
            if control.kinds[0] == kind:
                project.templates.pop(control.id, None)


def generate(path: Path, key: SigningKey, *, projects: int, days: int, seed: int = 11) -> Stats:
    """Write the ledger of `days` days of `projects` projects at `path`."""
    rng = random.Random(seed)
    catalogue = controls()
    estate = [Project(f"estate-{n:04d}", dict(RESOURCES)) for n in range(projects)]
    sweeps = int(timedelta(days=days) / INTERVAL)
    runs_per_day = timedelta(days=1) / INTERVAL
    stats = Stats()
    ledger = Ledger(path, clock=lambda: START)
    ledger._conn.execute("PRAGMA synchronous = OFF")  # the bytes written are the same; only the fsyncs go
    next_checkpoint = START + CHECKPOINT_EVERY
    try:
        for sweep in range(sweeps):
            moment = START + sweep * INTERVAL
            with ledger.transaction() as txn:
                for index, project in enumerate(estate):
                    _churn(project, catalogue, rng, runs_per_day)
                    # Runs are spread over the interval, as the daemon's scheduler spreads them.
                    _run(txn, project, catalogue, moment + INTERVAL * index / projects, stats)
                end = moment + INTERVAL
                if end >= next_checkpoint:
                    head = txn.head()
                    assert head is not None
                    stamp = max(format_time(end), head.time)
                    txn.append("checkpoint", sign_checkpoint(key, head.seq, head.hash, stamp).to_json(), time=end)
                    stats.checkpoints += 1
                    next_checkpoint += CHECKPOINT_EVERY
    finally:
        ledger._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        ledger.close()
    return stats


def ledger_bytes(path: Path) -> int:
    """The file's size once its write-ahead log is folded in (what the disk holds at rest)."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def measure(projects: int, days: int, workdir: Path) -> dict[str, Any]:
    key = generate_key(workdir / "evidence.pem")
    path = workdir / "evidence.sqlite3"
    began = time.perf_counter()
    stats = generate(path, key, projects=projects, days=days)
    generated = time.perf_counter() - began
    size = ledger_bytes(path)
    began = time.perf_counter()
    report = verify_ledger(path, keyring([key]), clock=lambda: START + timedelta(days=days))
    verified = time.perf_counter() - began
    project_years = projects * days / 364
    per_project_year = size / project_years
    verify_50_years = verified * 50 / project_years
    return {
        "benchmark": "evidence_year",
        "projects": projects,
        "days": days,
        "interval_minutes": INTERVAL.total_seconds() / 60,
        "resources_per_project": sum(RESOURCES.values()),
        "records": report.records,
        "full_runs": stats.full,
        "repeat_records": stats.repeated_records,
        "repeated_runs": stats.repeated_runs,
        "checkpoints": stats.checkpoints,
        "generate_seconds": round(generated, 1),
        "ledger_bytes": size,
        "bytes_per_project_year": {
            "figure": round(per_project_year),
            "mib": round(per_project_year / 2**20, 1),
            "goal": GOAL_BYTES_PER_PROJECT_YEAR,
            "ok": per_project_year <= GOAL_BYTES_PER_PROJECT_YEAR,
        },
        "verify_seconds": round(verified, 1),
        "verify_seconds_50_project_years": {
            "figure": round(verify_50_years, 1),
            "scaled_from": f"{projects} projects x {days} days",
            "goal": GOAL_VERIFY_SECONDS,
            "ok": verify_50_years <= GOAL_VERIFY_SECONDS,
        },
        "verified_ok": report.ok,
        "problems": [str(problem) for problem in report.problems[:5]],
    }


def sizes() -> tuple[int, int]:
    """PROJECTS and DAYS, from the environment when set; a clear error for anything but a positive integer."""
    values = []
    for name, default in (("PROJECTS", PROJECTS), ("DAYS", DAYS)):
        variable = f"CONTROLWATCH_BENCH_EVIDENCE_{name}"
        text = os.environ.get(variable, str(default))
        if not text.isdigit() or int(text) < 1:
            raise SystemExit(f"{variable}={text!r}: expected a positive integer")
        values.append(int(text))
    return values[0], values[1]


def run_benchmark() -> bool:
    projects, days = sizes()
    with TemporaryDirectory(prefix="controlwatch-evidence-year-") as tmp:
        result = measure(projects, days, Path(tmp))
    print(json.dumps(result, indent=2))
    ok = bool(result["verified_ok"])
    return ok and bool(result["bytes_per_project_year"]["ok"]) and bool(result["verify_seconds_50_project_years"]["ok"])


if __name__ == "__main__":
    sys.exit(0 if run_benchmark() else 1)
