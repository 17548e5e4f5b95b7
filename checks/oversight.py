"""Oversight of the platform itself (LOG-05, LOG-06): Cloud Asset Inventory and Access Approval.

LOG-05 reads the services enabled on the project (one Service Usage listing filtered on
`state:ENABLED`) for `cloudasset.googleapis.com`: without it, the asset history and the
asset search an investigation starts from cannot be read for the project. LOG-06 reads the
project's Access Approval settings: with them, a Google employee's access to the project's
content waits for the organisation's explicit approval.

Decisions the benchmark leaves open:
- a Service Usage API that cannot be called for the project (disabled) leaves LOG-05 unable
  to tell: `error`, never a fail or a pass on an empty list;
- a disabled Access Approval API, and settings never configured (404 NOT_FOUND), are both
  "not enabled" (CIS's own audit reads them so): LOG-06 fails;
- Access Approval counts when at least one service is enrolled on the project
  (`enrolledServices`), or on an ancestor (`enrolledAncestor: true`); which services, and the
  notification e-mails, are not judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.kernel import Unjudgeable, read_each
from checks.model import Area, Finding, Severity, Verdict
from checks.names import project_name
from checks.params import Params
from checks.registry import References, control
from checks.snapshot import Kind, Snapshot

ASSET_API = "cloudasset.googleapis.com"


def _unreadable(resource: str, broken: list[Unjudgeable], also: str) -> Finding:
    detail = "; ".join(f"{error.field}: {error.message}" for error in broken)
    return Finding(resource, Verdict.ERROR, f"cannot judge {detail}; and {also}", broken[0].field)


# --- LOG-05 -------------------------------------------------------------------------------------


def _service(index: int, raw: object) -> tuple[str, str]:
    """(service name, state) of one listed Service: `projects/123/services/X` gives X."""
    if not isinstance(raw, dict):
        raise Unjudgeable(f"services[{index}]", f"{raw!r} is not an object")
    name, state = raw.get("name"), raw.get("state")
    if not isinstance(name, str) or "/services/" not in name:
        raise Unjudgeable(f"services[{index}].name", "absent" if name is None else f"{name!r} is not a service name")
    service = name.rsplit("/services/", 1)[1]
    if not isinstance(state, str) or not state:
        raise Unjudgeable(f"service {service} state", "absent" if state is None else f"{state!r} is not a state")
    return service, state


@control(
    id="LOG-05", title="Cloud Asset Inventory is enabled", area=Area.LOG, severity=Severity.MEDIUM,
    kinds=(Kind.ENABLED_SERVICES,), unit="scope",
    references=References(cis=(("4.0", "2.13"), ("5.0", "2.14")), soc2=("CC6.1", "CC7.1")),
    rationale="Cloud Asset Inventory keeps a five-week history of every resource and IAM policy of the "
    "project and answers searches across them: what existed, who could reach it, and when that changed. "
    "Its API must be enabled on the project for that record to be searched and exported when an incident "
    "or an audit asks for it; enabling it later does not bring back the questions that went unanswered.",
    remediation="`gcloud services enable cloudasset.googleapis.com --project=PROJECT`",
    holds="The project has the Cloud Asset API (`cloudasset.googleapis.com`) enabled.",
    logic="Reads the project's services listed by Service Usage `services.list` with `filter=state:ENABLED`. "
    "Passes when a listed service is named `projects/P/services/cloudasset.googleapis.com` with `state: "
    "ENABLED`; fails when none is (or it is listed with another `state`, such as DISABLED). Only the "
    "project's own enablement counts (CIS audits `gcloud services list --enabled` per project).",
    unknown="A Service Usage API that cannot be called for the project (disabled: the list says nothing), "
    "an uncollected `enabledServices`, or a listed service without a readable `name` or `state` (when "
    "cloudasset is not otherwise found enabled) gives `error`.",
)
def log05_asset_inventory(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Passes when cloudasset.googleapis.com is among the services enabled on the project."""
    resource = project_name(snapshot.scope)
    listed = snapshot.get(Kind.ENABLED_SERVICES)
    note = snapshot.note(Kind.ENABLED_SERVICES)
    if note:
        reason = f"cannot judge enabledServices: {note}, so which services are enabled is not known"
        yield Finding(resource, Verdict.ERROR, reason, "serviceusage.googleapis.com")
        return
    readings = read_each(enumerate(listed), lambda item: _service(*item))
    services = dict(reading for _, reading in readings if isinstance(reading, tuple))
    broken = [error for _, error in readings if isinstance(error, Unjudgeable)]
    state = services.get(ASSET_API)
    if state == "ENABLED":
        yield Finding(resource, Verdict.PASS, f"{ASSET_API} is enabled (state: ENABLED)", ASSET_API)
    elif state is not None:
        yield Finding(resource, Verdict.FAIL, f"{ASSET_API} is listed with state: {state}, not ENABLED", ASSET_API)
    elif broken:
        yield _unreadable(resource, broken, f"{ASSET_API} is not among the {len(services)} readable services")
    else:
        reason = f"{ASSET_API} is not among the {len(services)} services enabled on the project"
        yield Finding(resource, Verdict.FAIL, reason, ASSET_API)


