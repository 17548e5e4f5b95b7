"""Cloud Storage controls, one result per bucket: FW-13 (not public), DATA-02 (uniform access),
DATA-03 (public access prevention) and REG-08 (location within `region.allowed`).

Each control keeps its own area (so dashboards stay grouped by concern) but they share one
reading of a bucket, `checks.rules.buckets`. A bucket whose public access prevention is
`inherited` (or its legacy spellings) follows the organisation policy
`storage.publicAccessPrevention`: FW-13 and DATA-03 count it as enforced only where that
policy is enforced for the scope (ORG-03's judgement), so both read the orgPolicies kind.
Locations compare case-insensitively (`EUROPE-WEST1`); multi- and dual-regions (`EU`,
`EUR4`) pass only where listed in `region.allowed`, and a configurable dual-region is judged
by its `customPlacementConfig.dataLocations[]` alone.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.kernel import JSON, Judgement, Unjudgeable, attempt
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.rules.buckets import per_bucket, prevention, public_grants, uniform_access
from checks.rules.locations import Location, classify, judge_locations, region_of
from checks.rules.orgpolicies import Enforcement, enforcement, index
from checks.snapshot import Kind, Snapshot

PREVENTION_CONSTRAINT = "storage.publicAccessPrevention"
_PAP_FIX = "`gcloud storage buckets update gs://BUCKET --public-access-prevention`"


def _org_prevention(snapshot: Snapshot) -> Enforcement | Unjudgeable:
    """Whether the organisation policy enforces public access prevention for the scope."""
    policies = index(snapshot.get(Kind.ORG_POLICIES))
    return attempt(enforcement, policies.get(PREVENTION_CONSTRAINT), PREVENTION_CONSTRAINT)


def _prevented(bucket: JSON, org: Enforcement | Unjudgeable) -> tuple[bool, str]:
    """(public access is prevented, why): enforced on the bucket, or inherited from an enforced policy."""
    own = prevention(bucket)
    if own.enforced:
        return True, own.shown
    if isinstance(org, Unjudgeable):
        raise Unjudgeable(org.field, f"{own.shown}, and the organisation policy cannot be read: {org.message}")
    return org.enforced, f"{own.shown}, and the organisation policy {PREVENTION_CONSTRAINT} {org.why}"


# --- FW-13 -------------------------------------------------------------------------------------


@control(
    id="FW-13", title="No bucket is public", logic_version=2, area=Area.FW, severity=Severity.CRITICAL,
    kinds=(Kind.BUCKETS, Kind.ORG_POLICIES), unit="bucket",
    references=References(cis=(("4.0", "5.1"), ("5.0", "5.1")), soc2=("CC6.1", "CC6.6"), sha="PUBLIC_BUCKET_ACL"),
    rationale="A binding to allUsers or allAuthenticatedUsers publishes every object of the bucket to "
    "anyone on the internet (allAuthenticatedUsers is any Google account, not the organisation's). Public "
    "access prevention, on the bucket or inherited from an enforced organisation policy, makes such "
    "bindings do nothing; anywhere else they are live.",
    remediation="Remove the public members: `gcloud storage buckets remove-iam-policy-binding gs://BUCKET "
    "--member=allUsers --role=ROLE`, and prevent it for good: " + _PAP_FIX + ".",
    holds="No bucket grants `allUsers` or `allAuthenticatedUsers` a role, unless public access prevention "
    "makes those bindings do nothing.",
    logic="The bindings are those of the bucket's IAM policy (read at version 3 by the collector, nested under "
    "`iamPolicy`; a policy without `bindings` has none): each member `allUsers` or "
    "`allAuthenticatedUsers` of any binding, conditional bindings included (the reason names the "
    "condition), is a public grant. Without one the bucket passes. With one, "
    "`iamConfiguration.publicAccessPrevention` decides: `enforced` passes, the grants doing nothing; "
    "`inherited`, its legacy spelling `unspecified`, or the field absent (the API default) pass only "
    "where the project's effective organisation policy `storage.publicAccessPrevention` has a rule with "
    "`enforce: true` and no `condition` (a conditional rule does not count); otherwise the bucket fails. "
    "Legacy bucket and object ACLs are not read (DATA-02 asks for them to be off).",
    unknown="An `error`, naming the field, when `iamPolicy` is absent (it was not read) or not an "
    "object, `iamPolicy.bindings` is not a "
    "list, or a binding's `members` is not a list; for a bucket with a public grant, also when "
    "`iamConfiguration` is not an object or `publicAccessPrevention` is not `enforced`, `inherited` or "
    "`unspecified`, and, where prevention is inherited, when the effective policy of "
    "`storage.publicAccessPrevention` was not collected or cannot be read (`spec`, `spec.rules`, a "
    "rule's `enforce` or `condition`). A listing that failed makes the whole control `error`.",
)
def fw13_public_buckets(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a bucket whose IAM policy grants allUsers or allAuthenticatedUsers, unless public access
    prevention is enforced on it (or inherited where `storage.publicAccessPrevention` is enforced)."""
    org = _org_prevention(snapshot)

    def judge(bucket: JSON, who: str) -> Judgement:
        grants = public_grants(bucket)
        if not grants:
            return Judgement(Verdict.PASS, f"{who}: no binding grants allUsers or allAuthenticatedUsers")
        listed = "; ".join(grants)
        prevented, why = _prevented(bucket, org)
        if prevented:
            return Judgement(Verdict.PASS, f"{who} grants {listed}, but these bindings do nothing: {why}", listed)
        return Judgement(Verdict.FAIL, f"{who} is public: it grants {listed} ({why})", listed)

    return per_bucket(snapshot.get(Kind.BUCKETS), judge)


