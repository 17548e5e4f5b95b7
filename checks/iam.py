"""IAM access controls (IAM-01 to IAM-07) on the project IAM policy, as the README's controls table states them.

Every result names the project as `resource` (`//cloudresourcemanager.googleapis.com/projects/p`)
and, as `subject`, the grant (`roles/owner user:a@x.be`, with ` if TITLE` for a conditional
binding) or the member its unit is about. IAM-01 to IAM-03 judge grants (one result per
grant in scope), IAM-04 to IAM-07 members (one result per member in scope); passes are
reported too, so evidence shows what was covered. The policy is read by `checks.rules.iam`:
whatever it cannot read with certainty becomes an `error` in every control it could affect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from checks.model import Area, Finding, Severity, Verdict
from checks.names import project_name
from checks.params import Params
from checks.registry import References, control
from checks.rules.iam import (
    BASIC_ROLES,
    CONSUMER_DOMAINS,
    EDITOR,
    OWNER,
    PolicyView,
    classify_service_account,
    held,
    is_admin_role,
    read_policy,
    role_id,
)
from checks.snapshot import Kind, Snapshot

SA_USER, SA_TOKEN_CREATOR = "roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator"
SA_ADMIN = "roles/iam.serviceAccountAdmin"
KMS_ADMIN = "roles/cloudkms.admin"
KMS_CRYPTO = (
    "roles/cloudkms.cryptoKeyEncrypterDecrypter",
    "roles/cloudkms.cryptoKeyEncrypter",
    "roles/cloudkms.cryptoKeyDecrypter",
)
# What every IAM-0x control gives for a policy it cannot read with certainty (its `unknown=`).
_POLICY_UNKNOWN = (
    "Whatever in the policy cannot be read with certainty gives an `error` in every control it could hide "
    "a finding from: a binding without a role, a member without a known type prefix, a role mangled as "
    "`roles/x_withcond_…` (the policy was read below version 3), or a policy `version` other than 3 beside "
    "conditional bindings. A policy that could not be read at all gives one `error` for the project."
)
_NO_DOMAINS = "iam.allowed_domains is empty, so only consumer domains fail"


def _judge(
    snapshot: Snapshot, relevant: Callable[[str], bool], judge: Callable[[PolicyView, str], Iterator[Finding]]
) -> Iterator[Finding]:
    """Errors for the unreadable parts of the policy that could concern a `relevant` role, then `judge`."""
    view, resource = read_policy(snapshot), project_name(snapshot.scope)
    for problem in view.problems_for(relevant):
        yield Finding(resource, Verdict.ERROR, problem.reason, problem.subject)
    yield from judge(view, resource)


def _every_role(role: str) -> bool:
    return True


def _listed(entries: tuple[str, ...]) -> str:
    return ", ".join(entries) if entries else "empty"


# --- per grant: IAM-01 to IAM-03 ---------------------------------------------------------------


@control(
    id="IAM-01", title="No basic roles outside the privileged list", area=Area.IAM, severity=Severity.HIGH,
    kinds=(Kind.IAM_POLICY,), unit="grant", params=("iam.privileged_members",),
    references=References(soc2=("CC6.1", "CC6.3"), sha="PRIMITIVE_ROLES_USED"),
    rationale="Owner, Editor and Viewer predate fine-grained IAM: each grants thousands of permissions "
    "across every service of the project (Editor can change almost everything, Viewer read almost every "
    "configuration), so anyone holding one has far more access than their job needs, and a stolen "
    "credential of theirs reaches everything. Basic roles belong to a short, reviewed list of "
    "administrators; everyone else gets predefined or custom roles.",
    remediation="Grant the member the predefined roles it needs, then remove the basic role: `gcloud projects "
    "remove-iam-policy-binding PROJECT --member=MEMBER --role=roles/editor` (add `--all` to remove a "
    "conditional grant too); or, for an approved administrator, list the member in `iam.privileged_members`.",
    holds='No member holds `roles/owner`, `roles/editor` or `roles/viewer` on the project unless it is '
        'listed in `iam.privileged_members` or is a Google-managed service agent.',
    logic="One result per grant (role, member, condition) of the project's IAM policy (read with "
        '`requestedPolicyVersion: 3`, so conditional bindings count as grants) whose role is exactly '
        '`roles/owner`, `roles/editor` or `roles/viewer` (a custom role of the same id is not a basic '
        'role). A service account in a Google-owned service-agent domain passes as exempt; a member '
        'listed in `iam.privileged_members` (compared case-insensitively) passes; every other grant '
        'fails. Grants of other roles are out of scope.',
    unknown=_POLICY_UNKNOWN,
)
def iam01_basic_roles(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails each grant of roles/owner, roles/editor or roles/viewer to a member that is neither in
    `iam.privileged_members` (case-insensitive) nor a Google-managed service agent."""
    privileged = {entry.strip().lower(): entry for entry in params.iam.privileged_members}

    def judge(view: PolicyView, resource: str) -> Iterator[Finding]:
        for grant in view.grants:
            if grant.role not in BASIC_ROLES:
                continue
            who, holds = grant.member.text, f"holds basic role {grant.held}"
            if grant.member.type == "serviceAccount":
                account = classify_service_account(grant.member.value)
                if account.google:
                    reason = f"{who}, {account.what}, {holds}: exempt"
                    yield Finding(resource, Verdict.PASS, reason, grant.subject)
                    continue
                who += f", {account.what},"
            who += " " + holds
            entry = privileged.get(grant.member.text.lower())
            if entry is not None:
                reason = f"{who}; listed in iam.privileged_members ({entry})"
                yield Finding(resource, Verdict.PASS, reason, grant.subject)
            else:
                reason = f"{who} and is not in iam.privileged_members ({_listed(params.iam.privileged_members)})"
                yield Finding(resource, Verdict.FAIL, reason, grant.subject)

    return _judge(snapshot, lambda role: role in BASIC_ROLES, judge)


