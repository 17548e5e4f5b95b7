"""Accepted risks (`exceptions:` in the config) applied to results.

An accepted risk never turns a failure into a pass: the result stays `fail`, gains
`excepted: true` and the risk's reason, and leaves the failing count. After its expiry
(the end of the `expires` day, UTC) it no longer applies. Risks that are expired or match
nothing are reported so that the list does not rot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from fnmatch import fnmatchcase

from checks.model import Result, Verdict


@dataclass(frozen=True, slots=True)
class AcceptedRisk:
    control: str
    scope: str
    resource: str  # glob on the full resource name
    reason: str
    approver: str
    expires: date
    subject: str | None = None  # glob on the subject; None matches any

    @property
    def expires_at(self) -> datetime:
        return datetime.combine(self.expires, time.min, tzinfo=UTC) + timedelta(days=1)

    def active(self, now: datetime) -> bool:
        return now < self.expires_at

    def matches(self, result: Result) -> bool:
        return (
            result.control == self.control
            and result.scope == self.scope
            and fnmatchcase(result.resource, self.resource)
            and (self.subject is None or fnmatchcase(result.subject, self.subject))
        )

    def describe(self) -> str:
        return f"accepted risk: {self.reason} (approved by {self.approver}, expires {self.expires.isoformat()})"


def apply_risks(results: Sequence[Result], risks: Iterable[AcceptedRisk], now: datetime) -> list[Result]:
    """Mark failing results covered by an active accepted risk as excepted."""
    active = [risk for risk in risks if risk.active(now)]
    marked: list[Result] = []
    for result in results:
        risk = _first_match(result, active) if result.verdict is Verdict.FAIL else None
        if risk is None:
            marked.append(result)
        else:
            marked.append(replace(result, excepted=True, exception_reason=risk.describe()))
    return marked


def stale_risks(
    risks: Iterable[AcceptedRisk],
    results: Iterable[Result],
    now: datetime,
    judged: set[tuple[str, str]],
    watched: Collection[str] | None = None,
) -> dict[str, list[AcceptedRisk]]:
    """Risks that have expired, or whose (control, scope) was judged and matched no failure.

    `judged` holds the (control, scope) pairs whose latest results are in `results`; a risk
    for a pair not judged yet is not called unmatched. With `watched` (the scopes watched
    now, under discovery), a risk naming a scope outside it is unmatched too: it can match
    nothing until discovery finds that project.
    """
    failing = [r for r in results if r.verdict is Verdict.FAIL]
    stale: dict[str, list[AcceptedRisk]] = {"expired": [], "unmatched": []}
    for risk in risks:
        if not risk.active(now):
            stale["expired"].append(risk)
        elif watched is not None and risk.scope not in watched:
            stale["unmatched"].append(risk)
        elif (risk.control, risk.scope) in judged and not any(risk.matches(r) for r in failing):
            stale["unmatched"].append(risk)
    return stale


def _first_match(result: Result, risks: Sequence[AcceptedRisk]) -> AcceptedRisk | None:
    for risk in risks:
        if risk.matches(result):
            return risk
    return None
