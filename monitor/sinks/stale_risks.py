"""Accepted risks that rot: expired, or matching no failure any more. Reported after every run.

The gauge `controlwatch_exceptions_stale{reason}` is set on every run; the warning log line
only when the set of stale risks changes, so a stale risk is not repeated every sweep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import structlog

from checks.model import Verdict
from monitor.run.plans import risks_from
from monitor.run.risks import stale_risks
from monitor.sinks.base import FinishedRun
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore

log = structlog.get_logger("controlwatch.daemon")

_Described = tuple[str, str, str, str, str]


class StaleRisks:
    """Reads the store's latest results of the pairs the accepted risks name, so it goes after the store.

    Only those pairs: a scan of every result of every scope after each run cost more than the
    runs themselves at a thousand projects. With no accepted risks configured it reads nothing.
    """

    name = "stale_risks"
    essential = False

    def __init__(self, store: ResultStore, metrics: Metrics, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._metrics = metrics
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: list[_Described] = []

    def on_run(self, finished: FinishedRun) -> None:
        risks = risks_from(finished.config)
        if risks:
            states = self._store.states_of(dict.fromkeys((risk.control, risk.scope) for risk in risks))
            judged = {(s.control, s.scope) for s in states if s.status is not None}
            failing = [r for s in states for r in s.results if r.verdict is Verdict.FAIL]
            # Under discovery an accepted risk may name any project: one not watched now matches nothing.
            watched = self._store.configured_scopes() if finished.config.scopes.discovering else None
            stale = stale_risks(risks, failing, self._clock(), judged, watched)
        else:
            stale = {"expired": [], "unmatched": []}
        self._metrics.exceptions_stale({reason: len(risks) for reason, risks in stale.items()})
        described = sorted(
            (reason, risk.control, risk.scope, risk.resource, risk.expires.isoformat())
            for reason, risks in stale.items()
            for risk in risks
        )
        with self._lock:
            changed, self._seen = described != self._seen, described
        if changed and described:
            log.warning(
                "accepted_risks_stale",
                risks=[
                    {"why": why, "control": c, "scope": s, "resource": r, "expires": e} for why, c, s, r, e in described
                ],
                hint="remove or renew them in `exceptions:`",
            )
