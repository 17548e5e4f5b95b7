"""Durations as people write them in the config (`30s`, `5m`, `1h30m`, `500ms`).

A bare number is refused: `interval: 15` could mean seconds or minutes, and guessing
wrong makes a control run sixty times too often or too rarely. Values become
`datetime.timedelta`; the pydantic types below accept a string or a `timedelta`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator

# Units in descending order, each at most once: 1d2h3m4s5ms.
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1))
_HINT = "write whole numbers with units, largest first, e.g. '30s', '5m', '1h30m', '500ms' (units: d, h, m, s, ms)"


def parse_duration(text: str) -> timedelta:
    """`1h30m` → timedelta; raises ValueError saying what is wrong (zero is allowed here)."""
    stripped = text.strip()
    if stripped.startswith("-"):
        raise ValueError(f"{text!r}: a duration cannot be negative")
    match = _DURATION.match(stripped)
    if not stripped or match is None:
        raise ValueError(f"{text!r} is not a duration: {_HINT}")
    millis = sum(int(part) * factor for part, (_, factor) in zip(match.groups(), _UNITS, strict=True) if part)
    try:
        return timedelta(milliseconds=millis)
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


def format_duration(value: timedelta) -> str:
    """The shortest string `parse_duration` reads back as `value` (`timedelta(minutes=90)` → `1h30m`)."""
    millis = round(value.total_seconds() * 1000)
    if millis == 0:
        return "0s"
    sign, millis = ("-", -millis) if millis < 0 else ("", millis)
    parts = []
    for unit, factor in _UNITS:
        count, millis = divmod(millis, factor)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)


def _coerce(value: object) -> timedelta:
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError(f"{format_duration(value)}: a duration cannot be negative")
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected a duration such as '30s', got {type(value).__name__}")
    if not isinstance(value, str):
        raise ValueError(f"{value!r} has no unit: write e.g. '{value}s' or '{value}m'")
    return parse_duration(value)


def _positive(value: object) -> timedelta:
    duration = _coerce(value)
    if duration <= timedelta(0):
        raise ValueError(f"{value!r}: must be longer than 0s")
    return duration


AS_TEXT = PlainSerializer(format_duration, return_type=str, when_used="json")


# A duration that must be > 0 (intervals, timeouts, deadlines).
PositiveDuration = Annotated[timedelta, PlainValidator(_positive), AS_TEXT]


def at_least(minimum: timedelta, why: str) -> PlainValidator:
    """A duration validator refusing values below `minimum`: a sweep every millisecond, or a
    1 ms call timeout, is a typo that would hammer an API or fail every call, not a setting.
    Use as `Annotated[timedelta, at_least(...), AS_TEXT]`."""

    def check(value: object) -> timedelta:
        duration = _positive(value)
        if duration < minimum:
            raise ValueError(f"{format_duration(duration)} is too short: at least {format_duration(minimum)} ({why})")
        return duration

    return PlainValidator(check)
# A duration that may be 0s (jitter).
NonNegativeDuration = Annotated[timedelta, PlainValidator(_coerce), AS_TEXT]