@control(
    id="IAM-02", title="Service accounts hold no admin roles", area=Area.IAM, severity=Severity.HIGH,
    kinds=(Kind.IAM_POLICY,), unit="grant",
    references=References(cis=(("4.0", "1.5"), ("5.0", "1.6")), soc2=("CC6.3",), sha="ADMIN_SERVICE_ACCOUNT"),
    rationale="A service account's key or token is a credential that lives in code, CI systems and VMs, "
    "where it leaks more easily than a person's; whoever obtains it acts with all its roles and no second "
    "factor. A service account with Owner, Editor or an *Admin role turns one leaked key, or one "
    "compromised VM running as it, into control of the project. The default Compute Engine and App "
    "Engine accounts get Editor automatically, which is exactly this risk (CIS 4.1).",
    remediation="Give the service account only the narrow roles its workload uses and remove the admin "
    "role: `gcloud projects remove-iam-policy-binding PROJECT --member=serviceAccount:SA_EMAIL "
    "--role=ROLE`; stop default accounts getting Editor with the organisation policy "
    "`constraints/iam.automaticIamGrantsForDefaultServiceAccounts`.",
    holds='No user-managed service account holds Owner, Editor or an admin role on the project.',
    logic='One result per grant to a `serviceAccount:` member. A Google-managed service agent (recognised '
        'by its Google-owned domain, and in `gcp-sa-*` domains by a `service-NUMBER` name) passes as '
        'exempt. Otherwise the grant fails when its role is `roles/owner`, `roles/editor`, or a role '
        'whose id ends in `Admin` or `admin` (custom roles included), and passes for any other role. The '
        'default Compute Engine and App Engine accounts are user-managed and judged like any other. '
        'Grants to other member types are out of scope.',
    unknown=_POLICY_UNKNOWN,
)
def iam02_admin_service_accounts(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails each grant of roles/owner, roles/editor or a role whose id ends in `Admin`/`admin` to a
    user-managed service account; every other service account grant passes, service agents as exempt."""

    def judge(view: PolicyView, resource: str) -> Iterator[Finding]:
        for grant in view.grants:
            if grant.member.type != "serviceAccount":
                continue
            account = classify_service_account(grant.member.value)
            who = f"{grant.member.text}, {account.what}, holds {grant.held}"
            if account.google:
                yield Finding(resource, Verdict.PASS, f"{who}: exempt", grant.subject)
            elif not is_admin_role(grant.role):
                yield Finding(resource, Verdict.PASS, f"{who}, not an admin role", grant.subject)
            else:
                why = (
                    "a basic role, counted as admin"
                    if grant.role in (OWNER, EDITOR)
                    else f"an admin role (its id {role_id(grant.role)} ends in {role_id(grant.role)[-5:]})"
                )
                yield Finding(resource, Verdict.FAIL, f"{who}, {why}", grant.subject)

    return _judge(snapshot, is_admin_role, judge)


@control(
    id="IAM-03", title="No project-wide service-account impersonation", area=Area.IAM, severity=Severity.HIGH,
    kinds=(Kind.IAM_POLICY,), unit="grant",
    references=References(cis=(("4.0", "1.6"), ("5.0", "1.7")), soc2=("CC6.3",),
                          sha="OVER_PRIVILEGED_SERVICE_ACCOUNT_USER"),
    rationale="Service Account User and Service Account Token Creator granted on the project apply to "
    "every service account in it, present and future: the holder can run workloads as, or mint tokens "
    "for, the most privileged of them, and so gains all of their access. These roles should be granted "
    "on the one service account that needs to be used, never on the project.",
    remediation="Grant the role on the one service account that is needed: `gcloud iam service-accounts "
    "add-iam-policy-binding SA_EMAIL --member=MEMBER --role=roles/iam.serviceAccountUser`, then remove the "
    "project-level grant: `gcloud projects remove-iam-policy-binding PROJECT --member=MEMBER "
    "--role=roles/iam.serviceAccountUser` (likewise for roles/iam.serviceAccountTokenCreator).",
    holds='No member holds Service Account User or Service Account Token Creator on the whole project.',
    logic='One result per project-level grant of `roles/iam.serviceAccountUser` or '
        '`roles/iam.serviceAccountTokenCreator`; every such grant fails, whoever holds it (service agents '
        'are not exempt: the grant still reaches every service account of the project), conditional '
        'grants included. Grants on individual service accounts are not in the project policy and are out '
        'of scope.',
    unknown=_POLICY_UNKNOWN,
)
def iam03_project_impersonation(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails each project-level grant of roles/iam.serviceAccountUser or
    roles/iam.serviceAccountTokenCreator, whoever holds it (service agents included)."""
    roles = {SA_USER: "act as", SA_TOKEN_CREATOR: "mint tokens for"}

    def judge(view: PolicyView, resource: str) -> Iterator[Finding]:
        for grant in view.grants:
            if grant.role not in roles:
                continue
            agent = ""
            if grant.member.type == "serviceAccount" and classify_service_account(grant.member.value).google:
                agent = " (a Google-managed service agent: no exemption for this control)"
            reason = (
                f"{grant.member.text}{agent} holds {grant.held} on the whole project: it can {roles[grant.role]} "
                "every service account of the project"
            )
            yield Finding(resource, Verdict.FAIL, reason, grant.subject)

    return _judge(snapshot, lambda role: role in roles, judge)


# --- per member: IAM-04 to IAM-07 --------------------------------------------------------------


def _separation(
    snapshot: Snapshot, duty: tuple[str, ...], other: tuple[str, ...], what: str
) -> Iterator[Finding]:
    """One result per member holding a role of `duty` or `other`: holding one of each fails."""
    roles = (*duty, *other)

    def judge(view: PolicyView, resource: str) -> Iterator[Finding]:
        for grants in view.by_member(lambda grant: grant.role in roles).values():
            member = grants[0].member.text
            first = [g for g in grants if g.role in duty]
            second = [g for g in grants if g.role in other]
            if first and second:
                reason = f"{member} holds {held(first)} and {held(second)}: {what}"
                yield Finding(resource, Verdict.FAIL, reason, member)
            else:
                missing = " or ".join(other if first else duty)
                reason = f"{member} holds {held(first or second)} but not {missing}"
                yield Finding(resource, Verdict.PASS, reason, member)

    return _judge(snapshot, lambda role: role in roles, judge)


@control(
    id="IAM-04", title="Separation of duties for service accounts", area=Area.IAM, severity=Severity.MEDIUM,
    kinds=(Kind.IAM_POLICY,), unit="member",
    references=References(cis=(("4.0", "1.8"), ("5.0", "1.9")), soc2=("CC6.3",), sha="SERVICE_ACCOUNT_ROLE_SEPARATION"),
    rationale="Whoever can both create service accounts (Service Account Admin) and act as them (Service "
    "Account User) can mint an identity, have it granted access, and use it, with no second person "
    "involved. Separating the two duties means that creating a powerful identity and using it always "
    "takes two people, as CIS and Security Health Analytics require; holding either role alone passes.",
    remediation="Give the two duties to different people: `gcloud projects remove-iam-policy-binding PROJECT "
    "--member=MEMBER --role=roles/iam.serviceAccountUser` (or `--role=roles/iam.serviceAccountAdmin`).",
    holds='No member holds both Service Account Admin and Service Account User on the project.',
    logic='One result per member holding `roles/iam.serviceAccountAdmin` or `roles/iam.serviceAccountUser` '
        '(members compared case-insensitively, conditional grants included): holding both fails, holding '
        'one passes. Members holding neither are out of scope.',
    unknown=_POLICY_UNKNOWN,
)
def iam04_service_account_duties(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a member holding both roles/iam.serviceAccountAdmin and roles/iam.serviceAccountUser
    (either alone passes: CIS and SHA, not Prowler's stricter reading)."""
    what = "it can create service accounts and act as them"
    return _separation(snapshot, (SA_ADMIN,), (SA_USER,), what)


@control(
    id="IAM-05", title="Separation of duties for keys", area=Area.IAM, severity=Severity.MEDIUM,
    kinds=(Kind.IAM_POLICY,), unit="member",
    references=References(cis=(("4.0", "1.11"), ("5.0", "1.12")), soc2=("CC6.3",), sha="KMS_ROLE_SEPARATION"),
    rationale="Cloud KMS Admin manages keys (rotation, destruction, access policies); the CryptoKey "
    "Encrypter/Decrypter roles use them. One person with both can grant themselves access to any key "
    "and decrypt what it protects, or destroy the key and the data with it, unnoticed. Key management "
    "and key use must be held by different people.",
    remediation="Give key administration and key use to different people: `gcloud projects "
    "remove-iam-policy-binding PROJECT --member=MEMBER --role=roles/cloudkms.admin` (or the "
    "roles/cloudkms.cryptoKey* role).",
    holds='No member holds both Cloud KMS Admin and a CryptoKey Encrypter/Decrypter role on the project.',
    logic='One result per member holding `roles/cloudkms.admin` or one of '
        '`roles/cloudkms.cryptoKeyEncrypterDecrypter`, `roles/cloudkms.cryptoKeyEncrypter`, '
        '`roles/cloudkms.cryptoKeyDecrypter` on the project: holding the admin role and any of the three '
        'fails, holding one side only passes. Members holding none are out of scope; grants on key rings '
        'and keys are not in the project policy.',
    unknown=_POLICY_UNKNOWN,
)
def iam05_kms_duties(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a member holding roles/cloudkms.admin and any of roles/cloudkms.cryptoKeyEncrypterDecrypter,
    cryptoKeyEncrypter or cryptoKeyDecrypter."""
    return _separation(snapshot, (KMS_ADMIN,), KMS_CRYPTO, "it can manage keys and use them")


@control(
    id="IAM-06", title="Members come from the organisation's domains", area=Area.IAM, severity=Severity.HIGH,
    kinds=(Kind.IAM_POLICY,), unit="member", params=("iam.allowed_domains",),
    references=References(cis=(("4.0", "1.1"), ("5.0", "1.2")), soc2=("CC6.1", "CC6.2"), sha="NON_ORG_IAM_MEMBER"),
    rationale="Accounts outside the organisation's domains, personal Gmail accounts above all, escape its "
    "identity controls: no enforced two-step verification, no offboarding when someone leaves, no "
    "audit of who really uses them. allUsers and allAuthenticatedUsers go further and grant access to "
    "anyone on the internet. Access should go to identities the organisation manages.",
    remediation="Remove the outside member: `gcloud projects remove-iam-policy-binding PROJECT "
    "--member=user:someone@gmail.com --role=ROLE --all`, and grant an identity of the organisation "
    "instead; if the domain is the organisation's, list it in `iam.allowed_domains`. Enforce with the "
    "organisation policy `constraints/iam.allowedPolicyMemberDomains` (domain restricted sharing).",
    holds="Every person, group or domain granted access on the project belongs to one of the organisation's "
        'domains, and nothing is granted to `allUsers` or `allAuthenticatedUsers`.',
    logic='One result per member of the policy other than service accounts and `deleted:` members (IAM-02 '
        'and IAM-07 judge those). `allUsers` and `allAuthenticatedUsers` fail. Workload and workforce '
        'identity federation principals (`principal://`, `principalSet://`) pass as out of scope. For '
        "`user:`, `group:` and `domain:` members the email's or the domain's domain is compared "
        'case-insensitively: with `iam.allowed_domains` set, it must be listed; with it empty, only '
        'consumer domains (`gmail.com`, `googlemail.com`) fail.',
    unknown=_POLICY_UNKNOWN,
)
def iam06_member_domains(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a user:, group: or domain: member whose domain is not in `iam.allowed_domains` (with none
    configured: a consumer domain), and allUsers/allAuthenticatedUsers. Federation principals pass as
    out of scope; service accounts and deleted: members get no result (IAM-02, IAM-07)."""
    allowed = {domain.strip().lower().lstrip("@") for domain in params.iam.allowed_domains}
    public = {"allUsers": "anyone on the internet", "allAuthenticatedUsers": "anyone with a Google account"}

    def verdict(kind: str, domain: str) -> tuple[Verdict, str]:
        if allowed:
            ok, listed = domain in allowed, _listed(params.iam.allowed_domains)
            return (Verdict.PASS, f"{kind} {domain} is in iam.allowed_domains ({listed})") if ok else (
                Verdict.FAIL, f"{kind} {domain} is not in iam.allowed_domains ({listed})")
        if domain in CONSUMER_DOMAINS:
            return Verdict.FAIL, f"{kind} {domain} is a consumer domain ({_NO_DOMAINS})"
        return Verdict.PASS, f"{kind} {domain} is not a consumer domain ({_NO_DOMAINS})"

    def judge(view: PolicyView, resource: str) -> Iterator[Finding]:
        in_scope = view.by_member(lambda grant: grant.member.type not in ("serviceAccount", "deleted"))
        for grants in in_scope.values():
            member, roles = grants[0].member, held(grants)
            if member.type in public:
                reason = f"{member.text} ({public[member.type]}) holds {roles}"
                yield Finding(resource, Verdict.FAIL, reason, member.text)
            elif member.type in ("principal", "principalSet"):
                reason = (
                    f"{member.text} is a workload or workforce identity federation principal, out of this "
                    f"control's scope; holds {roles}"
                )
                yield Finding(resource, Verdict.PASS, reason, member.text)
            else:
                kind = "the whole domain" if member.type == "domain" else "its domain"
                outcome, why = verdict(kind, member.domain)
                yield Finding(resource, outcome, f"{member.text} holds {roles}; {why}", member.text)

    return _judge(snapshot, _every_role, judge)


@control(
    id="IAM-07", title="No grants to deleted principals", area=Area.IAM, severity=Severity.LOW,
    kinds=(Kind.IAM_POLICY,), unit="member",
    references=References(soc2=("CC6.2",)),
    rationale="When a user, group or service account is deleted, its grants stay in the policy as "
    "`deleted:` members. They give nobody access today, but they apply again if the principal is "
    "undeleted, they hide who really had access from reviews, and they show that offboarding leaves "
    "access behind. Removing them keeps the policy a true record of who may do what.",
    remediation="Remove the deleted member from every role: `gcloud projects remove-iam-policy-binding "
    "PROJECT --member='deleted:user:EMAIL?uid=UID' --role=ROLE --all`.",
    holds='No `deleted:` principal is still granted a role on the project.',
    logic='One result per `deleted:` member of the project policy, naming every role it still holds; each '
        'fails. Live members are out of scope (no result).',
    unknown=_POLICY_UNKNOWN,
)
def iam07_deleted_principals(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails each deleted: member still in the policy, naming the roles it holds."""

    def judge(view: PolicyView, resource: str) -> Iterator[Finding]:
        for grants in view.by_member(lambda grant: grant.member.type == "deleted").values():
            member = grants[0].member.text
            reason = f"{member} is a deleted principal still granted {held(grants)}"
            yield Finding(resource, Verdict.FAIL, reason, member)

    return _judge(snapshot, _every_role, judge)
