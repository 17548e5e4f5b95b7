"""Drift controls (DRIFT-01 to DRIFT-03): the live state against the scope's approved baseline.

Each control compares one area of `checks.driftstate` (firewall rules, IAM grants, disks
with their snapshot schedules) with the part of `snapshot.baseline` approved for it, and
gives one result per item of either side: `pass` when unchanged, `fail` when added,
removed or changed, with the field-by-field difference in the reason and the change
(`added`, `removed`, `changed`) as the subject, which is what the drift metrics count.

The baseline document (built by `monitor.drift.baselines.BaselineStore.get`):

    {"schema_version": 1, "scope": "shop-prod", "approved_by": ..., "approved_at": ...,
     "controls": {"DRIFT-01": {"approval": 3, "approved_by": "alice", "approved_at":
        "2026-11-25T12:00:00Z", "state_version": 1, "digest": "sha256:...",
        "state": {"firewalls": {"allow-ssh": {...normalised rule...}}}}, ...}}

A scope without a baseline, or whose baseline has no part for the control, gives one
`error` result whose reason starts with "no approved baseline": the alert rules route on
that wording (its own alert, not the generic error page). A baseline that cannot be read,
or was stored by another normaliser version, is an `error` too: never a silent pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from checks.driftstate import (
    AREA_ITEM,
    AREA_KINDS,
    CONTROL_AREAS,
    FIREWALLS,
    GRANTS,
    STATE_VERSION,
    Change,
    StateError,
    area_state,
    diff,
)
from checks.model import Area, Finding, Severity, Verdict
from checks.names import project_name
from checks.params import Params
from checks.registry import References, control
from checks.snapshot import Kind, Snapshot

NO_BASELINE = "no approved baseline"
_REFERENCES = References(soc2=("CC8.1", "CC7.1"))
_ZONE = re.compile(r".+-[a-z]")  # a zone is its region plus -a..-z; a region ends in a digit


def _remediation(control_id: str, what: str) -> str:
    return (
        f"Find who changed {what} (the Admin Activity audit log names them) and revert the change; or, when the "
        "change was intended and reviewed, approve the new state as the baseline: "
        f"`controlwatch baseline diff --scope PROJECT` to review it, then "
        f"`controlwatch baseline approve --scope PROJECT --control {control_id}`."
    )


def _resource(area: str, key: str, scope: str) -> str:
    if area == FIREWALLS:
        collection = "" if "/firewallPolicies/" in key else "global/firewalls/"  # a network policy's key is its path
        return f"//compute.googleapis.com/projects/{scope}/{collection}{key}"
    if area == GRANTS:
        return project_name(scope)
    location, _, name = key.rpartition("/")
    kind = "zones" if _ZONE.fullmatch(location) else "regions"
    return f"//compute.googleapis.com/projects/{scope}/{kind}/{location}/disks/{name}"


def _part(baseline: Mapping[str, Any] | None, control_id: str) -> Mapping[str, Any] | None:
    controls = baseline.get("controls") if baseline is not None else None
    part = controls.get(control_id) if isinstance(controls, Mapping) else None
    return part if isinstance(part, Mapping) else None


def _judge(snapshot: Snapshot, control_id: str) -> Iterator[Finding]:
    area = CONTROL_AREAS[control_id]
    scope = snapshot.scope
    part = _part(snapshot.baseline, control_id)
    if part is None:
        yield Finding(
            project_name(scope),
            Verdict.ERROR,
            f"{NO_BASELINE} for {control_id} in scope {scope}: review the live state with `controlwatch baseline "
            f"diff --scope {scope}`, then approve it with `controlwatch baseline approve --scope {scope} "
            f"--control {control_id}`",
        )
        return
    approved = f"baseline approved by {part.get('approved_by', '?')} at {part.get('approved_at', '?')}"
    state = part.get("state")
    items = state.get(area) if isinstance(state, Mapping) else None
    if part.get("state_version") != STATE_VERSION or not isinstance(items, Mapping):
        why = (
            f"it was stored with state version {part.get('state_version')!r}, this controlwatch compares version "
            f"{STATE_VERSION}" if isinstance(items, Mapping) else f"it holds no {area} object"
        )
        reason = f"cannot judge: the {approved} for {control_id} is unreadable ({why}): review and re-approve it"
        yield Finding(project_name(scope), Verdict.ERROR, reason)
        return
    try:
        live = area_state(snapshot, area)
    except StateError as exc:
        yield Finding(project_name(scope), Verdict.ERROR, f"cannot judge: {exc}")
        return
    changes: dict[str, Change] = {change.key: change for change in diff({area: items}, {area: live})}
    for key in sorted(set(items) | set(live)):
        resource = _resource(area, key, scope)
        change = changes.get(key)
        if change is None:
            yield Finding(resource, Verdict.PASS, f"{AREA_ITEM[area]} {key} matches the {approved}")
        else:
            yield Finding(resource, Verdict.FAIL, f"{change.describe()} (since the {approved})", change.change)


_RATIONALE_TAIL = (
    "Approved state is what change management reviewed; a change made outside it (a console click, a "
    "script, a compromised account) is exactly what an auditor asks about (SOC 2 CC8.1) and what an "
    "incident often starts with (CC7.1). Comparison uses meaningful fields only, normalised, so that "
    "ids, fingerprints, etags, timestamps and no-op rewrites are never drift."
)


@control(
    id="DRIFT-01", title="Firewall rules match the approved baseline", area=Area.DRIFT, severity=Severity.HIGH,
    kinds=AREA_KINDS[FIREWALLS], unit="firewall rule or network firewall policy", references=_REFERENCES,
    logic_version=2,
    rationale="Firewall rules and the network firewall policies beside them decide what the internet and "
    "other networks can reach; one widened source range or added port silently undoes every exposure "
    "review. " + _RATIONALE_TAIL,
    remediation=_remediation("DRIFT-01", "the rule"),
)
def drift01_firewalls(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """One result per firewall rule, and per network firewall policy of the project, in the
    baseline or live: added, removed, changed or unchanged."""
    return _judge(snapshot, "DRIFT-01")


@control(
    id="DRIFT-02", title="Project IAM bindings match the approved baseline", area=Area.DRIFT,
    severity=Severity.HIGH, kinds=(Kind.IAM_POLICY,), unit="grant", references=_REFERENCES,
    rationale="Who holds which role is the heart of access control; a grant added outside review is how "
    "privilege creeps and how attackers persist. " + _RATIONALE_TAIL,
    remediation=_remediation("DRIFT-02", "the binding") + " Revert a grant with `gcloud projects "
    "remove-iam-policy-binding PROJECT --member=MEMBER --role=ROLE`.",
)
def drift02_grants(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """One result per (role, member, condition) grant in the baseline or live."""
    return _judge(snapshot, "DRIFT-02")


@control(
    id="DRIFT-03", title="Snapshot schedules and their attachments match the approved baseline", area=Area.DRIFT,
    severity=Severity.HIGH, kinds=(Kind.DISKS, Kind.RESOURCE_POLICIES), unit="disk", references=_REFERENCES,
    rationale="A detached schedule or a shortened retention is invisible until a restore is needed; "
    "backups are only as good as the schedule that was reviewed. " + _RATIONALE_TAIL,
    remediation=_remediation("DRIFT-03", "the schedule or its attachment") + " Re-attach a schedule with "
    "`gcloud compute disks add-resource-policies DISK --zone=ZONE --resource-policies=SCHEDULE`.",
)
def drift03_schedules(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """One result per disk in the baseline or live: its attached schedules and their settings."""
    return _judge(snapshot, "DRIFT-03")
