"""Report data over a period: what the HTML report and the CLI render, as plain values.

For every control+scope: the share of the period it was passing, failing, in error or
unmonitored (and, for the SOC 2 view, passing only under an accepted risk: `excepted`);
the resources it found failing, with their records (`failing.py`); failure and error
intervals (when they started, and when and how they ended); gaps in monitoring (no run
for more than twice the interval); drift events; every change of the drift-watched state,
who made it and whether and by whom it was approved, before or after (`changes.py`); the accepted risks in force, with
approver and expiry; and a per-area timeline. Plus the population per day ("was every
project checked on date D?"), with the skipped runs and lost evidence that explain a
missing one (`gap_causes.py`), and the daemon events that explain gaps.

The state model is the one `sample` uses: a run's status holds from its end until the
next run ends, but no longer than twice its interval; after that the pair is in a gap.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from checks.model import is_drift
from monitor.evidence.bodies import area_of
from monitor.evidence.canonical import format_time, json_fields, parse_time, utc
from monitor.evidence.changes import ChangeSeen, ChangeTracker
from monitor.evidence.estate import LedgerReader
from monitor.evidence.failing import FailingResource, FailingTracker
from monitor.evidence.gap_causes import GapCauses
from monitor.evidence.references import expanded
from monitor.evidence.sample import DEFAULT_INTERVAL, population

__all__ = [
    "AcceptedRiskSeen",
    "AreaSegment",
    "ControlSummary",
    "DETAILED_STATES",
    "DayCoverage",
    "DriftEvent",
    "Interval",
    "Summary",
    "summarize",
]

STATES = ("pass", "fail", "error", "gap")
DETAILED_STATES = ("pass", "excepted", "fail", "error", "gap")
_WORST = {"error": 3, "fail": 2, "gap": 1, "pass": 0}
_EVENT_KINDS = (
    "daemon_start",
    "daemon_stop",
    "config_reload",
    "baseline_approved",
    "exceptions_changed",
    "prune_anchor",
    "run_skipped",
    "evidence_lost",
    "scope_discovered",
    "scope_removed",
    "scope_discovery_failed",
)
_CAUSES = ("run_skipped", "evidence_lost", "scope_discovered", "scope_removed")
_FAR = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch of one state. `end` None: still so at the end of the period; `ended_by`
    is the state that followed (`pass` = resolved), None if none did in the period."""

    state: str
    start: str
    end: str | None
    seconds: float
    ended_by: str | None
    first_seq: int | None = None


@dataclass(frozen=True, slots=True)
class DriftEvent:
    time: str
    control: str
    scope: str
    seq: int
    hash: str
    changes: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class AcceptedRiskSeen:
    control: str
    scope: str
    resource: str
    subject: str
    reason: str
    approver: str | None
    expires: str | None
    first_seen: str
    last_seen: str
    runs: int


@dataclass(frozen=True, slots=True)
class ControlSummary:
    control: str
    scope: str
    area: str
    runs: int
    interval_seconds: float
    shares: dict[str, float]
    last_status: str | None
    failures: tuple[Interval, ...]
    errors: tuple[Interval, ...]
    gaps: tuple[Interval, ...]
    drift: tuple[DriftEvent, ...]
    accepted_risks: tuple[AcceptedRiskSeen, ...]
    timeline: tuple[Interval, ...]
    # `shares` with the time passing only under an accepted risk told apart as `excepted`
    # (a run whose every failure is excepted rolls up to pass): the SOC 2 view's states.
    detailed_shares: dict[str, float] = field(default_factory=dict)
    failing_resources: tuple[FailingResource, ...] = ()


@dataclass(frozen=True, slots=True)
class AreaSegment:
    """The area's worst state over a stretch (error > fail > gap > pass), with per-state counts."""

    start: str
    end: str
    state: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class DayCoverage:
    """One UTC day: the scopes expected (population) and those with at least one run ending that day;
    `explained`: per scope, the recorded causes of runs missing that day (skipped, evidence lost)."""

    day: str
    expected: tuple[str, ...]
    checked: tuple[str, ...]
    missing: tuple[str, ...]
    explained: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Summary:
    from_time: str
    to_time: str
    controls: tuple[ControlSummary, ...]
    areas: dict[str, tuple[AreaSegment, ...]]
    coverage: tuple[DayCoverage, ...]
    events: tuple[dict[str, Any], ...]
    first_seq: int | None
    last_seq: int | None
    changes: tuple[ChangeSeen, ...] = ()  # every change of the drift-watched state, with its approval

    def get(self, control: str, scope: str) -> ControlSummary:
        for item in self.controls:
            if item.control == control and item.scope == scope:
                return item
        raise KeyError(f"no summary for {control} in {scope}")

    def to_json(self) -> dict[str, Any]:
        """The fields, with the period's bounds named `from` and `to` as everywhere in the CLI."""
        fields = json_fields(self)
        return {"from": fields.pop("from_time"), "to": fields.pop("to_time"), **fields}


