"""Organisation-policy controls (ORG-01 to ORG-03): the preventive guardrails in force for the project.

Each judges the project's **effective** policy of one constraint (`getEffectivePolicy`,
which merges the organisation's, the folders' and the project's as Google enforces them),
read by `checks.rules.orgpolicies`; one result per constraint, named
`//orgpolicy.googleapis.com/projects/P/policies/CONSTRAINT`. A policy the collector did
not read, or rules that cannot be read, give `error`, never `pass`.

Policies prevent; they do not judge what already exists (they do not apply to resources
created before them), which is why the detective controls (REG, DATA, FW-13) stay.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from checks.kernel import JSON, Judgement, Unjudgeable, attempt
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.rules.locations import classify, region_of
from checks.rules.orgpolicies import Rule, bare, enforcement, index, resource_name, rules
from checks.snapshot import Kind, Snapshot

LOCATIONS = "gcp.resourceLocations"
DOMAINS = "iam.allowedPolicyMemberDomains"
_GROUP, _GROUP_SUFFIX, _EXACT = "in:", "-locations", "is:"
# What ORG-01..03 give for a policy they cannot read (their `unknown=`).
_ORG_UNKNOWN = (
    'A constraint whose effective policy was not collected, or whose policy cannot be read (a `spec` or '
    'rule that is not an object, `spec.rules` not a list, `enforce`, `allowAll` or `denyAll` not true or '
    'false, a condition that is not an object, `values.allowedValues` not a list of strings), gives an '
    '`error` for that constraint.'
)


def _one(snapshot: Snapshot, constraint: str, judge: Callable[[JSON, str], Judgement]) -> Finding:
    """The finding about one constraint: its effective policy judged, `error` when absent or unreadable."""
    policies = index(snapshot.get(Kind.ORG_POLICIES))
    name, resource = bare(constraint), resource_name(snapshot.scope, constraint)
    policy = policies.get(name)
    who = f"constraint {name}"
    if policy is None:
        reason = f"{who}: cannot judge: its effective policy was not collected"
        return Finding(resource, Verdict.ERROR, reason, name)
    judged = attempt(judge, policy, who)
    if isinstance(judged, Unjudgeable):
        return Finding(resource, Verdict.ERROR, judged.reason(who), judged.field)
    return judged.at(resource)


def _all_rules(policy: JSON, who: str) -> tuple[list[Rule], Judgement | None]:
    """The policy's rules, and the failure that ends the judgement before any value is read:
    no rule at all, or an `allowAll` in any rule."""
    read = rules(policy)
    if not read:
        return read, Judgement(Verdict.FAIL, f"{who} has no policy (no rule in its effective spec): anything goes")
    for rule in read:
        if rule.flag("allowAll"):
            return read, Judgement(Verdict.FAIL, f"{who} allows every value ({rule.field}: allowAll true)", "allowAll")
    return read, None


# --- ORG-01 ------------------------------------------------------------------------------------


def _location_value(value: str) -> tuple[str, str]:
    """(what `region.allowed` must list, how it reads): `in:europe-west1-locations` and a zone are
    their region; any other group or location is itself (a multi-region: `in:eu-locations` is `eu`)."""
    plain = value.removeprefix(_EXACT)
    if plain.startswith(_GROUP):
        group = plain[len(_GROUP) :]
        if not group.endswith(_GROUP_SUFFIX):
            return group.casefold(), "a value group"
        name = group[: -len(_GROUP_SUFFIX)]
        kind = classify(name)
        return region_of(name).casefold(), f"the {kind} group of {name}" if kind != "location" else "a value group"
    kind = classify(plain)
    if kind == "zone":
        return region_of(plain).casefold(), f"a zone of {region_of(plain)}"
    return plain.casefold(), f"a {kind}"


def _judge_locations(policy: JSON, who: str, allowed: tuple[str, ...]) -> Judgement:
    read, ended = _all_rules(policy, who)
    if ended is not None:
        return ended
    for rule in read:
        if rule.flag("denyAll"):
            why = f"{who} denies every location ({rule.field}: denyAll true): no location allowed, nothing can be "
            why += "created"
            return Judgement(Verdict.FAIL, why, "denyAll")
    values = [item for rule in read for item in rule.values("allowedValues")]
    if not values:
        reason = f"{who} has no values.allowedValues in any rule: every location not denied is allowed"
        return Judgement(Verdict.FAIL, reason, "no allowedValues")
    shown = ", ".join(allowed)
    folded = {entry.casefold() for entry in allowed}
    outside: list[tuple[str, str]] = []
    inside: list[tuple[str, str]] = []
    for field, value in values:
        means, how = _location_value(value)
        (inside if means in folded else outside).append((value, f"{field} {value} ({how})"))
    subject = ", ".join(dict.fromkeys(value for value, _ in outside or inside))
    if outside:
        reason = f"{who} allows locations outside region.allowed ({shown}): {'; '.join(why for _, why in outside)}"
        return Judgement(Verdict.FAIL, reason, subject)
    reason = f"{who} allows only locations within region.allowed ({shown}): {'; '.join(why for _, why in inside)}"
    return Judgement(Verdict.PASS, reason, subject)


@control(
    id="ORG-01", title="New resources can only be created in allowed regions", area=Area.ORG,
    severity=Severity.HIGH, kinds=(Kind.ORG_POLICIES,), params=("region.allowed",), unit="constraint",
    references=References(soc2=("C1.1",)),
    rationale="The region controls find what already sits outside the allowed regions; the organisation "
    "policy constraints/gcp.resourceLocations stops the next one being created there. Without it (or with "
    "allowAll, or a value outside region.allowed, in any rule, conditional ones included), anyone with a "
    "create permission can put customer data in another jurisdiction with one flag.",
    remediation="Allow only the permitted locations on the organisation (or the project): `gcloud org-policies "
    "set-policy policy.yaml` with `name: organizations/ORG_ID/policies/gcp.resourceLocations` and `spec: "
    "{rules: [{values: {allowedValues: [in:europe-west1-locations]}}]}`.",
    holds="The project's effective `gcp.resourceLocations` policy allows only locations within "
        '`region.allowed`.',
    logic="One result for the constraint, read from the project's effective policy (`getEffectivePolicy`: "
        "the organisation's, the folders' and the project's merged as Google enforces them). No rule at "
        'all, a rule with `allowAll: true`, a rule with `denyAll: true`, or no `values.allowedValues` in '
        'any rule fails. Otherwise every allowed value, in every rule (conditional rules included), must '
        'fall within `region.allowed` (case-insensitively): `in:R-locations` and a zone of R count as '
        'region R, any other value group or location as itself (`in:eu-locations` is `eu`, a '
        'multi-region); one value outside fails, naming it.',
    unknown=_ORG_UNKNOWN,
)
def org01_resource_locations(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails unless `gcp.resourceLocations` allows values only, all within `region.allowed`
    (`in:R-locations` and a zone are region R, other groups verbatim); allowAll, denyAll or no rule fail."""
    allowed = params.region.allowed
    yield _one(snapshot, LOCATIONS, lambda policy, who: _judge_locations(policy, who, allowed))


