"""What a project IAM policy grants, and the shared facts about its members and roles.

`read_policy` turns the one Policy dict of `Kind.IAM_POLICY` (read with
`requestedPolicyVersion: 3`) into grants, one per (role, member, condition), and into
problems: whatever cannot be read with certainty (a binding without a role, a member
without a type prefix, a role mangled as `roles/x_withcond_…` because the policy was
read below version 3, a policy `version` other than 3 beside conditional bindings).
Every control reports each problem that could hide one of its findings as `error`.

Roles are compared by full name (`roles/owner`; a custom `projects/p/roles/owner` is
not Owner). Member emails are compared case-insensitively, as email addresses are.
Google-managed service agents are recognised by domain, from one list:
`GOOGLE_SERVICE_AGENT_DOMAINS` (see `is_service_agent`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from checks.snapshot import Kind, Snapshot

OWNER, EDITOR, VIEWER = "roles/owner", "roles/editor", "roles/viewer"
BASIC_ROLES = (OWNER, EDITOR, VIEWER)
CONSUMER_DOMAINS = ("gmail.com", "googlemail.com")

# The Google-owned domains of service agents: the ONE list. `*` stands for one DNS label
# (letters, digits, hyphens), never a dot, so that a domain-scoped customer project
# (`example.com:gcp-sa-x` -> gcp-sa-x.example.com.iam.gserviceaccount.com) cannot match.
# A customer project's own domain (PROJECT.iam.gserviceaccount.com) is never listed.
GOOGLE_SERVICE_AGENT_DOMAINS: tuple[str, ...] = (
    "gcp-sa-*.iam.gserviceaccount.com",
    "compute-system.iam.gserviceaccount.com",
    "container-engine-robot.iam.gserviceaccount.com",
    "cloudservices.gserviceaccount.com",
    "cloudbuild.gserviceaccount.com",
    "serverless-robot-prod.iam.gserviceaccount.com",
    "containerregistry.iam.gserviceaccount.com",
    "dataflow-service-producer-prod.iam.gserviceaccount.com",
    "container-analysis.iam.gserviceaccount.com",
    "gs-project-accounts.iam.gserviceaccount.com",
    "bigquery-encryption.iam.gserviceaccount.com",
    "dataproc-accounts.iam.gserviceaccount.com",
    "cloudcomposer-accounts.iam.gserviceaccount.com",
    "gcf-admin-robot.iam.gserviceaccount.com",
    "cloud-redis.iam.gserviceaccount.com",
    "cloud-filer.iam.gserviceaccount.com",
    "cloud-tpu.iam.gserviceaccount.com",
    "dlp-api.iam.gserviceaccount.com",
    "firebase-rules.iam.gserviceaccount.com",
    "firebase-sa-management.iam.gserviceaccount.com",
    "service-networking.iam.gserviceaccount.com",
    "sourcerepo-service-accounts.iam.gserviceaccount.com",
    "security-center-api.iam.gserviceaccount.com",
    "storage-transfer-service.iam.gserviceaccount.com",
    "remotebuildexecution.iam.gserviceaccount.com",
    "endpoints-portal.iam.gserviceaccount.com",
    "cloud-ml.google.com.iam.gserviceaccount.com",
    "gae-api-prod.google.com.iam.gserviceaccount.com",
    "genomics-api.google.com.iam.gserviceaccount.com",
)
_AGENT_DOMAINS = tuple(
    re.compile("^" + re.escape(pattern).replace(r"\*", "[a-z0-9-]+") + "$") for pattern in GOOGLE_SERVICE_AGENT_DOMAINS
)
# In the wildcard domains (gcp-sa-*) a service agent is always named after the project, folder
# or organisation number it serves; any other name there is not treated as Google's.
_AGENT_LOCAL = re.compile(r"^service-(?:org-|folder-)?\d+$")
_DEFAULT_COMPUTE = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")
_APP_ENGINE = re.compile(r"^[^@]+@appspot\.gserviceaccount\.com$")
_ROLE = re.compile(r"^(?:(?:projects|organizations)/[^/\s]+/)?roles/[A-Za-z0-9_.]+$")
_EMAIL_TYPES = ("user", "group", "serviceAccount")
_PREFIXED = (*_EMAIL_TYPES, "domain", "deleted")
_WHOLE = ("allUsers", "allAuthenticatedUsers")
FEDERATION = ("principal://", "principalSet://")
_KNOWN = ", ".join(f"{t}:" for t in _PREFIXED) + ", principal://, principalSet://, allUsers, allAuthenticatedUsers"


def role_id(role: str) -> str:
    """The last path segment of a role name: `roles/bigquery.admin` -> `bigquery.admin`."""
    return role.rsplit("/", 1)[-1]


def is_admin_role(role: str) -> bool:
    """IAM-02's admin role: Owner, Editor, or a role whose id ends in `Admin` or `admin`."""
    return role in (OWNER, EDITOR) or role_id(role).endswith(("Admin", "admin"))


