"""The drift-watched state the daemon last collected, per scope, and the read-only route that
serves it (`GET /baseline/live?scope=S`).

Why the daemon keeps it: `controlwatch baseline diff` run against a running daemon compares
exactly what the daemon judged, without a second collection and without Google credentials
on the on-call's machine. The route also returns the approved baseline the daemon reads, so
the diff is against the store the daemon uses, not a copy on a laptop. Nothing here writes:
approvals go through `controlwatch baseline approve` beside the daemon's store.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import parse_qs

from checks.driftstate import CONTROL_AREAS, StateError, kinds_for, watched_state
from checks.model import is_drift
from checks.snapshot import Snapshot
from monitor.drift.baselines import BaselineStore, timestamp
from monitor.sinks.base import FinishedRun

ROUTE = "/baseline/live"
SCHEMA_VERSION = 1
Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class LiveState:
    """One scope's last collection of what its DRIFT controls read; their states are built on
    request (`states`), so a run pays for keeping references only."""

    snapshot: Snapshot
    controls: tuple[str, ...]

    @property
    def collected_at(self) -> str:
        return timestamp(self.snapshot.now.astimezone(UTC))

    def states(self) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """Per DRIFT control its state `{area: items}`, or why it could not be read."""
        states: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        for control in self.controls:
            failed = self.snapshot.failed_kinds(kinds_for([control]))
            if failed:
                errors[control] = "; ".join(f"{kind}: {why}" for kind, why in sorted(failed.items()))
                continue
            try:
                states[control] = watched_state(self.snapshot, [control])[control]
            except StateError as exc:
                errors[control] = str(exc)
        return states, errors


class LiveDrift:
    """A result sink keeping, per scope, what the DRIFT controls of its last run read."""

    name = "drift_live"
    essential = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_scope: dict[str, LiveState] = {}

    def on_run(self, finished: FinishedRun) -> None:
        scope = finished.scope
        controls = tuple(
            c.meta.id for c in finished.plan.controls if is_drift(c.meta.id) and c.meta.id in CONTROL_AREAS
        )
        if not controls or not finished.still_configured():
            with self._lock:
                self._by_scope.pop(scope, None)
            return
        snapshot = finished.run.snapshot
        kept = {kind: data for kind, data in snapshot.kinds.items() if kind in kinds_for(controls)}
        state = LiveState(Snapshot(scope=snapshot.scope, now=snapshot.now, kinds=kept), controls)
        with self._lock:
            self._by_scope[scope] = state

    def get(self, scope: str) -> LiveState | None:
        with self._lock:
            return self._by_scope.get(scope)

    def scopes(self) -> list[str]:
        with self._lock:
            return sorted(self._by_scope)


def live_route(live: LiveDrift, baselines: Callable[[], BaselineStore]) -> Callable[[str], Answer]:
    """`GET /baseline/live?scope=S`: the scope's last live state and its approved baseline (or
    null); without `scope`, the scopes that have one. Answers (status, JSON body)."""

    def answer(query: str) -> Answer:
        try:
            params = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
        except ValueError:
            return _error(400, f"malformed query string {query!r}")
        unknown = sorted(set(params) - {"scope"})
        if unknown:
            return _error(400, f"unknown query parameter {unknown[0]!r}; allowed: scope")
        if "scope" not in params:
            return 200, {"schema_version": SCHEMA_VERSION, "scopes": live.scopes()}
        values = params["scope"]
        if len(values) != 1 or not values[0]:
            return _error(400, "query parameter 'scope' must be given once, not empty")
        state = live.get(values[0])
        if state is None:
            return _error(
                404,
                f"no live drift state for scope {values[0]!r}: not a scope of this daemon with DRIFT controls "
                "enabled, or its first run has not finished",
            )
        scope = state.snapshot.scope
        states, errors = state.states()
        try:
            baseline = baselines().get(scope)
        except (sqlite3.Error, OSError, ValueError) as exc:  # the daemon's runs say so too (baseline_store_unreadable)
            return _error(503, f"cannot read the baseline store: {exc}")
        return 200, {
            "schema_version": SCHEMA_VERSION,
            "scope": scope,
            "collected_at": state.collected_at,
            "controls": states,
            "errors": errors,
            "baseline": baseline,
        }

    return answer


def _error(status: int, message: str) -> Answer:
    return status, {"error": message, "status": status}
