"""Canonical bytes and times: the exact encodings every hash and signature is computed over.

A hash chain is only as good as the agreement on what was hashed, so a verifier written in
another language must be able to reproduce these bytes from this description alone.

`canonical_json` is the JSON Canonicalization Scheme, RFC 8785 (JCS), as UTF-8: object
keys sorted by their UTF-16 code units, no insignificant whitespace, strings escaped only
where JSON requires it (`"`, `\\`, and controls below U+0020, as `\\b \\t \\n \\f \\r` or
`\\u00xx`) and never Unicode-normalised, and every number written as ECMAScript writes a
double, in the fewest digits that read back to it, plainly from 1e-6 to below 1e21 and
with an exponent outside: `24.0` and `24` are `24`, `-0.0` is `0`, `1e20` is
`100000000000000000000`, `1e30` is `1e+30`, `1e-7` is `1e-7`. NaN,
infinities, integers beyond ±(2^53 - 1) (which a double cannot hold exactly), strings
with lone surrogates and non-string keys are refused, never coerced. It encodes record
bodies of format 2 and the signed statements of checkpoints and prune anchors.

`legacy_json` is what record format 1 used, and what the digests inside bodies
(`input_digest`, `config_digest`) still use: Python's `json.dumps` with sorted keys (by
code point), `(",", ":")` separators and raw UTF-8, where floats keep Python's `repr`
(`24.0`, `-0.0`, `1e-07`, `1e+20`). Ledgers written before RFC 8785 are verified with it.

Both encoders take a fast path when it gives the very same text: a value made only of
objects with string keys, arrays, strings, booleans, null, integers within ±(2^53 - 1),
integral floats (written as the integers they are) and fractions from 1e-4 to below 1e16
(where Python's `repr` and ECMAScript write the same shortest digits) has the same RFC 8785 text as Python's
C `json.dumps` with sorted keys gives, as long as no character is at or above U+D800
(where code point order and UTF-16 order part, and where lone surrogates live). Anything
else (a fractional float, a large integer, such characters) goes through `rfc8785`.
`is_canonical` checks stored text the same way: parsed by the C parser and written back,
falling back to `rfc8785` whenever the fast path cannot decide. Verifying a year-long
ledger is dominated by this check, hence the care.

Times are written in one fixed-width RFC 3339 UTC form, `YYYY-MM-DDTHH:MM:SS.ffffffZ`,
which also makes string order equal time order in SQLite indexes and range queries.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import rfc8785

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "as_doubles",
    "canonical_bytes",
    "canonical_json",
    "is_canonical",
    "format_time",
    "json_fields",
    "legacy_json",
    "parse_time",
    "sha256_hex",
    "utc",
]

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_SAFE_INT = 2**53 - 1
_LONG_INTEGER = re.compile(r"[:\[,]-?\d{16}")
#: fractions whose Python `repr` is ECMAScript's text: both write the shortest digits that
#: read back, and both write them plainly (no exponent) in this range (Python from 1e-4 to
#: below 1e16, ECMAScript from 1e-6 to below 1e21)
_PLAIN_FRACTION_LOW = 1e-4
_PLAIN_FRACTION_HIGH = 1e16


def canonical_bytes(value: Any) -> bytes:
    """`value` as RFC 8785 canonical JSON (UTF-8); `ValueError` for what JCS cannot encode.

    Non-JSON values (datetimes, sets, NaN, huge integers) are refused rather than coerced,
    so a body can never hash differently depending on who serialised it.
    """
    try:
        return rfc8785.dumps(value)
    except (rfc8785.IntegerDomainError, rfc8785.FloatDomainError) as exc:
        raise ValueError(f"not representable in RFC 8785 JSON: {exc}") from exc
    except rfc8785.CanonicalizationError as exc:
        if "non-UTF-8" in str(exc):  # a lone surrogate
            raise ValueError(f"not representable in RFC 8785 JSON: {exc}") from exc
        raise TypeError(f"not JSON: {exc}") from exc  # a datetime, a set, a non-string key


def canonical_json(value: Any) -> str:
    """`canonical_bytes(value)` as text (through the fast path when it gives the same text)."""
    text = _fast_text(value)
    return text if text is not None else canonical_bytes(value).decode("utf-8")


class _NotPlain(Exception):
    """The value needs `rfc8785` (or is refused by it)."""


def _not_plain() -> bool:
    raise _NotPlain


def _plain(value: Any) -> Any:
    """`value` with integral floats as integers; `_NotPlain` for anything the fast path cannot write."""
    kind = type(value)
    if kind is str:
        return value
    if kind is dict:
        return {key: _plain(item) for key, item in value.items() if type(key) is str or _not_plain()}
    if kind is list:
        return [_plain(item) for item in value]
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if -_SAFE_INT <= value <= _SAFE_INT:
            return value
        raise _NotPlain
    if isinstance(value, float):
        if value.is_integer() and -_SAFE_INT <= value <= _SAFE_INT:
            return int(value)
        if not value.is_integer() and _PLAIN_FRACTION_LOW <= abs(value) < _PLAIN_FRACTION_HIGH:
            return value
        raise _NotPlain
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _NotPlain
            out[key] = _plain(item)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    raise _NotPlain


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _fast_text(value: Any) -> str | None:
    try:
        text = _dumps(_plain(value))
    except (_NotPlain, RecursionError):
        return None
    return text if _orders_agree(text) else None


def _orders_agree(text: str) -> bool:
    """No character at or above U+D800: code point and UTF-16 order agree, no surrogate is present."""
    return text.isascii() or max(text) < "\ud800"


def is_canonical(text: str) -> tuple[bool, Any]:
    """Whether `text` is the RFC 8785 text of the JSON it holds, and that JSON (parsed with `json`).

    `ValueError`/`RecursionError` when `text` is no JSON at all. The fast path decides only
    when it is sure (see the module docstring); otherwise the text is re-encoded with `rfc8785`.
    """
    # A fraction or an exponent, or an integer a double may not hold (16 digits or more; the
    # pattern may also match inside a string, which only costs the slow path): only rfc8785
    # knows their form.
    unsure = _LONG_INTEGER.search(text) is not None

    def number(literal: str) -> float:
        nonlocal unsure
        value = float(literal)
        plain = not value.is_integer() and _PLAIN_FRACTION_LOW <= abs(value) < _PLAIN_FRACTION_HIGH
        if not (plain and repr(value) == literal):
            unsure = True
        return value

    parsed = json.loads(text, parse_float=number)
    if not unsure and _orders_agree(text) and _dumps(parsed) == text:
        return True, parsed
    try:
        slow = canonical_bytes(as_doubles(parsed)).decode("utf-8")
    except (TypeError, ValueError, RecursionError):
        return False, parsed
    return slow == text, parsed


def legacy_json(value: Any) -> str:
    """The format-1 encoding (see the module docstring); `TypeError`/`ValueError` on non-JSON values."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def as_doubles(value: Any) -> Any:
    """`value` as a JCS reader sees it: integers beyond ±(2^53 - 1) become the nearest double.

    Python's `json` parses `100000000000000000000` (how JCS writes the double 1e20) as an
    exact integer, which `canonical_bytes` would refuse; every other JSON reader, and JCS
    itself, reads every number as a double. Used only to re-encode JSON that was read back.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) <= _SAFE_INT:
            return value
        try:
            return float(value)
        except OverflowError:  # beyond any double: JCS refuses the infinity it becomes
            return math.inf if value > 0 else -math.inf
    if isinstance(value, dict):
        return {key: as_doubles(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_doubles(item) for item in value]
    return value


def json_fields(instance: DataclassInstance) -> dict[str, Any]:
    """A dataclass's fields as JSON values (nested dataclasses as objects, tuples as lists).

    What the reports' and samples' `to_json` return: their JSON is their fields, in order.
    """
    return {name: _lists(value) for name, value in asdict(instance).items()}


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(item) for item in value]
    return value


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; naive datetimes are refused (their zone would be a guess)."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: evidence times must carry a time zone")
    return moment.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, fixed width: `2026-11-25T12:00:00.000000Z`."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Inverse of `format_time`; strict, so a hand-edited time is reported, not reinterpreted."""
    if not _TIME.match(text):
        raise ValueError(f"{text!r} is not an RFC 3339 UTC time of the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:  # the form is fixed above; the C parser then checks the date and time exist (no Feb 30, no hour 24)
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date and time") from None
