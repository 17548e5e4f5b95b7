"""The latest results per (control, scope): the one source `/metrics`, `/results` and the CLI read.

A scrape or a `/results` request must never call Google (README, "Metrics and the
metrics port"), so the scheduler writes every finished run here and readers take a consistent
copy under one lock. Only the latest run of each pair is kept: history is the evidence
ledger's job, and keeping it here would grow without bound. Of that run only the results
that are not passes are kept, passes as a count: at a thousand projects the passes are most
of the memory, and every reader wants what fails (the evidence ledger has every result).
"""

from __future__ import annotations

import bisect
import itertools
import json
import threading
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from checks.model import Area, Result, Severity, Verdict, roll_up
from checks.registry import ControlMeta

if TYPE_CHECKING:
    from monitor.sinks.base import FinishedRun

TransitionKey = tuple[str, str, str, str]
"""(control, scope, from status, to status)."""
FailureKey = tuple[str, str]
"""(resource, subject): one failing result of a pair."""


@dataclass(frozen=True, slots=True)
class FirstSeen:
    """When a failing result was first seen failing (unix time) and whether that was *new*.

    New means the pair had been judged before (a run not in `error`) and this result was not
    failing then: a change of the estate, worth a page. A failure found on a pair's first
    judged run may be years old; it is standing, not new. Times are this process's: a restart
    starts them again (and what it finds first is standing).
    """

    at: float
    new: bool


@dataclass(frozen=True, slots=True)
class ControlState:
    """What is known about one configured (control, scope) pair.

    `status` and `last_run` are None until the pair's first run ends; `last_success` stays None
    until a run ends in something other than `error`, so staleness alerts can tell
    "never succeeded" from "succeeded long ago". `results` holds the failures and errors of
    the latest run; its passes are only counted (`passing`), and `checked` counts them all.
    `results` is unpacked from `packed` when read (see `pack_results`).
    """

    control: str
    scope: str
    area: Area
    severity: Severity
    status: Verdict | None
    failing: int
    excepted: int
    checked: int
    passing: int
    last_run: float | None
    last_success: float | None
    interval: float
    packed: bytes
    judged: bool = False  # some run of the pair ended in something other than `error`
    seen: bytes = b""  # the failures' first-seen times, packed (`pack_seen`)
    new_failure_at: float | None = None  # newest first-seen of a current, new, non-excepted failure

    @property
    def results(self) -> tuple[Result, ...]:
        """The failures and errors of the latest run (each reader unpacks its own copy)."""
        return unpack_results(self.control, self.scope, self.packed)

    def first_seen(self) -> dict[FailureKey, FirstSeen]:
        """Each failing result's first-seen time, by (resource, subject)."""
        return unpack_seen(self.seen)


def pack_results(results: Sequence[Result]) -> bytes:
    """One pair's kept results as compressed JSON rows (b"" for none).

    At a thousand projects of 600 resources the failures kept between runs were the largest
    part of the daemon's memory (about 180 KB of objects a scope: their reasons repeat, and
    compress about 30 to 1). Every reader of a pair's results is rare next to the runs that
    replace them (a page of `/results`, an accepted-risk check), so they pay the unpacking.
    """
    if not results:
        return b""
    rows = [[r.resource, r.subject, r.verdict.value, r.reason, r.excepted, r.latent, r.exception_reason]
            for r in results]  # fmt: skip
    return zlib.compress(json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), 1)


def unpack_results(control: str, scope: str, packed: bytes) -> tuple[Result, ...]:
    """The results `pack_results` packed, of `control` on `scope`."""
    if not packed:
        return ()
    rows = json.loads(zlib.decompress(packed))
    return tuple(
        Result(control=control, scope=scope, resource=resource, subject=subject, verdict=Verdict(verdict),
               reason=reason, excepted=excepted, latent=latent, exception_reason=why)
        for resource, subject, verdict, reason, excepted, latent, why in rows
    )  # fmt: skip


def pack_seen(seen: dict[FailureKey, FirstSeen]) -> bytes:
    """First-seen times as compressed JSON rows (b"" for none), packed like the results."""
    if not seen:
        return b""
    rows = [[resource, subject, entry.at, entry.new] for (resource, subject), entry in seen.items()]
    return zlib.compress(json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), 1)


