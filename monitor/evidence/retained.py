"""Signed statements kept outside the ledger, and what they say the ledger must still hold.

A ledger cut short, or emptied, is a shorter valid chain: only knowledge kept out of the
writer's reach shows it. That knowledge is the signed statements an auditor can hold:

- the checkpoints and prune anchors of an earlier export (`export.py`), whole records or
  the header's `prune_anchor`;
- the Cloud Logging copy (`evidence.cloud_logging`) read back, e.g. with
  `gcloud logging read ... --format=json` (a JSON array of log entries) or as JSON Lines,
  one entry per line: the `jsonPayload` of each entry is the record.

Only signed statements are taken from these files, never unsigned records or headers, so
a retained file can add proof, but cannot vouch for anything the key did not sign. What
`RetainedCheck` requires of the ledger:

- a retained checkpoint for seq N: the ledger's record N has the hash it signed; a ledger
  ending before N was cut (truncation), an empty one was emptied;
- a retained prune anchor through seq N: the ledger's record N (if still there) has the
  hash it names and record N+1, when it starts the chain, links to it; the anchor itself
  was appended after N, so a ledger ending at or before N was cut, an empty one emptied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from monitor.evidence.checkpoint import Checkpoint
from monitor.evidence.findings import ProblemList
from monitor.evidence.prune import PruneAnchor
from monitor.evidence.records import Record
from monitor.files import read_regular_file

__all__ = ["RetainedCheck", "RetainedStatement", "read_retained"]

RetainedStatement = Checkpoint | PruneAnchor


def read_retained(path: str | Path) -> list[RetainedStatement]:
    """The checkpoints and prune anchors of an export or a Cloud Logging copy, in file order.

    `ValueError` (or `OSError`) when the file is neither; a file of either kind that holds
    no signed statement gives an empty list. A FIFO or device is an `OSError` at once.
    """
    text = read_regular_file(path).decode("utf-8")
    items = _items(text)
    found: list[RetainedStatement] = []
    recognised = False
    for item in items:
        if item.get("type") == "header" and item.get("format") == "controlwatch-evidence-export":
            recognised = True
            if isinstance(item.get("prune_anchor"), dict):
                found.append(PruneAnchor.from_json(item["prune_anchor"]))
            continue
        record = item.get("jsonPayload") if "jsonPayload" in item else item if item.get("type") == "record" else None
        if not isinstance(record, dict) or "kind" not in record:
            continue
        recognised = True
        if record["kind"] == "checkpoint":
            found.append(Checkpoint.from_json(_body(record)))
        elif record["kind"] == "prune_anchor":
            found.append(PruneAnchor.from_json(_body(record)))
    if not recognised:
        raise ValueError("no export header and no evidence record in it")
    return found


def _items(text: str) -> Iterator[dict[str, Any]]:
    """Objects of a JSON array (gcloud's --format=json) or of JSON Lines."""
    stripped = text.lstrip()
    values: Iterable[Any] = (
        json.loads(stripped)
        if stripped.startswith("[")
        else (json.loads(line) for line in text.splitlines() if line.strip())
    )
    for value in values:
        if not isinstance(value, dict):
            raise ValueError("expected JSON objects")
        yield value


def _body(record: Mapping[str, Any]) -> Mapping[str, Any]:
    body = record.get("body")
    if not isinstance(body, dict):
        raise ValueError(f"a {record['kind']} record without a body object")
    return body


class RetainedCheck:
    """Holds a ledger walk to the retained statements: `see` every record, then `finish`."""

    def __init__(
        self,
        statements: Iterable[RetainedStatement],
        public_keys: Mapping[str, Ed25519PublicKey] | None,
        problems: ProblemList,
    ) -> None:
        self._problems = problems
        self._checkpoints: dict[int, Checkpoint] = {}
        self._anchors: dict[int, PruneAnchor] = {}
        self._seen_first = False
        for kept in statements:
            reason = kept.check_signature(public_keys) if public_keys is not None else None
            if isinstance(kept, Checkpoint):
                if reason is not None:
                    problems.add(kept.seq, f"retained checkpoint: {reason}")
                else:
                    self._checkpoints[kept.seq] = kept
            elif reason is not None:
                problems.add(kept.pruned_through, f"retained {reason}")
            else:
                self._anchors[kept.pruned_through] = kept

    def see(self, record: Record) -> None:
        """Compare one ledger record, in seq order, with what was retained about it."""
        first, self._seen_first = not self._seen_first, True
        checkpoint = self._checkpoints.pop(record.seq, None)
        if checkpoint is not None and checkpoint.head_hash != record.hash:
            self._problems.add(record.seq, "hash differs from the one a retained checkpoint signed")
        anchor = self._anchors.get(record.seq)
        if anchor is not None and anchor.pruned_hash != record.hash:
            self._problems.add(record.seq, "hash differs from the one a retained prune anchor names")
        before = self._anchors.get(record.seq - 1)
        if first and before is not None and before.pruned_hash != record.prev_hash:
            self._problems.add(
                record.seq, f"does not link to record {before.pruned_through} as a retained prune anchor names it"
            )

    def finish(self, first: Record | None, last: Record | None, notes: list[str]) -> None:
        """What the retained statements say the ledger should reach, against where it ends."""
        end = last.seq if last is not None else 0
        for seq in sorted(self._checkpoints):
            if first is not None and seq < first.seq:
                notes.append(f"retained checkpoint for seq {seq} predates the ledger's first record {first.seq}")
            elif last is None:
                self._problems.add(
                    seq, f"the ledger is empty, but a retained checkpoint signs seq {seq}: its records were removed"
                )
            else:
                self._problems.add(
                    seq,
                    f"a retained checkpoint signs seq {seq}, but the ledger ends at seq {end}: "
                    "records were removed from the tail (truncation)",
                )
        for through in sorted(self._anchors):
            if last is None:
                self._problems.add(
                    through,
                    f"the ledger is empty, but a retained prune anchor says records through seq {through} were "
                    "pruned and later ones kept: its records were removed",
                )
            elif end <= through:
                self._problems.add(
                    through,
                    f"a retained prune anchor was written after seq {through}, but the ledger ends at seq {end}: "
                    "records were removed from the tail (truncation)",
                )
