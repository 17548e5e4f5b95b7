"""Evidence that could not be written, remembered until the ledger takes writes again.

An append that fails for good (a full disk, a locked or broken file) loses its records;
the metric and the log say so, but an auditor reading the ledger would only see a gap.
`LostEvidence` tallies what was lost, in bounded memory however long the outage, and
`body()` is the `evidence_lost` record the writer appends first once appends succeed
again, so the gap carries its cause:

    {"records": 12, "batches": 4, "kinds": {"control_run": 11, "run_skipped": 1},
     "scopes": ["shop-prod"], "unlisted_scope_records": 0,   # beyond 100 scopes
     "first_lost": <RFC 3339>, "last_lost": <RFC 3339>,
     "first_error": "...", "error": "..."}       # the first and the latest failure

Kept in memory only: a daemon that stops before the ledger recovers leaves the log lines
(`evidence_lost`) and the metric, not this record. No `pydantic` here (the writer imports it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.evidence.canonical import format_time

__all__ = ["LostEvidence"]

MAX_SCOPES = 100
MAX_KINDS = 32
MAX_ERROR = 500


class LostEvidence:
    """What failed appends lost since the last `evidence_lost` record; falsy when nothing."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.records = 0
        self.batches = 0
        self._kinds: Counter[str] = Counter()
        self._scopes: set[str] = set()
        self._unlisted = 0
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._first_error = ""
        self._error = ""

    def __bool__(self) -> bool:
        return self.records > 0

    def add(self, entries: Sequence[tuple[str, Mapping[str, Any]]], error: str, at: datetime) -> None:
        """Count a batch given up on at `at`, with the error that stopped it."""
        if not entries:
            return
        self.records += len(entries)
        self.batches += 1
        for kind, body in entries:
            if kind in self._kinds or len(self._kinds) < MAX_KINDS:
                self._kinds[kind] += 1
            else:
                self._kinds["(other)"] += 1
            scope = body.get("scope")
            if isinstance(scope, str) and scope not in self._scopes:
                if len(self._scopes) < MAX_SCOPES:
                    self._scopes.add(scope)
                else:
                    self._unlisted += 1
        self._first = at if self._first is None else self._first
        self._last = at
        self._error = error[:MAX_ERROR]
        self._first_error = self._first_error or self._error

    def body(self) -> dict[str, Any]:
        """The `evidence_lost` record's body."""
        assert self._first is not None and self._last is not None, "nothing was lost"
        return {
            "records": self.records,
            "batches": self.batches,
            "kinds": dict(sorted(self._kinds.items())),
            "scopes": sorted(self._scopes),
            "unlisted_scope_records": self._unlisted,
            "first_lost": format_time(self._first),
            "last_lost": format_time(self._last),
            "first_error": self._first_error,
            "error": self._error,
        }
