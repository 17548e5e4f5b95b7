"""Every change of the drift-watched state in a period, who made it, and whether and by whom
it was approved (SOC 2 CC8.1: "changes are authorised … and approved").

Read from the ledger alone: the DRIFT controls' `control_run` records and the
`baseline_approved` records. A change is an item (a firewall rule, a grant, a disk) that a
run first found differing from the approved baseline, or that a run found changed and
approved before the change (its result passes with a reason starting "approved change REF
(approved by X at T, before the change)"). Who made it and when come from the Admin
Activity audit log, as the daemon appended it to the result ("changed by X at T (method,
Admin Activity audit log)"); `unknown` when the log did not say by then.

A drifted item is then, in the period:
- `after`: approved after the change: a baseline approval of its scope and control was
  recorded between the last run that found it drifted and the first that no longer did
  (`before` when that approval is a pre-approval the rest of the change completed);
- `reverted`: no longer drifted, with no approval in between (the change was undone);
- `none`: still drifted at the end of the period (or the last run could not judge).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from monitor.evidence.canonical import format_time

__all__ = ["APPROVALS", "ChangeSeen", "ChangeTracker"]

APPROVALS = ("before", "after", "reverted", "none")
UNKNOWN = "unknown"
_APPROVED = re.compile(
    r"^approved change (?P<ref>.+?) \(approved by (?P<who>.+?) at (?P<at>\S+), before the change\): "
)
_MADE = re.compile(r"; changed by (?P<who>.+?) at (?P<at>\S+) \((?P<method>[^()]*), Admin Activity audit log\)")
_SINCE = " (since the "


@dataclass(frozen=True, slots=True)
class ChangeSeen:
    """One change: what (scope, control, item, the field-by-field difference), when a run saw it,
    who made it, and its approval (`before`, `after`, `reverted`, `none`) with who, when, which ticket."""

    control: str
    scope: str
    resource: str
    change: str
    what: str
    detected: str
    detected_seq: int
    made_by: str
    made_at: str | None
    approval: str
    approved_by: str | None = None
    approved_at: str | None = None
    ticket: str | None = None
    approval_seq: int | None = None


@dataclass(slots=True)
class _Open:
    seen: ChangeSeen
    last_failing: str  # when the last run that found it drifted ended


def _time(text: str) -> str:
    """A time from a reason (`2026-11-25T12:30:00Z`) written as the ledger writes times."""
    try:
        return format_time(datetime.fromisoformat(text))
    except ValueError:  # not a time with a zone: shown as written
        return text


def _made(reason: str) -> tuple[str, str | None]:
    match = _MADE.search(reason)
    return (match["who"], _time(match["at"])) if match else (UNKNOWN, None)


def _what(reason: str) -> str:
    """The difference alone: without the baseline it differs from, notes and attribution."""
    text = _APPROVED.sub("", reason, count=1)
    for cut in (_SINCE, "; "):
        text = text.split(cut, 1)[0]
    return text


class ChangeTracker:
    """Fed the DRIFT runs and the approvals in ledger order; `changes()` gives them, oldest first."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], dict[tuple[str, str], _Open]] = {}
        self._approvals: dict[str, list[tuple[str, int, Mapping[str, Any]]]] = {}
        self._done: list[ChangeSeen] = []

    def approval(self, seq: int, time: str, body: Mapping[str, Any]) -> None:
        """A `baseline_approved` record (a pre-approval still waiting for its change does not count)."""
        if body.get("expires") is None:
            self._approvals.setdefault(str(body.get("scope")), []).append((time, seq, body))

    def run(self, control: str, scope: str, seq: int, data: Mapping[str, Any]) -> None:
        """A DRIFT control's `control_run` body."""
        ended = str(data.get("ended"))
        results = [r for r in data.get("results", []) if isinstance(r, Mapping)]
        for result in results:
            match = _APPROVED.match(str(result.get("reason", "")))
            if result.get("verdict") == "pass" and match:
                self._done.append(self._seen(control, scope, seq, ended, result, "before", match["who"],
                                             _time(match["at"]), match["ref"], None))  # fmt: skip
        if data.get("status") not in ("pass", "fail"):
            return  # could not judge: what was drifted stays open
        opened = self._open.setdefault((control, scope), {})
        failing = {}
        for result in results:
            if result.get("verdict") == "fail" and not result.get("excepted"):
                reason = str(result.get("reason", ""))
                failing[(str(result.get("resource")), _what(reason))] = result
        for key, result in failing.items():
            found = opened.get(key)
            if found is None:
                seen = self._seen(control, scope, seq, ended, result, "none", None, None, None, None)
                opened[key] = _Open(seen, ended)
                continue
            found.last_failing = ended
            if found.seen.made_by == UNKNOWN:  # the audit log may name the author on a later run
                who, at = _made(str(result.get("reason", "")))
                found.seen = replace(found.seen, made_by=who, made_at=at)
        for key in [key for key in opened if key not in failing]:
            self._done.append(self._resolve(opened.pop(key), scope, control, ended))

    def changes(self) -> tuple[ChangeSeen, ...]:
        """Every change seen, those still drifted (`none`) included, by when they were seen."""
        pending = [found.seen for pairs in self._open.values() for found in pairs.values()]
        return tuple(sorted([*self._done, *pending], key=lambda c: (c.detected, c.detected_seq, c.resource, c.what)))

    def _resolve(self, found: _Open, scope: str, control: str, ended: str) -> ChangeSeen:
        for time, seq, body in self._approvals.get(scope, []):
            if found.last_failing <= time <= ended and control in body.get("controls", []):
                approval = "before" if body.get("before_change") else "after"
                return replace(found.seen, approval=approval, approved_by=str(body.get("approver")), approved_at=time,
                               ticket=body.get("change"), approval_seq=seq)  # fmt: skip
        return replace(found.seen, approval="reverted")

    @staticmethod
    def _seen(
        control: str,
        scope: str,
        seq: int,
        ended: str,
        result: Mapping[str, Any],
        approval: str,
        approved_by: str | None,
        approved_at: str | None,
        ticket: str | None,
        approval_seq: int | None,
    ) -> ChangeSeen:
        reason = str(result.get("reason", ""))
        who, at = _made(reason)
        return ChangeSeen(
            control=control,
            scope=scope,
            resource=str(result.get("resource", "")),
            change=str(result.get("subject", "")),
            what=_what(reason),
            detected=ended,
            detected_seq=seq,
            made_by=who,
            made_at=at,
            approval=approval,
            approved_by=approved_by,
            approved_at=approved_at,
            ticket=ticket,
            approval_seq=approval_seq,
        )
