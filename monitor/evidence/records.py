"""The record: one link of the evidence hash chain, and the one hash function over it.

Hash of record n in record format f (all integers big-endian)::

    body_digest = SHA-256(body)                  # body = canonical JSON of format f, UTF-8
    hash        = SHA-256("controlwatch-evidence/record/v" || f || 0x00   # f in decimal: "v1", "v2"
                          || u64(seq)
                          || u32(len(kind)) || kind
                          || u32(len(time)) || time
                          || body_digest      # 32 bytes
                          || prev_hash)       # 32 bytes; 32 zero bytes for seq 1

Format 1 (ledgers written before RFC 8785) encodes bodies with `legacy_json`, format 2
(every record written now) with RFC 8785, `canonical_json`; see `canonical.py` for both.
The format is named in the domain string, so it is hashed: a record whose format is
edited no longer matches its hash, and a body cannot be re-read under the other encoding.

Lengths make the encoding unambiguous (no two field splits give the same bytes), the
domain string keeps these hashes from being confused with any other SHA-256 in the
system, and hashing the body's *digest* lets an export prove the chain across records it
leaves out by giving only their (seq, kind, time, body digest, format), never their bodies.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.evidence.canonical import as_doubles, canonical_json, is_canonical, legacy_json, parse_time

__all__ = [
    "FORMATS",
    "GENESIS",
    "KINDS",
    "MAX_SEQ",
    "RECORD_FORMAT",
    "Record",
    "body_digest",
    "canonical_body",
    "check_record",
    "check_record_fields",
    "hex_problem",
    "record_hash",
    "seq_problem",
    "shown",
    "time_problem",
]

RECORD_FORMAT = 2
"""The record format this code writes: bodies in RFC 8785 canonical JSON."""
FORMATS = (1, 2)
"""Record formats this code verifies: 1 (`legacy_json` bodies) and 2."""
GENESIS = "0" * 64
"""`prev_hash` of record 1: there is nothing before it."""
MAX_SEQ = 2**63 - 1
"""The largest seq: SQLite's largest integer key (the hash has room for a u64, the ledger not)."""
_HEX64 = re.compile(r"[0-9a-f]{64}")

KINDS: frozenset[str] = frozenset(
    {
        "control_run",
        "control_runs_repeated",
        "daemon_start",
        "daemon_stop",
        "config_reload",
        "baseline_approved",
        "exceptions_changed",
        "sweep_population",
        "run_skipped",
        "evidence_lost",
        "scope_discovered",
        "scope_removed",
        "scope_discovery_failed",
        "checkpoint",
        "prune_anchor",
    }
)
"""Record kinds the ledger accepts; anything else is refused on append and flagged by verify."""