@dataclass(slots=True)
class _Run:
    ended: datetime
    status: str
    seq: int
    interval: timedelta
    excepted: bool = False  # passing, but only because every failure is under an accepted risk


@dataclass(slots=True)
class _Pair:
    control: str
    scope: str
    area: str
    runs: list[_Run] = field(default_factory=list)
    drift: list[DriftEvent] = field(default_factory=list)
    last_drift: frozenset[tuple[str, str, str]] | None = None
    risks: dict[tuple[str, ...], list[Any]] = field(default_factory=dict)
    failing: FailingTracker | None = None


def summarize(
    ledger: LedgerReader,
    from_time: datetime,
    to_time: datetime,
    *,
    controls: Iterable[str] | None = None,
    scopes: Iterable[str] | None = None,
    default_interval: timedelta = DEFAULT_INTERVAL,
) -> Summary:
    """Report data for `[from_time, to_time)`, read from the ledger in one pass over the period."""
    from_time, to_time = utc(from_time), utc(to_time)
    if to_time <= from_time:
        raise ValueError("the report period is empty (to must be after from)")
    controls = list(controls) if controls is not None else None
    scopes = list(scopes) if scopes is not None else None
    pairs: dict[tuple[str, str], _Pair] = {}
    reader = expanded(ledger)  # repeated runs as the runs they are, each against its own ledger
    changes = ChangeTracker()
    seeded: set[int] = set()  # the runs before the period already fed to `changes`
    for control, scope in population(reader, from_time, to_time, controls=controls, scopes=scopes):
        pairs[(control, scope)] = _Pair(control, scope, area_of(control), failing=FailingTracker(control, scope))
        before = reader.latest_run(control, scope, from_time)
        if before is not None:
            data = before.data
            pairs[(control, scope)].runs.append(_run(before.seq, data, default_interval))
            if is_drift(control):  # a change drifted before the period and still open is in it too
                changes.run(control, scope, before.seq, data)
                seeded.add(before.seq)
    events: list[dict[str, Any]] = []
    expected_by_day: dict[date, set[str]] = {}
    in_force = ledger.last_of_kinds_before(["sweep_population"], from_time)
    population_scopes: set[str] = set(in_force.data.get("scopes", [])) if in_force is not None else set()
    if scopes is not None:
        population_scopes &= set(scopes)
    initial_population = set(population_scopes)
    checked_by_day: dict[date, set[str]] = defaultdict(set)
    causes = GapCauses(from_time, to_time, scopes)
    first_seq: int | None = None
    last_seq: int | None = None
    for record in reader.query(from_time, to_time):
        first_seq = record.seq if first_seq is None else first_seq
        last_seq = record.seq
        if record.kind in _CAUSES:
            causes.add(record)
        if record.kind == "baseline_approved":
            changes.approval(record.seq, record.time, record.data)
        if record.kind in _EVENT_KINDS:
            events.append({"seq": record.seq, "kind": record.kind, "time": record.time, "body": record.data})
            continue
        if record.kind == "sweep_population":
            population_scopes = set(record.data.get("scopes", []))
            if scopes is not None:
                population_scopes &= set(scopes)
            expected_by_day.setdefault(record.at.date(), set()).update(population_scopes)
            continue
        if record.kind != "control_run":
            continue
        data = record.data
        pair = pairs.get((str(data.get("control")), str(data.get("scope"))))
        if pair is None:
            continue
        run = _run(record.seq, data, default_interval)
        if not (pair.runs and pair.runs[-1].seq == record.seq):  # not the run found before the period
            pair.runs.append(run)
        if from_time <= run.ended < to_time:
            checked_by_day[run.ended.date()].add(pair.scope)
        _note_drift(pair, record.seq, record.hash, data)
        if is_drift(pair.control) and record.seq not in seeded:
            changes.run(pair.control, pair.scope, record.seq, data)
        _note_risks(pair, data)
        if from_time <= run.ended < to_time and pair.failing is not None:
            pair.failing.note(record.seq, data)

    for record in ledger.query(to_time, _FAR, kinds=["evidence_lost"]):  # written once the ledger recovered
        causes.add(record)

    period = (to_time - from_time).total_seconds()
    summaries = []
    timelines: dict[str, list[tuple[str, list[Interval]]]] = defaultdict(list)
    for key in sorted(pairs):
        pair = pairs[key]
        timeline = _timeline(pair.runs, from_time, to_time)
        timelines[pair.area].append((f"{pair.control}/{pair.scope}", timeline))
        shares = {state: 0.0 for state in STATES}
        for segment in timeline:
            shares[segment.state] += segment.seconds / period
        detailed = {state: 0.0 for state in DETAILED_STATES}
        for segment in _timeline(pair.runs, from_time, to_time, tell_excepted=True):
            detailed[segment.state] += segment.seconds / period
        in_period = [run for run in pair.runs if run.ended >= from_time]
        summaries.append(
            ControlSummary(
                control=pair.control,
                scope=pair.scope,
                area=pair.area,
                runs=len(in_period),
                interval_seconds=(pair.runs[-1].interval if pair.runs else default_interval).total_seconds(),
                shares=shares,
                last_status=pair.runs[-1].status if pair.runs else None,
                failures=tuple(s for s in timeline if s.state == "fail"),
                errors=tuple(s for s in timeline if s.state == "error"),
                gaps=tuple(s for s in timeline if s.state == "gap"),
                drift=tuple(pair.drift),
                accepted_risks=tuple(_risks_seen(pair)),
                timeline=tuple(timeline),
                detailed_shares=detailed,
                failing_resources=pair.failing.resources() if pair.failing is not None else (),
            )
        )
    return Summary(
        from_time=format_time(from_time),
        to_time=format_time(to_time),
        controls=tuple(summaries),
        areas={area: tuple(_area_timeline(items, format_time(to_time))) for area, items in sorted(timelines.items())},
        coverage=tuple(
            _coverage(from_time, to_time, initial_population, expected_by_day, checked_by_day, pairs, causes)
        ),
        events=tuple(events),
        first_seq=first_seq,
        last_seq=last_seq,
        changes=changes.changes(),
    )


