"""Repeated runs: a scope run whose results equal the last full ones is written as references.

At the default 15-minute interval a project's controls judge the same resources the same
way almost every time; writing every `control_run` in full made ~22 GB per project-year.
So the writer folds the control runs of one scope run whose results equal those of the
latest full `control_run` of that control and scope into ONE `control_runs_repeated`
record:

    {"scope": S, "started": T0, "ended": T1,
     "refs": {C: [N, H], ...}, "changed": {C: {...}, ...}}

`refs` names, for each control C repeated, the full record (its seq N and chain hash H);
`changed` holds, for a control, the fields other than `results` that differ from its
previous run (an input digest after a resource changed without changing any verdict, a
new controlwatch version); a control with no change is not in it, nor is it when none is.
The run a control's entry stands for is the referenced full body with the changes of
that control since laid over it in order, then the run's `started`/`ended` (read so by
`references.py`). A control whose results changed is written in full, as is every control
in the first run of each ISO week (Monday 00:00 UTC): a reference never crosses a week,
so the records of any week onwards stand on their own (what `prune` relies on).
The record is still one link of the chain, hashed like any other; `verify`
checks every reference resolves to a full record with that hash (`references.py`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.evidence.canonical import format_time, parse_time
from monitor.evidence.ledger import Ledger, Transaction
from monitor.evidence.records import Record

__all__ = [
    "REPEATED",
    "RUN",
    "RepeatWriter",
    "earliest_reference",
    "expand_entry",
    "fold_runs",
    "iso_week",
    "RepeatEntry",
    "repeat_body",
    "week_start",
]

RUN = "control_run"
REPEATED = "control_runs_repeated"
_RUN_FIELDS = ("started", "ended")
Entry = tuple[str, Mapping[str, Any]]


def iso_week(time: str) -> tuple[int, int]:
    """(ISO year, ISO week) of a record time (remembered per day: a verifier asks for every record)."""
    return _week_of_day(time[:10])


@functools.lru_cache(maxsize=4096)
def _week_of_day(day: str) -> tuple[int, int]:
    year, week, _ = parse_time(f"{day}T00:00:00.000000Z").isocalendar()
    return year, week


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of `moment`'s ISO week."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def expand_entry(full: Mapping[str, Any], since: Mapping[str, Any], repeat: Mapping[str, Any]) -> dict[str, Any]:
    """The `control_run` body an entry stands for: the referenced body, the changes since, the run's times."""
    body = {**full, **since}
    for name in _RUN_FIELDS:
        body[name] = repeat[name]
    return body


@dataclass(frozen=True, slots=True)
class RepeatEntry:
    """One repeated run: the control, its reference (seq, hash), and what changed since its previous run."""

    control: str
    seq: int
    hash: str
    changed: Mapping[str, Any] | None = None


def repeat_body(scope: str, started: str, ended: str, entries: Iterable[RepeatEntry]) -> dict[str, Any]:
    """The body of a `control_runs_repeated` record: one scope run, its references and changes by control."""
    listed = list(entries)
    body: dict[str, Any] = {
        "scope": scope,
        "started": started,
        "ended": ended,
        "refs": {entry.control: [entry.seq, entry.hash] for entry in listed},
    }
    changed = {entry.control: dict(entry.changed) for entry in listed if entry.changed}
    if changed:
        body["changed"] = changed
    return body


