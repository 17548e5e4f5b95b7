"""The resources a control found failing in a period, each with the records that prove it.

An auditor who reads "FW-01 failed 25% of the period in shop-prod" asks next: failing on
what? A `control_run` body names every judged resource with its verdict, so the failing
ones (a failure, a failure under an accepted risk, or a resource the control could not
judge) are gathered here from the runs of the period, one entry per resource, subject and
state: when it was first and last seen so, in how many runs, and the seqs of the first
and last record that say it (a repeated run's record is the repeat record, see
`references.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FAILING_STATES", "FailingResource", "FailingTracker", "count_by_state", "failing_state"]

FAILING_STATES = ("fail", "excepted", "error")


def failing_state(result: Mapping[str, Any]) -> str | None:
    """`fail`, `excepted` (a failure under an accepted risk) or `error` for a result that is not a pass."""
    verdict = result.get("verdict")
    if verdict == "fail":
        return "excepted" if result.get("excepted") else "fail"
    if verdict == "error":
        return "error"
    return None


@dataclass(frozen=True, slots=True)
class FailingResource:
    """One resource (and subject) found in one failing state by the runs of the period."""

    control: str
    scope: str
    resource: str
    subject: str
    state: str
    reason: str
    first_seen: str
    last_seen: str
    runs: int
    first_seq: int
    last_seq: int
    approver: str | None = None
    expires: str | None = None


@dataclass(slots=True)
class _Seen:
    reason: str
    first_seen: str
    last_seen: str
    runs: int
    first_seq: int
    last_seq: int
    approver: str | None
    expires: str | None


class FailingTracker:
    """Fed every run of one control and scope in seq order; gives its failing resources."""

    def __init__(self, control: str, scope: str) -> None:
        self.control = control
        self.scope = scope
        self._seen: dict[tuple[str, str, str], _Seen] = {}

    def note(self, seq: int, data: Mapping[str, Any]) -> None:
        """Remember the failing results of the run `data` (a `control_run` body) recorded at `seq`."""
        ended = str(data.get("ended", ""))
        results = data.get("results")
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            state = failing_state(result)
            if state is None:
                continue
            key = (str(result.get("resource", "")), str(result.get("subject", "")), state)
            found = result.get("exception")
            exception: Mapping[str, Any] = found if isinstance(found, dict) else {}
            seen = self._seen.get(key)
            if seen is None:
                self._seen[key] = _Seen(
                    reason=str(result.get("reason", "")),
                    first_seen=ended,
                    last_seen=ended,
                    runs=1,
                    first_seq=seq,
                    last_seq=seq,
                    approver=_text(exception.get("approver")),
                    expires=_text(exception.get("expires")),
                )
            else:
                seen.reason, seen.last_seen, seen.last_seq = str(result.get("reason", "")), ended, seq
                seen.runs += 1

    def resources(self) -> tuple[FailingResource, ...]:
        """The failing resources: failures first, then excepted, then errors; by resource within each."""
        order = {state: index for index, state in enumerate(FAILING_STATES)}
        return tuple(
            FailingResource(self.control, self.scope, resource, subject, state, **_fields(seen))
            for (resource, subject, state), seen in sorted(
                self._seen.items(), key=lambda item: (order[item[0][2]], item[0][0], item[0][1])
            )
        )


def _fields(seen: _Seen) -> dict[str, Any]:
    return {
        "reason": seen.reason,
        "first_seen": seen.first_seen,
        "last_seen": seen.last_seen,
        "runs": seen.runs,
        "first_seq": seen.first_seq,
        "last_seq": seen.last_seq,
        "approver": seen.approver,
        "expires": seen.expires,
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def count_by_state(resources: Iterable[FailingResource]) -> dict[str, int]:
    """How many failing resources of each state (every state present, zero when none)."""
    counts = dict.fromkeys(FAILING_STATES, 0)
    for item in resources:
        counts[item.state] += 1
    return counts