@dataclass(frozen=True, slots=True)
class Member:
    """One IAM principal as the policy writes it (`user:a@x.be`), split at its type prefix."""

    text: str
    type: str  # user, group, serviceAccount, domain, deleted, principal, principalSet, allUsers, ...
    value: str  # what follows the prefix: an email, a domain, a deleted member, a federation URI

    @property
    def key(self) -> str:
        """Identity for grouping: emails and domains compare case-insensitively, URIs do not."""
        return self.text if self.type in ("principal", "principalSet") else self.text.lower()

    @property
    def domain(self) -> str:
        """The domain of a user, group or service account email, or of a `domain:` member."""
        return self.value.rsplit("@", 1)[-1].lower()


def parse_member(text: str) -> Member:
    """Split `text` into type and value; raises ValueError naming what is wrong."""
    if text in _WHOLE:
        return Member(text, text, "")
    for prefix in FEDERATION:
        if text.startswith(prefix) and len(text) > len(prefix):
            return Member(text, prefix.removesuffix("://"), text)
    kind, colon, value = text.partition(":")
    if not colon:
        raise ValueError(f"member {text!r} has no type prefix ({_KNOWN})")
    if kind not in _PREFIXED:
        raise ValueError(f"member {text!r} has an unknown type {kind + ':'!r} (known: {_KNOWN})")
    if kind in _EMAIL_TYPES and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(f"member {text!r} is not {kind}:EMAIL")
    if not value.strip():
        raise ValueError(f"member {text!r} names nobody after {kind + ':'!r}")
    return Member(text, kind, value)


@dataclass(frozen=True, slots=True)
class AccountClass:
    """What a service account is: a Google-managed service agent, or user-managed (and why)."""

    google: bool
    what: str


def classify_service_account(email: str) -> AccountClass:
    """Google-owned domains are service agents, all else is not."""
    email = email.lower()
    local, _, domain = email.rpartition("@")
    for pattern, compiled in zip(GOOGLE_SERVICE_AGENT_DOMAINS, _AGENT_DOMAINS, strict=True):
        if compiled.match(domain):
            if "*" in pattern and not _AGENT_LOCAL.match(local):
                continue
            listed = "" if pattern == domain else f", matching {pattern}"
            return AccountClass(True, f"a Google-managed service agent ({domain} is Google-owned{listed})")
    if _DEFAULT_COMPUTE.match(email):
        return AccountClass(False, "the default Compute Engine service account (user-managed)")
    if _APP_ENGINE.match(email):
        return AccountClass(False, "the App Engine default service account (user-managed)")
    if domain.endswith(".iam.gserviceaccount.com"):
        project = domain.removesuffix(".iam.gserviceaccount.com")
        lookalike = " named like a service agent but" if local.startswith("service-") else ""
        return AccountClass(False, f"a user-managed service account{lookalike} in project {project}'s domain")
    return AccountClass(False, f"a service account in {domain}, not a Google-owned domain: treated as user-managed")