def _results_digest(body: Mapping[str, Any]) -> str:
    text = json.dumps(body.get("results"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(slots=True)
class FullRun:
    """What the writer remembers of a control and scope: its latest full run and its fields since.

    `fields` are the fields but `results` of the latest run written (the full one with the
    changes of the repeats since laid over it); `results` a digest of the full run's results.
    """

    seq: int
    hash: str
    week: tuple[int, int]
    fields: dict[str, Any]
    results: str

    @classmethod
    def of(cls, record: Record, body: Mapping[str, Any]) -> FullRun:
        fields = {key: value for key, value in body.items() if key != "results"}
        return cls(record.seq, record.hash, iso_week(record.time), fields, _results_digest(body))


def _repeat_entry(body: Mapping[str, Any], full: FullRun | None, week: tuple[int, int]) -> RepeatEntry | None:
    """The entry standing for `body`, or None when it must be written in full."""
    if full is None or full.week != week or "results" not in body:
        return None
    if set(body) - {"results"} != set(full.fields):
        return None
    if _results_digest(body) != full.results:
        return None
    changed = {
        key: value
        for key, value in body.items()
        if key != "results" and key not in _RUN_FIELDS and full.fields[key] != value
    }
    return RepeatEntry(str(body["control"]), full.seq, full.hash, changed or None)


def fold_runs(
    entries: Sequence[Entry], week: tuple[int, int], latest: Mapping[tuple[str, str], FullRun | None]
) -> list[Entry]:
    """`entries` with the control runs whose results equal the previous run's folded into repeat records.

    `latest[(control, scope)]` is what the writer remembers of that pair (None: write it in
    full). Other records, and runs written in full, keep their order; one repeat record per
    scope run follows them. `changed` is against the previous run, so `latest` is updated
    with it here: call this once per batch actually written.
    """
    out: list[Entry] = []
    groups: dict[tuple[str, str, str], list[RepeatEntry]] = {}
    for kind, body in entries:
        if kind == RUN and isinstance(body.get("control"), str) and isinstance(body.get("scope"), str):
            key = (str(body["control"]), str(body["scope"]))
            full = latest.get(key)
            entry = _repeat_entry(body, full, week)
            if entry is not None and full is not None:
                full.fields.update(entry.changed or {})
                group = (key[1], str(body.get("started")), str(body.get("ended")))
                groups.setdefault(group, []).append(entry)
                continue
        out.append((kind, body))
    for (scope, started, ended), runs in groups.items():
        out.append((REPEATED, repeat_body(scope, started, ended, runs)))
    return out


def earliest_reference(txn: Transaction, cutoff: datetime) -> int | None:
    """The lowest seq that a repeat record stamped at or after `cutoff` refers to (None: none do).

    Only the repeats of the cutoff's own ISO week can refer to records before it: later
    ones refer to their own week. So this reads at most a week of repeat records.
    """
    start = format_time(cutoff)
    end = format_time(week_start(cutoff) + timedelta(days=7))
    seqs = []
    for record in txn.of_kind_between(REPEATED, start, end):
        refs = record.data.get("refs")
        for ref in refs.values() if isinstance(refs, dict) else []:
            seq = ref[0] if isinstance(ref, list) and ref else None
            if isinstance(seq, int) and not isinstance(seq, bool):
                seqs.append(seq)
    return min(seqs, default=None)


class RepeatWriter:
    """Appends batches to a ledger, folding repeated control runs (what the daemon's writer uses).

    It remembers the latest full run of every control and scope it wrote, and the changes
    since, and trusts that memory only while no one else appended a control run since its
    own last record (checkpoints, prunes and daemon events in between are fine). A control
    it remembers nothing of (at start, after someone else wrote runs) is written in full.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._latest: dict[tuple[str, str], FullRun] = {}
        self._last: tuple[int, str] | None = None

    def append(self, entries: Iterable[Entry], *, time: datetime | None = None) -> list[Record]:
        """Append `entries` in one transaction (all or none), repeated runs folded."""
        written: list[Entry] = []

        def fold(txn: Transaction, batch: list[Entry]) -> list[Entry]:
            if not self._trusted(txn):
                self._latest.clear()
            week = iso_week(txn.stamp(time))
            latest = {key: self._latest.get(key) for key in _run_keys(batch)}
            written[:] = fold_runs(batch, week, latest)
            return written

        try:
            records = self.ledger.append_many(entries, time=time, prepare=fold)
        except BaseException:
            self._latest.clear()  # it was updated for a batch that was not written
            raise
        for record, (kind, body) in zip(records, written, strict=True):
            if kind == RUN and isinstance(body.get("control"), str) and isinstance(body.get("scope"), str):
                # Read back from the stored text: what a later comparison sees in the ledger.
                self._latest[(str(body["control"]), str(body["scope"]))] = FullRun.of(record, record.data)
        if records:
            self._last = (records[-1].seq, records[-1].hash)
        return records

    def _trusted(self, txn: Transaction) -> bool:
        if self._last is None or not self._latest:
            return False
        mine = txn.get(self._last[0])
        return mine is not None and mine.hash == self._last[1] and not txn.runs_after(self._last[0])


def _run_keys(entries: Sequence[Entry]) -> list[tuple[str, str]]:
    return [
        (str(body["control"]), str(body["scope"]))
        for kind, body in entries
        if kind == RUN and isinstance(body.get("control"), str) and isinstance(body.get("scope"), str)
    ]
