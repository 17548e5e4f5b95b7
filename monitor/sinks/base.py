"""The one door out of a run: every finished run is handed to each result sink in turn.

A sink is anything with a `name` and `on_run(finished)`: the result store (and so
/metrics and /results), the evidence ledger, drift reporting, accepted-risk staleness and
the run's log line. Each is called behind its own bulkhead, so one sink that raises never
keeps the others from seeing the run, and the run itself is not lost to the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from checks.model import Result
from monitor.config.model import Config
from monitor.run.sweep import ScopePlan, ScopeRun

log = structlog.get_logger("controlwatch.daemon")


@dataclass(frozen=True, slots=True)
class FinishedRun:
    """One run of one scope on its way out.

    `run` is the run as judged; `results` are the results per control as stored and shown,
    DRIFT results carrying who changed what when the audit log says. `still_configured`
    tells whether a reload removed the scope while it ran (then no series is added back).
    """

    plan: ScopePlan
    run: ScopeRun
    results: Mapping[str, list[Result]]
    config: Config
    still_configured: Callable[[], bool]

    @property
    def scope(self) -> str:
        return self.plan.scope


class ResultSink(Protocol):
    """Where a finished run goes; `name` says which one in a failure's log line and metric.

    An `essential` sink's failure fails the run (the result store: without it the previous
    verdicts would stand as if current); any other sink's failure is logged and counted.
    """

    name: str
    essential: bool

    def on_run(self, finished: FinishedRun) -> None: ...


def deliver(
    sinks: Sequence[ResultSink], finished: FinishedRun, on_failure: Callable[[str], None] | None = None
) -> None:
    """Hand `finished` to every sink, in order. A sink that raises is logged and counted
    (`on_failure(name)`); the rest go on, unless it was essential: then the run fails."""
    for sink in sinks:
        try:
            sink.on_run(finished)
        except Exception as exc:
            log.error("result_sink_failed", sink=sink.name, scope=finished.scope, error=f"{type(exc).__name__}: {exc}")
            if on_failure is not None:
                on_failure(sink.name)
            if sink.essential:
                raise