def unpack_seen(packed: bytes) -> dict[FailureKey, FirstSeen]:
    if not packed:
        return {}
    rows = json.loads(zlib.decompress(packed))
    return {(resource, subject): FirstSeen(at, new) for resource, subject, at, new in rows}


def carry_seen(
    old: dict[FailureKey, FirstSeen], results: Sequence[Result], *, judged_before: bool, in_error: bool, at: float
) -> dict[FailureKey, FirstSeen]:
    """The first-seen times after a run ended at `at`.

    A failure seen before keeps its time; one not seen before is first seen now, and new if
    the pair was judged before. A run in `error` did not see everything: the failures it did
    not report may still be there, so their times are carried, not forgotten (else a
    transient error would turn every standing failure into a new one on the next run).
    """
    seen: dict[FailureKey, FirstSeen] = dict(old) if in_error else {}
    for result in results:
        if result.verdict is not Verdict.FAIL:
            continue
        key = (result.resource, result.subject)
        seen[key] = old.get(key) or FirstSeen(at, judged_before)
    return seen


def newest_new_failure(seen: dict[FailureKey, FirstSeen], results: Sequence[Result]) -> float | None:
    """The newest first-seen time of a new failure this run reports outside any accepted risk."""
    times = [
        entry.at
        for r in results
        if r.verdict is Verdict.FAIL and not r.excepted
        and (entry := seen.get((r.resource, r.subject))) is not None and entry.new
    ]  # fmt: skip
    return max(times) if times else None


@dataclass(frozen=True, slots=True)
class StoreView:
    """States, transitions and area counts taken under one lock, so one scrape is consistent."""

    states: tuple[ControlState, ...]
    transitions: dict[TransitionKey, int]
    configured_by_area: dict[str, int]


def _control_sort_key(control_id: str) -> tuple[str, int, str]:
    """Order ids like the registry does (`FW-2` before `FW-10`), so output is stable and readable."""
    area, _, number = control_id.partition("-")
    return (area, int(number) if number.isdigit() else 0, control_id)


def _pair_key(pair: tuple[str, str]) -> tuple[tuple[str, int, str], str]:
    return (_control_sort_key(pair[0]), pair[1])