@dataclass(frozen=True, slots=True)
class Grant:
    """One (role, member, condition) of the policy: a conditional binding is still a grant."""

    role: str
    member: Member
    condition: str = ""  # the condition's title (its expression when it has no title)

    @property
    def subject(self) -> str:
        """`roles/owner user:a@x.be`, with ` if TITLE` for a conditional grant."""
        return f"{self.role} {self.member.text}" + (f" if {self.condition}" if self.condition else "")

    @property
    def held(self) -> str:
        """The role as a reason names it: `roles/owner under condition "TITLE"`."""
        return self.role + (f' under condition "{self.condition}"' if self.condition else "")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something of the policy that cannot be read with certainty: judged as `error`."""

    subject: str
    reason: str
    role: str | None = None  # the (readable) role it concerns; None: it could concern any role


@dataclass(frozen=True, slots=True)
class PolicyView:
    grants: tuple[Grant, ...]
    problems: tuple[Problem, ...]

    def problems_for(self, relevant: Callable[[str], bool]) -> list[Problem]:
        """The problems that could hide a grant of a role `relevant` says matters."""
        return [p for p in self.problems if p.role is None or relevant(p.role)]

    def by_member(self, relevant: Callable[[Grant], bool]) -> dict[str, list[Grant]]:
        """The `relevant` grants, grouped by member (case-insensitively), in policy order."""
        members: dict[str, list[Grant]] = {}
        for grant in self.grants:
            if relevant(grant):
                members.setdefault(grant.member.key, []).append(grant)
        return members


def held(grants: Iterable[Grant]) -> str:
    """`roles/a, roles/b under condition "x"`: what a member holds, for a reason."""
    return ", ".join(grant.held for grant in grants)


def read_policy(snapshot: Snapshot) -> PolicyView:
    """The grants and problems of the scope's IAM policy (raises `KindUnavailable` if not collected)."""
    policies = snapshot.get(Kind.IAM_POLICY)
    if len(policies) != 1:
        return PolicyView((), (Problem("", f"cannot judge: expected one IAM policy, got {len(policies)}"),))
    return _read(policies[0])


def _read(policy: Any) -> PolicyView:
    if not isinstance(policy, dict):
        return PolicyView((), (Problem("", f"cannot judge: the IAM policy is not an object ({policy!r})"),))
    bindings = policy.get("bindings", [])
    if not isinstance(bindings, list):
        return PolicyView((), (Problem("bindings", f"cannot judge: bindings is not a list ({bindings!r})"),))
    grants: dict[tuple[str, str, str], Grant] = {}
    problems: list[Problem] = list(_version_problems(policy.get("version", 0), bindings))
    for index, binding in enumerate(bindings):
        where = f"bindings[{index}]"
        if not isinstance(binding, dict):
            problems.append(Problem(where, f"cannot judge {where}: not an object ({binding!r})"))
            continue
        role = binding.get("role")
        if not isinstance(role, str) or not role:
            problems.append(Problem(where, f"cannot judge {where}: it has no role (role: {role!r})"))
            continue
        if "_withcond_" in role:
            reason = (
                f"cannot judge {where}: role {role} is a conditional binding mangled by a read below "
                "requestedPolicyVersion 3: its condition is hidden"
            )
            problems.append(Problem(role, reason))
            continue
        if not _ROLE.match(role):
            problems.append(Problem(role, f"cannot judge {where}: {role!r} is not a role name (roles/ID)"))
            continue
        condition = _condition(binding.get("condition"))
        if isinstance(condition, Problem):
            problems.append(Problem(f"{role} {where}.condition", f"cannot judge {where} ({role}): {condition.reason}",
                                    role))
            continue
        members = binding.get("members", [])
        if not isinstance(members, list):
            problems.append(Problem(role, f"cannot judge {where} ({role}): members is not a list ({members!r})", role))
            continue
        for text in members:
            try:
                if not isinstance(text, str):
                    raise ValueError(f"member {text!r} is not a string")
                member = parse_member(text)
            except ValueError as error:
                problems.append(Problem(f"{role} {text}", f"cannot judge {where} ({role}): {error}", role))
                continue
            grant = Grant(role, member, condition)
            grants.setdefault((role, member.key, condition), grant)
    return PolicyView(tuple(grants.values()), tuple(problems))


def _version_problems(version: Any, bindings: list[Any]) -> Iterable[Problem]:
    if isinstance(version, bool) or version not in (0, 1, 3):
        yield Problem("version", f"cannot judge: unknown IAM policy version {version!r} (expected 1 or 3)")
        return
    conditional = [i for i, b in enumerate(bindings) if isinstance(b, dict) and b.get("condition") is not None]
    if conditional and version != 3:
        yield Problem(
            "version",
            f"cannot judge: the policy has version {version} but bindings[{conditional[0]}] has a condition: "
            "conditional policies are only complete when read with requestedPolicyVersion 3",
        )


def _condition(condition: Any) -> str | Problem:
    """The condition's title (or expression): "" for none; a Problem if it is unreadable."""
    if condition is None:
        return ""
    if not isinstance(condition, dict):
        return Problem("", f"condition is not an object ({condition!r})")
    for field in ("title", "expression"):
        value = condition.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return Problem("", f"condition has neither title nor expression ({condition!r})")
