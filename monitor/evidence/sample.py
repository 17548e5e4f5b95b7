"""Reproducible samples: "show me the state of control C in scope S at moment T".

Auditors test operating effectiveness by sampling moments in the observation period. A
sample here is drawn so that anyone can redraw it, in any language, from the seed:

    h_i    = SHA-256(UTF-8 "controlwatch-sample/v1|" + seed + "|" + str(i))
    moment = from + floor(u64(h_i[0:8]) * span_us / 2^64) microseconds
    pair   = population[floor(u64(h_i[8:16]) * len(population) / 2^64)]

where `population` is the sorted list of (control, scope) pairs monitored in the period
(a `control_run` in it, or named by a `sweep_population` record in it). For each draw
the answer is the latest `control_run` of that pair (a repeated run read as the run it
stands for, see `references.py`) that ended at or before the moment,
or a gap ("no evidence: not monitored at that moment") when there is none within twice
its interval: the daemon promises a run every interval, so silence longer than that is
absence of evidence, never an assumed pass. A gap's `context` is the record that explains
it when there is one: the `run_skipped` of that scope and control since its last run, the
`scope_removed` of that scope since then (it was no longer watched), or
an `evidence_lost` whose window holds the moment (it is written later, when the ledger
recovers); else the last daemon event before the moment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.evidence.canonical import format_time, json_fields, parse_time
from monitor.evidence.estate import LedgerReader
from monitor.evidence.ledger import Ledger
from monitor.evidence.records import Record
from monitor.evidence.references import References, expanded

__all__ = ["DEFAULT_INTERVAL", "Sample", "draw", "population", "sample"]

DEFAULT_INTERVAL = timedelta(minutes=15)
"""Assumed run interval for records that do not state theirs (the default `schedule.interval`)."""
_EXPLAINING = ("daemon_start", "daemon_stop", "config_reload")
_FAR = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Sample:
    """The drawn (moment, control, scope) and the evidence for it, or a gap."""

    index: int
    moment: str
    control: str
    scope: str
    state: str  # pass | fail | error | gap
    note: str = ""
    seq: int | None = None
    hash: str | None = None
    ended: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    reasons: tuple[dict[str, Any], ...] = ()
    context: dict[str, Any] | None = None  # for gaps: the last daemon event before the moment

    def to_json(self) -> dict[str, Any]:
        return json_fields(self)


def draw(seed: str | int, index: int, start: datetime, end: datetime, size: int) -> tuple[datetime, int]:
    """The `index`-th draw: a moment in `[start, end)` and an index into a population of `size`."""
    digest = hashlib.sha256(f"controlwatch-sample/v1|{seed}|{index}".encode()).digest()
    span_us = (end - start) // timedelta(microseconds=1)
    offset = int.from_bytes(digest[0:8], "big") * span_us >> 64
    pick = int.from_bytes(digest[8:16], "big") * size >> 64
    return start + timedelta(microseconds=offset), pick


def population(
    ledger: LedgerReader,
    from_time: datetime,
    to_time: datetime,
    *,
    controls: Iterable[str] | None = None,
    scopes: Iterable[str] | None = None,
) -> list[tuple[str, str]]:
    """Sorted (control, scope) pairs monitored in the period, narrowed to `controls`/`scopes`."""
    pairs = set(expanded(ledger).monitored_pairs(from_time, to_time))
    declared = list(ledger.query(from_time, to_time, kinds=["sweep_population"]))
    in_force = ledger.last_of_kinds_before(["sweep_population"], from_time)  # stated before, still in force
    for record in [in_force, *declared] if in_force is not None else declared:
        for scope, ids in record.data.get("controls", {}).items():
            pairs.update((control, scope) for control in ids)
    wanted_controls = set(controls) if controls is not None else None
    wanted_scopes = set(scopes) if scopes is not None else None
    return sorted(
        (c, s)
        for c, s in pairs
        if (wanted_controls is None or c in wanted_controls) and (wanted_scopes is None or s in wanted_scopes)
    )


def sample(
    ledger: Ledger,
    from_time: datetime,
    to_time: datetime,
    count: int,
    seed: str | int,
    *,
    controls: Iterable[str] | None = None,
    scopes: Iterable[str] | None = None,
    default_interval: timedelta = DEFAULT_INTERVAL,
) -> list[Sample]:
    """`count` reproducible samples over `[from_time, to_time)`; same ledger + seed → same list."""
    if to_time <= from_time:
        raise ValueError("the sampling period is empty (to must be after from)")
    if count < 0:
        raise ValueError("count must not be negative")
    pairs = population(ledger, from_time, to_time, controls=controls, scopes=scopes)
    if not pairs:
        return []
    references = References(ledger)
    samples = []
    for index in range(count):
        moment, pick = draw(seed, index, from_time, to_time, len(pairs))
        control, scope = pairs[pick]
        samples.append(_state_at(ledger, references, index, moment, control, scope, default_interval))
    return samples


def _state_at(
    ledger: Ledger,
    references: References,
    index: int,
    moment: datetime,
    control: str,
    scope: str,
    default_interval: timedelta,
) -> Sample:
    stamp = format_time(moment)
    record = references.latest_run(control, scope, moment)
    if record is not None:
        data = record.data
        interval = timedelta(seconds=float(data.get("interval_seconds", default_interval.total_seconds())))
        ended = str(data["ended"])
        if moment - parse_time(ended) <= 2 * interval:
            return Sample(
                index=index,
                moment=stamp,
                control=control,
                scope=scope,
                state=str(data["status"]),
                note=f"latest run ended {ended}",
                seq=record.seq,
                hash=record.hash,
                ended=ended,
                counts=dict(data.get("counts", {})),
                reasons=tuple(_reasons(data)),
            )
        note = f"no evidence: not monitored at that moment (last run ended {ended}, interval {interval})"
    else:
        note = "no evidence: not monitored at that moment (no earlier run in the ledger)"
    return Sample(
        index=index,
        moment=stamp,
        control=control,
        scope=scope,
        state="gap",
        note=note,
        seq=record.seq if record is not None else None,
        hash=record.hash if record is not None else None,
        ended=str(record.data["ended"]) if record is not None else None,
        context=_context(
            _cause(ledger, moment, control, scope, record, default_interval)
            or ledger.last_of_kinds_before(_EXPLAINING, moment)
        ),
    )


def _cause(
    ledger: Ledger, moment: datetime, control: str, scope: str, last: Record | None, default_interval: timedelta
) -> Record | None:
    """The record saying why `control` has no run in `scope` at `moment` (after `last`), if one does.

    A lost run would have held for two intervals after its loss, like any run.
    """
    start = last.at if last is not None else moment - timedelta(days=1)
    seconds = last.data.get("interval_seconds") if last is not None else None
    held = 2 * (timedelta(seconds=float(seconds)) if seconds is not None else default_interval)
    skipped = None
    for record in ledger.query(start, moment + timedelta(microseconds=1), kinds=["run_skipped"], scope=scope):
        if control in record.data.get("controls", []):
            skipped = record
    if skipped is not None:
        return skipped
    removed = None
    for record in ledger.query(start, moment + timedelta(microseconds=1), kinds=["scope_removed"], scope=scope):
        removed = record  # the scope left the watched set: nothing ran after that
    if removed is not None:
        return removed
    for record in ledger.query(moment, _FAR, kinds=["evidence_lost"]):
        data = record.data
        named = scope in data.get("scopes", []) or bool(data.get("unlisted_scope_records"))
        try:
            window = parse_time(str(data["first_lost"])) <= moment <= parse_time(str(data["last_lost"])) + held
        except (KeyError, ValueError):
            continue
        if named and window:
            return record
    return None


def _reasons(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The results that did not pass (failures, accepted risks, errors), with their reasons."""
    return [result for result in data.get("results", []) if result.get("verdict") != "pass"]


def _context(record: Record | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"seq": record.seq, "kind": record.kind, "time": record.time, "body": record.data}
