"""Canonical bytes and times: the exact encodings every hash and signature is computed over.

A hash chain is only as good as the agreement on what was hashed. So bodies are hashed as
*canonical JSON* (keys sorted, no insignificant whitespace, UTF-8, no NaN/Infinity), and
times are written in one fixed-width RFC 3339 UTC form, `YYYY-MM-DDTHH:MM:SS.ffffffZ`,
which also makes string order equal time order in SQLite indexes and range queries.
A verifier written in another language reproduces these bytes from this description.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "canonical_json",
    "canonical_bytes",
    "format_time",
    "parse_time",
    "sha256_hex",
    "utc",
]

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def canonical_json(value: Any) -> str:
    """`value` as canonical JSON text; raises `TypeError`/`ValueError` on non-JSON values.

    Non-JSON values (datetimes, sets, NaN) are refused rather than coerced, so a body can
    never hash differently depending on who serialised it.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_bytes(value: Any) -> bytes:
    """UTF-8 bytes of `canonical_json(value)`."""
    return canonical_json(value).encode("utf-8")


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
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
