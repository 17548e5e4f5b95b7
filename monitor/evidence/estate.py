"""Several ledgers read as one estate: the replicas of a sharded deployment each keep their own.

Each replica writes its own hash chain, verified on its own (`verify_ledger` per file); what
a report reads is their union. `Estate` answers the reads `summarize` and `population` make
of one `Ledger`, over all of them:

- records come in time order across the ledgers (each ledger's own order kept);
- a scope's runs may be in several ledgers (it moved when the replica count changed): its
  latest run is the latest of any ledger;
- each replica's `sweep_population` names only the scopes it owns, so the estate's
  population in force is the union of every ledger's latest one: a `sweep_population` read
  through the estate carries that union.

Sequence numbers are per ledger; so that they stay distinct in the estate, record `seq` of
ledger `i` (of `n`) reads as `seq × n + i` (one ledger: unchanged).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from monitor.evidence.canonical import canonical_json, parse_time
from monitor.evidence.records import Record

__all__ = ["POPULATION", "Estate", "LedgerReader"]

POPULATION = "sweep_population"


class LedgerReader(Protocol):
    """What a report reads of a ledger (a `Ledger`, or an `Estate` of several)."""

    def query(
        self,
        from_time: datetime,
        to_time: datetime,
        *,
        kinds: Iterable[str] | None = None,
        control: str | None = None,
        scope: str | None = None,
    ) -> Iterator[Record]: ...

    def latest_run(self, control: str, scope: str, ended_at_or_before: datetime) -> Record | None: ...

    def last_of_kinds_before(self, kinds: Iterable[str], moment: datetime) -> Record | None: ...

    def monitored_pairs(self, from_time: datetime, to_time: datetime) -> list[tuple[str, str]]: ...


class Estate:
    """The ledgers of one deployment's replicas, read as one (they stay open and unchanged)."""

    def __init__(self, ledgers: Sequence[LedgerReader]) -> None:
        if not ledgers:
            raise ValueError("an estate needs at least one ledger")
        self._ledgers = tuple(ledgers)

    def _renumbered(self, index: int, record: Record) -> Record:
        count = len(self._ledgers)
        return record if count == 1 else replace(record, seq=record.seq * count + index)

    def query(
        self,
        from_time: datetime,
        to_time: datetime,
        *,
        kinds: Iterable[str] | None = None,
        control: str | None = None,
        scope: str | None = None,
    ) -> Iterator[Record]:
        """Records stamped in `[from_time, to_time)` of every ledger, in time order; a population
        record carries the union of every ledger's population in force at it."""
        wanted = sorted(set(kinds)) if kinds is not None else None
        streams = [
            _keyed(index, ledger.query(from_time, to_time, kinds=wanted, control=control, scope=scope))
            for index, ledger in enumerate(self._ledgers)
        ]
        in_force: dict[int, Record] = {}
        if wanted is None or POPULATION in wanted:
            for index, ledger in enumerate(self._ledgers):
                before = ledger.last_of_kinds_before([POPULATION], from_time)
                if before is not None and before.at < from_time:
                    in_force[index] = before
        for _, index, _, record in heapq.merge(*streams, key=lambda item: item[:3]):
            if record.kind == POPULATION:
                in_force[index] = record
                yield self._renumbered(index, _union(record, in_force.values()))
            else:
                yield self._renumbered(index, record)

    def latest_run(self, control: str, scope: str, ended_at_or_before: datetime) -> Record | None:
        found = [
            (_ended(record), index, record)
            for index, ledger in enumerate(self._ledgers)
            if (record := ledger.latest_run(control, scope, ended_at_or_before)) is not None
        ]
        if not found:
            return None
        _, index, record = max(found, key=lambda item: (item[0], item[1]))
        return self._renumbered(index, record)

    def last_of_kinds_before(self, kinds: Iterable[str], moment: datetime) -> Record | None:
        wanted = sorted(set(kinds))
        found = [
            (record.at, index, record)
            for index, ledger in enumerate(self._ledgers)
            if (record := ledger.last_of_kinds_before(wanted, moment)) is not None
        ]
        if not found:
            return None
        _, index, latest = max(found, key=lambda item: (item[0], item[1]))
        if latest.kind == POPULATION:
            populations = [
                record
                for ledger in self._ledgers
                if (record := ledger.last_of_kinds_before([POPULATION], moment)) is not None
            ]
            latest = _union(latest, populations)
        return self._renumbered(index, latest)

    def monitored_pairs(self, from_time: datetime, to_time: datetime) -> list[tuple[str, str]]:
        return sorted({pair for ledger in self._ledgers for pair in ledger.monitored_pairs(from_time, to_time)})


def _keyed(index: int, records: Iterable[Record]) -> Iterator[tuple[datetime, int, int, Record]]:
    """One ledger's records as merge keys: time, then ledger, then its own order."""
    for record in records:
        yield record.at, index, record.seq, record


def _ended(record: Record) -> datetime:
    ended = record.data.get("ended")
    return parse_time(ended) if isinstance(ended, str) else record.at


def _union(record: Record, populations: Iterable[Record]) -> Record:
    """`record` (a population) naming every scope and control of `populations` (each replica's latest)."""
    scopes: set[str] = set()
    controls: dict[str, set[str]] = {}
    for population in populations:
        data = population.data
        scopes.update(str(s) for s in data.get("scopes", []))
        for scope, ids in dict(data.get("controls", {})).items():
            controls.setdefault(str(scope), set()).update(str(i) for i in ids)
    body: dict[str, Any] = record.data
    body["scopes"] = sorted(scopes)
    if "controls" in body or controls:
        body["controls"] = {scope: sorted(ids) for scope, ids in sorted(controls.items())}
    return replace(record, body=canonical_json(body))
