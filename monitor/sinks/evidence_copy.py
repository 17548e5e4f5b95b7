"""A copy of every evidence record in Cloud Logging (`evidence.cloud_logging`), for a locked bucket.

The local ledger's signing key sits on the writer's host, so that host's administrator
could rewrite the chain; a copy in a log bucket with a retention lock is the anchor they
cannot touch. Writes go through google-cloud-logging's `entries:write`. A failed write is
kept and retried with the next batch (bounded backoff), counted, and logged: never lost
silently. What is still pending at shutdown is logged with its sequence numbers.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from monitor.collect.calls import classify
from monitor.collect.observer import ApiObserver
from monitor.evidence import Record

log = structlog.get_logger("controlwatch.evidence.copy")
METHOD = "logging.entries.write"
BATCH = 500  # entries:write accepts up to 1000 entries a call


class CloudCopy:
    def __init__(
        self,
        client: Any,
        log_name: str,
        observer: ApiObserver,
        *,
        on_failure: Callable[[], None] = lambda: None,
        backoff_initial: float = 5.0,
        backoff_max: float = 300.0,
        timeout: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._timeout = timeout
        self._client = client
        self._log_name = log_name
        self._observer = observer
        self._on_failure = on_failure
        self._pending: deque[Record] = deque()
        self._lock = threading.Lock()
        self._backoff_initial, self._backoff_max = backoff_initial, backoff_max
        self._backoff = 0.0
        self._resume_at = 0.0
        self._monotonic = monotonic

    @property
    def pending(self) -> int:
        return len(self._pending)  # no lock: a reader (shutdown) must never wait on a network call

    def send(self, records: Sequence[Record], *, force: bool = False) -> bool:
        """Queue `records` and write everything pending (unless backing off); True if all went.

        Called from one thread (the evidence writer); the network call is made outside the lock.
        """
        with self._lock:
            self._pending.extend(records)
            if not force and self._monotonic() < self._resume_at:
                return False
        while True:
            with self._lock:
                if not self._pending:
                    self._backoff = 0.0
                    return True
                batch = list(itertools.islice(self._pending, BATCH))
            if not self._write(batch):
                with self._lock:
                    self._backoff = min(self._backoff_max, max(self._backoff_initial, self._backoff * 2))
                    self._resume_at = self._monotonic() + self._backoff
                return False
            with self._lock:
                for _ in batch:
                    self._pending.popleft()

    def _write(self, batch: list[Record]) -> bool:
        entries = [self._entry(record) for record in batch]
        try:
            self._client._connection.api_request(
                method="POST",
                path="/entries:write",
                data={"entries": entries, "partialSuccess": False},
                timeout=self._timeout,
            )
        except Exception as exc:  # classified below; an unexpected one is a failure all the same
            outcome = classify(exc)
            code = outcome.code if outcome is not None else "error"
            self._observer.request("logging", METHOD, code)
            if outcome is not None and outcome.retry_reason is not None:
                self._observer.retry("logging", outcome.retry_reason)
            self._on_failure()
            log.warning(
                "evidence_copy_failed",
                log_name=self._log_name,
                records=f"{batch[0].seq}..{batch[-1].seq}",
                pending=len(self._pending),
                error=outcome.message if outcome is not None else f"{type(exc).__name__}: {exc}",
            )
            return False
        self._observer.request("logging", METHOD, "200")
        return True

    def _entry(self, record: Record) -> dict[str, Any]:
        return {
            "logName": self._log_name,
            "resource": {"type": "global", "labels": {}},
            "timestamp": record.time,
            "insertId": f"controlwatch-{record.seq}-{record.hash[:16]}",
            "severity": "NOTICE" if record.kind in ("checkpoint", "prune_anchor") else "INFO",
            "labels": {"controlwatch_kind": record.kind, "controlwatch_seq": str(record.seq)},
            "jsonPayload": record.to_json(),
        }