def _run(seq: int, data: dict[str, Any], default_interval: timedelta) -> _Run:
    interval = data.get("interval_seconds")
    status = str(data["status"])
    counts = data.get("counts")
    excepted = status == "pass" and isinstance(counts, dict) and bool(counts.get("excepted"))
    return _Run(
        ended=parse_time(str(data["ended"])),
        status=status,
        seq=seq,
        interval=timedelta(seconds=float(interval)) if interval is not None else default_interval,
        excepted=excepted,
    )


def _timeline(runs: Sequence[_Run], start: datetime, end: datetime, *, tell_excepted: bool = False) -> list[Interval]:
    """States over `[start, end)`, merged, each ended by the state that followed.

    `tell_excepted`: a run passing only under accepted risks is in state `excepted`, not `pass`.
    """
    raw: list[tuple[datetime, datetime, str, int | None]] = []
    ordered = sorted(runs, key=lambda run: (run.ended, run.seq))
    if not ordered or ordered[0].ended > start:
        first_end = min(ordered[0].ended, end) if ordered else end
        raw.append((start, first_end, "gap", None))
    for index, run in enumerate(ordered):
        following = ordered[index + 1].ended if index + 1 < len(ordered) else end
        valid_until = run.ended + 2 * run.interval
        seg_start = max(run.ended, start)
        seg_end = min(following, valid_until, end)
        if seg_end > seg_start:
            state = "excepted" if tell_excepted and run.excepted else run.status
            raw.append((seg_start, seg_end, state, run.seq))
        gap_start = max(valid_until, start)
        gap_end = min(following, end)
        if gap_end > gap_start:
            raw.append((gap_start, gap_end, "gap", None))
    merged: list[list[Any]] = []
    for seg_start, seg_end, state, seq in raw:
        if merged and merged[-1][2] == state and merged[-1][1] == seg_start:
            merged[-1][1] = seg_end
        else:
            merged.append([seg_start, seg_end, state, seq])
    intervals = []
    for index, (seg_start, seg_end, state, seq) in enumerate(merged):
        following_state = merged[index + 1][2] if index + 1 < len(merged) else None
        open_end = following_state is None and seg_end >= end
        intervals.append(
            Interval(
                state=state,
                start=format_time(seg_start),
                end=None if open_end else format_time(seg_end),
                seconds=(seg_end - seg_start).total_seconds(),
                ended_by=following_state,
                first_seq=seq,
            )
        )
    return intervals


