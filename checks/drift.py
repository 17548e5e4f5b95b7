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

Two optional keys of a part say what the daemon knows of approvals given before a change
(`monitor.drift.preapprovals`): `approved_change` (`{"change", "approver", "approved_at",
"previous"}`: this run moved the baseline to a pre-approved state; each item that differs
from `previous` passes with a reason starting `approved change REF (approved by X at T,
before the change)`) and `unapproved` (sentences added to the reason of every drifted item:
why a pending pre-approval does not cover it).

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
#: How the reason of a drifted item approved before its change starts (attribution and the
#: evidence report's list of changes read it).
APPROVED_CHANGE = "approved change"
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
    approved_now = _approved_changes(part, area, live)
    notes = "".join(f"; {note}" for note in part.get("unapproved", ()) if isinstance(note, str))
    for key in sorted(set(items) | set(live) | set(approved_now)):
        resource = _resource(area, key, scope)
        change = changes.get(key)
        if key in approved_now:
            yield Finding(resource, Verdict.PASS, approved_now[key][0], approved_now[key][1])
        elif change is None:
            yield Finding(resource, Verdict.PASS, f"{AREA_ITEM[area]} {key} matches the {approved}")
        else:
            yield Finding(resource, Verdict.FAIL, f"{change.describe()} (since the {approved}){notes}", change.change)