# --- ORG-02 ------------------------------------------------------------------------------------


def _judge_domains(policy: JSON, who: str) -> Judgement:
    read, ended = _all_rules(policy, who)
    if ended is not None:
        return ended
    values = [(field, value.removeprefix(_EXACT)) for rule in read for field, value in rule.values("allowedValues")]
    if not values:
        reason = f"{who} has no values.allowedValues in any rule: members of any domain can be granted access"
        return Judgement(Verdict.FAIL, reason, "no allowedValues")
    ids = ", ".join(dict.fromkeys(value for _, value in values))
    reason = f"{who} allows members of the listed customers only (values.allowedValues: {ids})"
    return Judgement(Verdict.PASS, reason, ids)


@control(
    id="ORG-02", title="Only the organisation's domains can be granted access", area=Area.ORG,
    severity=Severity.HIGH, kinds=(Kind.ORG_POLICIES,), unit="constraint", references=References(soc2=("CC6.1",)),
    rationale="IAM-06 finds grants to outside identities after the fact. Domain restricted sharing "
    "(constraints/iam.allowedPolicyMemberDomains) stops them being made: without it a single grant to a "
    "personal account or allUsers hands data to someone the organisation cannot offboard or audit.",
    remediation="Restrict members to the organisation's customer id (`gcloud organizations describe ORG_ID "
    "--format='value(owner.directoryCustomerId)'`): `gcloud org-policies set-policy policy.yaml` with `name: "
    "organizations/ORG_ID/policies/iam.allowedPolicyMemberDomains` and `spec: {rules: [{values: "
    "{allowedValues: [C0xxxxxxx]}}]}`.",
    holds="The project's effective `iam.allowedPolicyMemberDomains` policy restricts members to listed "
        'customers.',
    logic="One result for the constraint, from the project's effective policy. No rule at all, any rule "
        'with `allowAll: true`, or no `values.allowedValues` in any rule fails; otherwise it passes, '
        'naming the allowed customer ids (written with or without `is:`). Which customer ids belong to '
        'the organisation is not checked: the API gives ids, not domains.',
    unknown=_ORG_UNKNOWN,
)
def org02_member_domains(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails unless `iam.allowedPolicyMemberDomains` has non-empty `values.allowedValues` (customer
    ids, `is:` or not) and no rule with `allowAll`."""
    yield _one(snapshot, DOMAINS, _judge_domains)


# --- ORG-03 ------------------------------------------------------------------------------------


def _judge_enforced(policy: JSON, who: str, constraint: str) -> Judgement:
    state = enforcement(policy, constraint)
    return Judgement(Verdict.PASS if state.enforced else Verdict.FAIL, f"{who} {state.why}", bare(constraint))


@control(
    id="ORG-03", title="Preventive guardrails are enforced", area=Area.ORG, severity=Severity.MEDIUM,
    kinds=(Kind.ORG_POLICIES,), params=("org.required_constraints",), unit="constraint",
    references=References(soc2=("CC6.6",)),
    rationale="Boolean organisation policies turn whole classes of mistakes into refused API calls: no "
    "default network with its open rules, OS Login instead of project-wide SSH keys, no downloadable "
    "service-account keys, no public or ACL-governed buckets, no public Cloud SQL. A guardrail enforced "
    "only under a condition leaves the rest unguarded, so only an unconditional enforce counts.",
    remediation="Enforce the constraint on the organisation: `gcloud resource-manager org-policies "
    "enable-enforce CONSTRAINT --organization=ORG_ID` (or `--project=PROJECT`), and remove any project "
    "policy that resets or unenforces it: `gcloud org-policies reset CONSTRAINT --project=PROJECT`.",
    holds='Every boolean constraint listed in `org.required_constraints` is enforced on the project without '
        'a condition.',
    logic='One result per constraint of `org.required_constraints` (names with or without `constraints/`, '
        "duplicates judged once), from the project's effective policy: it passes when a rule of its spec "
        'has `enforce: true` and no `condition`. A rule enforced only under a condition, a spec with no '
        'rule (no policy anywhere above the project), or rules without `enforce: true` fail, saying '
        'which.',
    unknown=_ORG_UNKNOWN,
)
def org03_guardrails(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """One result per constraint of `org.required_constraints`: fails unless its effective policy
    has a rule with `enforce: true` and no condition."""
    for constraint in dict.fromkeys(bare(name) for name in params.org.required_constraints):
        yield _one(snapshot, constraint, functools.partial(_judge_enforced, constraint=constraint))