def _note_drift(pair: _Pair, seq: int, record_hash: str, data: dict[str, Any]) -> None:
    """A drift event when a DRIFT control fails with a set of changes not seen in the run before."""
    if not is_drift(pair.control):
        return
    if data.get("status") != "fail":
        pair.last_drift = None
        return
    changes = [r for r in data.get("results", []) if r.get("verdict") == "fail" and not r.get("excepted")]
    key = frozenset((str(r.get("resource")), str(r.get("subject")), str(r.get("reason"))) for r in changes)
    if key != pair.last_drift:
        pair.drift.append(DriftEvent(str(data["ended"]), pair.control, pair.scope, seq, record_hash, tuple(changes)))
    pair.last_drift = key


def _note_risks(pair: _Pair, data: dict[str, Any]) -> None:
    ended = str(data["ended"])
    for result in data.get("results", []):
        if not result.get("excepted"):
            continue
        exception = result.get("exception") or {}
        key = (
            str(result.get("resource", "")),
            str(result.get("subject", "")),
            str(exception.get("reason", result.get("exception_reason", ""))),
            str(exception.get("approver")),
            str(exception.get("expires")),
        )
        seen = pair.risks.get(key)
        if seen is None:
            pair.risks[key] = [ended, ended, 1, exception.get("approver"), exception.get("expires")]
        else:
            seen[1] = ended
            seen[2] += 1


def _risks_seen(pair: _Pair) -> list[AcceptedRiskSeen]:
    return [
        AcceptedRiskSeen(
            control=pair.control,
            scope=pair.scope,
            resource=key[0],
            subject=key[1],
            reason=key[2],
            approver=seen[3],
            expires=seen[4],
            first_seen=seen[0],
            last_seen=seen[1],
            runs=seen[2],
        )
        for key, seen in sorted(pair.risks.items())
    ]


def _area_timeline(items: Sequence[tuple[str, list[Interval]]], end: str) -> list[AreaSegment]:
    """Merge the members' timelines: at every change point, the worst state and the counts."""
    members = [([segment.start for segment in timeline], timeline) for _, timeline in items if timeline]
    ordered = sorted({start for starts, _ in members for start in starts} | {end})
    segments: list[AreaSegment] = []
    for moment, following in zip(ordered, ordered[1:], strict=False):
        counts = {state: 0 for state in STATES}
        for starts, timeline in members:
            position = bisect.bisect_right(starts, moment) - 1
            if position >= 0:
                counts[timeline[position].state] += 1
        state = max((s for s in STATES if counts[s]), key=lambda s: _WORST[s], default="gap")
        if segments and segments[-1].state == state and segments[-1].counts == counts:
            segments[-1] = AreaSegment(segments[-1].start, following, state, counts)
        else:
            segments.append(AreaSegment(moment, following, state, counts))
    return segments


def _coverage(
    start: datetime,
    end: datetime,
    initial: set[str],
    expected_by_day: dict[date, set[str]],
    checked_by_day: dict[date, set[str]],
    pairs: dict[tuple[str, str], _Pair],
    causes: GapCauses,
) -> list[DayCoverage]:
    """Per UTC day: expected scopes (the population in force that day) vs those run that day.

    Without any `sweep_population` record, the scopes seen in the period stand in for it.
    """
    known = {scope for _, scope in pairs}
    expected = set(initial)
    days = []
    day = start.date()
    while datetime.combine(day, time.min, tzinfo=UTC) < end:
        expected = expected_by_day.get(day, expected) or expected
        wanted = expected or known
        checked = checked_by_day.get(day, set())
        days.append(
            DayCoverage(
                day=day.isoformat(),
                expected=tuple(sorted(wanted)),
                checked=tuple(sorted(checked)),
                missing=tuple(sorted(wanted - checked)),
                explained=causes.for_day(day, wanted | checked),
            )
        )
        day += timedelta(days=1)
    return days