# --- LOG-06 -------------------------------------------------------------------------------------


def _enrolled(settings: object) -> tuple[list[str], bool]:
    """(`cloudProduct` of each enrolled service, `enrolledAncestor`) of AccessApprovalSettings."""
    if not isinstance(settings, dict):
        raise Unjudgeable("accessApprovalSettings", f"{settings!r} is not an object")
    services = settings.get("enrolledServices", [])
    if not isinstance(services, list):
        raise Unjudgeable("enrolledServices", f"{services!r} is not a list")
    products: list[str] = []
    for i, service in enumerate(services):
        product = service.get("cloudProduct") if isinstance(service, dict) else None
        if not isinstance(product, str) or not product:
            raise Unjudgeable(f"enrolledServices[{i}].cloudProduct", "absent" if product is None else f"{product!r}")
        products.append(product)
    ancestor = settings.get("enrolledAncestor", False)
    if not isinstance(ancestor, bool):
        raise Unjudgeable("enrolledAncestor", f"{ancestor!r} is not a boolean")
    return products, ancestor


@control(
    id="LOG-06", title="Access Approval is enabled", area=Area.LOG, severity=Severity.LOW,
    kinds=(Kind.ACCESS_APPROVAL_SETTINGS,), unit="scope",
    references=References(cis=(("4.0", "2.15"), ("5.0", "2.16")), soc2=("CC6.1", "CC9.2")),
    rationale="Google support staff can be granted access to a project's content to resolve a case. With "
    "Access Approval, each such access waits for an explicit approval by someone the organisation chose, and "
    "is recorded: the organisation, not the provider, decides who reads its data. CIS v5.0 marks this "
    "recommendation manual; the settings Google's API returns decide it, so it is judged automatically here.",
    remediation="Enable Access Transparency for the organisation, then `gcloud access-approval settings "
    "update --project=PROJECT --enrolled_services=all --notification_emails=APPROVERS@DOMAIN`.",
    holds="Access Approval is enabled for the project: at least one service is enrolled on it or on an ancestor.",
    logic="Reads `projects/P/accessApprovalSettings`. Passes when `enrolledServices` lists at least one "
    "service (its `cloudProduct` named), or `enrolledAncestor` is true (enrolled on a folder or the "
    "organisation). Fails when the settings were never configured (404 NOT_FOUND: no settings), when "
    "they enrol nothing, or when the Access Approval API is not enabled (CIS: that output means not "
    "enabled). Which services are enrolled, the enrollment level and the notification e-mails are not judged.",
    unknown="An uncollected `accessApprovalSettings` (permission denied, an error), settings that are not an "
    "object, `enrolledServices` not a list or an entry without `cloudProduct`, `enrolledAncestor` not a "
    "boolean, or more than one settings resource give `error`.",
)
def log06_access_approval(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Passes when the project's Access Approval settings enrol at least one service, here or above."""
    resource = project_name(snapshot.scope)
    found = snapshot.get(Kind.ACCESS_APPROVAL_SETTINGS)
    note = snapshot.note(Kind.ACCESS_APPROVAL_SETTINGS)
    if note:
        reason = f"Access Approval is not enabled: {note}"
        yield Finding(resource, Verdict.FAIL, reason, "accessapproval.googleapis.com")
        return
    if not found:
        reason = "Access Approval is not enabled: the project has no Access Approval settings (never configured)"
        yield Finding(resource, Verdict.FAIL, reason, "accessApprovalSettings")
        return
    try:
        if len(found) > 1:
            raise Unjudgeable("accessApprovalSettings", f"{len(found)} settings collected, expected one")
        products, ancestor = _enrolled(found[0])
    except Unjudgeable as error:
        yield Finding(resource, Verdict.ERROR, f"cannot judge {error.field}: {error.message}", error.field)
        return
    if products:
        yield Finding(resource, Verdict.PASS, f"Access Approval enrols {', '.join(products)}", ", ".join(products))
    elif ancestor:
        reason = "Access Approval is enabled through an ancestor (enrolledAncestor: true; none enrolled on the project)"
        yield Finding(resource, Verdict.PASS, reason, "enrolledAncestor")
    else:
        reason = "Access Approval is not enabled: its settings enrol no service, here or on an ancestor"
        yield Finding(resource, Verdict.FAIL, reason, "enrolledServices")
