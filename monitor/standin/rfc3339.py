"""RFC 3339 timestamps as the APIs write them, parsed and shifted without losing their form.

Compute writes `2025-01-15T09:30:00.000-08:00`, Logging `2025-02-01T10:00:00.123456789Z`:
nanoseconds do not fit a `datetime`, so a shift moves whole seconds and keeps the
fraction and the UTC offset exactly as written.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from checks.kernel import parse_time

_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse(text: str) -> datetime | None:
    """An aware datetime (fraction cut to microseconds), or None if `text` is not RFC 3339."""
    return parse_time(text)


#: the year Google writes for "never" (a service-account key without expiry: `9999-12-31T23:59:59Z`)
NEVER_YEAR = "9999"


def shift(text: str, seconds: int) -> str | None:
    """`text` moved by whole `seconds`, same fraction and offset; None if not RFC 3339.

    "Never" stays never: a year-9999 timestamp, or one the shift would carry out of the
    calendar, is returned as written.
    """
    match = _TIMESTAMP.match(text)
    if not match or parse(text) is None:
        return None
    day, clock, fraction, offset = match.groups()
    if day.startswith(NEVER_YEAR):
        return text
    try:
        moved = datetime.fromisoformat(f"{day}T{clock}") + timedelta(seconds=seconds)
    except OverflowError:
        return text
    return moved.strftime("%Y-%m-%dT%H:%M:%S") + (fraction or "") + offset
