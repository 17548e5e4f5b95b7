"""Structured JSON logs, one object per line, as Cloud Logging reads them.

`severity` (DEBUG/INFO/WARNING/ERROR) and `message` are the keys Cloud Logging's agent
lifts into the entry; anything that looks like a credential is dropped before rendering.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

_SECRET_MARKERS = ("token", "secret", "password", "credential", "authorization", "private_key")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def _severity(_: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    level = event.pop("level", method)
    event["severity"] = {"warn": "WARNING", "exception": "ERROR", "critical": "CRITICAL"}.get(level, str(level).upper())
    return event


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(marker in key.lower() for marker in _SECRET_MARKERS):
            event[key] = "[redacted]"
    return event


def configure_logging(level: str = "info", stream: TextIO | None = None, fmt: str = "json") -> None:
    """Route structlog and stdlib logging (APScheduler, google libs) to JSON lines (or console text)."""
    out = stream if stream is not None else sys.stdout
    threshold = _LEVELS.get(level, logging.INFO)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        _redact,
        structlog.processors.format_exc_info,
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer(sort_keys=False)
    )
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _severity,
                structlog.processors.EventRenamer("message"),
                renderer,
            ],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Third-party libraries speak at WARNING and above only: their INFO chatter is noise here.
    root.setLevel(max(threshold, logging.WARNING))
    logging.getLogger("controlwatch").setLevel(threshold)
