"""Durations: the spellings accepted, the ones refused, and the round trip through text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from monitor.config.durations import NonNegativeDuration, PositiveDuration, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(minutes=90)),
        ("500ms", timedelta(milliseconds=500)),
        ("1m500ms", timedelta(seconds=60.5)),
        ("2d", timedelta(days=2)),
        ("0s", timedelta(0)),
        (" 15m ", timedelta(minutes=15)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("5 minutes", "is not a duration"),
        ("15", "is not a duration"),
        ("1.5h", "is not a duration"),
        ("30m1h", "is not a duration"),  # largest unit first
        ("5m5m", "is not a duration"),
        ("", "is not a duration"),
        ("-1s", "cannot be negative"),
        ("1S", "is not a duration"),
        ("99999999999999d", "too long"),
    ],
)
def test_parse_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_duration(text)


@pytest.mark.parametrize("text", ["30s", "15m", "1h", "1h30m", "500ms", "1d2h3m4s5ms", "0s"])
def test_format_round_trips(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


POSITIVE: TypeAdapter[timedelta] = TypeAdapter(PositiveDuration)
NON_NEGATIVE: TypeAdapter[timedelta] = TypeAdapter(NonNegativeDuration)


def test_positive_refuses_zero_numbers_and_other_types() -> None:
    assert POSITIVE.validate_python("10s") == timedelta(seconds=10)
    assert POSITIVE.validate_python(timedelta(seconds=3)) == timedelta(seconds=3)
    for value, fragment in [("0s", "longer than 0s"), (15, "has no unit"), (True, "expected a duration"),
                            (timedelta(seconds=-1), "cannot be negative"), (None, "expected a duration")]:
        with pytest.raises(ValidationError, match=fragment):
            POSITIVE.validate_python(value)


def test_non_negative_allows_zero() -> None:
    assert NON_NEGATIVE.validate_python("0s") == timedelta(0)
    with pytest.raises(ValidationError, match="cannot be negative"):
        NON_NEGATIVE.validate_python("-5s")


def test_json_form_is_the_written_form() -> None:
    assert POSITIVE.dump_json(timedelta(minutes=90)) == b'"1h30m"'
    assert POSITIVE.dump_python(timedelta(minutes=90)) == timedelta(minutes=90)