# --- DATA-02 -----------------------------------------------------------------------------------


@control(
    id="DATA-02", title="Buckets use uniform bucket-level access", area=Area.DATA, severity=Severity.MEDIUM,
    kinds=(Kind.BUCKETS,), unit="bucket", references=References(cis=(("4.0", "5.2"), ("5.0", "5.2")), soc2=("CC6.1",)),
    rationale="With fine-grained access, object ACLs grant access beside IAM: a single object can be made "
    "public or shared with anyone, invisible to the bucket's IAM policy and to every review of it. Uniform "
    "bucket-level access turns ACLs off, so IAM alone decides who reads the data.",
    remediation="Turn on uniform bucket-level access (after moving any ACL grants into IAM): `gcloud storage "
    "buckets update gs://BUCKET --uniform-bucket-level-access`.",
    holds='A Cloud Storage bucket uses uniform bucket-level access, so IAM alone grants access.',
    logic='One result per bucket. `iamConfiguration.uniformBucketLevelAccess.enabled` decides; when that '
        'field is absent, the legacy `iamConfiguration.bucketPolicyOnly.enabled` does; with neither (or '
        "`enabled` absent) the API's default applies: off, which fails. Only `true` passes.",
    unknown='An `iamConfiguration`, `uniformBucketLevelAccess` or `bucketPolicyOnly` that is not an object, '
        'or an `enabled` that is not true or false, gives an `error` for the bucket; buckets that could '
        'not be listed give one `error` for the project.',
)
def data02_uniform_access(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a bucket without `iamConfiguration.uniformBucketLevelAccess.enabled: true` (or the legacy
    `bucketPolicyOnly.enabled`)."""

    def judge(bucket: JSON, who: str) -> Judgement:
        enabled, shown = uniform_access(bucket)
        if enabled:
            return Judgement(Verdict.PASS, f"{who} uses uniform bucket-level access ({shown})")
        return Judgement(Verdict.FAIL, f"{who} lets object ACLs grant access beside IAM ({shown})")

    return per_bucket(snapshot.get(Kind.BUCKETS), judge)


# --- DATA-03 -----------------------------------------------------------------------------------


@control(
    id="DATA-03", title="Buckets enforce public access prevention", area=Area.DATA, severity=Severity.MEDIUM,
    kinds=(Kind.BUCKETS, Kind.ORG_POLICIES), unit="bucket", references=References(soc2=("CC6.6",)),
    rationale="Public access prevention refuses any grant to allUsers or allAuthenticatedUsers, by IAM or "
    "by ACL, before it is made: a bucket that is private today stays private after a mistaken command. A "
    "bucket set to inherited is protected only where the organisation policy "
    "storage.publicAccessPrevention is enforced.",
    remediation="Enforce it on the bucket: " + _PAP_FIX + ", or for every bucket at once: `gcloud "
    "resource-manager org-policies enable-enforce storage.publicAccessPrevention --organization=ORG_ID`.",
    holds='A Cloud Storage bucket refuses public grants: public access prevention is enforced on it or '
        'inherited from an enforced organisation policy.',
    logic='One result per bucket. `iamConfiguration.publicAccessPrevention: enforced` passes. `inherited`, '
        "its legacy spelling `unspecified`, or the field absent (the API's default: inherited) pass only "
        "when the project's effective policy of `storage.publicAccessPrevention` is enforced by a rule "
        "with `enforce: true` and no condition (ORG-03's reading), and fail otherwise, saying why the "
        'policy does not count.',
    unknown='A `publicAccessPrevention` value other than enforced, inherited or unspecified, an '
        '`iamConfiguration` that is not an object, or, for a bucket that inherits, an organisation policy '
        'that was not collected or cannot be read, gives an `error` for the bucket.',
)
def data03_public_access_prevention(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a bucket whose `iamConfiguration.publicAccessPrevention` is not `enforced`, unless it is
    `inherited` (or `unspecified`, or absent) where `storage.publicAccessPrevention` is enforced."""
    org = _org_prevention(snapshot)

    def judge(bucket: JSON, who: str) -> Judgement:
        prevented, why = _prevented(bucket, org)
        if prevented:
            return Judgement(Verdict.PASS, f"{who} prevents public access: {why}")
        return Judgement(Verdict.FAIL, f"{who} does not prevent public access: {why}")

    return per_bucket(snapshot.get(Kind.BUCKETS), judge)


# --- REG-08 ------------------------------------------------------------------------------------


def _location(field: str, value: object) -> Location:
    if not isinstance(value, str) or not value.strip():
        raise Unjudgeable(field, f"{value!r} is not a location")
    name = value.strip().casefold()
    return Location(field, value, region_of(name), classify(name))


def bucket_locations(bucket: JSON) -> list[Location]:
    """A configurable dual-region's `customPlacementConfig.dataLocations[]`, else its `location`."""
    placement = bucket.get("customPlacementConfig")
    if placement is not None:
        if not isinstance(placement, dict):
            raise Unjudgeable("customPlacementConfig", f"{placement!r} is not an object")
        data = placement.get("dataLocations")
        if data is not None and not isinstance(data, list):
            raise Unjudgeable("customPlacementConfig.dataLocations", f"{data!r} is not a list")
        if data:
            return [_location(f"customPlacementConfig.dataLocations[{i}]", v) for i, v in enumerate(data)]
    if bucket.get("location") is None:
        raise Unjudgeable("location", "absent")
    return [_location("location", bucket["location"])]


@control(
    id="REG-08", title="Buckets stay in an allowed region", area=Area.REG, severity=Severity.HIGH,
    kinds=(Kind.BUCKETS,), params=("region.allowed",), unit="bucket", references=References(soc2=("C1.1", "CC6.7")),
    rationale="A bucket's location is where its objects are stored, replicas included: a bucket in the EU "
    "multi-region or a dual-region keeps copies across several countries, outside the one region the "
    "organisation committed to. Only listing the multi- or dual-region itself admits it.",
    remediation="A bucket's location cannot be changed: create one in an allowed region and move the objects, "
    "then delete the old bucket: `gcloud storage buckets create gs://NEW --location=europe-west1 "
    "--uniform-bucket-level-access --public-access-prevention` and `gcloud storage cp -r gs://BUCKET/* gs://NEW`.",
    holds="Every location where a bucket stores its objects is listed in `region.allowed`.",
    logic="A configurable dual-region is judged by its `customPlacementConfig.dataLocations[]` alone; every "
    "other bucket (and one whose `dataLocations` is empty) by its `location`. Each location is compared "
    "case-insensitively (`EUROPE-WEST1` is `europe-west1`) with the entries of `region.allowed` (default "
    "`europe-west1`); a multi-region (`EU`, `US`, `ASIA`) or predefined dual-region (`EUR4`, `NAM4`, "
    "...) passes only where it is itself listed: listing `eu` does not admit `europe-west1`, nor the "
    "other way round. The bucket passes only when every location is allowed, and fails naming those that "
    "are not.",
    unknown="An `error`, naming the field, when `location` is absent, or it or a `dataLocations[]` entry is not "
    "a non-empty string, when `customPlacementConfig` is not an object, or "
    "`customPlacementConfig.dataLocations` is not a list; a listing that failed makes the whole control "
    "`error`.",
)
def reg08_buckets(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a bucket whose `location` (case-insensitive), or any `customPlacementConfig.dataLocations[]`
    entry of a configurable dual-region, is not in `region.allowed`; multi-regions only when listed."""
    allowed = tuple(entry.casefold() for entry in params.region.allowed)

    def judge(bucket: JSON, who: str) -> Judgement:
        return judge_locations(who, bucket_locations(bucket), allowed)

    return per_bucket(snapshot.get(Kind.BUCKETS), judge)
