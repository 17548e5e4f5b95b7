"""Reading repeat records as the control runs they stand for, and checking their references.

Readers (report, sample, summary, export) never see a `control_runs_repeated` record: they
see one `control_run` per entry, its body the referenced full body with the changes since
and the run's times laid over it (`Expander`), and its seq, time and hash those of the
repeat record, which is what proves it. An entry whose reference does not resolve (a
forged or dangling one, which `verify` fails) is left out, so the report shows a gap
there, never an assumed pass.

`ReferenceCheck` is the verifier's part: every reference must name an earlier full
`control_run` of the same control and scope, in the same ISO week, with that hash.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from monitor.evidence.canonical import format_time
from monitor.evidence.estate import LedgerReader
from monitor.evidence.findings import ProblemList
from monitor.evidence.ledger import Ledger
from monitor.evidence.records import Record
from monitor.evidence.repeats import REPEATED, RUN, expand_entry, iso_week, week_start

__all__ = ["Entry", "Expander", "ReferenceCheck", "References", "entries_of", "expanded"]

_CACHE = 4096
_BATCH = 200


class Entry(NamedTuple):
    """One repeated run of a repeat body: `ref` None when it is not a (seq, hash) pair."""

    control: str
    ref: tuple[int, str] | None
    changed: dict[str, Any]


def _ref(value: object) -> tuple[int, str] | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    seq, digest = value
    if isinstance(seq, bool) or not isinstance(seq, int) or not isinstance(digest, str):
        return None
    return seq, digest


def entries_of(data: Mapping[str, Any]) -> list[Entry]:
    """The repeated runs of a repeat body, by control (none when it has no `refs` object)."""
    refs = data.get("refs")
    if not isinstance(refs, dict):
        return []
    changes = data.get("changed")
    changes = changes if isinstance(changes, dict) else {}
    entries = []
    for control, ref in refs.items():
        changed = changes.get(control)
        entries.append(Entry(control, _ref(ref), dict(changed) if isinstance(changed, dict) else {}))
    return entries


Resolve = Callable[[int], Record | None]
Between = Callable[[str, int, int], Iterable[Record]]




class Expander:
    """Reads repeat records as the control runs they stand for.

    An entry's `changed` is against the previous run of its control, so the run is the
    referenced full body with the changes of every entry since laid over it. Read in seq
    order (a report's pass over a period), those are carried along; read at random (a
    sample), they are gathered from the repeats of the scope since the full run (at most a
    week of them). `resolve(seq)` gives a record; `between(scope, low, high)` the repeat
    records of a scope strictly between two seqs, in order.
    """

    def __init__(self, resolve: Resolve, between: Between) -> None:
        self._resolve = resolve
        self._between = between
        # scope -> (seq of the last repeat read, {control: (ref, changes since the full run)})
        self._carried: dict[str, tuple[int, dict[str, tuple[tuple[int, str], dict[str, Any]]]]] = {}
        self._bodies: OrderedDict[int, tuple[Record, dict[str, Any]] | None] = OrderedDict()  # parsed once

    def _full(self, ref: tuple[int, str], control: str, scope: str, week: tuple[int, int]) -> dict[str, Any] | None:
        """The referenced full body, if it is a full run of that control, scope and week with that hash."""
        if ref[0] in self._bodies:
            self._bodies.move_to_end(ref[0])
            found = self._bodies[ref[0]]
        else:
            target = self._resolve(ref[0])
            found = (target, target.data) if target is not None and target.kind == RUN else None
            self._bodies[ref[0]] = found
            if len(self._bodies) > _CACHE:
                self._bodies.popitem(last=False)
        if found is None:
            return None
        target, body = found
        if target.hash != ref[1] or iso_week(target.time) != week:
            return None
        return body if body.get("control") == control and body.get("scope") == scope else None

    def expand(self, record: Record) -> list[Record]:
        """The `control_run` records a repeat record stands for (the record itself if it is no repeat).

        An entry whose reference does not resolve to a full run of its control and scope,
        in the same ISO week, with that hash, is left out.
        """
        if record.kind != REPEATED:
            return [record]
        data = record.data
        scope = data.get("scope")
        if not isinstance(scope, str):
            return []
        carried = self._carried.get(scope)
        state = carried[1] if carried is not None and self._contiguous(scope, carried[0], record.seq) else {}
        self._carried[scope] = (record.seq, state)
        week = iso_week(record.time)
        expanded = []
        for control, ref, changed in entries_of(data):
            if ref is None or ref[0] >= record.seq:
                continue
            full = self._full(ref, control, scope, week)
            if full is None:
                continue
            known = state.get(control)
            since = known[1] if known is not None and known[0] == ref else self._gather(control, scope, ref, record.seq)
            since = {**since, **changed}
            state[control] = (ref, since)
            body = expand_entry(full, since, data)
            text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            expanded.append(Record(record.seq, RUN, record.time, text, record.prev_hash, record.hash, record.format))
        return expanded

    def _contiguous(self, scope: str, last: int, seq: int) -> bool:
        return last < seq and next(iter(self._between(scope, last, seq)), None) is None

    def _gather(self, control: str, scope: str, ref: tuple[int, str], before: int) -> dict[str, Any]:
        since: dict[str, Any] = {}
        for record in self._between(scope, ref[0], before):
            for entry in entries_of(record.data):
                if entry.control == control and entry.ref == ref:
                    since.update(entry.changed)
        return since


class References:
    """Expands the repeat records of `ledger`; keeps the last few thousand records it resolved."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._records: OrderedDict[int, Record | None] = OrderedDict()
        self._expander = Expander(self._resolve, lambda scope, low, high: self.ledger.repeats(scope, low, high))

    def _resolve(self, seq: int) -> Record | None:
        if seq in self._records:
            self._records.move_to_end(seq)
            return self._records[seq]
        record = self.ledger.get(seq)
        self._records[seq] = record
        if len(self._records) > _CACHE:
            self._records.popitem(last=False)
        return record

    def expand(self, record: Record) -> list[Record]:
        """The `control_run` records a repeat record stands for (the record itself if it is no repeat)."""
        return self._expander.expand(record)

    def records(self, records: Iterable[Record]) -> Iterator[Record]:
        """`records` with every repeat record replaced by the control runs it stands for."""
        for record in records:
            yield from self.expand(record)

    def query(
        self,
        from_time: datetime,
        to_time: datetime,
        *,
        kinds: Iterable[str] | None = None,
        control: str | None = None,
        scope: str | None = None,
    ) -> Iterator[Record]:
        """`Ledger.query` with repeat records read as the control runs they stand for.

        This makes a `References` a ledger reader of its own, so an estate of several
        ledgers expands each one's repeats against its own chain before merging them.
        """
        wanted = None if kinds is None else set(kinds)
        if wanted is not None and RUN not in wanted:
            yield from self.ledger.query(from_time, to_time, kinds=wanted, control=control, scope=scope)
            return
        asked = None if wanted is None else wanted | {REPEATED}
        # a repeat record has no control of its own: narrow by control after expanding it
        for record in self.records(self.ledger.query(from_time, to_time, kinds=asked, scope=scope)):
            if wanted is not None and record.kind not in wanted:
                continue
            if control is None or record.data.get("control") == control:
                yield record

    def last_of_kinds_before(self, kinds: Iterable[str], moment: datetime) -> Record | None:
        """The ledger's own answer: the kinds asked for (populations, configs) are never repeats."""
        return self.ledger.last_of_kinds_before(kinds, moment)

    def runs(
        self, from_time: datetime, to_time: datetime, *, control: str | None = None, scope: str | None = None
    ) -> Iterator[Record]:
        """Every control run stamped in `[from_time, to_time)`, full or repeated, in seq order."""
        for record in self.ledger.query(from_time, to_time, kinds=[RUN, REPEATED], scope=scope):
            for run in self.expand(record):
                if control is None or run.data.get("control") == control:
                    yield run

    def latest_run(self, control: str, scope: str, ended_at_or_before: datetime) -> Record | None:
        """The last control run (full or repeated) of control+scope that ended at or before the moment."""
        full = self.ledger.latest_run(control, scope, ended_at_or_before)
        if full is None:
            return None  # a repeat refers to an earlier full run: without one there is none
        moment = format_time(ended_at_or_before)
        for record in self.ledger.repeats(scope, full.seq, newest_first=True, batch=_BATCH):
            data = record.data
            if str(data.get("ended", "")) > moment or not any(e.control == control for e in entries_of(data)):
                continue
            for run in self.expand(record):
                if run.data.get("control") == control:
                    return run
            return None  # its entry did not resolve: no evidence, never the full run's verdict
        return full

    def monitored_pairs(self, from_time: datetime, to_time: datetime) -> list[tuple[str, str]]:
        """Distinct (control, scope) with a control run, full or repeated, stamped in `[from_time, to_time)`.

        Only the repeats of the first (partial) week can name a pair without a full run in the
        period: later ones refer to full runs of their own week, which lie inside it.
        """
        pairs = set(self.ledger.monitored_pairs(from_time, to_time))
        first_week_end = min(to_time, week_start(from_time) + timedelta(days=7))
        for record in self.ledger.query(from_time, first_week_end, kinds=[REPEATED]):
            data = record.data
            scope = data.get("scope")
            if isinstance(scope, str):
                pairs.update((entry.control, scope) for entry in entries_of(data))
        return sorted(pairs)


