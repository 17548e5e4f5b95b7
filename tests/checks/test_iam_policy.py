"""Reading the IAM policy (unreadable parts are errors, never passes), the shared member and
service-account rules, the metadata of every IAM control, and the demo organisation's IAM."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from checks import default_registry, iam
from checks.model import Area, Severity, Verdict
from checks.params import Params
from checks.rules.iam import GOOGLE_SERVICE_AGENT_DOMAINS, classify_service_account, parse_member
from checks.snapshot import Kind, KindData, Snapshot
from monitor.demo import DEMO_SCENARIO
from monitor.run.runner import run_control
from monitor.standin.crm import policy_view
from tests.builders import make_snapshot
from tests.checks.catalogue import ids
from tests.checks.test_iam_grants import ERROR, FAIL, PASS, binding, judge, policy
from tests.demo.test_demo_org import FAILING

# The IAM controls of the `iam` module; the area's others (on other resources) are tested with their module.
IAM_IDS = [c.meta.id for c in default_registry() if c in vars(iam).values()]
FUNCTIONS = {
    "IAM-01": iam.iam01_basic_roles, "IAM-02": iam.iam02_admin_service_accounts,
    "IAM-03": iam.iam03_project_impersonation, "IAM-04": iam.iam04_service_account_duties,
    "IAM-05": iam.iam05_kms_duties, "IAM-06": iam.iam06_member_domains, "IAM-07": iam.iam07_deleted_principals,
}  # fmt: skip
WITHCOND = "roles/owner_withcond_5c1e0d2b7a9f3e4d6c8b"


# --- unreadable policies: error in every control they could affect ---------------------------------

# policy -> (subject, reason) of the one error, for every IAM control
EVERYWHERE: dict[str, tuple[dict[str, Any], str, str]] = {
    "no-role": (policy({"members": ["user:a@example.be"]}), "bindings[0]",
                "cannot judge bindings[0]: it has no role (role: None)"),
    "empty-role": (policy({"role": "", "members": ["user:a@example.be"]}), "bindings[0]",
                   "cannot judge bindings[0]: it has no role (role: '')"),
    "binding-not-object": (policy("roles/owner"), "bindings[0]",  # type: ignore[arg-type]
                           "cannot judge bindings[0]: not an object ('roles/owner')"),
    "withcond-role": (policy(binding(WITHCOND, "user:a@example.be"), version=1), WITHCOND,
                      f"cannot judge bindings[0]: role {WITHCOND} is a conditional binding mangled by a read below "
                      "requestedPolicyVersion 3: its condition is hidden"),
    "version-1-with-condition": (policy(binding("roles/viewer", "user:a@example.be", title="t"), version=1),
                                 "version", "cannot judge: the policy has version 1 but bindings[0] has a condition: "
                                 "conditional policies are only complete when read with requestedPolicyVersion 3"),
    "version-absent-with-condition": ({"bindings": [binding("roles/viewer", "user:a@example.be", title="t")]},
                                      "version", "cannot judge: the policy has version 0 but bindings[0] has…"),
    "version-2": (policy(version=2), "version", "cannot judge: unknown IAM policy version 2 (expected 1 or 3)"),
    "version-text": (policy(version="3"), "version", "cannot judge: unknown IAM policy version '3' (expected 1 or 3)"),
    "bindings-not-list": ({"version": 3, "bindings": {"role": "roles/owner"}}, "bindings",
                          "cannot judge: bindings is not a list ({'role': 'roles/owner'})"),
    "role-not-a-name": (policy(binding("owner", "user:a@example.be")), "owner",
                        "cannot judge bindings[0]: 'owner' is not a role name (roles/ID)"),
}  # fmt: skip
# A broken member or condition of one (readable) role: an error where a grant of that role could
# decide; IAM-06 and IAM-07 judge every member, whatever its role.
ONLY_ROLES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "member-without-type": (policy(binding("roles/viewer", "a@example.be")), {"IAM-01", "IAM-06", "IAM-07"}),
    "member-without-type-basic": (policy(binding("roles/owner", "a@example.be")), {"IAM-01", "IAM-02", "IAM-06",
                                                                                  "IAM-07"}),
    "unknown-member-type": (policy(binding("roles/iam.serviceAccountUser", "robot:x")), {"IAM-03", "IAM-04",
                                                                                        "IAM-06", "IAM-07"}),
    "member-not-email": (policy(binding("roles/cloudkms.admin", "user:anna")), {"IAM-02", "IAM-05", "IAM-06",
                                                                               "IAM-07"}),
    "member-not-text": (policy(binding("roles/viewer", 7)), {"IAM-01", "IAM-06", "IAM-07"}),  # type: ignore[arg-type]
    "members-not-list": (policy({"role": "roles/editor", "members": "user:a@example.be"}),
                         {"IAM-01", "IAM-02", "IAM-06", "IAM-07"}),
    "condition-not-object": (policy({"role": "roles/iam.serviceAccountAdmin", "members": ["user:a@example.be"],
                                     "condition": "tomorrow"}), {"IAM-02", "IAM-04", "IAM-06", "IAM-07"}),
    "condition-empty": (policy({"role": "roles/viewer", "members": ["user:a@example.be"], "condition": {}}),
                        {"IAM-01", "IAM-06", "IAM-07"}),
}  # fmt: skip


@pytest.mark.parametrize("control_id", IAM_IDS)
@pytest.mark.parametrize(("iam_policy", "subject", "reason"), EVERYWHERE.values(), ids=EVERYWHERE.keys())
def test_unreadable_policy_is_an_error_in_every_control(
    control_id: str, iam_policy: dict[str, Any], subject: str, reason: str
) -> None:
    errors = [f for f in judge(FUNCTIONS[control_id], iam_policy) if f.verdict is ERROR]
    assert [f.subject for f in errors] == [subject]
    for part in reason.split("…"):
        assert part in errors[0].reason


@pytest.mark.parametrize(("iam_policy", "affected"), ONLY_ROLES.values(), ids=ONLY_ROLES.keys())
def test_unreadable_part_of_one_role_is_an_error_where_that_role_matters(
    iam_policy: dict[str, Any], affected: set[str]
) -> None:
    found = {cid for cid, func in FUNCTIONS.items() if any(f.verdict is ERROR for f in judge(func, iam_policy))}
    assert found == affected


def test_an_error_does_not_hide_the_rest_of_the_policy() -> None:
    mixed = policy(binding(WITHCOND, "user:a@example.be"), binding("roles/editor", "user:b@gmail.com"), version=1)
    found = judge(iam.iam01_basic_roles, mixed)
    assert [(f.verdict, f.subject) for f in found] == [(ERROR, WITHCOND), (FAIL, "roles/editor user:b@gmail.com")]


def test_versions_1_and_absent_are_fine_without_conditions() -> None:
    owner = binding("roles/owner", "user:a@example.be")
    for iam_policy in (policy(owner, version=1), {"bindings": [owner]}, {"version": 1, "etag": "ACAB"}):
        assert all(f.verdict is not ERROR for cid in IAM_IDS for f in judge(FUNCTIONS[cid], iam_policy))


@pytest.mark.parametrize(("kinds", "why"), [
    ({}, "iamPolicy: not collected"),
    ({Kind.IAM_POLICY: KindData(error="403 denied")}, "iamPolicy: 403 denied"),
    ({Kind.IAM_POLICY: KindData(resources=())}, "cannot judge: expected one IAM policy, got 0"),
    ({Kind.IAM_POLICY: KindData(resources=(policy(), policy()))}, "cannot judge: expected one IAM policy, got 2"),
], ids=["not-collected", "collection-failed", "no-policy", "two-policies"])  # fmt: skip
def test_a_missing_policy_is_an_error_never_nothing_in_scope(kinds: dict[str, KindData], why: str) -> None:
    base = make_snapshot({})
    snapshot = Snapshot(scope="shop-prod", now=base.now, kinds={**base.kinds, **kinds})
    for control_id in IAM_IDS:
        (result,) = run_control(default_registry().get(control_id), snapshot, Params())
        assert result.verdict is Verdict.ERROR and why in result.reason, (control_id, result.reason)


@pytest.mark.parametrize("control_id", IAM_IDS)
def test_nothing_in_scope_is_the_runners_single_pass(control_id: str) -> None:
    snapshot = make_snapshot({"iamPolicy": {"version": 1, "etag": "ACAB"}})
    (result,) = run_control(default_registry().get(control_id), snapshot, Params())
    unit = "grant" if control_id in ("IAM-01", "IAM-02", "IAM-03") else "member"
    assert (result.verdict, result.reason) == (PASS, f"nothing in scope: no {unit} to judge")
    assert result.resource == "//cloudresourcemanager.googleapis.com/projects/shop-prod"


# --- shared rules ------------------------------------------------------------------------------

ACCOUNTS: dict[str, tuple[str, bool]] = {
    "gcp-sa": ("service-1@gcp-sa-pubsub.iam.gserviceaccount.com", True),
    "compute-system": ("service-1@compute-system.iam.gserviceaccount.com", True),
    "gke-robot": ("service-1@container-engine-robot.iam.gserviceaccount.com", True),
    "google-apis": ("1@cloudservices.gserviceaccount.com", True),
    "legacy-cloud-build": ("1@cloudbuild.gserviceaccount.com", True),
    "cloud-run": ("service-1@serverless-robot-prod.iam.gserviceaccount.com", True),
    "upper-case": ("Service-1@Compute-System.iam.gserviceaccount.com", True),
    "default-compute": ("1-compute@developer.gserviceaccount.com", False),
    "app-engine": ("shop-prod@appspot.gserviceaccount.com", False),
    "own-project": ("etl@shop-prod.iam.gserviceaccount.com", False),
    "lookalike": ("service-1@shop-prod.iam.gserviceaccount.com", False),
    "gcp-sa-in-customer-domain": ("x@gcp-sa-pubsub.example.com.iam.gserviceaccount.com", False),
    "suffix-trick": ("x@evil-compute-system.iam.gserviceaccount.com", False),
    "unknown-domain": ("x@weird.gserviceaccount.com", False),
}


@pytest.mark.parametrize(("email", "google"), ACCOUNTS.values(), ids=ACCOUNTS.keys())
def test_service_agents_are_known_by_google_owned_domain(email: str, google: bool) -> None:
    assert classify_service_account(email).google is google


def test_the_agent_domain_list_names_only_google_domains() -> None:
    assert len(set(GOOGLE_SERVICE_AGENT_DOMAINS)) == len(GOOGLE_SERVICE_AGENT_DOMAINS)
    assert all(d.endswith(".gserviceaccount.com") and "appspot" not in d and "developer." not in d
               for d in GOOGLE_SERVICE_AGENT_DOMAINS)  # fmt: skip


@pytest.mark.parametrize(("text", "kind", "key"), [
    ("user:Anna@Example.BE", "user", "user:anna@example.be"),
    ("allUsers", "allUsers", "allusers"),
    ("deleted:user:A@example.be?uid=1", "deleted", "deleted:user:a@example.be?uid=1"),
    ("principal://iam.googleapis.com/x/subject/Jo", "principal", "principal://iam.googleapis.com/x/subject/Jo"),
])  # fmt: skip
def test_members_group_case_insensitively_except_federation_uris(text: str, kind: str, key: str) -> None:
    member = parse_member(text)
    assert (member.type, member.key) == (kind, key)


# --- metadata ----------------------------------------------------------------------------------

# id -> (severity, unit, params, CIS, SOC 2, SHA), as the controls table in the README says
TABLE: dict[str, tuple[Severity, str, tuple[str, ...], str, tuple[str, ...], str]] = {
    "IAM-01": (Severity.HIGH, "grant", ("iam.privileged_members",), "", ("CC6.1", "CC6.3"), "PRIMITIVE_ROLES_USED"),
    "IAM-02": (Severity.HIGH, "grant", (), "4.0: 1.5 · 5.0: 1.6", ("CC6.3",), "ADMIN_SERVICE_ACCOUNT"),
    "IAM-03": (Severity.HIGH, "grant", (), "4.0: 1.6 · 5.0: 1.7", ("CC6.3",), "OVER_PRIVILEGED_SERVICE_ACCOUNT_USER"),
    "IAM-04": (Severity.MEDIUM, "member", (), "4.0: 1.8 · 5.0: 1.9", ("CC6.3",), "SERVICE_ACCOUNT_ROLE_SEPARATION"),
    "IAM-05": (Severity.MEDIUM, "member", (), "4.0: 1.11 · 5.0: 1.12", ("CC6.3",), "KMS_ROLE_SEPARATION"),
    "IAM-06": (Severity.HIGH, "member", ("iam.allowed_domains",), "4.0: 1.1 · 5.0: 1.2", ("CC6.1", "CC6.2"),
               "NON_ORG_IAM_MEMBER"),
    "IAM-07": (Severity.LOW, "member", (), "", ("CC6.2",), ""),
}


def test_registry_holds_every_iam_control() -> None:
    assert [c for c in default_registry().ids() if c.startswith("IAM-")] == ids(Area.IAM)
    assert set(IAM_IDS) < set(ids(Area.IAM))


@pytest.mark.parametrize("control_id", IAM_IDS)
def test_metadata_is_complete(control_id: str) -> None:
    meta = default_registry().get(control_id).meta
    severity, unit, params, cis, soc2, sha = TABLE[control_id]
    assert (meta.area, meta.severity, meta.unit, meta.params, meta.kinds) == (
        Area.IAM, severity, unit, params, (Kind.IAM_POLICY,))
    assert (meta.references.cis_text(), meta.references.soc2, meta.references.sha) == (cis, soc2, sha)
    assert meta.title and meta.title[0].isupper()
    assert len(meta.rationale) > 200 and "gcloud projects remove-iam-policy-binding PROJECT" in meta.remediation
    for dotted in meta.params:
        area, key = dotted.split(".")
        assert key in type(getattr(Params(), area)).model_fields
    assert iam.__doc__ and FUNCTIONS[control_id].func.__doc__
    assert default_registry().get(control_id) is FUNCTIONS[control_id]


# --- the demo organisation ---------------------------------------------------------------------

DEMO_PARAMS = {"iam": {"allowed_domains": ["example.be"], "privileged_members": ["group:platform-admins@example.be"]}}


@pytest.fixture(scope="module")
def demo() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(DEMO_SCENARIO.read_text(encoding="utf-8"))
    return {p["projectId"]: p["iamPolicy"] for p in doc["projects"]}


@pytest.mark.parametrize("control_id", IAM_IDS)
def test_the_demo_fails_exactly_where_planted(control_id: str, demo: dict[str, dict[str, Any]]) -> None:
    """Each demo policy as IAM returns it for requestedPolicyVersion 3 (the stand-in's view)."""
    failing = set()
    for project, stored in demo.items():
        snapshot = make_snapshot({"iamPolicy": policy_view(stored, 3)}, scope=project)
        findings = list(FUNCTIONS[control_id](snapshot, Params.model_validate(DEMO_PARAMS)))
        assert [f.reason for f in findings if f.verdict is ERROR] == []
        if any(f.verdict is FAIL for f in findings):
            failing.add(project)
    assert failing == FAILING[control_id]


def test_the_demo_read_below_version_3_is_an_error(demo: dict[str, dict[str, Any]]) -> None:
    """shop-prod has a conditional Owner grant: read with version 1, its role comes back mangled."""
    snapshot = make_snapshot({"iamPolicy": policy_view(demo["shop-prod"], 1)}, scope="shop-prod")
    for control_id in IAM_IDS:
        errors = [f for f in FUNCTIONS[control_id](snapshot, Params.model_validate(DEMO_PARAMS)) if f.verdict is ERROR]
        assert len(errors) == 1 and errors[0].subject.startswith("roles/owner_withcond_"), control_id
        assert "requestedPolicyVersion 3" in errors[0].reason


def test_a_broken_member_is_named_with_its_binding_and_role() -> None:
    (found,) = judge(iam.iam07_deleted_principals, policy(binding("roles/viewer", "a@example.be")))
    assert (found.verdict, found.subject) == (ERROR, "roles/viewer a@example.be")
    assert found.reason == (
        "cannot judge bindings[0] (roles/viewer): member 'a@example.be' has no type prefix (user:, group:, "
        "serviceAccount:, domain:, deleted:, principal://, principalSet://, allUsers, allAuthenticatedUsers)"
    )


def test_an_account_in_a_gcp_sa_like_project_is_not_a_service_agent() -> None:
    from checks.rules.iam import classify_service_account

    assert classify_service_account("service-123@gcp-sa-pubsub.iam.gserviceaccount.com").google
    assert classify_service_account("service-org-42@gcp-sa-logging.iam.gserviceaccount.com").google
    assert not classify_service_account("etl@gcp-sa-mycorp.iam.gserviceaccount.com").google
