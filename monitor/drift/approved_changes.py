"""The daemon's side of approvals given before a change: before DRIFT controls judge a run,
apply the pending pre-approval the live state matches, and say why others do not apply.

Why before judging: the run that first sees a pre-approved change must record it as
approved (its DRIFT results pass, each changed item's reason saying "approved change REF
(approved by X at T, before the change)"), never as a drift that an alert pages on and a
later run clears. Applying stores the approval that moves the baseline to the expected
state (`BaselineStore.apply`, once), appends it to the evidence ledger and logs
`approved_change`; from the next run on, the scope is simply at its (new) baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from copy import deepcopy
from typing import Any

import structlog

from checks.driftstate import StateError, kinds_for, watched_state
from checks.snapshot import Snapshot
from monitor.drift.baselines import Approval, BaselineStore
from monitor.drift.preapprovals import Outcome, choose, notes_by_control
from monitor.evidence.bodies import baseline_approved_body, digest

log = structlog.get_logger("controlwatch.daemon")
Entries = Sequence[tuple[str, Mapping[str, Any]]]


def live_states(snapshot: Snapshot, controls: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The live state of each of `controls` the run read in full (one it could not is left out)."""
    states: dict[str, dict[str, Any]] = {}
    for control in controls:
        if snapshot.failed_kinds(kinds_for([control])):
            continue
        try:
            states[control] = watched_state(snapshot, [control])[control]
        except StateError:
            continue
    return states


class ChangeApprovals:
    """Per run: the baseline document the DRIFT controls judge, with a pre-approved change applied."""

    def __init__(self, store: BaselineStore, record: Callable[[Entries], None] | None = None) -> None:
        self._store = store
        self._record = record

    def rebase(self, snapshot: Snapshot, baseline: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """`baseline` as the run must judge against it: moved to a pre-approved state the live
        state matches (its parts marked `approved_change`), or with the reasons a pending
        pre-approval does not cover the drift (`unapproved`). Unchanged when nothing is pending."""
        if baseline is None:
            return None
        pending = self._store.pre_approvals(snapshot.scope, pending=True)
        if not pending:
            return baseline
        controls = sorted({control for pre in pending for control in pre.controls})
        parts = baseline.get("controls", {})
        approved = {c: parts[c]["state"] if isinstance(parts.get(c), dict) else None for c in controls}
        applied, others = choose(pending, approved, live_states(snapshot, controls), snapshot.now)
        document = deepcopy(dict(baseline))
        if applied is not None:
            approval = self._store.apply(applied.pre, now=snapshot.now)
            document = deepcopy(self._store.get(snapshot.scope) or document)
            self._note_applied(document, applied, approved, approval)
        for control, notes in notes_by_control(others).items():
            part = document.get("controls", {}).get(control)
            if isinstance(part, dict):
                part["unapproved"] = notes
        return document

    def _note_applied(
        self, document: dict[str, Any], applied: Outcome, previous: Mapping[str, Any], approval: Approval
    ) -> None:
        pre = applied.pre
        for control in pre.controls:
            part = document["controls"][control]
            part["approved_change"] = {
                "change": pre.change,
                "approver": pre.approver,
                "approved_at": pre.approved_at,
                "previous": previous.get(control) or {},
            }
        log.info(
            "approved_change",
            scope=pre.scope,
            change=pre.change,
            approver=pre.approver,
            approved_at=pre.approved_at,
            controls=list(pre.controls),
            pre_approval=pre.id,
            approval=approval.id,
            seen_at=approval.applied_at,
        )
        if self._record is None:
            return
        record = approval.to_evidence()
        body = baseline_approved_body(
            scope=pre.scope,
            approver=pre.approver,
            baseline_digest=digest(record["controls"]),
            controls=list(pre.controls),
            note=f"approved change {pre.change} (approved by {pre.approver} at {pre.approved_at}, before the change; "
            f"pre-approval {pre.id}, seen by the run at {approval.applied_at}): approval {approval.id}",
            change=pre.change,
            before_change=True,
        )
        self._record([("baseline_approved", body)])
