"""Approvals made before a change (SOC 2 CC8.1): an intended state, a change ticket, a window.

`controlwatch baseline approve --expect FILE --change REF --window 4h` stores a
pre-approval: the full state the named DRIFT controls of one scope are meant to have after
the change. A run that sees the scope's watched state differ from its approved baseline
asks `judge` about each pending pre-approval of the scope:

- `approved`: every control the pre-approval names is live *exactly* its expected state
  (compared by meaning, as drift is) and the run saw it within the window
  (`approved_at` ≤ the run's time ≤ `expires_at`). The daemon then moves the baseline to the
  expected state and records the drift as "approved change REF (approved by X at T, before
  the change)".
- `differs`: something changed but the live state is not the expected one (a part of the
  change, more than the change, or another change): fail closed, the drift stays unapproved.
- `expired`: the live state is the expected one, but seen after the window: an expired
  pre-approval approves nothing; someone approves it after the change.
- `lapsed`: expired, and the live state is not its expected state either: nothing to say.
- `unchanged`: the live state is the approved baseline still: the pre-approval waits.
- `unreadable`: a control it names was not read by the run: nothing is approved on it.

Pure: no store, no clock. `monitor.drift.approved_changes` applies the outcome in the daemon.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from checks.driftstate import diff

Status = Literal["approved", "differs", "expired", "lapsed", "unchanged", "unreadable"]
State = Mapping[str, Any]  # one control's state: {area: {key: item}}


def canonical(state: Any) -> str:
    """The one JSON spelling of a state: what is stored and what the digest covers."""
    return json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def state_digest(state: Any) -> str:
    """`sha256:…` of the canonical spelling: how evidence names a state without holding it."""
    return "sha256:" + hashlib.sha256(canonical(state).encode()).hexdigest()


def moment(stamp: str) -> datetime:
    """A stored approval time (`2026-11-25T12:30:00Z`) as a datetime."""
    return datetime.fromisoformat(stamp)


@dataclass(frozen=True, slots=True)
class PreApproval:
    """One approval given before the change: who, when, until when, for which ticket, and the
    state each named control must have once the change is made. `applied`: the approval id
    that moved the baseline to it (None while pending)."""

    id: int
    scope: str
    approver: str
    approved_at: str
    expires_at: str
    change: str
    expected: Mapping[str, State]
    applied: int | None = None
    applied_at: str | None = None

    @property
    def controls(self) -> tuple[str, ...]:
        return tuple(sorted(self.expected))

    def expired(self, now: datetime) -> bool:
        return now > moment(self.expires_at)

    def describe(self) -> str:
        """`change CHG-1 pre-approved by alice at T (until T2)`."""
        return f"change {self.change} pre-approved by {self.approver} at {self.approved_at} (until {self.expires_at})"

    def to_evidence(self) -> dict[str, Any]:
        """What the evidence ledger and `baseline show --history` say of it (states by digest)."""
        record: dict[str, Any] = {
            "type": "pre_approval",
            "pre_approval": self.id,
            "scope": self.scope,
            "approver": self.approver,
            "approved_at": self.approved_at,
            "expires_at": self.expires_at,
            "change": self.change,
            "controls": {control: {"digest": state_digest(state)} for control, state in sorted(self.expected.items())},
        }
        if self.applied is not None:
            record.update(applied_as=self.applied, applied_at=self.applied_at)
        return record


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one pre-approval says of one run's live state; `differs` counts the items of the
    named controls whose live state is not the expected one."""

    status: Status
    pre: PreApproval
    differs: int = 0

    def note(self) -> str | None:
        """Why the drift is not this pre-approved change, for the DRIFT result's reason."""
        if self.status == "differs":
            items = f"{self.differs} item{'s' if self.differs != 1 else ''}"
            return f"not the {self.pre.describe()}: the live state differs from its expected state in {items}"
        if self.status == "expired":
            return (
                f"the live state is the {self.pre.describe()}, but that pre-approval expired before the change was "
                f"seen: approve it after the change with `controlwatch baseline approve --change {self.pre.change}`"
            )
        return None


def judge(
    pre: PreApproval,
    baseline: Mapping[str, State | None],
    live: Mapping[str, State],
    now: datetime,
) -> Outcome:
    """One pre-approval against one run: `baseline` and `live` give each control's approved
    and live state (a control missing from `live` could not be read)."""
    if any(control not in live for control in pre.controls):
        return Outcome("unreadable", pre)
    if not any(_differ(baseline.get(control), live[control]) for control in pre.controls):
        return Outcome("unchanged", pre)
    differs = sum(len(diff(pre.expected[control], live[control])) for control in pre.controls)
    if differs:
        return Outcome("lapsed" if pre.expired(now) else "differs", pre, differs)
    if now < moment(pre.approved_at) or pre.expired(now):
        return Outcome("expired", pre)
    return Outcome("approved", pre)


def _differ(approved: State | None, live: State) -> bool:
    return approved is None or bool(diff(approved, live))


def choose(
    pending: Iterable[PreApproval],
    baseline: Mapping[str, State | None],
    live: Mapping[str, State],
    now: datetime,
) -> tuple[Outcome | None, list[Outcome]]:
    """The pre-approval this run applies (the newest that matches exactly; None: none), and the
    outcomes worth saying on the unapproved drift (`differs`, `expired`)."""
    outcomes = [judge(pre, baseline, live, now) for pre in sorted(pending, key=lambda p: p.id, reverse=True)]
    applied = next((outcome for outcome in outcomes if outcome.status == "approved"), None)
    if applied is not None:
        covered = set(applied.pre.controls)
        outcomes = [o for o in outcomes if o is not applied and not covered & set(o.pre.controls)]
    return applied, [outcome for outcome in outcomes if outcome.note() is not None]


def notes_by_control(outcomes: Sequence[Outcome]) -> dict[str, list[str]]:
    """The notes of `outcomes`, under each control they name."""
    notes: dict[str, list[str]] = {}
    for outcome in outcomes:
        note = outcome.note()
        if note is None:
            continue
        for control in outcome.pre.controls:
            notes.setdefault(control, []).append(note)
    return notes
