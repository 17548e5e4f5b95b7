"""Verification of a ledger file: every hash, link, seq, checkpoint and prune anchor.

What `verify_ledger` detects (each names the FIRST bad record and why):
- a field no ledger writes (a seq outside 1..2**63-1, a hash that is not hex, a body that
  is not JSON): reported before anything is hashed; whatever else a record provokes in
  the verifier fails that record too, never the verifier (fail closed);
- a record whose seq, kind, time, format or body was edited (its hash no longer
  matches), or whose hash was recomputed after an edit (the next record's `prev_hash` no
  longer links), or whose stored form is not the canonical JSON of its format;
- a deleted record anywhere before the head (a hole in the seqs, a broken link);
- an inserted or reordered record (seqs are hashed, so renumbering breaks hashes);
- time going backwards (the ledger never writes that);
- a repeated run (`control_runs_repeated`, see `repeats.py`) whose reference does not
  name an earlier full `control_run` of the same control, scope and ISO week with that
  hash (forged, dangling, or pointing at a pruned record);
- a checkpoint that does not match the chain at its seq, or whose Ed25519 signature does
  not verify with the given public keys (unknown key ids fail too): so a chain
  rewritten consistently by someone without the private key is caught at the first
  checkpoint after the change;
- with public keys and `max_unanchored`: records that no valid checkpoint covers at all
  (a chain rewritten from genesis with its checkpoints dropped), and records after a
  newest valid checkpoint older than `max_unanchored` (at the verifier's clock, or at
  the head's time if later): a daemon signs its head every checkpoint interval and at
  shutdown, so a longer unsigned tail is forged, or its checkpoints were removed;
- records missing at the start without a validly signed prune anchor accounting for
  them (pruning by someone without the key), or a start that does not link to the
  anchor's hash;
- truncation and emptying, but ONLY against statements kept outside the ledger
  (`retained=`, see `retained.py`): checkpoints and prune anchors of earlier exports or
  of the Cloud Logging copy.

What it cannot detect, by construction:
- Records after the newest checkpoint, within `max_unanchored`, are "not yet
  anchored": deleting them, or appending forged ones at the tail, leaves a consistent
  chain. They are reported as such. Without `max_unanchored`, every unsigned tail is.
- Deleting the tail *including* its last checkpoints (truncation) leaves a shorter,
  valid chain, and emptying the ledger an empty one, unless a later checkpoint or prune
  anchor was retained outside the ledger.
- Without public keys, signatures are not checked, and a consistent rewrite of the
  whole chain passes; the report says signatures were not checked.
- The holder of the private key (e.g. the administrator of the host the daemon runs on,
  if the key lives there) can rewrite and re-sign anything. Only copies outside their
  reach (a locked Cloud Logging bucket, exported checkpoints) defend against them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from monitor.evidence.canonical import format_time, parse_time
from monitor.evidence.checkpoint import Checkpoint
from monitor.evidence.findings import Problem, ProblemList, Report, problem_order
from monitor.evidence.ledger import record_columns, record_from_row
from monitor.evidence.prune import PruneAnchor
from monitor.evidence.records import GENESIS, Record, check_record, check_record_fields, seq_problem, shown
from monitor.evidence.references import ReferenceCheck
from monitor.evidence.repeats import REPEATED, RUN
from monitor.evidence.retained import RetainedCheck, RetainedStatement
from monitor.evidence.signing import accepts_test_key
from monitor.plurals import counted

__all__ = ["Problem", "Report", "check_record_fields", "verify_ledger"]

FUTURE_SLACK = timedelta(minutes=5)
_RUN_KINDS = frozenset({RUN, REPEATED})


def _open(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise FileNotFoundError(f"no evidence ledger at {path}")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, timeout=10)
    try:
        conn.execute("SELECT 1 FROM records LIMIT 1").fetchall()
    except sqlite3.Error:
        conn.close()
        # A WAL database cannot always be opened with mode=ro (no -shm yet, read-only
        # directory): read it through an ordinary connection, which this module never writes with.
        conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.text_factory = _text
    return conn


def _text(raw: bytes) -> str:
    """Stored text, even when it is not UTF-8: the record holding it is then reported, not the whole file."""
    return raw.decode("utf-8", "surrogateescape")


def _row_record(row: Sequence[Any]) -> Record | str:
    """The record of a row, or why the row holds none (a seq that is no integer: only a forged schema allows it)."""
    if isinstance(row[0], bool) or not isinstance(row[0], int):
        return f"a record is stored with seq {shown(row[0])}, which is not an integer"
    return record_from_row(row)


def verify_ledger(
    path: str | Path,
    public_keys: Mapping[str, Ed25519PublicKey] | None = None,
    *,
    retained: Iterable[RetainedStatement] = (),
    since: tuple[int, str] | None = None,
    clock: Callable[[], datetime] | None = None,
    max_unanchored: timedelta | None = None,
) -> Report:
    """Verify the ledger at `path` in one read snapshot (concurrent appends are not seen).

    `public_keys` maps key ids to Ed25519 public keys (several: key rotation); None skips
    signature checks and says so. `retained` are checkpoints and prune anchors kept outside
    the ledger (`retained.read_retained`): each must verify and agree with the ledger,
    which is what catches truncation and emptying. `since=(seq, hash)` resumes from a
    record an earlier verification found good (the daemon's periodic self-check): records
    before it are not read; if it was pruned since, the whole ledger is verified.
    `max_unanchored` (with public keys) bounds the unsigned tail: records no valid
    checkpoint covers fail, and so do records after a newest checkpoint older than it.
    `clock` (default: now) is what "older" is measured at, and notes a writer whose
    clock ran ahead.
    """
    path = Path(path)
    limits = _Limits(clock or (lambda: datetime.now(UTC)), max_unanchored if public_keys is not None else None)
    try:
        return _verify_file(path, public_keys, list(retained), since, limits)
    except FileNotFoundError:
        raise
    except sqlite3.Error as exc:
        # A file SQLite cannot read is a failed verification, not a crash of the verifier.
        reason = f"the ledger cannot be read: {exc}"
    except Exception as exc:  # fail closed: whatever a forged file provokes fails the verification
        reason = f"the ledger could not be verified: {type(exc).__name__}: {exc}"
    problems = ProblemList()
    problems.add(None, reason)
    return Report(
        source=str(path),
        records=0,
        first_seq=None,
        last_seq=None,
        head_hash=None,
        checkpoints=0,
        anchored_through=None,
        signatures_checked=public_keys is not None,
        problems=tuple(problems.kept),
        problems_total=problems.total,
    )


class _Limits(NamedTuple):
    clock: Callable[[], datetime]
    max_unanchored: timedelta | None  # None: the unsigned tail is only reported


def _verify_file(
    path: Path,
    public_keys: Mapping[str, Ed25519PublicKey] | None,
    retained: list[RetainedStatement],
    since: tuple[int, str] | None,
    limits: _Limits,
) -> Report:
    conn = _open(path)
    try:
        conn.execute("BEGIN")  # one snapshot for the whole walk
        start = 1
        prior: tuple[int, str] | None = None
        if since is not None:
            row = conn.execute("SELECT hash FROM records WHERE seq = ?", (since[0],)).fetchone()
            if row is not None:
                start = since[0]
                # The newest checkpoint the earlier verification found good: it may be what anchors the tail.
                found = conn.execute(
                    "SELECT seq, time FROM records WHERE kind = 'checkpoint' AND seq < ? ORDER BY seq DESC LIMIT 1",
                    (start,),
                ).fetchone()
                prior = (int(found[0]), str(found[1])) if found is not None else None
        # From the start, every row: one stored with a seq below 1 is reported, never skipped.
        where, args = ("WHERE seq >= ?", (start,)) if start > 1 else ("", ())
        cursor = conn.execute(f"SELECT {record_columns(conn)} FROM records {where} ORDER BY seq", args)
        rows = (_row_record(row) for row in cursor)
        columns = record_columns(conn)

        def lookup(seq: int) -> Record | None:
            row = conn.execute(f"SELECT {columns} FROM records WHERE seq = ?", (seq,)).fetchone()
            found = _row_record(row) if row is not None else None
            return found if isinstance(found, Record) else None

        report = _walk(
            str(path), rows, public_keys, retained, since if start > 1 else None, limits, prior, lookup=lookup
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return report


def _walk(
    source: str,
    rows: Iterable[Record | str],
    public_keys: Mapping[str, Ed25519PublicKey] | None,
    retained: list[RetainedStatement],
    since: tuple[int, str] | None,
    limits: _Limits,
    prior: tuple[int, str] | None,
    *,
    lookup: Callable[[int], Record | None],
) -> Report:
    problems = ProblemList()
    notes: list[str] = []
    outside = RetainedCheck(retained, public_keys, problems)
    references = ReferenceCheck(problems, lookup)
    anchors: dict[int, tuple[int, PruneAnchor, bool]] = {}  # pruned_through -> (seq, anchor, valid)
    first: Record | None = None
    prev: Record | None = None
    count = 0
    checkpoints = 0
    anchored_through: int | None = None
    newest_anchor = prior  # (seq, time) of the newest valid checkpoint

    for item in rows:
        count += 1
        if isinstance(item, str):
            problems.add(None, item)
            continue
        record = item
        bad_seq = seq_problem(record.seq)
        if bad_seq is not None:  # outside the chain: what it would link to or from means nothing
            problems.add(record.seq, bad_seq)
            continue
        try:
            if first is None:
                first = record
                if since is not None and record.hash != since[1]:
                    problems.add(record.seq, "hash differs from the one an earlier verification found good")
            bad_fields, data = check_record(record)  # the body parsed once, for every check below
            if bad_fields is not None:
                problems.add(record.seq, bad_fields)
            elif record.computed_hash() != record.hash:
                problems.add(
                    record.seq, "hash mismatch: its seq, kind, time, format or body was changed after it was written"
                )
            if prev is not None:
                if record.seq != prev.seq + 1:
                    problems.add(
                        record.seq,
                        f"records {prev.seq + 1}..{record.seq - 1} are missing (deleted)"
                        if record.seq > prev.seq + 1
                        else f"seq {record.seq} after {prev.seq}: not in order",
                    )
                elif record.prev_hash != prev.hash:
                    problems.add(
                        record.seq,
                        f"prev_hash does not match the hash of record {prev.seq}: "
                        "that record (or this link) was changed, replaced or reordered",
                    )
                if record.time < prev.time:
                    problems.add(record.seq, f"time {record.time} is before the previous record's {prev.time}")
            elif since is None and record.seq == 1 and record.prev_hash != GENESIS:
                problems.add(record.seq, "record 1 must link to the genesis hash (64 zeros)")
            if record.kind in _RUN_KINDS:
                references.see(record, data)
            if record.kind == "checkpoint" and data is not None:
                if check_checkpoint(record, prev, public_keys, problems):
                    checkpoints += 1
                    # It signs every record before it, and its own fields (seq, time, key, head).
                    anchored_through = record.seq
                    newest_anchor = (record.seq, record.time)
            elif record.kind == "prune_anchor" and data is not None:
                try:
                    anchor = PruneAnchor.from_json(data)
                except ValueError as exc:
                    problems.add(record.seq, f"malformed prune anchor: {exc}")
                else:
                    reason = anchor.check_signature(public_keys) if public_keys is not None else None
                    if reason is not None:
                        problems.add(record.seq, reason)
                    anchors[anchor.pruned_through] = (record.seq, anchor, reason is None)
            outside.see(record)
        except Exception as exc:  # fail closed: a record that cannot be checked is a bad record
            problems.add(record.seq, f"cannot be verified: {type(exc).__name__}: {str(exc)[:200]}")
        prev = record

    if first is not None and since is None and first.seq > 1:
        _check_start(first, anchors, problems)
    outside.finish(first, prev, notes)
    now = limits.clock()
    if prev is not None and limits.max_unanchored is not None:
        _check_anchoring(prev, first, count, newest_anchor, limits.max_unanchored, now, problems, notes)
    if count == 0:
        notes.append(
            "the ledger is empty"
            + ("" if retained else ": only a retained checkpoint or prune anchor could show it was emptied")
        )
    elif prev is not None and prev.time > format_time(now + FUTURE_SLACK):
        notes.append(f"the head is stamped {prev.time}, in the future: the writer's clock ran ahead")
    if since is not None:
        notes.append(f"records before seq {since[0]} were verified earlier and not read again")
    if public_keys is None:
        notes.append("signatures were not checked (no public key given): a consistent rewrite of the chain would pass")
    problems.kept.sort(key=problem_order)
    return Report(
        source=source,
        records=count,
        first_seq=first.seq if first is not None else None,
        last_seq=prev.seq if prev is not None else None,
        head_hash=prev.hash if prev is not None else None,
        checkpoints=checkpoints,
        anchored_through=anchored_through,
        signatures_checked=public_keys is not None,
        problems=tuple(problems.kept),
        problems_total=problems.total,
        notes=tuple(notes),
        test_key=accepts_test_key(public_keys),
    )


def check_checkpoint(
    record: Record,
    prev: Record | None,
    public_keys: Mapping[str, Ed25519PublicKey] | None,
    problems: ProblemList,
) -> bool:
    """A checkpoint must sign exactly its predecessor, at its own time, with a known key."""
    try:
        checkpoint = Checkpoint.from_json(record.data)
    except ValueError as exc:
        problems.add(record.seq, f"malformed checkpoint: {exc}")
        return False
    if checkpoint.seq != record.seq - 1 or checkpoint.head_hash != record.prev_hash:
        problems.add(
            record.seq,
            f"checkpoint signs seq {checkpoint.seq} / hash {checkpoint.head_hash[:16]}…, "
            f"which is not the record before it (seq {record.seq - 1} / {record.prev_hash[:16]}…)",
        )
        return False
    if prev is not None and prev.seq == checkpoint.seq and prev.hash != checkpoint.head_hash:
        problems.add(record.seq, f"checkpoint does not match the hash of record {prev.seq}")
        return False
    if checkpoint.time != record.time:
        problems.add(record.seq, "checkpoint's signed time differs from the record's time")
        return False
    if public_keys is not None:
        reason = checkpoint.check_signature(public_keys)
        if reason is not None:
            problems.add(record.seq, f"checkpoint {reason}")
            return False
    return True


def _check_anchoring(
    head: Record,
    first: Record | None,
    count: int,
    newest: tuple[int, str] | None,
    limit: timedelta,
    now: datetime,
    problems: ProblemList,
    notes: list[str],
) -> None:
    """The unsigned tail may not outlive `limit`: the daemon signs its head every interval and at shutdown.

    Reported at the head, so that a bad record or checkpoint earlier in the chain stays the first problem.
    """
    if newest is None:
        start = first.seq if first is not None else head.seq
        problems.add(
            head.seq,
            f"no valid checkpoint signs any of the {counted(count, 'record')} from seq {start}: nothing made with "
            "the key vouches for them (a chain rewritten without the key, its checkpoints removed, looks like this)",
        )
        return
    seq, time = newest
    signed_at, head_at = _moment(time), _moment(head.time)
    if head.seq <= seq or signed_at is None:  # an unreadable time is a problem of its own, reported already
        return
    age = max(now, head_at or now) - signed_at
    if age > limit:
        problems.add(
            head.seq,
            f"records {seq + 1}..{head.seq} are not anchored, and the newest valid checkpoint (record {seq}, "
            f"{time}) is {_duration(age)} old, more than max_unanchored ({_duration(limit)}): they may be forged, "
            "or the checkpoints after it removed (a writer that crashed and was never restarted leaves the same "
            "trace; restarted, it signs them)",
        )
    else:
        notes.append(
            f"the newest valid checkpoint is {_duration(age)} old: records after it pass until it is older than "
            f"max_unanchored ({_duration(limit)})"
        )


def _moment(text: str) -> datetime | None:
    try:
        return parse_time(text)
    except ValueError:
        return None


def _duration(value: timedelta) -> str:
    """`1d 2h 3m 4s`, to the second."""
    seconds = int(value.total_seconds())
    parts = [(seconds // 86400, "d"), (seconds // 3600 % 24, "h"), (seconds // 60 % 60, "m"), (seconds % 60, "s")]
    return " ".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def _check_start(first: Record, anchors: Mapping[int, tuple[int, PruneAnchor, bool]], problems: ProblemList) -> None:
    """A chain that does not start at seq 1 must start where a valid prune anchor says."""
    entry = anchors.get(first.seq - 1)
    missing = f"records 1..{first.seq - 1} are missing"
    if entry is None:
        problems.add(first.seq, f"{missing} and no prune anchor accounts for them", first=True)
        return
    anchor_seq, anchor, valid = entry
    if not valid:
        problems.add(
            first.seq,
            f"{missing}; the prune anchor (record {anchor_seq}) claiming them is not validly signed",
            first=True,
        )
    elif anchor.pruned_hash != first.prev_hash:
        problems.add(
            first.seq,
            f"does not link to the hash of the last pruned record named by the prune anchor (record {anchor_seq})",
            first=True,
        )
