"""What a verification found: the problems, in order, and the report the CLI prints.

Shared by the ledger's verification (`verify.py`) and an export's (`export_verify.py`),
so both name the first bad record and summarise the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.evidence.canonical import json_fields
from monitor.evidence.signing import TEST_KEY_WARNING
from monitor.plurals import counted, is_are

__all__ = ["MAX_PROBLEMS", "Problem", "ProblemList", "Report", "problem_order"]

MAX_PROBLEMS = 100


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: the record it is about (None: not about one record) and why."""

    seq: int | None
    reason: str

    def __str__(self) -> str:
        return f"record {self.seq}: {self.reason}" if self.seq is not None else self.reason


@dataclass(frozen=True, slots=True)
class Report:
    """Outcome of a verification; `ok` means no problem was found (read `notes` too)."""

    source: str
    records: int
    first_seq: int | None
    last_seq: int | None
    head_hash: str | None
    checkpoints: int
    anchored_through: int | None  # seq of the last valid checkpoint record
    signatures_checked: bool
    problems: tuple[Problem, ...] = ()
    problems_total: int = 0
    notes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    test_key: bool = False  # the keys accepted the bundled public TEST key: the signatures prove nothing

    @property
    def ok(self) -> bool:
        return self.problems_total == 0

    @property
    def first_bad(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def unanchored(self) -> int:
        """Records after the last valid checkpoint (not yet covered by a signature)."""
        if self.last_seq is None:
            return 0
        if self.anchored_through is None:
            return self.records
        return self.last_seq - self.anchored_through

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": self.source,
            "records": self.records,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "checkpoints": self.checkpoints,
            "anchored_through": self.anchored_through,
            "unanchored": self.unanchored,
            "signatures_checked": self.signatures_checked,
            "test_key": self.test_key,
            "first_bad": json_fields(self.first_bad) if self.first_bad else None,
            "problems": [json_fields(p) for p in self.problems],
            "problems_total": self.problems_total,
            "notes": list(self.notes),
            **dict(self.extra),
        }

    def summary(self) -> str:
        """A few lines for people (the CLI prints this)."""
        lines = [
            f"{self.source}: {'OK' if self.ok else 'FAILED'}: {counted(self.records, 'record')}"
            + (f" (seq {self.first_seq}..{self.last_seq})" if self.first_seq is not None else ""),
        ]
        if self.test_key:
            lines.append(f"WARNING: {TEST_KEY_WARNING}")
        if self.first_bad is not None:
            lines.append(f"first bad: {self.first_bad}")
            if self.problems_total > 1:
                lines.append(f"{self.problems_total} problems in all")
        signed = "" if self.signatures_checked else " (signatures NOT checked: no public key given)"
        if self.anchored_through is not None:
            anchors = counted(self.checkpoints, "checkpoint")
            lines.append(f"anchored by {anchors} through seq {self.anchored_through}{signed}")
        else:
            lines.append(f"no valid checkpoint{signed}")
        if self.unanchored:
            unanchored = counted(self.unanchored, "record")
            lines.append(f"{unanchored} after the last checkpoint {is_are(self.unanchored)} not yet anchored")
        lines.extend(self.notes)
        return "\n".join(lines)


class ProblemList:
    """Collects problems in seq order, keeping the first MAX_PROBLEMS and counting all."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.total = 0

    def add(self, seq: int | None, reason: str, *, first: bool = False) -> None:
        self.total += 1
        problem = Problem(seq, reason)
        if first:
            self.kept.insert(0, problem)
            del self.kept[MAX_PROBLEMS:]
        elif len(self.kept) < MAX_PROBLEMS:
            self.kept.append(problem)


def problem_order(problem: Problem) -> tuple[int, int]:
    """Problems about a record first, by seq; problems about the whole file after them."""
    return (1, 0) if problem.seq is None else (0, problem.seq)
