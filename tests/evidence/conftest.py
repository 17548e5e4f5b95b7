"""Shared helpers for the evidence tests: ledgers with a known history, and a tamperer.

The tamperer works on the SQLite file directly, as an administrator of the host would:
it drops the append-only triggers first (they stop accidents, not people).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from checks.model import Result, Verdict
from monitor.evidence import Checkpointer, Ledger, SigningKey, control_run_body, generate_key
from monitor.evidence.canonical import canonical_json
from monitor.evidence.records import body_digest, canonical_body, record_hash

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=15)


@pytest.fixture(scope="session")
def key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return generate_key(tmp_path_factory.mktemp("keys") / "evidence.pem")


@pytest.fixture(scope="session")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return generate_key(tmp_path_factory.mktemp("keys") / "attacker.pem")


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "evidence.sqlite3"


@pytest.fixture
def ledger(ledger_path: Path) -> Iterator[Ledger]:
    with Ledger(ledger_path) as opened:
        yield opened


def run_body(
    control: str,
    scope: str,
    ended: datetime,
    status: str = "pass",
    *,
    interval: timedelta = INTERVAL,
    resource: str = "//compute.googleapis.com/projects/p/global/firewalls/f",
    reason: str | None = None,
    excepted: str | None = None,
) -> dict[str, Any]:
    """A realistic `control_run` body whose roll-up is `status`."""
    verdict = Verdict(status)
    results = [
        Result(
            control=control,
            scope=scope,
            resource=resource,
            subject="tcp:22",
            verdict=verdict,
            reason=reason or f"{status} for the test",
        )
    ]
    if excepted is not None:
        results.append(
            Result(
                control=control,
                scope=scope,
                resource=resource + "-excepted",
                subject="tcp:3389",
                verdict=Verdict.FAIL,
                reason="RDP open",
                excepted=True,
                exception_reason=excepted,
            )
        )
    return control_run_body(
        control=control,
        scope=scope,
        started=ended - timedelta(seconds=2),
        ended=ended,
        results=results,
        params={"firewall.public_ports": ["tcp:443"]},
        inputs={"firewalls": {"resources": [{"name": "f"}]}},
        logic_version=1,
        controlwatch_version="0.1.0",
        source="demo",
        interval=interval,
    )


def fill(
    ledger: Ledger,
    key: SigningKey | None,
    runs: int = 40,
    *,
    every: int = 10,
    start: datetime = T0,
    scopes: tuple[str, ...] = ("shop-prod",),
) -> list[int]:
    """`runs` control runs a minute apart, a checkpoint after every `every`; returns checkpoint seqs."""
    checkpoints: list[int] = []
    checkpointer = Checkpointer(ledger, key) if key is not None else None
    for index in range(runs):
        moment = start + timedelta(minutes=index)
        scope = scopes[index % len(scopes)]
        ledger.append("control_run", run_body("FW-01", scope, moment), time=moment)
        if checkpointer is not None and (index + 1) % every == 0:
            record = checkpointer.checkpoint(moment)
            assert record is not None
            checkpoints.append(record.seq)
    return checkpoints


def tamper(path: Path, *statements: str | tuple[str, tuple[Any, ...]]) -> None:
    """Run SQL against the ledger file as its host's administrator could."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER IF EXISTS records_no_update")
        conn.execute("DROP TRIGGER IF EXISTS records_no_delete")
        for statement in statements:
            if isinstance(statement, tuple):
                conn.execute(statement[0], statement[1])
            else:
                conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def rows(path: Path) -> list[tuple[int, str, str, str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return [
            (int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]))
            for r in conn.execute("SELECT seq, kind, time, body, prev_hash, hash FROM records ORDER BY seq")
        ]
    finally:
        conn.close()


def row_formats(path: Path) -> dict[int, int]:
    """`{seq: record format}` of the ledger file."""
    conn = sqlite3.connect(path)
    try:
        return {int(seq): int(fmt) for seq, fmt in conn.execute("SELECT seq, format FROM records")}
    finally:
        conn.close()


def edit_body(path: Path, seq: int, **changes: Any) -> None:
    """Change fields of one record's body, keeping it canonical (hash and links untouched)."""
    body = next(r[3] for r in rows(path) if r[0] == seq)
    edited = canonical_json({**json.loads(body), **changes})
    tamper(path, ("UPDATE records SET body = ? WHERE seq = ?", (edited, seq)))


def rehash_from(path: Path, seq: int) -> None:
    """Recompute every hash and link from `seq` on: a consistent rewrite of the chain."""
    all_rows = rows(path)
    formats = row_formats(path)
    prev = next((r[5] for r in all_rows if r[0] == seq - 1), "0" * 64)
    updates = []
    for row_seq, kind, time, body, _, _ in all_rows:
        if row_seq < seq:
            continue
        new_hash = record_hash(row_seq, kind, time, body_digest(body), prev, format=formats[row_seq])
        updates.append(("UPDATE records SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, new_hash, row_seq)))
        prev = new_hash
    tamper(path, *updates)


def rewrite_chain(
    path: Path,
    *,
    drop: Callable[[int, str], bool] = lambda seq, kind: False,
    edit: Callable[[str, dict[str, Any]], dict[str, Any]] = lambda kind, body: body,
) -> None:
    """Rewrite the whole chain from genesis as someone without the key can: records for which
    `drop(seq, kind)` holds are removed, bodies pass through `edit(kind, body)`, the rest is
    renumbered, re-linked and re-hashed. Checkpoints kept still sign the old heads."""
    kept = [row for row in rows(path) if not drop(row[0], row[1])]
    formats = row_formats(path)
    prev = "0" * 64
    inserts: list[str | tuple[str, tuple[Any, ...]]] = ["DELETE FROM records"]
    for seq, (old_seq, kind, time, body, _, _) in enumerate(kept, 1):
        fmt = formats[old_seq]
        text = canonical_body(edit(kind, json.loads(body)), fmt)
        new_hash = record_hash(seq, kind, time, body_digest(text), prev, format=fmt)
        inserts.append(
            (
                "INSERT INTO records (seq, kind, time, body, prev_hash, hash, format) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (seq, kind, time, text, prev, new_hash, fmt),
            )
        )
        prev = new_hash
    tamper(path, *inserts)


def fails_to_passes(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """A `control_run` that failed, rewritten to pass (what a forger wants an auditor to see)."""
    if kind != "control_run" or body.get("status") != "fail":
        return body
    counts = dict(body["counts"])
    counts["pass"], counts["fail"] = counts["pass"] + counts["fail"], 0
    results = [
        {**r, "verdict": "pass"} if r.get("verdict") == "fail" and not r.get("excepted") else r for r in body["results"]
    ]
    return {**body, "status": "pass", "counts": counts, "results": results}
