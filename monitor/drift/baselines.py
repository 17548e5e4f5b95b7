"""The baseline store: approved drift-watched state per scope and control, with its history.

Why SQLite, beside the evidence ledger (`.controlwatch/baselines.sqlite3` by default), and
not JSON files: approving one control must keep the others (a read-modify-write), two
operators may approve at once while the daemon reads, and every approval must stay on
record. SQLite gives all three with one `BEGIN IMMEDIATE` transaction per approval (writers
queue, readers see either the whole approval or none), WAL with `synchronous=FULL`
(durable once `approve` returns, readers never block the writer) and an append-only table
whose rows are the history. JSON files would need a lock file, atomic renames and a
separate history log to get the same.

Nothing is ever updated or deleted: the baseline of a scope is, per control, the state of
the latest approval that covered it. Each approval returns an `Approval` whose
`to_evidence()` is the record the evidence ledger appends.

Approvals given before a change (`pre_approvals`, see `preapprovals.py`) are kept beside
them: once a run sees the expected state, `apply` adds the approval that moves the baseline
to it, naming the pre-approval (`approvals.pre_approval`) and when the change was seen
(`applied_at`); a pre-approval is pending while no approval names it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from checks.driftstate import CONTROL_AREAS, STATE_VERSION
from monitor.drift.preapprovals import PreApproval, canonical, state_digest

DOCUMENT_VERSION = 1
DEFAULT_PATH = Path(".controlwatch/baselines.sqlite3")
_BUSY_TIMEOUT = 30.0  # seconds a writer waits for another approval to commit
_SCHEMA = """
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    approver TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    change_ref TEXT
);
CREATE TABLE IF NOT EXISTS approved_states (
    approval_id INTEGER NOT NULL REFERENCES approvals(id),
    scope TEXT NOT NULL,
    control TEXT NOT NULL,
    state_version INTEGER NOT NULL,
    items INTEGER NOT NULL,
    digest TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (approval_id, control)
);
CREATE INDEX IF NOT EXISTS approved_states_latest ON approved_states (scope, control, approval_id);
CREATE TABLE IF NOT EXISTS pre_approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    approver TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    change_ref TEXT NOT NULL,
    expected TEXT NOT NULL
);
"""
#: Columns added to `approvals` after its first release: a store from before gets them empty.
_ADDED_COLUMNS = {"change_ref": "TEXT", "pre_approval": "INTEGER", "applied_at": "TEXT"}


class BaselineError(ValueError):
    """An approval that cannot be stored as asked (unknown control, missing or malformed state)."""


def default_path(evidence_path: Path | None = None) -> Path:
    """Where baselines live: beside the evidence ledger (`evidence.path`), else the default."""
    return evidence_path.parent / DEFAULT_PATH.name if evidence_path is not None else DEFAULT_PATH


def timestamp(moment: datetime) -> str:
    """UTC, to the second, `Z`-suffixed: how approval times are stored and shown."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ApprovedControl:
    """What one approval fixed for one control: how many items, and the digest of their state."""

    control: str
    items: int
    digest: str


@dataclass(frozen=True, slots=True)
class Approval:
    """One `approve` call: who, when, which controls."""

    id: int
    scope: str
    approver: str
    approved_at: str
    controls: tuple[ApprovedControl, ...]
    change: str | None = None  # the change reference (ticket) the approver gave, if any
    pre_approval: int | None = None  # the pre-approval this applies (approved before the change)
    applied_at: str | None = None  # when a run saw the pre-approved change

    def to_evidence(self) -> dict[str, Any]:
        """The evidence-ledger record of this approval (the states are identified by digest)."""
        record: dict[str, Any] = {
            "type": "baseline_approval",
            "approval": self.id,
            "scope": self.scope,
            "approver": self.approver,
            "approved_at": self.approved_at,
            "controls": {c.control: {"items": c.items, "digest": c.digest} for c in self.controls},
        }
        if self.change is not None:
            record["change"] = self.change
        if self.pre_approval is not None:
            record.update(pre_approval=self.pre_approval, applied_at=self.applied_at)
        return record


