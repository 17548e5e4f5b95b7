"""`check --format csv`: one row per finding (every result that is not a pass), for a
spreadsheet or a ticket import (README, "Command line"). RFC 4180 quoting by the csv module."""

from __future__ import annotations

import csv
import io

from checks.model import Result
from monitor.commands.formats.report import CheckReport, non_pass

COLUMNS = (
    "scope",
    "control",
    "title",
    "severity",
    "area",
    "verdict",
    "resource",
    "subject",
    "reason",
    "excepted",
    "exception_reason",
    "remediation",
    "cis",
)


def render(report: CheckReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 ends records with CRLF
    writer.writerow(COLUMNS)
    writer.writerows(_row(r, report) for r in non_pass(report.results))
    return out.getvalue()


def _row(result: Result, report: CheckReport) -> tuple[str, ...]:
    meta = report.controls[result.control]
    return (
        result.scope,
        result.control,
        meta.title,
        meta.severity.value,
        meta.area.value,
        result.verdict.value,
        result.resource,
        result.subject,
        result.reason,
        "true" if result.excepted else "false",
        result.exception_reason or "",
        meta.remediation,
        " ".join(f"{version}:{rec}" for version, rec in meta.references.cis),
    )
