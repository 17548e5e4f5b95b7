"""The append-only evidence ledger: a SQLite hash chain that two writers cannot fork.

Why SQLite and these settings:
- WAL with `synchronous=FULL`: a committed record survives a crash or power loss, and
  readers (verify, export, `/results`) never block the writer.
- Every append is ONE `BEGIN IMMEDIATE` transaction that reads the head and inserts the
  next record. `IMMEDIATE` takes the write lock before the head is read, so two processes
  (the daemon and a CLI `prune`, or two daemons by mistake) serialise instead of both
  linking to the same head; the busy timeout makes the second wait instead of failing.
- Record times never go backwards: an append is stamped `max(now, head.time)`, so a
  clock stepping back is absorbed and a time range is a contiguous run of seqs. (A clock
  that jumps *ahead* drags later stamps with it until it catches up; bodies keep the
  clock's own `started`/`ended`, and `verify` notes records stamped in the future.)
- Triggers refuse UPDATE, and DELETE outside `prune`. They stop accidents, not an
  administrator: tampering is *detected* by `verify`, not prevented (see `verify.py`).
- Schema 2 added the `format` column (see `records.py`). Opening a schema-1 file for
  writing adds it, which marks every record already there as format 1; older versions
  opened afterwards refuse to write to it, and one already running appends format-1
  records, which verify as such. Read-only openings never migrate a file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.evidence.canonical import canonical_json, format_time
from monitor.evidence.records import GENESIS, KINDS, RECORD_FORMAT, Record, body_digest, record_hash

__all__ = ["Ledger", "LedgerError", "Transaction", "record_columns", "record_from_row"]

SCHEMA_VERSION = 2
PAGE_SIZE = 16384
_BATCH = 2000
_COLUMNS = "seq, kind, time, body, prev_hash, hash, format"
_COLUMNS_SCHEMA_1 = "seq, kind, time, body, prev_hash, hash, 1"  # before the format column: all format 1
_ADD_FORMAT = "ALTER TABLE records ADD COLUMN format INTEGER NOT NULL DEFAULT 1"

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS records (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        time TEXT NOT NULL,
        body TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        format INTEGER NOT NULL DEFAULT 1,
        control TEXT GENERATED ALWAYS AS (json_extract(body, '$.control')) VIRTUAL,
        scope TEXT GENERATED ALWAYS AS (json_extract(body, '$.scope')) VIRTUAL,
        ended TEXT GENERATED ALWAYS AS (json_extract(body, '$.ended')) VIRTUAL
    )
    """,
    "CREATE INDEX IF NOT EXISTS records_time ON records(time)",
    "CREATE INDEX IF NOT EXISTS records_kind ON records(kind, seq)",
    "CREATE INDEX IF NOT EXISTS records_run ON records(control, scope, ended) WHERE kind = 'control_run'",
    "CREATE INDEX IF NOT EXISTS records_repeat ON records(scope, seq) WHERE kind = 'control_runs_repeated'",
    # A row here, inside prune's own transaction, is the only way past the delete trigger.
    "CREATE TABLE IF NOT EXISTS prune_permit (one INTEGER PRIMARY KEY CHECK (one = 1))",
    """
    CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'evidence records are append-only'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
    WHEN NOT EXISTS (SELECT 1 FROM prune_permit)
    BEGIN SELECT RAISE(ABORT, 'evidence records are deleted only by prune, behind a signed anchor'); END
    """,
)


class LedgerError(Exception):
    """An append or read failed (disk, lock timeout, corrupt file); the daemon counts it."""


def record_from_row(row: Sequence[Any]) -> Record:
    """A record from a row of `record_columns`; a stored format that is no integer reads as 0 (none)."""
    return Record(
        seq=int(row[0]),
        kind=str(row[1]),
        time=str(row[2]),
        body=str(row[3]),
        prev_hash=str(row[4]),
        hash=str(row[5]),
        format=row[6] if isinstance(row[6], int) else 0,
    )


def record_columns(conn: sqlite3.Connection) -> str:
    """The SELECT list of a record on this file: schema-1 files have no `format` column."""
    names = {str(row[1]) for row in conn.execute("PRAGMA table_info(records)")}
    return _COLUMNS if "format" in names or not names else _COLUMNS_SCHEMA_1


def connect(path: Path, *, busy_timeout: float, readonly: bool = False, new: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN ourselves) with the ledger's pragmas."""
    if readonly:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
    else:
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    if new and not readonly:
        # A repeat record is about 3 KB: 4 KB pages held one each, a quarter of it empty.
        # Only a file not yet written can take it (existing ledgers keep theirs).
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    return conn