class ResultStore:
    """Thread-safe store of the latest run of every configured (control, scope) pair."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configured = False
        self._states: dict[tuple[str, str], ControlState] = {}
        self._transitions: dict[TransitionKey, int] = {}
        self._scopes: set[str] = set()
        self._finished_scopes: set[str] = set()
        self._holds: set[str] = set()  # what readiness waits for besides runs (the first discovery)
        self._by_scope: dict[str, list[tuple[str, str]]] = {}  # scope -> its pairs, in control order
        self._order: list[tuple[str, str]] = []  # every pair, in reading order (`_pair_key`)
        self._order_keys: list[tuple[tuple[str, int, str], str]] = []  # their `_pair_key`s, for bisect
        self._generation: dict[str, int] = {}  # scope -> bumped at each change of its pairs
        self._changes = 0

    # -- writers -------------------------------------------------------------------------

    name = "store"
    essential = True  # a run the store did not take must fail, or the last verdicts would stand

    def on_run(self, finished: FinishedRun) -> None:
        """The first sink: every control's results of the run, then the scope marked as run."""
        metas = {control.meta.id: control.meta for control in finished.plan.controls}
        for control_id, results in finished.results.items():
            self.record(finished.scope, metas[control_id], results, finished.run.ended)
        self.mark_scope_run_finished(finished.scope)

    def configure(self, entries: Iterable[tuple[ControlMeta, str, float]]) -> None:
        """Replace the configured set with `(meta, scope, interval_seconds)` for each enabled pair.

        Called at start and on every SIGHUP reload. Pairs that stay keep their state (a reload
        must not blank the dashboards); pairs that go are dropped with their transitions, so
        series of removed controls or scopes disappear instead of going stale.
        """
        wanted: dict[tuple[str, str], tuple[ControlMeta, float]] = {}
        for meta, scope, interval in entries:
            key = (meta.id, scope)
            if key in wanted:
                raise ValueError(f"control {meta.id} configured twice for scope {scope}")
            if not interval > 0:
                raise ValueError(f"interval of {meta.id} for scope {scope} must be > 0, got {interval}")
            wanted[key] = (meta, float(interval))
        with self._lock:
            states: dict[tuple[str, str], ControlState] = {}
            for key, (meta, interval) in wanted.items():
                old = self._states.get(key)
                if old is None:
                    states[key] = ControlState(
                        control=meta.id,
                        scope=key[1],
                        area=meta.area,
                        severity=meta.severity,
                        status=None,
                        failing=0,
                        excepted=0,
                        checked=0,
                        passing=0,
                        last_run=None,
                        last_success=None,
                        interval=interval,
                        packed=b"",
                    )
                else:
                    states[key] = replace(old, area=meta.area, severity=meta.severity, interval=interval)
            self._states = states
            self._transitions = {k: n for k, n in self._transitions.items() if (k[0], k[1]) in states}
            self._scopes = {scope for _, scope in states}
            self._finished_scopes &= self._scopes
            self._configured = True
            self._by_scope = {}
            self._order = sorted(states, key=_pair_key)
            self._order_keys = [_pair_key(key) for key in self._order]
            for key in self._order:
                self._by_scope.setdefault(key[1], []).append(key)
            self._generation = {scope: self._bump() for scope in self._by_scope}  # a reload redraws every scope

    def record(self, scope: str, meta: ControlMeta, results: Sequence[Result], ended_at: float) -> ControlState:
        """Keep the results of one finished run of `meta` on `scope` and return the new state.

        A run that judged nothing is `error`, not `pass`: every control gives at least one
        result per scope (README, "Seeing what fails"), so an empty list means something broke.
        A run of a pair that is not configured (it ended after a reload removed it) is rolled
        up and returned but not kept, so a reload cannot be undone by a straggling run.
        """
        for result in results:
            if result.control != meta.id or result.scope != scope:
                raise ValueError(f"result for {result.control}/{result.scope} recorded as {meta.id}/{scope}")
        status = roll_up(results) if results else Verdict.ERROR
        failing = sum(1 for r in results if r.verdict is Verdict.FAIL and not r.excepted)
        excepted = sum(1 for r in results if r.verdict is Verdict.FAIL and r.excepted)
        kept = tuple(r for r in results if r.verdict is not Verdict.PASS)
        packed = pack_results(kept)  # outside the lock: readers wait only for the swap
        key = (meta.id, scope)
        with self._lock:  # runs of one scope are serialised (ScopeScheduler), so `before` is still current below
            before = self._states.get(key)
        old_seen = unpack_seen(before.seen) if before is not None else {}
        judged_before = before is not None and before.judged
        seen = carry_seen(old_seen, kept, judged_before=judged_before, in_error=status is Verdict.ERROR, at=ended_at)
        packed_seen = pack_seen(seen)
        new_failure_at = newest_new_failure(seen, kept)
        with self._lock:
            old = self._states.get(key)
            state = ControlState(
                control=meta.id,
                scope=scope,
                area=meta.area,
                severity=meta.severity,
                status=status,
                failing=failing,
                excepted=excepted,
                checked=len(results),
                passing=len(results) - len(kept),
                last_run=ended_at,
                last_success=ended_at if status is not Verdict.ERROR else (old.last_success if old else None),
                interval=old.interval if old else 0.0,
                packed=packed,
                judged=judged_before or status is not Verdict.ERROR,
                seen=packed_seen,
                new_failure_at=new_failure_at,
            )
            if old is None:
                return state
            if old.status is not None and old.status is not status:
                tkey = (meta.id, scope, old.status.value, status.value)
                self._transitions[tkey] = self._transitions.get(tkey, 0) + 1
            self._states[key] = state
            self._generation[scope] = self._bump()
            return state

    def _bump(self) -> int:
        self._changes += 1
        return self._changes

    def mark_scope_run_finished(self, scope: str) -> None:
        """Note that a run of `scope` ended (whatever its outcome), for readiness."""
        with self._lock:
            if scope in self._scopes:
                self._finished_scopes.add(scope)

    # -- readers -------------------------------------------------------------------------

    def hold(self, reason: str) -> None:
        """Not ready until `release(reason)`: the set of scopes is not known yet (the first discovery)."""
        with self._lock:
            self._holds.add(reason)

    def release(self, reason: str) -> None:
        with self._lock:
            self._holds.discard(reason)

    def ready(self) -> tuple[bool, list[str]]:
        """Whether every configured scope finished a run, and what is still waited for (holds first).

        Not ready before the first `configure()`: an unconfigured store has nothing to serve.
        Not ready while held: before the first discovery, an empty or partial set of scopes
        would read as all done. A scope added by a reload makes the store unready until its
        first run ends, because until then `/results` cannot say anything about it.
        """
        with self._lock:
            waiting = sorted(self._holds) + sorted(self._scopes - self._finished_scopes)
            return (self._configured and not waiting, waiting)

    def states(self) -> list[ControlState]:
        """Every configured pair, run or not, ordered by control id then scope."""
        with self._lock:
            return [self._states[key] for key in self._order]

    def page(
        self, after: tuple[str, str] | None, limit: int, keep: Callable[[ControlState], bool]
    ) -> tuple[list[ControlState], bool]:
        """Up to `limit` states that `keep` accepts, in the order of `states()`, starting after the
        pair `after` (None: from the first); and whether more follow. A pair named by `after`
        that a reload removed still marks the place: paging goes on from where it stood."""
        with self._lock:
            start = bisect.bisect_right(self._order_keys, _pair_key(after)) if after is not None else 0
            found: list[ControlState] = []
            for key in itertools.islice(self._order, start, None):
                state = self._states[key]
                if keep(state):
                    if len(found) == limit:
                        return found, True
                    found.append(state)
            return found, False

    def states_of(self, pairs: Iterable[tuple[str, str]]) -> list[ControlState]:
        """The states of the named (control, scope) pairs that are configured, in the order named.

        A lookup per pair, so a reader that needs a few pairs (accepted risks) does not copy
        and sort every state of a thousand scopes after each run.
        """
        with self._lock:
            return [self._states[pair] for pair in pairs if pair in self._states]

    def generations(self) -> dict[str, int]:
        """Per configured scope, a number that changes whenever one of its pairs does (a run, a reload):
        what a reader keeping something drawn from a scope checks to know it must draw it again."""
        with self._lock:
            return dict(self._generation)

    def scope_view(self, scope: str) -> tuple[int, StoreView]:
        """One scope's generation and its states (control order) and transitions, in one consistent copy."""
        with self._lock:
            keys = self._by_scope.get(scope, [])
            states = tuple(self._states[key] for key in keys)
            transitions = {k: n for k, n in self._transitions.items() if k[1] == scope}
            return self._generation.get(scope, 0), StoreView(states, transitions, {})

    def unreadable_scopes(self) -> int:
        """Scopes whose every configured pair's latest run ended in `error` (read at each scrape)."""
        with self._lock:
            return sum(
                1
                for keys in self._by_scope.values()
                if all(self._states[key].status is Verdict.ERROR for key in keys)
            )

    def transitions(self) -> dict[TransitionKey, int]:
        """How often each configured pair's status changed, by (control, scope, from, to)."""
        with self._lock:
            return dict(self._transitions)

    def configured_by_area(self) -> dict[str, int]:
        """Configured (control, scope) pairs per area, every area present (0 included)."""
        with self._lock:
            return self._count_by_area()

    def view(self) -> StoreView:
        """States, transitions and area counts in one consistent copy (what a scrape reads)."""
        with self._lock:
            states = tuple(self._states[key] for key in self._order)
            return StoreView(states, dict(self._transitions), self._count_by_area())

    def results(self, control: str | None = None, scope: str | None = None, verdict: str | None = None) -> list[Result]:
        """The latest results that are not passes, narrowed by control id, scope and result verdict.

        Passes are not kept (only counted, `ControlState.passing`): asking for them gives none.
        """
        wanted = Verdict(verdict) if verdict is not None else None  # ValueError names a bad verdict
        out: list[Result] = []
        for state in self.states():
            if control is not None and state.control != control:
                continue
            if scope is not None and state.scope != scope:
                continue
            out.extend(r for r in state.results if wanted is None or r.verdict is wanted)
        return out

    def configured_controls(self) -> set[str]:
        """Control ids configured for at least one scope (lets `/results` reject a typo)."""
        with self._lock:
            return {control for control, _ in self._states}

    def configured_scopes(self) -> set[str]:
        """Scopes with at least one configured control."""
        with self._lock:
            return set(self._scopes)

    def _count_by_area(self) -> dict[str, int]:
        counts = {area.value: 0 for area in Area}
        for state in self._states.values():
            counts[state.area.value] += 1
        return counts