def _approved_changes(part: Mapping[str, Any], area: str, live: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Per item this run's pre-approved change touched: its reason and kind of change."""
    applied = part.get("approved_change")
    previous = applied.get("previous") if isinstance(applied, Mapping) else None
    if not isinstance(applied, Mapping) or not isinstance(previous, Mapping):
        return {}
    head = (
        f"{APPROVED_CHANGE} {applied.get('change')} (approved by {applied.get('approver')} at "
        f"{applied.get('approved_at')}, before the change)"
    )
    return {
        change.key: (f"{head}: {change.describe()}", change.change)
        for change in diff({area: previous.get(area, {})}, {area: live})
    }


_LOGIC_TAIL = (
    " Each item found in the approved baseline's part for this control or live gets one result: pass when the "
    "two are equal, fail when it was added (live only), removed (baseline only) or changed, the subject saying "
    "which (`added`, `removed`, `changed`) and the reason listing every differing field with its approved and "
    "live values. Only the fields named here are compared, with the API's defaults filled in and lists sorted, so "
    "ids, fingerprints, etags, timestamps and no-op rewrites never count; a value the normaliser cannot read is "
    "kept as written, and compares and shows as itself."
)
_UNKNOWN = (
    "One `error` result on the project, and no other, when the scope has no approved baseline or its baseline "
    "has no part for this control (the reason then starts with `no approved baseline`), when that part was "
    "stored with another state version than this controlwatch compares or holds no object for its area (it must "
    "be reviewed and approved again)"
)
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
    holds="Every VPC firewall rule and network firewall policy of the project is exactly as the approved "
    "baseline for DRIFT-01 holds it.",
    logic="The items are the project's VPC firewall rules, by `name`, and its global and regional network "
    "firewall policies, by `global/firewallPolicies/NAME` or `regions/R/firewallPolicies/NAME`. A rule "
    "compares its network (the last segment of `network`; `default` when absent), `direction` (INGRESS "
    "when absent), `priority` (1000), `disabled` (false), `allowed[]` and `denied[]` as sorted "
    "`proto[:ports]` strings (protocol numbers named, one protocol's ranges merged, every port written "
    "as the bare protocol, `all` standing alone), its `sourceRanges`, `destinationRanges`, `sourceTags` "
    "and `targetTags`, its `sourceServiceAccounts` and `targetServiceAccounts` lower-cased (an ingress "
    "rule without any source, and an egress rule without destinations, match `0.0.0.0/0`), and "
    "`logConfig.enable` (false). A policy compares its rules by priority (`action`, `direction`, "
    "`disabled`, `enableLogging`, `match.layer4Configs` read like `allowed[]`, `srcNetworkType`, the "
    "source and destination ranges, region codes, threat lists, FQDNs and address groups, source and "
    "target secure tags by name, `targetResources`, `targetServiceAccounts`) and the networks of its "
    "`associations[]`. Descriptions, `logConfig.metadata` and hierarchical firewall policies are not "
    "compared." + _LOGIC_TAIL,
    unknown=_UNKNOWN
    + "; a listing that failed makes the whole control `error`. Unreadable rule fields are not errors: "
    "kept as written, they show as changes.",
)
def drift01_firewalls(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """One result per firewall rule, and per network firewall policy of the project, in the
    baseline or live: added, removed, changed or unchanged."""
    return _judge(snapshot, "DRIFT-01")


@control(
    id="DRIFT-02", title="Project IAM bindings match the approved baseline", area=Area.DRIFT, logic_version=2,
    severity=Severity.HIGH, kinds=(Kind.IAM_POLICY,), unit="grant", references=_REFERENCES,
    rationale="Who holds which role is the heart of access control; a grant added outside review is how "
    "privilege creeps and how attackers persist. " + _RATIONALE_TAIL,
    remediation=_remediation("DRIFT-02", "the binding") + " Revert a grant with `gcloud projects "
    "remove-iam-policy-binding PROJECT --member=MEMBER --role=ROLE`.",
    holds="Every grant of the project's IAM policy is in the approved baseline for DRIFT-02, and every grant "
    "approved there is still granted.",
    logic="The items are the grants of the project's one IAM policy, one per role and member of each binding, "
    "keyed `ROLE MEMBER`, with ` if TITLE` for a conditional binding (its `title`, else its "
    "`expression`; the expression is added in brackets where one title covers two expressions), and each "
    "compares its `role`, its member (the type prefix kept; the email or domain of a `user:`, `group:`, "
    "`serviceAccount:`, `domain:` or `deleted:` member lower-cased, as they compare case-insensitively) "
    "and its condition's `title`, `expression` and `description`. The policy's `etag`, `version` and "
    "audit configuration are not compared, and every result is named by the project." + _LOGIC_TAIL,
    unknown=_UNKNOWN
    + ", and when the live state cannot be built: not exactly one IAM policy listed, its `bindings` not "
    "a list, or a binding that is not an object (left out, it could hide a grant); a listing that failed "
    "makes the whole control `error`.",
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
    holds="Every disk of the project has exactly the snapshot schedules, with the settings, that the approved "
    "baseline for DRIFT-03 holds.",
    logic="The items are the project's disks, keyed `LOCATION/NAME` (the last segment of `zone`, else of "
    "`region`), so a disk created or deleted is drift too. Each compares the snapshot schedules its "
    "`resourcePolicies[]` URLs attach (resolved by full path as BKP-01 does; a URL naming no collected "
    "policy is kept as unresolved with its path; other kinds of resource policy are left out), by name, "
    "each with its cycle as one readable string (every N hours from HH:MM, every N days at HH:MM, or "
    "weekly on each day and start time), its `retentionPolicy.maxRetentionDays`, its "
    "`onSourceDiskDelete` (KEEP_AUTO_SNAPSHOTS when absent) and its sorted, lower-cased "
    "`snapshotProperties.storageLocations`. Labels, `status`, `guestFlush`, the schedule's `duration` "
    "and the snapshots themselves are not compared." + _LOGIC_TAIL,
    unknown=_UNKNOWN
    + "; a listing that failed makes the whole control `error`. Unreadable disk or schedule fields are not "
    "errors: kept as written (a `resourcePolicies` that is not a list of URLs included), they show as "
    "changes.",
)
def drift03_schedules(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """One result per disk in the baseline or live: its attached schedules and their settings."""
    return _judge(snapshot, "DRIFT-03")
