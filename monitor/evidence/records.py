"""The record: one link of the evidence hash chain, and the one hash function over it.

Hash of record n (all integers big-endian)::

    body_digest = SHA-256(body)                  # body = canonical JSON, UTF-8
    hash        = SHA-256("controlwatch-evidence/record/v1" || 0x00
                          || u64(seq)
                          || u32(len(kind)) || kind
                          || u32(len(time)) || time
                          || body_digest      # 32 bytes
                          || prev_hash)       # 32 bytes; 32 zero bytes for seq 1

Lengths make the encoding unambiguous (no two field splits give the same bytes), the
domain string keeps these hashes from being confused with any other SHA-256 in the
system, and hashing the body's *digest* lets an export prove the chain across records it
leaves out by giving only their (seq, kind, time, body digest), never their bodies.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.evidence.canonical import parse_time

__all__ = [
    "GENESIS",
    "KINDS",
    "Record",
    "body_digest",
    "record_hash",
]

RECORD_DOMAIN = b"controlwatch-evidence/record/v1\x00"
GENESIS = "0" * 64
"""`prev_hash` of record 1: there is nothing before it."""

KINDS: frozenset[str] = frozenset(
    {
        "control_run",
        "daemon_start",
        "daemon_stop",
        "config_reload",
        "baseline_approved",
        "exceptions_changed",
        "sweep_population",
        "checkpoint",
        "prune_anchor",
    }
)
"""Record kinds the ledger accepts; anything else is refused on append and flagged by verify."""


def body_digest(body: str) -> str:
    """Hex SHA-256 of a canonical body's UTF-8 bytes."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record_hash(seq: int, kind: str, time: str, digest: str, prev_hash: str) -> str:
    """The chain hash of a record given its body digest (see the module docstring)."""
    kind_b = kind.encode("utf-8")
    time_b = time.encode("utf-8")
    data = b"".join(
        (
            RECORD_DOMAIN,
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


@dataclass(frozen=True, slots=True)
class Record:
    """One stored record, exactly as hashed: `body` is the canonical JSON text, not a dict."""

    seq: int
    kind: str
    time: str
    body: str
    prev_hash: str
    hash: str

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
        return record_hash(self.seq, self.kind, self.time, body_digest(self.body), self.prev_hash)

    def to_json(self) -> dict[str, Any]:
        """Chain fields for exports and logs; `body` as an object (re-canonicalised to verify)."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "time": self.time,
            "body": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }
