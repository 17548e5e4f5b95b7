"""Signed checkpoints: an Ed25519 signature over the chain head, itself a chain record.

A hash chain alone shows tampering only relative to something the tamperer cannot
rewrite. The checkpoint is that something: a signature over the canonical statement

    {"statement": "controlwatch-evidence/checkpoint/v1",
     "seq": N, "head_hash": <hash of record N>, "time": <RFC 3339>, "key_id": <16 hex>}

(RFC 8785 canonical JSON, see `statement.py`). It is appended as record N+1 of kind `checkpoint`
in the same transaction that read head N, so it always signs its immediate predecessor
and is covered by the next checkpoint in turn. Whoever rewrites records 1..N without the
private key cannot produce a matching signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from monitor.evidence.canonical import format_time, parse_time
from monitor.evidence.ledger import Ledger
from monitor.evidence.records import Record
from monitor.evidence.signing import SigningKey
from monitor.evidence.statement import SignedStatement

__all__ = ["CHECKPOINT_STATEMENT", "Checkpoint", "Checkpointer", "sign_checkpoint"]

CHECKPOINT_STATEMENT = "controlwatch-evidence/checkpoint/v1"


@dataclass(frozen=True, slots=True)
class Checkpoint(SignedStatement):
    """The body of a `checkpoint` record: what was signed, by which key, and the signature."""

    STATEMENT: ClassVar[str] = CHECKPOINT_STATEMENT

    seq: int
    head_hash: str
    time: str
    key_id: str
    signature: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Checkpoint:
        """Parse a checkpoint body; `ValueError` naming the bad field if it is malformed."""
        try:
            checkpoint = cls(
                seq=_int(data["seq"]),
                head_hash=_hex(data["head_hash"], 64),
                time=str(data["time"]),
                key_id=_hex(data["key_id"], 16),
                signature=_hex(data["signature"], 128),
            )
        except KeyError as exc:
            raise ValueError(f"checkpoint lacks {exc.args[0]!r}") from None
        parse_time(checkpoint.time)
        return checkpoint


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    return value


def _hex(value: Any, length: int) -> str:
    if not isinstance(value, str) or len(value) != length or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"{value!r} is not {length} lowercase hex digits")
    return value


def sign_checkpoint(key: SigningKey, seq: int, head_hash: str, time: str) -> Checkpoint:
    return Checkpoint(seq, head_hash, time, key.key_id, "").signed_with(key)


class Checkpointer:
    """Signs the ledger head at most once per interval (and on demand, e.g. at shutdown)."""

    def __init__(self, ledger: Ledger, key: SigningKey) -> None:
        self.ledger = ledger
        self.key = key

    def last_checkpoint_time(self) -> datetime | None:
        record = self.ledger.last_of_kind("checkpoint")
        return record.at if record is not None else None

    def checkpoint(self, now: datetime) -> Record | None:
        """Sign the current head now; None if the ledger is empty or its head is already a checkpoint."""
        return self._sign_head(now, None)

    def maybe_checkpoint(self, now: datetime, interval: timedelta) -> Record | None:
        """Checkpoint if the last one is `interval` old or older (or there is none)."""
        return self._sign_head(now, interval)

    def _sign_head(self, now: datetime, interval: timedelta | None) -> Record | None:
        # Head read, signature and append in one transaction: the checkpoint always signs
        # the record right before it, whoever else is writing.
        with self.ledger.transaction() as txn:
            head = txn.head()
            if head is None or head.kind == "checkpoint":
                return None
            if interval is not None:
                last = txn.last_of_kind("checkpoint")
                if last is not None and now < last.at + interval:
                    return None
            stamp = max(format_time(now), head.time)  # the ledger never lets time go back
            signed = sign_checkpoint(self.key, head.seq, head.hash, stamp)
            return txn.append("checkpoint", signed.to_json(), time=parse_time(stamp))
