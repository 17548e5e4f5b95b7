"""The daemon's evidence writer: appends off the scheduler's threads, checkpoints, self-checks.

Scheduler threads only `submit()` (a queue put): the appends, signed checkpoints, the Cloud
Logging copy, the periodic self-verification and the daily pruning all happen on this one
writer thread, so a slow disk never holds a scope's run. A failed append is retried a few
times, then counted (`controlwatch_evidence_write_errors_total`) and logged with what was
lost; it never passes silently. What was lost is tallied (`losses.py`) and written as an
`evidence_lost` record ahead of the first append that succeeds again (or, idle, at most
every `_LOSS_RETRY`), so the gap it left in the ledger carries its cause.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from monitor.evidence import Checkpointer, Ledger, Record, SigningKey, keyring, prune, verify_ledger
from monitor.evidence.canonical import parse_time
from monitor.evidence.losses import LostEvidence
from monitor.evidence.repeats import RepeatWriter
from monitor.sinks.evidence_copy import CloudCopy
from monitor.sinks.metrics import Metrics
from monitor.sinks.signing_notice import log_signing_state

log = structlog.get_logger("controlwatch.evidence")
Entry = tuple[str, Mapping[str, Any]]
_RETRIES = 3
_PRUNE_EVERY = timedelta(days=1)
_LOSS_RETRY = timedelta(seconds=30)  # an idle writer tries to record a loss this often
# The self-check is incremental (from the last verified record) each checkpoint interval, and
# a full re-verification of the whole chain once a day: an edit to old records is caught too.
_FULL_VERIFY_EVERY = timedelta(days=1)
#: batches (one scope run's records each) waiting for the writer before a submitter waits:
#: a queue without bound held every result of a sweep in memory while the disk caught up
MAX_PENDING = 8  # one per scope running at once by default (gcp.max_concurrent_scopes); ~4 MB each at 600 resources
#: seconds a submitter waits for room; past that its batch is queued anyway (never lost) and logged
BACKPRESSURE_WAIT = 10.0


class EvidenceWriter:
    def __init__(
        self,
        path: Path,
        metrics: Metrics,
        *,
        key: SigningKey | None,
        checkpoint_interval: timedelta,
        retention: timedelta,
        max_unanchored: timedelta | None = None,
        copy: CloudCopy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_pending: int = MAX_PENDING,
        backpressure_wait: float = BACKPRESSURE_WAIT,
    ) -> None:
        self.path = path
        self.ledger = Ledger(path)
        # Control runs equal to the last full ones are written as references (`repeats.py`).
        self._runs = RepeatWriter(self.ledger)
        self._metrics = metrics
        self._key = key
        self._checkpointer = Checkpointer(self.ledger, key) if key is not None else None
        self._checkpoint_interval = checkpoint_interval
        # What `evidence verify` holds the ledger to (`evidence.max_unanchored`): a head left
        # unsigned longer (signing failing) is a failed self-check, seen before an auditor sees it.
        self._max_unanchored = max_unanchored if max_unanchored is not None else 2 * checkpoint_interval
        self._retention = retention
        self._copy = copy
        self._clock = clock
        # (batch, whether it holds a unit of room) | None (close)
        self._queue: queue.Queue[tuple[list[Entry], bool] | None] = queue.Queue()
        self._room = threading.Semaphore(max_pending)
        self._backpressure_wait = backpressure_wait
        self._thread: threading.Thread | None = None
        self._verified: tuple[int, str] | None = None
        self._last_verify: datetime | None = None
        self._last_full_verify: datetime | None = None
        self._last_prune: datetime | None = None
        self._lost = LostEvidence()
        self._loss_tried: datetime | None = None
        self._idle = threading.Event()
        self._idle.set()
        # Who closes the ledger: `close()` when the thread has finished in time, else the thread
        # itself when it has appended the rest (never from under an append in progress).
        self._closing = threading.Lock()
        self._finished = False
        self._abandoned = False

    def start(self) -> None:
        log_signing_state(self._key)
        head = self.ledger.head()
        self._metrics.evidence_appended(self.ledger.length(), records=0)
        if head is not None and head.kind == "checkpoint":
            try:
                signed = parse_time(head.time)  # the ledger's own strict form, as `verify` reads it
            except ValueError:  # a time no ledger writes: the first self-check reports it, start-up goes on
                log.warning("evidence_head_time_unreadable", seq=head.seq)
            else:
                self._metrics.evidence_checkpoint(signed.timestamp())
        self._thread = threading.Thread(target=self._loop, name="evidence-writer", daemon=True)
        self._thread.start()

    def submit(self, entries: Sequence[Entry]) -> None:
        """Queue records for appending. While `max_pending` batches wait, the caller (a scope's
        run) waits for room, at most `backpressure_wait` s: a writer behind slows the runs
        rather than holding their results in memory. Past that the batch is queued anyway."""
        if not entries:
            return
        self._idle.clear()
        room = self._room.acquire(timeout=self._backpressure_wait)
        if not room:
            log.warning("evidence_writer_behind", waited_s=self._backpressure_wait, pending=self._queue.qsize())
        self._queue.put((list(entries), room))

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted so far is appended (for tests and shutdown)."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Append what is queued, sign the head, send the last copies, stop the thread.

        A writer still appending after `timeout` is left to finish and close the ledger itself:
        closing the ledger from under it would lose the batches still queued.
        """
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
            with self._closing:
                if not self._finished:
                    self._abandoned = True
                    log.error("evidence_writer_still_appending", pending=self._queue.qsize(), waited_s=timeout)
                    return
        if self._copy is not None and self._copy.pending:
            log.error("evidence_copy_incomplete", pending=self._copy.pending, log_name="evidence.cloud_logging")
        self.ledger.close()

    # -- the writer thread -------------------------------------------------------------------

    def _loop(self) -> None:
        """The writer thread: whatever fails in one step is counted and logged, never fatal."""
        while True:
            try:
                if self._step():
                    break
            except Exception as exc:
                self._metrics.evidence_write_error()
                log.error("evidence_writer_error", error=f"{type(exc).__name__}: {exc}")
        with self._closing:
            self._finished = True
            if self._abandoned:  # `close()` stopped waiting: the ledger is this thread's to close
                self.ledger.close()
                log.info("evidence_writer_done_late")

    def _step(self) -> bool:
        """One batch (or an idle tick); True when the writer is closed."""
        try:
            batch = self._queue.get(timeout=1.0)
        except queue.Empty:
            self._housekeeping(final=False)
            return False
        if batch is None:
            self._drain()
            self._housekeeping(final=True)
            self._idle.set()
            return True
        self._take(*batch)
        self._housekeeping(final=False)
        if self._queue.empty():
            self._idle.set()
        return False

    def _drain(self) -> None:
        while True:
            try:
                batch = self._queue.get_nowait()
            except queue.Empty:
                return
            if batch is not None:
                self._take(*batch)

    def _take(self, batch: list[Entry], room: bool) -> None:
        """Append one queued batch, then give back the room it held."""
        try:
            self._append(batch)
        finally:
            if room:
                self._room.release()

    def _append(self, batch: list[Entry]) -> None:
        entries = self._with_loss(batch)
        for attempt in range(1, _RETRIES + 1):
            try:
                records = self._runs.append(entries)
            except Exception as exc:  # LedgerError or an OS error: counted, retried, then reported
                self._metrics.evidence_write_error()
                if attempt == _RETRIES:
                    error = f"{type(exc).__name__}: {exc}"
                    kinds = sorted({kind for kind, _ in batch})
                    log.error("evidence_lost", records=len(batch), kinds=kinds, error=error)
                    self._lost.add(batch, error, self._clock())
                    return
                time.sleep(0.2 * attempt)
                continue
            self._appended(records, loss=len(entries) > len(batch))
            return

    def _with_loss(self, batch: list[Entry]) -> list[Entry]:
        """`batch`, led by the `evidence_lost` record when earlier appends failed."""
        return [("evidence_lost", self._lost.body()), *batch] if self._lost else batch

    def _appended(self, records: Sequence[Record], *, loss: bool) -> None:
        if loss:
            log.warning("evidence_loss_recorded", seq=records[0].seq, lost=self._lost.records)
            self._lost.clear()
        self._metrics.evidence_appended(records[-1].seq - self._first_seq() + 1, records=len(records))
        self._send(records)

    def _record_loss(self, now: datetime, *, final: bool) -> None:
        """An idle writer (or one closing) records a loss on its own once the ledger takes writes."""
        if not self._lost or not (final or self._loss_tried is None or now - self._loss_tried >= _LOSS_RETRY):
            return
        self._loss_tried = now
        try:
            records = self.ledger.append_many(self._with_loss([]))
        except Exception as exc:  # still failing: counted; the tally waits for the next try
            self._metrics.evidence_write_error()
            log.warning("evidence_loss_not_recorded", lost=self._lost.records, error=f"{type(exc).__name__}: {exc}")
            return
        self._appended(records, loss=True)

    def _first_seq(self) -> int:
        first = self.ledger.first()
        return first.seq if first is not None else 1

    def _send(self, records: Sequence[Record], *, force: bool = False) -> None:
        if self._copy is not None:
            self._copy.send(records, force=force)

    def _housekeeping(self, *, final: bool) -> None:
        now = self._clock()
        verify_due = not final and (self._last_verify is None or now - self._last_verify >= self._checkpoint_interval)
        verified = False
        try:
            self._record_loss(now, final=final)  # first: the checkpoint then signs it
            if self._checkpointer is not None:
                record = (
                    self._checkpointer.checkpoint(now)
                    if final
                    else self._checkpointer.maybe_checkpoint(now, self._checkpoint_interval)
                )
                if record is not None:
                    self._metrics.evidence_checkpoint(now.timestamp())
                    self._metrics.evidence_appended(self.ledger.length(), records=1)
                    self._send([record])
            if verify_due:
                verified = True
                self._self_verify(now)
            if (
                not final
                and self._key is not None
                and (self._last_prune is None or now - self._last_prune >= _PRUNE_EVERY)
            ):
                self._last_prune = now
                result = prune(self.ledger, now - self._retention, self._key, now=now)
                if result is not None:
                    log.info("evidence_pruned", through=result.pruned_through, deleted=result.deleted)
                    self._send([result.anchor])
                    self._verified = None
            if final:
                self._send([], force=True)
        except Exception as exc:  # housekeeping must never stop the writer
            self._metrics.evidence_write_error()
            log.error("evidence_housekeeping_failed", error=f"{type(exc).__name__}: {exc}")
        if verify_due and not verified:  # a step before it failed (a forged checkpoint?): the ledger is still checked
            self._self_verify(now)

    def _self_verify(self, now: datetime) -> None:
        """Verify the ledger (from the last good record; all of it once a day); never raises.

        A break, or a verification that cannot complete, is a verify failure: what the
        ControlwatchEvidenceVerifyFailed alert counts, never an evidence write error.
        """
        self._last_verify = now
        full = self._last_full_verify is None or now - self._last_full_verify >= _FULL_VERIFY_EVERY
        if full:
            self._last_full_verify = now
        try:
            keys = keyring([self._key]) if self._key is not None else None
            report = verify_ledger(
                self.path,
                keys,
                since=None if full else self._verified,
                clock=self._clock,
                max_unanchored=self._max_unanchored,
            )
        except Exception as exc:  # a verification that cannot complete failed: not an evidence *write* error
            self._metrics.evidence_verify_failure()
            log.error("evidence_verify_failed", first_bad=None, error=f"{type(exc).__name__}: {exc}")
            return
        if report.ok:
            if report.last_seq is not None and report.head_hash is not None:
                self._verified = (report.last_seq, report.head_hash)
            return
        self._metrics.evidence_verify_failure()
        bad = report.first_bad
        log.error("evidence_verify_failed", first_bad=str(bad) if bad else None, problems=report.problems_total)
