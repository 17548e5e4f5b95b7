"""Why a scope has no run on a day, from the records that say so: for the daily coverage view.

Records that explain a missing run: `run_skipped` (the daemon did not run the scope,
e.g. its earlier calls were stuck) on the day it was skipped; `evidence_lost` (appends
that failed, e.g. a full disk) on every day from its `first_lost` to its `last_lost`, for
the scopes it names (and, if it names too many to list, for any scope); and on the day it
happened, `scope_removed` (discovery or a reload stopped watching the scope: deleted,
excluded) and `scope_discovered` (watched from that moment only). A loss record is
written when the ledger takes writes again, possibly after the period: `summary` reads
those too. Each cause is one line naming the record(s) that prove it, by seq.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from monitor.evidence.canonical import parse_time
from monitor.evidence.records import Record

__all__ = ["GapCauses"]

#: record kind -> how a change of the watched set is named in a cause
_SCOPE_CHANGES = {"scope_removed": "no longer watched", "scope_discovered": "watched from"}


class GapCauses:
    """Collects the causes; `for_day(day, scopes)` gives them for those scopes on that day."""

    def __init__(self, start: datetime, end: datetime, scopes: Collection[str] | None = None) -> None:
        self._start, self._end = start, end
        self._scopes = set(scopes) if scopes is not None else None
        # (day, scope, cause) -> [count, first seq]
        self._skipped: dict[tuple[date, str, str], list[int]] = {}
        self._lost: dict[date, list[tuple[frozenset[str] | None, str]]] = defaultdict(list)
        self._changes: dict[date, list[tuple[str, str]]] = defaultdict(list)

    def add(self, record: Record) -> None:
        """Take a `run_skipped`, `evidence_lost`, `scope_removed` or `scope_discovered` record; any other is ignored."""
        data = record.data
        if record.kind == "run_skipped":
            self._add_skip(record.seq, data, record.at)
        elif record.kind == "evidence_lost":
            self._add_loss(record.seq, data)
        elif record.kind in _SCOPE_CHANGES:
            self._add_scope_change(record)

    def _add_scope_change(self, record: Record) -> None:
        scope = str(record.data.get("scope"))
        if (self._scopes is not None and scope not in self._scopes) or not self._start <= record.at < self._end:
            return
        what = _SCOPE_CHANGES[record.kind]
        text = f"{what} at {record.time}: {record.data.get('why')} (record {record.seq})"
        self._changes[record.at.date()].append((scope, text))

    def _add_skip(self, seq: int, data: dict[str, Any], stamped: datetime) -> None:
        scope = str(data.get("scope"))
        if self._scopes is not None and scope not in self._scopes:
            return
        at = _time(data.get("skipped_at")) or stamped
        if not self._start <= at < self._end:
            return
        key = (at.date(), scope, str(data.get("cause", "")))
        entry = self._skipped.setdefault(key, [0, seq])
        entry[0] += 1

    def _add_loss(self, seq: int, data: dict[str, Any]) -> None:
        first, last = _time(data.get("first_lost")), _time(data.get("last_lost"))
        if first is None or last is None or last < self._start or first >= self._end:
            return
        listed = frozenset(str(s) for s in data.get("scopes", []))
        scopes = None if data.get("unlisted_scope_records") else listed  # None: may be any scope
        text = (
            f"evidence lost: {data.get('records')} record(s) ({', '.join(sorted(data.get('kinds', {})))}) "
            f"between {data['first_lost']} and {data['last_lost']}: {data.get('error')} (record {seq})"
        )
        day = max(first, self._start).date()
        while day <= min(last, self._end - timedelta(microseconds=1)).date():
            self._lost[day].append((scopes, text))
            day += timedelta(days=1)

    def for_day(self, day: date, scopes: Collection[str]) -> dict[str, tuple[str, ...]]:
        """Scope -> causes on `day`, for those of `scopes` that have one."""
        found: dict[str, list[str]] = defaultdict(list)
        for (when, scope, cause), (count, seq) in sorted(self._skipped.items()):
            if when == day and scope in scopes:
                found[scope].append(f"{count} run(s) skipped: {cause} (record {seq})")
        for named, text in self._lost.get(day, []):
            for scope in scopes:
                if named is None or scope in named:
                    found[scope].append(text)
        for scope, text in self._changes.get(day, []):
            if scope in scopes:
                found[scope].append(text)
        return {scope: tuple(texts) for scope, texts in sorted(found.items())}


def _time(value: Any) -> datetime | None:
    try:
        return parse_time(str(value)) if value is not None else None
    except ValueError:
        return None