class BaselineStore:
    """Approved baselines in one SQLite file; safe to share between processes and threads
    (each call opens its own short-lived connection)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._transaction() as db:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            columns = {row[1] for row in db.execute("PRAGMA table_info(approvals)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in columns:  # a store from before: its rows have none
                    db.execute(f"ALTER TABLE approvals ADD COLUMN {column} {kind}")

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def approve(
        self,
        scope: str,
        state_by_control: Mapping[str, Mapping[str, Any]],
        approver: str,
        *,
        controls: list[str] | None = None,
        now: datetime,
        change: str | None = None,
    ) -> Approval:
        """Store `state_by_control` (`{"DRIFT-01": {"firewalls": {...}}, ...}`, from
        `checks.driftstate.watched_state`) as the approved baseline of `scope`, for `controls`
        (default: every control given); the scope's other controls keep their baseline."""
        chosen = list(state_by_control) if controls is None else list(dict.fromkeys(controls))
        rows = [self._row(control, state_by_control) for control in chosen]
        if not scope.strip() or not approver.strip() or not rows:
            raise BaselineError("an approval needs a scope, an approver and at least one control")
        if now.tzinfo is None:
            raise BaselineError("the approval time must carry a time zone")
        at = timestamp(now)
        change = (change.strip() or None) if change is not None else None
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO approvals (scope, approver, approved_at, change_ref) VALUES (?, ?, ?, ?)",
                (scope, approver.strip(), at, change),
            )
            approval_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO approved_states (approval_id, scope, control, state_version, items, digest, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(approval_id, scope, c.control, STATE_VERSION, c.items, c.digest, text) for c, text in rows],
            )
        return Approval(approval_id, scope, approver.strip(), at, tuple(c for c, _ in rows), change)

    @staticmethod
    def _row(control: str, state_by_control: Mapping[str, Mapping[str, Any]]) -> tuple[ApprovedControl, str]:
        if control not in CONTROL_AREAS:
            raise BaselineError(f"{control} is not a drift control ({', '.join(CONTROL_AREAS)})")
        if control not in state_by_control:
            raise BaselineError(f"no live state given for {control}")
        state = state_by_control[control]
        area = CONTROL_AREAS[control]
        if set(state) != {area} or not isinstance(state[area], Mapping):
            raise BaselineError(f"the state of {control} must be {{{area!r}: {{...}}}}, not keys {sorted(state)}")
        return ApprovedControl(control, len(state[area]), state_digest(state)), canonical(state)

    def get(self, scope: str) -> dict[str, Any] | None:
        """The baseline document `Snapshot.baseline` expects (see `checks.drift`), or None."""
        with self._transaction(write=False) as db:
            rows = db.execute(
                "SELECT s.control, s.approval_id, a.approver, a.approved_at, s.state_version, s.digest, s.state "
                "FROM approved_states s JOIN approvals a ON a.id = s.approval_id "
                "WHERE s.scope = ? AND s.approval_id = (SELECT MAX(approval_id) FROM approved_states l "
                "WHERE l.scope = s.scope AND l.control = s.control) ORDER BY s.control",
                (scope,),
            ).fetchall()
        if not rows:
            return None
        controls = {
            control: {"approval": approval, "approved_by": approver, "approved_at": at, "state_version": version,
                      "digest": digest, "state": json.loads(state)}
            for control, approval, approver, at, version, digest, state in rows
        }
        latest = max(controls.values(), key=lambda part: int(part["approval"]))
        return {
            "schema_version": DOCUMENT_VERSION,
            "scope": scope,
            "approved_by": latest["approved_by"],
            "approved_at": latest["approved_at"],
            "controls": controls,
        }

    def history(self, scope: str) -> list[Approval]:
        """Every approval of `scope`, oldest first."""
        with self._transaction(write=False) as db:
            approvals = db.execute(
                "SELECT id, approver, approved_at, change_ref, pre_approval, applied_at FROM approvals "
                "WHERE scope = ? ORDER BY id",
                (scope,),
            ).fetchall()
            parts = db.execute(
                "SELECT approval_id, control, items, digest FROM approved_states WHERE scope = ? "
                "ORDER BY approval_id, control",
                (scope,),
            ).fetchall()
        by_id: dict[int, list[ApprovedControl]] = {}
        for approval_id, control, items, digest in parts:
            by_id.setdefault(approval_id, []).append(ApprovedControl(control, items, digest))
        return [
            Approval(i, scope, who, at, tuple(by_id.get(i, ())), ref, pre, applied)
            for i, who, at, ref, pre, applied in approvals
        ]

    def scopes(self) -> list[str]:
        """The scopes with an approved baseline (what the exporter reports per scope)."""
        with self._transaction(write=False) as db:
            return [row[0] for row in db.execute("SELECT DISTINCT scope FROM approvals ORDER BY scope")]

    # -- approvals given before the change ---------------------------------------------------

    def pre_approve(
        self,
        scope: str,
        expected: Mapping[str, Mapping[str, Any]],
        approver: str,
        *,
        now: datetime,
        expires: datetime,
        change: str,
    ) -> PreApproval:
        """Store the state `expected` (`{control: {area: {...}}}`) as approved for `scope` once a
        run sees it, until `expires`, for the change ticket `change`."""
        rows = [self._row(control, expected) for control in sorted(expected)]
        if not scope.strip() or not approver.strip() or not change.strip() or not rows:
            raise BaselineError("a pre-approval needs a scope, an approver, a change reference and a control")
        if now.tzinfo is None or expires.tzinfo is None:
            raise BaselineError("the approval and expiry times must carry a time zone")
        if expires <= now:
            raise BaselineError("a pre-approval must expire after it is given")
        states = {c.control: json.loads(text) for c, text in rows}
        at, until = timestamp(now), timestamp(expires)
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO pre_approvals (scope, approver, approved_at, expires_at, change_ref, expected) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (scope, approver.strip(), at, until, change.strip(), canonical(states)),
            )
            pre_id = int(cursor.lastrowid or 0)
        return PreApproval(pre_id, scope, approver.strip(), at, until, change.strip(), states)

    def pre_approvals(self, scope: str, *, pending: bool = False) -> list[PreApproval]:
        """Every pre-approval of `scope`, oldest first (`pending`: only those no approval applied)."""
        with self._transaction(write=False) as db:
            rows = db.execute(
                "SELECT p.id, p.approver, p.approved_at, p.expires_at, p.change_ref, p.expected, a.id, a.applied_at "
                "FROM pre_approvals p LEFT JOIN approvals a ON a.pre_approval = p.id WHERE p.scope = ? ORDER BY p.id",
                (scope,),
            ).fetchall()
        found = [
            PreApproval(i, scope, who, at, until, ref, json.loads(expected), applied, applied_at)
            for i, who, at, until, ref, expected, applied, applied_at in rows
        ]
        return [pre for pre in found if pre.applied is None] if pending else found

    def apply(self, pre: PreApproval, *, now: datetime) -> Approval:
        """The approval that moves the baseline to `pre`'s expected state, made once: a second
        call (another run, another replica) returns the approval the first one stored."""
        rows = [self._row(control, pre.expected) for control in pre.controls]
        with self._transaction() as db:
            done = db.execute(
                "SELECT id, applied_at FROM approvals WHERE pre_approval = ? ORDER BY id LIMIT 1", (pre.id,)
            ).fetchone()
            if done is not None:
                approval_id, applied_at = int(done[0]), str(done[1])
            else:
                applied_at = timestamp(now)
                cursor = db.execute(
                    "INSERT INTO approvals (scope, approver, approved_at, change_ref, pre_approval, applied_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (pre.scope, pre.approver, pre.approved_at, pre.change, pre.id, applied_at),
                )
                approval_id = int(cursor.lastrowid or 0)
                db.executemany(
                    "INSERT INTO approved_states (approval_id, scope, control, state_version, items, digest, state) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(approval_id, pre.scope, c.control, STATE_VERSION, c.items, c.digest, text) for c, text in rows],
                )
        controls = tuple(c for c, _ in rows)
        return Approval(approval_id, pre.scope, pre.approver, pre.approved_at, controls, pre.change, pre.id, applied_at)
