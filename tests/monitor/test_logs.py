"""Log lines: one JSON object each, `severity` as Cloud Logging reads it, secrets redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from monitor.sinks.logs import configure_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging("info", stream=out)
    yield out
    configure_logging("info")


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_with_cloud_logging_severity(stream: io.StringIO) -> None:
    log = structlog.get_logger("controlwatch.test")
    log.info("scope_run", scope="shop-prod", results={"pass": 3})
    log.warning("job_skipped", job="scope:x")
    log.debug("not shown at info")
    records = lines(stream)
    assert [(r["message"], r["severity"]) for r in records] == [("scope_run", "INFO"), ("job_skipped", "WARNING")]
    assert records[0]["scope"] == "shop-prod" and records[0]["results"] == {"pass": 3}
    assert str(records[0]["time"]).endswith("Z")


def test_credentials_are_redacted(stream: io.StringIO) -> None:
    structlog.get_logger("controlwatch.test").info(
        "client_built", access_token="ya29.secret", credentials="creds", api_key_secret="k", endpoint="http://x"
    )
    [record] = lines(stream)
    assert record["access_token"] == record["credentials"] == record["api_key_secret"] == "[redacted]"
    assert record["endpoint"] == "http://x"
    assert "ya29" not in stream.getvalue()


def test_third_party_logs_are_json_too_and_only_from_warning(stream: io.StringIO) -> None:
    logging.getLogger("apscheduler.scheduler").info("chatter")
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    [record] = lines(stream)
    assert record["severity"] == "WARNING" and record["logger"] == "apscheduler.scheduler"


def test_exceptions_are_logged_as_error_with_traceback(stream: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        structlog.get_logger("controlwatch.test").exception("control_raised", control="FW-01")
    [record] = lines(stream)
    assert record["severity"] == "ERROR" and "ValueError: boom" in str(record["exception"])