class Transaction:
    """What may be done inside one `BEGIN IMMEDIATE`: read the head, append, and (prune only) delete."""

    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self._conn = conn
        self._clock = clock
        self._head: Record | None = None
        self._head_read = False

    def head(self) -> Record | None:
        if not self._head_read:
            row = self._conn.execute(f"SELECT {_COLUMNS} FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            self._head = record_from_row(row) if row is not None else None
            self._head_read = True
        return self._head

    def first_seq(self) -> int | None:
        row = self._conn.execute("SELECT MIN(seq) FROM records").fetchone()
        return int(row[0]) if row is not None and row[0] is not None else None

    def last_of_kind(self, kind: str) -> Record | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM records WHERE kind = ? ORDER BY seq DESC LIMIT 1", (kind,)
        ).fetchone()
        return record_from_row(row) if row is not None else None

    def get(self, seq: int) -> Record | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM records WHERE seq = ?", (seq,)).fetchone()
        return record_from_row(row) if row is not None else None

    def last_before(self, time: str) -> Record | None:
        """The last record stamped strictly before `time` (times never go backwards)."""
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM records WHERE time < ? ORDER BY time DESC, seq DESC LIMIT 1", (time,)
        ).fetchone()
        return record_from_row(row) if row is not None else None

    def stamp(self, time: datetime | None = None) -> str:
        """The time the next append (at `time`, default now) is stamped with: never before the head's."""
        head = self.head()
        stamp = format_time(time if time is not None else self._clock())
        return head.time if head is not None and stamp < head.time else stamp

    def latest_full_run(self, control: str, scope: str) -> Record | None:
        """The newest `control_run` record (a full one) of control+scope, by seq."""
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM records WHERE kind = 'control_run' AND control = ? AND scope = ?"
            " ORDER BY seq DESC LIMIT 1",
            (control, scope),
        ).fetchone()
        return record_from_row(row) if row is not None else None

    def runs_after(self, seq: int) -> bool:
        """Whether a control run (full or repeated) was appended after `seq`."""
        row = self._conn.execute(
            "SELECT 1 FROM records WHERE kind IN ('control_run', 'control_runs_repeated') AND seq > ? LIMIT 1", (seq,)
        ).fetchone()
        return row is not None

    def of_kind_between(self, kind: str, from_time: str, to_time: str) -> list[Record]:
        """Records of `kind` stamped in `[from_time, to_time)`, in seq order (prune's look ahead)."""
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM records WHERE kind = ? AND time >= ? AND time < ? ORDER BY seq",
            (kind, from_time, to_time),
        ).fetchall()
        return [record_from_row(row) for row in rows]

    def append(self, kind: str, body: Mapping[str, Any], *, time: datetime | None = None) -> Record:
        """Link a record to the current head and insert it."""
        if kind not in KINDS:
            raise ValueError(f"unknown evidence record kind {kind!r} (one of {', '.join(sorted(KINDS))})")
        return self.append_canonical(kind, canonical_json(dict(body)), time=time)  # the encoding of RECORD_FORMAT 2

    def append_canonical(self, kind: str, text: str, *, time: datetime | None = None) -> Record:
        """`append` for a writer that already holds the body's `canonical_json` text (not checked here).

        Used where the same body is written over and over with only its times changed (the
        year-long benchmark ledger); text that is not canonical is what `verify` reports.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown evidence record kind {kind!r} (one of {', '.join(sorted(KINDS))})")
        head = self.head()
        stamp = self.stamp(time)
        seq = head.seq + 1 if head is not None else 1
        prev = head.hash if head is not None else GENESIS
        record = Record(
            seq=seq,
            kind=kind,
            time=stamp,
            body=text,
            prev_hash=prev,
            hash=record_hash(seq, kind, stamp, body_digest(text), prev, format=RECORD_FORMAT),
            format=RECORD_FORMAT,
        )
        self._conn.execute(
            "INSERT INTO records (seq, kind, time, body, prev_hash, hash, format) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record.seq, record.kind, record.time, record.body, record.prev_hash, record.hash, record.format),
        )
        self._head = record
        return record

    def delete_through(self, seq: int) -> int:
        """Delete records 1..seq; only `prune` calls this, after appending its signed anchor."""
        self._conn.execute("INSERT OR IGNORE INTO prune_permit (one) VALUES (1)")
        try:
            cursor = self._conn.execute("DELETE FROM records WHERE seq <= ?", (seq,))
        finally:
            self._conn.execute("DELETE FROM prune_permit")
        return cursor.rowcount


class Ledger:
    """One ledger file; safe to share between threads (calls are serialised by a lock).

    `append` costs one fsync'd transaction (a few ms on local disks; see the tests'
    latency measurement). `append_many` writes several records in one transaction, which
    is what a scope run with many controls should use.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout: float = 10.0,
        create: bool = True,
        readonly: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = Path(path)
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self.readonly = readonly
        self._columns = _COLUMNS
        new = not self.path.exists()
        if new:
            if not create or readonly:
                raise FileNotFoundError(f"no evidence ledger at {self.path}")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = connect(self.path, busy_timeout=busy_timeout, readonly=readonly, new=new)
            if not readonly:
                self._init_schema()
            else:
                self._columns = record_columns(self._conn)
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.path}: {exc}") from exc

    def _init_schema(self) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                found = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
                if found > SCHEMA_VERSION:
                    raise LedgerError(
                        f"{self.path}: ledger format {found} is newer than this controlwatch understands "
                        f"({SCHEMA_VERSION}); refusing to write to it"
                    )
                for statement in _SCHEMA:
                    self._conn.execute(statement)
                if record_columns(self._conn) != _COLUMNS:
                    self._conn.execute(_ADD_FORMAT)  # schema 1 -> 2: the records there are format 1
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self._conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    # -- writing -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One `BEGIN IMMEDIATE` … `COMMIT`: everything inside sees and extends one head."""
        if self.readonly:
            raise LedgerError(f"{self.path}: opened read-only")
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise LedgerError(f"{self.path}: cannot start a write transaction: {exc}") from exc
            try:
                yield Transaction(self._conn, self._clock)
            except BaseException:
                self._rollback()
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise LedgerError(f"{self.path}: commit failed: {exc}") from exc

    def _rollback(self) -> None:
        # SQLite may already have rolled back (disk full, I/O error): don't mask the cause.
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def append(self, kind: str, body: Mapping[str, Any], *, time: datetime | None = None) -> Record:
        """Append one record in its own transaction; returns it as stored."""
        return self.append_many([(kind, body)], time=time)[0]

    def append_many(
        self,
        entries: Iterable[tuple[str, Mapping[str, Any]]],
        *,
        time: datetime | None = None,
        prepare: Callable[[Transaction, list[tuple[str, Mapping[str, Any]]]], list[tuple[str, Mapping[str, Any]]]]
        | None = None,
    ) -> list[Record]:
        """Append several records in one transaction (one fsync): all or none are stored.

        `prepare` rewrites the entries inside the transaction, against the head it holds
        (how `repeats.RepeatWriter` folds repeated runs).
        """
        try:
            with self.transaction() as txn:
                batch = list(entries)
                if prepare is not None:
                    batch = prepare(txn, batch)
                return [txn.append(kind, body, time=time) for kind, body in batch]
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.path}: append failed: {exc}") from exc

    # -- reading -------------------------------------------------------------------------

    def _select(self, tail: str, params: Sequence[Any] = ()) -> list[Record]:
        """Records `SELECT`ed with `tail` (`FROM records WHERE ...`)."""
        with self._lock:
            try:
                if self._columns != _COLUMNS:
                    # A schema-1 file opened read-only: a writer may migrate it while it is open.
                    self._columns = record_columns(self._conn)
                rows = self._conn.execute(f"SELECT {self._columns} {tail}", params).fetchall()
                return [record_from_row(row) for row in rows]
            except sqlite3.Error as exc:
                raise LedgerError(f"{self.path}: read failed: {exc}") from exc

    def head(self) -> Record | None:
        rows = self._select("FROM records ORDER BY seq DESC LIMIT 1")
        return rows[0] if rows else None

    def first(self) -> Record | None:
        rows = self._select("FROM records ORDER BY seq ASC LIMIT 1")
        return rows[0] if rows else None

    def get(self, seq: int) -> Record | None:
        rows = self._select("FROM records WHERE seq = ?", (seq,))
        return rows[0] if rows else None

    def length(self) -> int:
        """Records in the chain (seqs are contiguous, so this costs two index lookups)."""
        first, head = self.first(), self.head()
        return 0 if first is None or head is None else head.seq - first.seq + 1

    def last_of_kind(self, kind: str) -> Record | None:
        rows = self._select("FROM records WHERE kind = ? ORDER BY seq DESC LIMIT 1", (kind,))
        return rows[0] if rows else None

    def next_of_kind(self, kind: str, after_seq: int) -> Record | None:
        """The first record of `kind` after `after_seq` (e.g. the checkpoint covering a record)."""
        rows = self._select("FROM records WHERE kind = ? AND seq > ? ORDER BY seq LIMIT 1", (kind, after_seq))
        return rows[0] if rows else None

    def records(self, start_seq: int = 1, end_seq: int | None = None) -> Iterator[Record]:
        """Records with `start_seq <= seq <= end_seq`, in order, read in batches.

        The lock is released between batches, so a long iteration never holds up appends.
        """
        after = start_seq - 1
        while True:
            if end_seq is None:
                rows = self._select("FROM records WHERE seq > ? ORDER BY seq LIMIT ?", (after, _BATCH))
            else:
                rows = self._select(
                    "FROM records WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                    (after, end_seq, _BATCH),
                )
            yield from rows
            if len(rows) < _BATCH:
                return
            after = rows[-1].seq

    def query(
        self,
        from_time: datetime,
        to_time: datetime,
        *,
        kinds: Iterable[str] | None = None,
        control: str | None = None,
        scope: str | None = None,
    ) -> Iterator[Record]:
        """Records stamped in `[from_time, to_time)`, in seq order, optionally narrowed.

        `control` / `scope` match the body's `control` / `scope` fields exactly, so records
        without them (daemon events, checkpoints) are left out when either is given.
        """
        where = ["time >= ?", "time < ?"]
        params: list[Any] = [format_time(from_time), format_time(to_time)]
        if kinds is not None:
            wanted = sorted(set(kinds))
            where.append(f"kind IN ({', '.join('?' for _ in wanted)})")
            params.extend(wanted)
        if control is not None:
            where.append("control = ?")
            params.append(control)
        if scope is not None:
            where.append("scope = ?")
            params.append(scope)
        after = 0
        while True:
            rows = self._select(
                f"FROM records WHERE {' AND '.join(where)} AND seq > ? ORDER BY seq LIMIT ?",
                (*params, after, _BATCH),
            )
            yield from rows
            if len(rows) < _BATCH:
                return
            after = rows[-1].seq

    def latest_run(self, control: str, scope: str, ended_at_or_before: datetime) -> Record | None:
        """The last `control_run` of control+scope that ended at or before the moment."""
        rows = self._select(
            "FROM records WHERE kind = 'control_run' AND control = ? AND scope = ?"
            " AND ended <= ? ORDER BY ended DESC, seq DESC LIMIT 1",
            (control, scope, format_time(ended_at_or_before)),
        )
        return rows[0] if rows else None

    def repeats(
        self,
        scope: str,
        after_seq: int,
        before_seq: int | None = None,
        *,
        newest_first: bool = False,
        batch: int = _BATCH,
    ) -> Iterator[Record]:
        """`control_runs_repeated` records of `scope` with `after_seq < seq < before_seq`, in seq order."""
        low, high = after_seq, before_seq if before_seq is not None else 2**63 - 1
        order = "DESC" if newest_first else "ASC"
        while True:
            rows = self._select(
                "FROM records WHERE kind = 'control_runs_repeated' AND scope = ? AND seq > ? AND seq < ?"
                f" ORDER BY seq {order} LIMIT ?",
                (scope, low, high, batch),
            )
            yield from rows
            if len(rows) < batch:
                return
            if newest_first:
                high = rows[-1].seq
            else:
                low = rows[-1].seq

    def monitored_pairs(self, from_time: datetime, to_time: datetime) -> list[tuple[str, str]]:
        """Distinct (control, scope) with a `control_run` stamped in `[from_time, to_time)`, sorted."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT control, scope FROM records WHERE kind = 'control_run' AND time >= ? AND time < ?",
                (format_time(from_time), format_time(to_time)),
            ).fetchall()
        return sorted((str(c), str(s)) for c, s in rows if c is not None and s is not None)

    def last_of_kinds_before(self, kinds: Iterable[str], moment: datetime) -> Record | None:
        """The last record of one of `kinds` stamped at or before `moment`."""
        wanted = sorted(set(kinds))
        rows = self._select(
            f"FROM records WHERE kind IN ({', '.join('?' for _ in wanted)}) AND time <= ?"
            " ORDER BY time DESC, seq DESC LIMIT 1",
            (*wanted, format_time(moment)),
        )
        return rows[0] if rows else None

    def seq_bounds(self, from_time: datetime, to_time: datetime) -> tuple[int, int] | None:
        """First and last seq stamped in `[from_time, to_time)` (a contiguous run: times never go back)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT MIN(seq), MAX(seq) FROM records WHERE time >= ? AND time < ?",
                (format_time(from_time), format_time(to_time)),
            ).fetchone()
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1])

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
