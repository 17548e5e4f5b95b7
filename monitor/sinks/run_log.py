"""The one summary log line of every run (`scope_run`): a warning when any control is in error."""

from __future__ import annotations

import structlog

from monitor.run.sweep import log_fields
from monitor.sinks.base import FinishedRun

log = structlog.get_logger("controlwatch.daemon")


class RunLog:
    """Never one line per resource: what failed is in /results and the evidence."""

    name = "log"
    essential = False

    def on_run(self, finished: FinishedRun) -> None:
        fields = log_fields(finished.run)
        if fields["error_controls"]:
            log.warning("scope_run", **fields)
        else:
            log.info("scope_run", **fields)