def body_digest(body: str) -> str:
    """Hex SHA-256 of a canonical body's UTF-8 bytes."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def canonical_body(value: Any, format: int) -> str:
    """The canonical text in record `format` of a body read back from JSON (to verify it).

    `ValueError`/`TypeError` if it has none. In format 2, integers too large for a double
    are read as doubles first, as RFC 8785 (and any JSON reader but Python's) reads
    `100000000000000000000`. Writers use `canonical_json`, which refuses such integers.
    """
    if format == 1:
        return legacy_json(value)
    if format == 2:
        return canonical_json(as_doubles(value))
    raise ValueError(f"unknown record format {format!r} (this controlwatch knows {', '.join(map(str, FORMATS))})")


def record_hash(seq: int, kind: str, time: str, digest: str, prev_hash: str, *, format: int) -> str:
    """The chain hash of a record of `format` given its body digest (see the module docstring).

    `ValueError` for fields that cannot be hashed (a seq outside 1..MAX_SEQ, a digest or
    prev_hash that is not 64 lowercase hex digits), never a `struct.error`.
    """
    if format not in FORMATS or isinstance(format, bool):
        raise ValueError(f"unknown record format {shown(format)}")
    problem = seq_problem(seq) or hex_problem("body digest", digest) or hex_problem("prev_hash", prev_hash)
    if problem is not None:
        raise ValueError(problem)
    kind_b = kind.encode("utf-8")
    time_b = time.encode("utf-8")
    data = b"".join(
        (
            f"controlwatch-evidence/record/v{format}".encode() + b"\x00",
            struct.pack(">Q", seq),
            struct.pack(">I", len(kind_b)),
            kind_b,
            struct.pack(">I", len(time_b)),
            time_b,
            bytes.fromhex(digest),
            bytes.fromhex(prev_hash),
        )
    )
    return hashlib.sha256(data).hexdigest()


def shown(value: object) -> str:
    """`repr(value)`, cut short: a forged field may be megabytes long, a problem is one line."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:72]}… ({len(text)} characters)"


def seq_problem(seq: object) -> str | None:
    """Why `seq` is no seq the ledger writes (an integer from 1 to MAX_SEQ); None if it is."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        return f"seq {shown(seq)} is not an integer from 1 to 2**63 - 1"
    return None


def hex_problem(name: str, value: object) -> str | None:
    """Why `value` is no SHA-256 as the ledger writes it (64 lowercase hex digits); None if it is."""
    if not isinstance(value, str) or _HEX64.fullmatch(value) is None:
        return f"{name} {shown(value)} is not 64 lowercase hex digits"
    return None


def check_record_fields(record: Record) -> str | None:
    """Every field of the form the ledger writes, and the body canonical; None if so, else why not.

    Run before a record is hashed or its body read, so that whatever a forger stored is a
    reported problem, never an exception: seq, hash and prev_hash first (they are what
    cannot be hashed), then format, kind, time and body.
    """
    return check_record(record)[0]


def check_record(record: Record) -> tuple[str | None, dict[str, Any] | None]:
    """`check_record_fields`, and the body parsed when it is good (so a verifier parses it once)."""
    problem = seq_problem(record.seq) or hex_problem("hash", record.hash) or hex_problem("prev_hash", record.prev_hash)
    if problem is not None:
        return problem, None
    if record.format not in FORMATS or isinstance(record.format, bool):
        return f"unknown record format {shown(record.format)}", None
    if not isinstance(record.kind, str) or record.kind not in KINDS:
        return f"unknown kind {shown(record.kind)}", None
    problem = time_problem(record.time)
    if problem is not None:
        return problem, None
    return _body_problem(record.body, record.format)


def time_problem(value: object) -> str | None:
    """Why `value` is no record time (`canonical.format_time`'s form); None if it is one."""
    if not isinstance(value, str) or len(value) > 40:
        return f"time {shown(value)} is not an RFC 3339 UTC time of the form YYYY-MM-DDTHH:MM:SS.ffffffZ"
    try:
        parse_time(value)
    except ValueError as exc:
        return str(exc)
    return None


def _body_problem(body: object, format: int) -> tuple[str | None, dict[str, Any] | None]:
    if not isinstance(body, str):
        return "body is not JSON", None
    try:
        body.encode("utf-8")
        if format == 2:
            canonical, parsed = is_canonical(body)
        else:
            parsed = json.loads(body)
    except UnicodeEncodeError:
        return "body is not UTF-8 text", None
    except (ValueError, RecursionError):
        return "body is not JSON", None
    if not isinstance(parsed, dict):
        return "body is not a JSON object", None
    if format != 2:
        try:
            canonical = canonical_body(parsed, format) == body
        except (TypeError, ValueError, RecursionError):
            canonical = False
    if not canonical:
        return "body is not in canonical JSON form", None
    return None, parsed


@dataclass(frozen=True, slots=True)
class Record:
    """One stored record, exactly as hashed: `body` is the canonical JSON text, not a dict."""

    seq: int
    kind: str
    time: str
    body: str
    prev_hash: str
    hash: str
    format: int

    @property
    def data(self) -> dict[str, Any]:
        """The body parsed (a fresh dict each call: records stay immutable)."""
        value = json.loads(self.body)
        if not isinstance(value, dict):
            raise ValueError(f"record {self.seq}: body is not a JSON object")
        return value

    @property
    def at(self) -> datetime:
        return parse_time(self.time)

    def computed_hash(self) -> str:
        """The hash this record's fields give; differs from `hash` if anything was edited."""
        return record_hash(self.seq, self.kind, self.time, body_digest(self.body), self.prev_hash, format=self.format)

    def to_json(self) -> dict[str, Any]:
        """Chain fields for exports and logs; `body` as an object (re-canonicalised to verify).

        `format` is written only when it is not 1, so records of ledgers written before it
        existed export exactly as they did; a reader takes a missing `format` as 1.
        """
        fields = {
            "seq": self.seq,
            "kind": self.kind,
            "time": self.time,
            "body": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }
        return fields if self.format == 1 else {**fields, "format": self.format}