class ReferenceCheck:
    """The verifier's walk over references: `see` every record in seq order.

    Full runs are remembered for the current ISO week only (a reference never crosses one),
    so memory stays bounded by a week of full runs. References to records before the walk
    started (an incremental verification) are looked up with `lookup`.
    """

    def __init__(self, problems: ProblemList, lookup: Callable[[int], Record | None]) -> None:
        self._problems = problems
        self._lookup = lookup
        self._week: tuple[int, int] | None = None
        self._runs: dict[int, tuple[str, object, object]] = {}
        self._first: int | None = None

    def see(self, record: Record, data: Mapping[str, Any] | None) -> None:
        """Note a full run, or check a repeat's references; `data` is the parsed body (None if bad)."""
        if self._first is None:
            self._first = record.seq
        if data is None:  # its fields are reported already; a repeat referring to it fails too
            return
        week = iso_week(record.time)
        if week != self._week:
            self._week, self._runs = week, {}
        if record.kind == RUN:
            self._runs[record.seq] = (record.hash, data.get("control"), data.get("scope"))
        elif record.kind == REPEATED:
            self._check(record, data, week)

    def _check(self, record: Record, data: Mapping[str, Any], week: tuple[int, int]) -> None:
        refs, changes, scope = data.get("refs"), data.get("changed", {}), data.get("scope")
        if not isinstance(refs, dict) or not refs or not isinstance(scope, str):
            self._problems.add(record.seq, "a repeat record without a scope and an object of references")
            return
        if not isinstance(changes, dict) or any(c not in refs or not isinstance(v, dict) for c, v in changes.items()):
            self._problems.add(record.seq, "a repeat record whose changes are not an object per repeated control")
            return
        runs, seq_here = self._runs, record.seq
        for control, ref in refs.items():
            # The common case in a few operations; anything else is told apart below.
            if type(ref) is list and len(ref) == 2 and type(ref[0]) is int and ref[0] < seq_here:
                if runs.get(ref[0]) == (ref[1], control, scope):
                    continue
            problem = self._entry_problem(record, control, _ref(ref), scope, week)
            if problem is not None:
                self._problems.add(record.seq, problem)
                return

    def _entry_problem(
        self, record: Record, control: str, ref: tuple[int, str] | None, scope: str, week: tuple[int, int]
    ) -> str | None:
        if ref is None:
            return f"the repeated run of {control} has no reference (a seq and a hash)"
        seq, digest = ref
        if seq >= record.seq:
            return f"the repeated run of {control} refers to record {seq}, which is not before it"
        found = self._runs.get(seq)
        if found is None and self._first is not None and seq < self._first:
            earlier = self._lookup(seq)
            if earlier is not None and earlier.kind == RUN and iso_week(earlier.time) == week:
                body = earlier.data
                found = (earlier.hash, body.get("control"), body.get("scope"))
        if found is None:
            return (
                f"the repeated run of {control} refers to record {seq}, which is no full control run "
                "of the same ISO week in the ledger (dangling or forged reference)"
            )
        if found[0] != digest:
            return f"the repeated run of {control} refers to record {seq} by a hash it does not have (forged reference)"
        if found[1] != control or found[2] != scope:
            return f"the repeated run of {control} in {scope} refers to record {seq}, a run of another control or scope"
        return None


def expanded(ledger: Ledger | LedgerReader) -> LedgerReader:
    """A reader that shows no repeat records: a lone ledger is wrapped, an estate's members already are."""
    return References(ledger) if isinstance(ledger, Ledger) else ledger
