"""How much judging one run of one scope may take: `evaluation:` in the config.

Collection has `gcp.run_deadline`; this bounds what comes after it, so that no snapshot,
however large, holds a scope's worker (and its memory) without end:
- an input-size limit per kind: a control whose input holds more resources of a kind than
  the limit reports `error` ("too large to judge: …") without being called, which bounds
  its time and memory before it starts;
- a deadline for all of the run's controls together, on a monotonic clock, started when
  collection ends. Controls are pure and cannot be stopped from outside their thread, so the
  runner checks the deadline cooperatively: before each control and between the findings a
  control yields (one per resource, through the kernel's bulkhead). A control stopped by it,
  and every control after it, reports `error` ("evaluation deadline exceeded"); the
  controls judged before keep their results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from checks.snapshot import Snapshot
from monitor.config.durations import format_duration


@dataclass(frozen=True, slots=True)
class EvaluationBudget:
    """The `evaluation:` keys: None (or no entry) means no limit."""

    deadline: timedelta | None = None
    max_resources: int | None = None
    max_resources_by_kind: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def oversized(self, kinds: tuple[str, ...], snapshot: Snapshot) -> str | None:
        """Why a control reading `kinds` is too large to judge on `snapshot`, or None."""
        found = []
        for kind in kinds:
            data = snapshot.kinds.get(kind)
            count = len(data.resources) if data is not None else 0
            if kind in self.max_resources_by_kind:
                limit, key = self.max_resources_by_kind[kind], f"evaluation.max_resources_by_kind.{kind}"
            elif self.max_resources is not None:
                limit, key = self.max_resources, "evaluation.max_resources"
            else:
                continue
            if count > limit:
                found.append(f"{count} {kind} (limit {limit}, {key})")
        return f"too large to judge: {'; '.join(found)}" if found else None

    def start(self, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """The run's deadline, counted from now on `clock`."""
        return Deadline(self.deadline, clock)


class Deadline:
    """One run's evaluation deadline: `passed()` reads the monotonic clock it was given, and
    `stopped` lists the controls it stopped or kept from starting (for the run's log line)."""

    def __init__(self, budget: timedelta | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._at = None if budget is None else clock() + budget.total_seconds()
        self.text = "" if budget is None else f"evaluation.deadline {format_duration(budget)}"
        self.stopped: list[str] = []

    def passed(self) -> bool:
        return self._at is not None and self._clock() >= self._at

    def stop(self, control: str, reason: str) -> str:
        """Record that `control` was stopped; returns its error reason."""
        self.stopped.append(control)
        return f"evaluation deadline exceeded ({self.text}){reason}"


UNLIMITED = EvaluationBudget()
