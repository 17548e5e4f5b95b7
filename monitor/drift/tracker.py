"""Which drifted items are new since the last run, so drift events are counted once each.

A drifted item (a DRIFT result in `fail`) is identified by its resource and reason (the
reason carries the field-by-field diff): it counts as an event the first run it appears,
not again while it persists, and again if it comes back after being resolved.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from checks.model import Result, Verdict

CHANGES = ("added", "removed", "changed")


@dataclass(frozen=True, slots=True)
class DriftReport:
    active: bool
    new_items: tuple[Result, ...] = ()
    new_changes: dict[str, int] = field(default_factory=dict)
    resolved: int = 0


class DriftTracker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def update(self, scope: str, control: str, results: Sequence[Result]) -> DriftReport:
        drifted = [r for r in results if r.verdict is Verdict.FAIL and not r.excepted]
        keys = {(r.resource, r.reason) for r in drifted}
        with self._lock:
            before = self._seen.get((scope, control), set())
            self._seen[(scope, control)] = keys
        new = tuple(r for r in drifted if (r.resource, r.reason) not in before)
        changes = Counter(r.subject for r in new if r.subject in CHANGES)
        return DriftReport(active=bool(drifted), new_items=new, new_changes=dict(changes), resolved=len(before - keys))
