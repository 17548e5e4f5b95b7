"""IAM-01 to IAM-03, one result per grant: one row per case, policies in the API's JSON shape.

Each row is a list of bindings (`{"role": ..., "members": [...], "condition": {...}}`) of a
version-3 project policy, and every finding expected from it, in policy order: (verdict,
subject, reason), the reason exact or, with "…", its deciding parts.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks import iam
from checks.model import Finding, Verdict
from checks.params import Params
from checks.registry import Control
from tests.builders import make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
RESOURCE = "//cloudresourcemanager.googleapis.com/projects/shop-prod"
PARAMS = {"iam": {"privileged_members": ["group:admins@example.be"], "allowed_domains": ["example.be"]}}
COMPUTE_SA = "serviceAccount:482913570164-compute@developer.gserviceaccount.com"
APPENGINE_SA = "serviceAccount:shop-prod@appspot.gserviceaccount.com"
AGENT = "serviceAccount:service-482913570164@compute-system.iam.gserviceaccount.com"
GCP_SA_AGENT = "serviceAccount:service-482913570164@gcp-sa-pubsub.iam.gserviceaccount.com"
APIS_AGENT = "serviceAccount:482913570164@cloudservices.gserviceaccount.com"
OWN_SA = "serviceAccount:etl@shop-prod.iam.gserviceaccount.com"
OTHER_SA = "serviceAccount:deployer@ci-tools-prj.iam.gserviceaccount.com"
LOOKALIKE = "serviceAccount:service-482913570164@shop-prod.iam.gserviceaccount.com"
SCOPED_LOOKALIKE = "serviceAccount:x@gcp-sa-pubsub.example.com.iam.gserviceaccount.com"
NOT_PRIVILEGED = "and is not in iam.privileged_members (group:admins@example.be)"

Expect = tuple[Verdict, str, str]
Case = tuple[list[dict[str, Any]], list[Expect]]


def binding(role: str, *members: str, title: str | None = None, **condition: str) -> dict[str, Any]:
    """A binding; `title=` (and `expression=`) make it conditional."""
    found: dict[str, Any] = {"role": role, "members": list(members)}
    if title is not None or condition:
        found["condition"] = {"expression": "request.time < timestamp('2027-01-01T00:00:00Z')", **condition}
        if title is not None:
            found["condition"]["title"] = title
    return found


def policy(*bindings: dict[str, Any], version: Any = 3) -> dict[str, Any]:
    return {"version": version, "etag": "BwYR", "bindings": list(bindings)}


def judge(control: Control, iam_policy: dict[str, Any], params: dict[str, Any] | None = None) -> list[Finding]:
    snapshot = make_snapshot({"iamPolicy": iam_policy})
    findings = list(control(snapshot, Params.model_validate(PARAMS if params is None else params)))
    assert all(found.resource == RESOURCE for found in findings)
    return findings


def check(findings: list[Finding], expected: list[Expect]) -> None:
    assert [(f.verdict, f.subject) for f in findings] == [(v, s) for v, s, _ in expected], [f.reason for f in findings]
    for found, (_, _, reason) in zip(findings, expected, strict=True):
        if "…" in reason:
            for part in reason.split("…"):
                assert part in found.reason
        else:
            assert found.reason == reason


# --- IAM-01 -----------------------------------------------------------------------------------

IAM01: dict[str, Case] = {
    "owner-user": ([binding("roles/owner", "user:anna@example.be")], [
        (FAIL, "roles/owner user:anna@example.be",
         f"user:anna@example.be holds basic role roles/owner {NOT_PRIVILEGED}")]),
    "editor-gmail": ([binding("roles/editor", "user:marc@gmail.com")], [
        (FAIL, "roles/editor user:marc@gmail.com", "…holds basic role roles/editor and is not in…")]),
    "viewer-group": ([binding("roles/viewer", "group:devs@example.be")], [
        (FAIL, "roles/viewer group:devs@example.be", "…holds basic role roles/viewer…")]),
    "privileged": ([binding("roles/owner", "group:admins@example.be")], [
        (PASS, "roles/owner group:admins@example.be", "group:admins@example.be holds basic role roles/owner; "
         "listed in iam.privileged_members (group:admins@example.be)")]),
    "privileged-other-case": ([binding("roles/owner", "group:Admins@EXAMPLE.be")], [
        (PASS, "roles/owner group:Admins@EXAMPLE.be", "…listed in iam.privileged_members (group:admins@example.be)")]),
    "privileged-other-type": ([binding("roles/owner", "user:admins@example.be")], [
        (FAIL, "roles/owner user:admins@example.be", f"…{NOT_PRIVILEGED}")]),
    "one-row-per-grant": ([binding("roles/editor", "user:a@example.be", "group:admins@example.be"),
                           binding("roles/viewer", "user:a@example.be")], [
        (FAIL, "roles/editor user:a@example.be", "…"), (PASS, "roles/editor group:admins@example.be", "…"),
        (FAIL, "roles/viewer user:a@example.be", "…")]),
    "conditional": ([binding("roles/owner", "user:sre@example.be", title="breakglass")], [
        (FAIL, "roles/owner user:sre@example.be if breakglass", 'user:sre@example.be holds basic role roles/owner '
         f'under condition "breakglass" {NOT_PRIVILEGED}')]),
    "conditional-no-title": ([binding("roles/owner", "user:sre@example.be", expression="request.time < x")], [
        (FAIL, "roles/owner user:sre@example.be if request.time < x", '…under condition "request.time < x"…')]),
    "conditional-and-plain": ([binding("roles/owner", "user:sre@example.be"),
                               binding("roles/owner", "user:sre@example.be", title="later")], [
        (FAIL, "roles/owner user:sre@example.be", "…"), (FAIL, "roles/owner user:sre@example.be if later", "…")]),
    "agent-compute-system": ([binding("roles/editor", AGENT)], [
        (PASS, f"roles/editor {AGENT}", f"{AGENT}, a Google-managed service agent (compute-system.iam."
         "gserviceaccount.com is Google-owned), holds basic role roles/editor: exempt")]),
    "agent-gcp-sa": ([binding("roles/owner", GCP_SA_AGENT)], [
        (PASS, f"roles/owner {GCP_SA_AGENT}", "…Google-managed service agent (gcp-sa-pubsub.iam.gserviceaccount.com"
         " is Google-owned, matching gcp-sa-*.iam.gserviceaccount.com)…: exempt")]),
    "agent-google-apis": ([binding("roles/editor", APIS_AGENT)], [(PASS, f"roles/editor {APIS_AGENT}", "…: exempt")]),
    "default-compute": ([binding("roles/editor", COMPUTE_SA)], [
        (FAIL, f"roles/editor {COMPUTE_SA}", f"{COMPUTE_SA}, the default Compute Engine service account "
         f"(user-managed), holds basic role roles/editor {NOT_PRIVILEGED}")]),
    "app-engine-default": ([binding("roles/editor", APPENGINE_SA)], [
        (FAIL, f"roles/editor {APPENGINE_SA}", "…the App Engine default service account (user-managed)…")]),
    "own-project-sa": ([binding("roles/editor", OWN_SA)], [
        (FAIL, f"roles/editor {OWN_SA}", "…a user-managed service account in project shop-prod's domain…")]),
    "other-project-sa": ([binding("roles/owner", OTHER_SA)], [
        (FAIL, f"roles/owner {OTHER_SA}", "…a user-managed service account in project ci-tools-prj's domain…")]),
    "lookalike-agent": ([binding("roles/editor", LOOKALIKE)], [
        (FAIL, f"roles/editor {LOOKALIKE}", "…named like a service agent but in project shop-prod's domain…")]),
    "domain-scoped-lookalike": ([binding("roles/editor", SCOPED_LOOKALIKE)], [
        (FAIL, f"roles/editor {SCOPED_LOOKALIKE}", "…user-managed service account in project "
         "gcp-sa-pubsub.example.com's domain…")]),
    "all-users": ([binding("roles/viewer", "allUsers")], [(FAIL, "roles/viewer allUsers", "…")]),
    "deleted": ([binding("roles/owner", "deleted:user:old@example.be?uid=1")], [
        (FAIL, "roles/owner deleted:user:old@example.be?uid=1", "…")]),
    "custom-role-named-owner": ([binding("projects/shop-prod/roles/owner", "user:a@example.be")], []),
    "org-role-named-editor": ([binding("organizations/4242/roles/editor", "user:a@example.be")], []),
    "predefined-role": ([binding("roles/compute.admin", "user:a@example.be")], []),
    "no-bindings": ([], []),
}  # fmt: skip


@pytest.mark.parametrize(("bindings", "expected"), IAM01.values(), ids=IAM01.keys())
def test_iam01_basic_roles(bindings: list[dict[str, Any]], expected: list[Expect]) -> None:
    check(judge(iam.iam01_basic_roles, policy(*bindings)), expected)


def test_iam01_privileged_members_param_is_case_insensitive_and_named_when_empty() -> None:
    grants = policy(binding("roles/owner", "user:anna@example.be"))
    (found,) = judge(iam.iam01_basic_roles, grants, {"iam": {"privileged_members": ["USER:Anna@Example.BE"]}})
    assert (found.verdict, found.reason) == (PASS, "user:anna@example.be holds basic role roles/owner; "
                                             "listed in iam.privileged_members (USER:Anna@Example.BE)")  # fmt: skip
    (found,) = judge(iam.iam01_basic_roles, grants, {})
    assert found.verdict is FAIL and found.reason.endswith("is not in iam.privileged_members (empty)")


# --- IAM-02 -----------------------------------------------------------------------------------

IAM02: dict[str, Case] = {
    "editor": ([binding("roles/editor", OWN_SA)], [
        (FAIL, f"roles/editor {OWN_SA}", f"{OWN_SA}, a user-managed service account in project shop-prod's domain, "
         "holds roles/editor, a basic role, counted as admin")]),
    "owner": ([binding("roles/owner", OWN_SA)], [(FAIL, f"roles/owner {OWN_SA}", "…a basic role, counted as admin")]),
    "viewer": ([binding("roles/viewer", OWN_SA)], [(PASS, f"roles/viewer {OWN_SA}", "…not an admin role")]),
    "lower-admin": ([binding("roles/bigquery.admin", OWN_SA)], [
        (FAIL, f"roles/bigquery.admin {OWN_SA}", "…holds roles/bigquery.admin, an admin role "
         "(its id bigquery.admin ends in admin)")]),
    "upper-admin": ([binding("roles/iam.securityAdmin", OWN_SA)], [
        (FAIL, f"roles/iam.securityAdmin {OWN_SA}", "…(its id iam.securityAdmin ends in Admin)")]),
    "custom-admin": ([binding("projects/shop-prod/roles/deployAdmin", OWN_SA)], [
        (FAIL, f"projects/shop-prod/roles/deployAdmin {OWN_SA}", "…(its id deployAdmin ends in Admin)")]),
    "custom-named-owner": ([binding("projects/shop-prod/roles/owner", OWN_SA)], [
        (PASS, f"projects/shop-prod/roles/owner {OWN_SA}", "…not an admin role")]),
    "admin-not-at-end": ([binding("roles/compute.instanceAdmin.v1", OWN_SA)], [
        (PASS, f"roles/compute.instanceAdmin.v1 {OWN_SA}", "…not an admin role")]),
    "narrow-role": ([binding("roles/logging.logWriter", OWN_SA)], [
        (PASS, f"roles/logging.logWriter {OWN_SA}", f"{OWN_SA}, a user-managed service account in project "
         "shop-prod's domain, holds roles/logging.logWriter, not an admin role")]),
    "default-compute": ([binding("roles/editor", COMPUTE_SA)], [
        (FAIL, f"roles/editor {COMPUTE_SA}", "…the default Compute Engine service account (user-managed)…")]),
    "app-engine-default": ([binding("roles/editor", APPENGINE_SA)], [
        (FAIL, f"roles/editor {APPENGINE_SA}", "…the App Engine default service account (user-managed)…")]),
    "other-project-sa": ([binding("roles/storage.admin", OTHER_SA)], [(FAIL, f"roles/storage.admin {OTHER_SA}", "…")]),
    "lookalike-agent": ([binding("roles/editor", LOOKALIKE)], [
        (FAIL, f"roles/editor {LOOKALIKE}", "…named like a service agent but in project shop-prod's domain…")]),
    "unlisted-google-domain": ([binding("roles/pubsub.admin", "serviceAccount:x@weird.gserviceaccount.com")], [
        (FAIL, "roles/pubsub.admin serviceAccount:x@weird.gserviceaccount.com",
         "…a service account in weird.gserviceaccount.com, not a Google-owned domain: treated as user-managed…")]),
    "agent-editor": ([binding("roles/editor", APIS_AGENT)], [
        (PASS, f"roles/editor {APIS_AGENT}", f"{APIS_AGENT}, a Google-managed service agent "
         "(cloudservices.gserviceaccount.com is Google-owned), holds roles/editor: exempt")]),
    "agent-service-role": ([binding("roles/compute.serviceAgent", AGENT)], [
        (PASS, f"roles/compute.serviceAgent {AGENT}", "…: exempt")]),
    "conditional": ([binding("roles/storage.admin", OWN_SA, title="until-friday")], [
        (FAIL, f"roles/storage.admin {OWN_SA} if until-friday", '…holds roles/storage.admin under condition '
         '"until-friday", an admin role…')]),
    "people-out-of-scope": ([binding("roles/owner", "user:a@example.be", "group:g@example.be", "allUsers")], []),
    "deleted-sa-out-of-scope": ([binding("roles/owner", "deleted:serviceAccount:x@shop-prod.iam.gserviceaccount"
                                                        ".com?uid=1")], []),
}  # fmt: skip


@pytest.mark.parametrize(("bindings", "expected"), IAM02.values(), ids=IAM02.keys())
def test_iam02_admin_service_accounts(bindings: list[dict[str, Any]], expected: list[Expect]) -> None:
    check(judge(iam.iam02_admin_service_accounts, policy(*bindings)), expected)


# --- IAM-03 -----------------------------------------------------------------------------------

IAM03: dict[str, Case] = {
    "user": ([binding("roles/iam.serviceAccountUser", "group:devs@example.be")], [
        (FAIL, "roles/iam.serviceAccountUser group:devs@example.be", "group:devs@example.be holds "
         "roles/iam.serviceAccountUser on the whole project: it can act as every service account of the project")]),
    "token-creator": ([binding("roles/iam.serviceAccountTokenCreator", "user:a@example.be")], [
        (FAIL, "roles/iam.serviceAccountTokenCreator user:a@example.be", "…it can mint tokens for every service "
         "account of the project")]),
    "both-roles": ([binding("roles/iam.serviceAccountUser", "user:a@example.be"),
                    binding("roles/iam.serviceAccountTokenCreator", "user:a@example.be")], [
        (FAIL, "roles/iam.serviceAccountUser user:a@example.be", "…"),
        (FAIL, "roles/iam.serviceAccountTokenCreator user:a@example.be", "…")]),
    "service-agent": ([binding("roles/iam.serviceAccountTokenCreator", GCP_SA_AGENT)], [
        (FAIL, f"roles/iam.serviceAccountTokenCreator {GCP_SA_AGENT}", f"{GCP_SA_AGENT} (a Google-managed service "
         "agent: no exemption for this control) holds roles/iam.serviceAccountTokenCreator on the whole project…")]),
    "user-managed-sa": ([binding("roles/iam.serviceAccountUser", OWN_SA)], [
        (FAIL, f"roles/iam.serviceAccountUser {OWN_SA}", "…")]),
    "conditional": ([binding("roles/iam.serviceAccountUser", "user:a@example.be", title="ci-window")], [
        (FAIL, "roles/iam.serviceAccountUser user:a@example.be if ci-window",
         'user:a@example.be holds roles/iam.serviceAccountUser under condition "ci-window" on the whole project…')]),
    "custom-role-same-id": ([binding("projects/shop-prod/roles/iam.serviceAccountUser", "user:a@example.be")], []),
    "admin-role": ([binding("roles/iam.serviceAccountAdmin", "user:a@example.be")], []),
}  # fmt: skip


@pytest.mark.parametrize(("bindings", "expected"), IAM03.values(), ids=IAM03.keys())
def test_iam03_project_impersonation(bindings: list[dict[str, Any]], expected: list[Expect]) -> None:
    check(judge(iam.iam03_project_impersonation, policy(*bindings)), expected)
