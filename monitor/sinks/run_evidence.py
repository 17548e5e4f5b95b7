"""Every control run as an evidence record: built from the run, appended by the writer thread."""

from __future__ import annotations

import structlog

from monitor import __version__
from monitor.evidence.bodies import bodies_from_run
from monitor.sinks.base import FinishedRun
from monitor.sinks.evidence_writer import EvidenceWriter
from monitor.sinks.metrics import Metrics

log = structlog.get_logger("controlwatch.daemon")


class RunEvidence:
    """Builds the `control_run` records of a run; a failure to build one is counted, never silent.

    It runs after the result store, so that evidence trouble never discards the verdicts.
    """

    name = "evidence"
    essential = False

    def __init__(self, writer: EvidenceWriter, metrics: Metrics, *, source: str) -> None:
        self._writer = writer
        self._metrics = metrics
        self._source = source

    def on_run(self, finished: FinishedRun) -> None:
        try:
            bodies = bodies_from_run(
                finished.run,
                finished.plan,
                controlwatch_version=__version__,
                source=self._source,
                interval=finished.config.schedule.interval,
                results=finished.results,  # DRIFT results with who made the change: the evidence names them
            )
            self._writer.submit(bodies)
        except Exception as exc:
            self._metrics.evidence_write_error()
            log.error("evidence_body_failed", scope=finished.scope, error=f"{type(exc).__name__}: {exc}")
