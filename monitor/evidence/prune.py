"""Retention: delete old records behind a signed prune anchor, in one transaction.

Deleting the oldest records breaks the chain's start: record N+1 now links to a hash
nobody can recompute. The prune anchor restores a verifiable start. In the transaction
that deletes records ..N it appends (at the head) a `prune_anchor` record whose body is

    {"pruned_through": N, "pruned_hash": <hash of record N>, "cutoff": <RFC 3339>,
     "time": <RFC 3339>, "key_id": <16 hex>, "signature": <hex Ed25519>}

signed over the canonical statement of the same fields (minus the signature) with
`"statement": "controlwatch-evidence/prune-anchor/v1"` (see `statement.py`). `verify` then accepts a chain
starting at N+1 only if a validly signed anchor names N and the hash record N+1 links to.
Someone without the key who deletes old rows, or writes an anchor of their own, is caught.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from monitor.evidence.canonical import format_time, parse_time
from monitor.evidence.ledger import Ledger
from monitor.evidence.records import Record
from monitor.evidence.repeats import earliest_reference
from monitor.evidence.signing import SigningKey
from monitor.evidence.statement import SignedStatement

__all__ = ["PRUNE_STATEMENT", "PruneAnchor", "PruneResult", "prune"]

PRUNE_STATEMENT = "controlwatch-evidence/prune-anchor/v1"


@dataclass(frozen=True, slots=True)
class PruneAnchor(SignedStatement):
    STATEMENT: ClassVar[str] = PRUNE_STATEMENT
    NAME: ClassVar[str] = "prune anchor"

    pruned_through: int
    pruned_hash: str
    cutoff: str
    time: str
    key_id: str
    signature: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PruneAnchor:
        try:
            through = data["pruned_through"]
            if isinstance(through, bool) or not isinstance(through, int):
                raise ValueError(f"pruned_through {through!r} is not an integer")
            anchor = cls(
                pruned_through=through,
                pruned_hash=str(data["pruned_hash"]),
                cutoff=str(data["cutoff"]),
                time=str(data["time"]),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
            )
        except KeyError as exc:
            raise ValueError(f"prune anchor lacks {exc.args[0]!r}") from None
        parse_time(anchor.cutoff)
        parse_time(anchor.time)
        return anchor


@dataclass(frozen=True, slots=True)
class PruneResult:
    anchor: Record
    pruned_through: int
    deleted: int


def prune(ledger: Ledger, before: datetime, key: SigningKey, *, now: datetime | None = None) -> PruneResult | None:
    """Delete every record stamped before `before`, behind a signed anchor; None if none are.

    Record times never go back, so "stamped before the cutoff" is a prefix of the chain.
    Full runs that repeat records at or after the cutoff refer to are kept, with everything
    after them: references never cross an ISO week, so that keeps at most one week more,
    and the kept ledger reads and verifies on its own. Never is a record newer than the cutoff deleted.
    The anchor is appended and the rows deleted in one `BEGIN IMMEDIATE` transaction:
    a crash leaves either the old chain or the pruned one with its anchor, never a gap.
    """
    cutoff = format_time(before)
    moment = now if now is not None else datetime.now(UTC)
    with ledger.transaction() as txn:
        last_old = txn.last_before(cutoff)
        referenced = earliest_reference(txn, parse_time(cutoff))
        if last_old is not None and referenced is not None and referenced <= last_old.seq:
            # A kept repeat record refers to it: keep it and what follows (at most a week more).
            last_old = txn.get(referenced - 1)
        head = txn.head()
        if last_old is None or head is None:
            return None
        stamp = max(format_time(moment), head.time)
        anchor = PruneAnchor(last_old.seq, last_old.hash, cutoff, stamp, key.key_id, "").signed_with(key)
        record = txn.append("prune_anchor", anchor.to_json(), time=parse_time(stamp))
        deleted = txn.delete_through(last_old.seq)
    return PruneResult(anchor=record, pruned_through=last_old.seq, deleted=deleted)
