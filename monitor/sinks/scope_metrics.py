"""`controlwatch_scopes{state}`: how many projects are watched, left out by discovery, and unreadable.

`watched` and `excluded` are the last resolved set's (the daemon sets them at every change);
`unreadable` is read from the result store at each scrape: watched projects whose latest
run left every one of their controls in `error`, i.e. projects discovery lists (or the
config names) that controlwatch could not read at all. They are counted in `watched` too.
"""

from __future__ import annotations

import threading

from prometheus_client.core import GaugeMetricFamily, Metric

from monitor.sinks.store import ResultStore

SCOPE_STATES = ("watched", "excluded", "unreadable")
NAME = "controlwatch_scopes"


class ScopesCollector:
    """The `controlwatch_scopes` family: every state exported, 0 included."""

    def __init__(self, store: ResultStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._counts = {"watched": 0, "excluded": 0}

    def set_counts(self, watched: int, excluded: int) -> None:
        with self._lock:
            self._counts = {"watched": watched, "excluded": excluded}

    def unreadable(self) -> int:
        return self._store.unreadable_scopes()

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> list[Metric]:
        with self._lock:
            counts = dict(self._counts)
        counts["unreadable"] = self.unreadable()
        return [self._family(counts)]

    @staticmethod
    def _family(counts: dict[str, int] | None = None) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            NAME,
            "Projects watched, found by discovery and left out (excluded), and watched but unreadable.",
            labels=["state"],
        )
        for state in SCOPE_STATES if counts is not None else ():
            family.add_metric([state], counts[state] if counts is not None else 0)
        return family
