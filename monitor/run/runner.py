"""Run controls over one snapshot: the bulkhead between pure controls and everything else.

A control whose input kinds were not collected reports `error` without being called; a
control that raises reports `error` with the exception; a control with nothing in scope
reports one `pass` for the scope saying so. Nothing here ever turns into a silent pass.
The run's evaluation budget (`monitor.run.budget`) is enforced here too: an input over its
size limit, or a deadline passed before or while the control runs, is an `error`.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from checks.model import Finding, Result, Verdict
from checks.names import project_name
from checks.params import Params
from checks.registry import Control
from checks.snapshot import KindUnavailable, Snapshot
from monitor.run.budget import UNLIMITED, Deadline, EvaluationBudget

log = structlog.get_logger("controlwatch.runner")


def run_control(
    control: Control,
    snapshot: Snapshot,
    params: Params,
    budget: EvaluationBudget = UNLIMITED,
    deadline: Deadline | None = None,
) -> list[Result]:
    """Judge one control on one snapshot; always returns at least one result."""
    meta = control.meta
    failed = snapshot.failed_kinds(meta.kinds)
    if failed:
        cause = "; ".join(f"{kind}: {why}" for kind, why in sorted(failed.items()))
        return [scope_result(meta.id, snapshot.scope, Verdict.ERROR, f"cannot judge, input not collected ({cause})")]
    if deadline is not None and deadline.passed():
        reason = deadline.stop(meta.id, ": not judged")
        return [scope_result(meta.id, snapshot.scope, Verdict.ERROR, reason)]
    too_large = budget.oversized(meta.kinds, snapshot)
    if too_large:
        return [scope_result(meta.id, snapshot.scope, Verdict.ERROR, too_large)]
    findings: list[Finding] = []
    try:
        for finding in control(snapshot, params):
            findings.append(finding)
            if deadline is not None and deadline.passed():
                reason = deadline.stop(meta.id, f" after {len(findings)} result(s): not finished")
                return [scope_result(meta.id, snapshot.scope, Verdict.ERROR, reason)]
    except KindUnavailable as exc:
        return [scope_result(meta.id, snapshot.scope, Verdict.ERROR, f"cannot judge, input not collected ({exc})")]
    except Exception as exc:  # the bulkhead: a bug in a control is an error, never a pass
        log.exception("control_raised", control=meta.id, scope=snapshot.scope)
        reason = f"control raised {type(exc).__name__}: {exc}"
        return [scope_result(meta.id, snapshot.scope, Verdict.ERROR, reason)]
    if not findings:
        return [scope_result(meta.id, snapshot.scope, Verdict.PASS, _nothing_in_scope(control, snapshot))]
    return [_stamp(meta.id, snapshot.scope, finding) for finding in findings]


def run_controls(controls: Iterable[Control], snapshot: Snapshot, params: Params) -> dict[str, list[Result]]:
    """Every control's results on one snapshot, keyed by control id."""
    return {control.meta.id: run_control(control, snapshot, params) for control in controls}


def _nothing_in_scope(control: Control, snapshot: Snapshot) -> str:
    notes = sorted({note for kind in control.meta.kinds if (note := snapshot.note(kind))})
    reason = f"nothing in scope: no {control.meta.unit} to judge"
    return f"{reason} ({'; '.join(notes)})" if notes else reason


def scope_result(control_id: str, scope: str, verdict: Verdict, reason: str) -> Result:
    """One result about the scope as a whole (the project): nothing in scope, or why nothing was judged."""
    return Result(
        control=control_id, scope=scope, resource=project_name(scope), subject="", verdict=verdict, reason=reason
    )


def _stamp(control_id: str, scope: str, finding: Finding) -> Result:
    return Result(
        control=control_id,
        scope=scope,
        resource=finding.resource,
        subject=finding.subject,
        verdict=finding.verdict,
        reason=finding.reason,
        latent=finding.latent,
    )
