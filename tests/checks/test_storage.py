"""FW-13, DATA-02, DATA-03 and REG-08 on buckets in the storage v1 JSON shape; one row per case.

Where a bucket's public access prevention is `inherited`, the organisation policy
`storage.publicAccessPrevention` decides: rows name the effective policy they run under
(`ORG_ON`, `ORG_OFF`, ...). `region.allowed` is [europe-west1] unless a row says otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks import default_registry, storage
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import Control
from tests.builders import make_snapshot
from tests.checks.catalogue import ids

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
ANY = "…"
PAP = "storage.publicAccessPrevention"
PREVENTION = "iamConfiguration.publicAccessPrevention"
POLICY = f"projects/shop-prod/policies/{PAP}"
ORG_ON: list[dict[str, Any]] = [{"name": POLICY, "spec": {"rules": [{"enforce": True}]}}]
ORG_OFF: list[dict[str, Any]] = [{"name": POLICY, "spec": {"rules": [{"enforce": False}]}}]
ORG_NONE: list[dict[str, Any]] = [{"name": POLICY}]
ORG_PREFIXED: list[dict[str, Any]] = [{"name": f"projects/1/policies/constraints/{PAP}",
                                       "spec": {"rules": [{"enforce": True}]}}]  # fmt: skip
PROD_ONLY = {"title": "prod only", "expression": "resource.matchTag('env', 'prod')"}
ORG_CONDITIONAL: list[dict[str, Any]] = [
    {"name": POLICY, "spec": {"rules": [{"enforce": True, "condition": PROD_ONLY}, {"enforce": False}]}}
]
ORG_MISSING: list[dict[str, Any]] = []
ORG_BROKEN: list[dict[str, Any]] = [{"name": POLICY, "spec": {"rules": [{"enforce": "yes"}]}}]


def bucket(pap: str | None = "enforced", *, ubla: Any = True, members: tuple[str, ...] = ()) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if ubla is not None:
        config["uniformBucketLevelAccess"] = {"enabled": ubla}
    if pap is not None:
        config["publicAccessPrevention"] = pap
    found: dict[str, Any] = {"kind": "storage#bucket", "name": "b", "location": "EUROPE-WEST1",
                             "iamConfiguration": config}  # fmt: skip
    # The collector nests every bucket's IAM policy; `members` adds a binding to them.
    bindings = [{"role": "roles/storage.legacyBucketOwner", "members": ["projectOwner:482913570164"]}]
    if members:
        bindings.append({"role": "roles/storage.objectViewer", "members": list(members)})
    found["iamPolicy"] = {"version": 1, "etag": "CAE=", "bindings": bindings}
    return found


def unread(raw: dict[str, Any]) -> dict[str, Any]:
    """The bucket as if its IAM policy had not been read."""
    return {key: value for key, value in raw.items() if key != "iamPolicy"}


def judge(control: Control, buckets: list[dict[str, Any]], org: list[dict[str, Any]] | None = None,
          allowed: list[str] | None = None) -> list[Finding]:  # fmt: skip
    policies = ORG_NONE if org is None else org
    project: dict[str, Any] = {"storage": {"buckets": buckets}, "orgPolicy": {"effectivePolicies": policies}}
    params = Params.model_validate({"region": {"allowed": allowed}} if allowed else {})
    return list(control(make_snapshot(project), params))


def check(found: Finding, verdict: Verdict, subject: str, reason: str) -> None:
    assert (found.verdict, found.subject) == (verdict, subject), found.reason
    assert reason == ANY or found.reason == reason, found.reason
    assert found.resource == "//storage.googleapis.com/b"


# --- FW-13 ---------------------------------------------------------------------------------------

VIEWER_ALL = "roles/storage.objectViewer allUsers"
FW13: dict[str, tuple[dict[str, Any], list[dict[str, Any]] | None, Verdict, str, str]] = {
    "private": (bucket(), None, PASS, "", "bucket b: no binding grants allUsers or allAuthenticatedUsers"),
    "no-bindings-inherited": (bucket("inherited"), None, PASS, "", ANY),
    "iam-policy-not-read": (unread(bucket()), None, ERROR, "iamPolicy",
                            "bucket b: cannot judge iamPolicy: absent: the bucket's IAM policy was not read"),
    "allUsers": (bucket("inherited", members=("allUsers",)), None, FAIL, VIEWER_ALL,
                 f"bucket b is public: it grants {VIEWER_ALL} (iamConfiguration.publicAccessPrevention: inherited, "
                 f"and the organisation policy {PAP} is not enforced (no policy: no rule in its effective spec))"),
    "allAuthenticatedUsers": (bucket("inherited", members=("allAuthenticatedUsers", "group:x@example.be")), None,
                              FAIL, "roles/storage.objectViewer allAuthenticatedUsers", ANY),
    "prevention-overrides-allUsers": (bucket("enforced", members=("allUsers",)), None, PASS, VIEWER_ALL,
                                      f"bucket b grants {VIEWER_ALL}, but these bindings do nothing: "
                                      "iamConfiguration.publicAccessPrevention: enforced"),
    "inherited-from-enforced-org": (bucket("inherited", members=("allUsers",)), ORG_ON, PASS, VIEWER_ALL,
                                    f"bucket b grants {VIEWER_ALL}, but these bindings do nothing: "
                                    "iamConfiguration.publicAccessPrevention: inherited, and the organisation policy "
                                    f"{PAP} is enforced (spec.rules[0]: enforce true, no condition)"),
    "inherited-org-prefixed": (bucket("inherited", members=("allUsers",)), ORG_PREFIXED, PASS, VIEWER_ALL, ANY),
    "inherited-org-off": (bucket("inherited", members=("allUsers",)), ORG_OFF, FAIL, VIEWER_ALL, ANY),
    "inherited-org-conditional": (bucket("inherited", members=("allUsers",)), ORG_CONDITIONAL, FAIL, VIEWER_ALL,
                                  f"bucket b is public: it grants {VIEWER_ALL} ({PREVENTION}: inherited, and the "
                                  f"organisation policy {PAP} is enforced only under a condition "
                                  "(spec.rules[0] if 'prod only'))"),
    "legacy-unspecified-org-on": (bucket("unspecified", members=("allUsers",)), ORG_ON, PASS, VIEWER_ALL, ANY),
    "legacy-unspecified-org-off": (bucket("unspecified", members=("allUsers",)), ORG_OFF, FAIL, VIEWER_ALL,
                                   f"bucket b is public: it grants {VIEWER_ALL} ({PREVENTION}: "
                                   "unspecified (the legacy spelling of inherited), and the organisation policy "
                                   f"{PAP} is not enforced (no rule with enforce true))"),
    "absent-prevention-is-inherited": (bucket(None, members=("allUsers",)), ORG_ON, PASS, VIEWER_ALL, ANY),
    "org-policy-not-collected": (bucket("inherited", members=("allUsers",)), ORG_MISSING, ERROR, PAP,
                                 "bucket b: cannot judge storage.publicAccessPrevention: iamConfiguration."
                                 "publicAccessPrevention: inherited, and the organisation policy cannot be read: its "
                                 "effective policy was not collected"),
    "org-policy-unreadable": (bucket("inherited", members=("allUsers",)), ORG_BROKEN, ERROR, "spec.rules[0].enforce",
                              ANY),
    "enforced-needs-no-org": (bucket("enforced", members=("allUsers",)), ORG_BROKEN, PASS, VIEWER_ALL, ANY),
    "unknown-prevention": (bucket("sometimes", members=("allUsers",)), None, ERROR,
                           "iamConfiguration.publicAccessPrevention",
                           "bucket b: cannot judge iamConfiguration.publicAccessPrevention: 'sometimes' is neither "
                           "enforced nor inherited"),
    "conditional-binding": ({**bucket("inherited"), "iamPolicy": {"version": 3, "etag": "x", "bindings": [
        {"role": "roles/storage.objectViewer", "members": ["allUsers"],
         "condition": {"title": "until launch", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}}]}},
        None, FAIL, "roles/storage.objectViewer allUsers if 'until launch'", ANY),
    "policy-not-an-object": ({**bucket(), "iamPolicy": ["allUsers"]}, None, ERROR, "iamPolicy", ANY),
    "members-not-a-list": ({**bucket(), "iamPolicy": {"bindings": [{"role": "r", "members": "allUsers"}]}}, None,
                           ERROR, "iamPolicy.bindings[0].members", ANY),
}  # fmt: skip


@pytest.mark.parametrize(("raw", "org", "verdict", "subject", "reason"), FW13.values(), ids=FW13.keys())
def test_fw13_public_buckets(raw: dict[str, Any], org: list[dict[str, Any]] | None, verdict: Verdict, subject: str,
                             reason: str) -> None:  # fmt: skip
    (found,) = judge(storage.fw13_public_buckets, [raw], org)
    check(found, verdict, subject, reason)


# --- DATA-02 -------------------------------------------------------------------------------------

DATA02: dict[str, tuple[dict[str, Any], Verdict, str]] = {
    "uniform": (bucket(), PASS, "bucket b uses uniform bucket-level access "
                                "(iamConfiguration.uniformBucketLevelAccess.enabled: true)"),
    "fine-grained": (bucket(ubla=False), FAIL, "bucket b lets object ACLs grant access beside IAM "
                                               "(iamConfiguration.uniformBucketLevelAccess.enabled: false)"),
    "absent-is-off": (bucket(ubla=None), FAIL, "bucket b lets object ACLs grant access beside IAM "
                                               "(iamConfiguration.uniformBucketLevelAccess absent (the default: off))"),
    "no-iam-configuration": ({"name": "b", "location": "EU"}, FAIL, ANY),
    "legacy-bucket-policy-only": ({"name": "b", "iamConfiguration": {"bucketPolicyOnly": {"enabled": True}}}, PASS,
                                  "bucket b uses uniform bucket-level access (iamConfiguration.bucketPolicyOnly."
                                  "enabled: true (the legacy name of uniformBucketLevelAccess))"),
    "legacy-off": ({"name": "b", "iamConfiguration": {"bucketPolicyOnly": {"enabled": False}}}, FAIL, ANY),
    "current-wins-over-legacy": ({"name": "b", "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True},
                                                                    "bucketPolicyOnly": {"enabled": True}}}, PASS,
                                 "bucket b uses uniform bucket-level access "
                                 "(iamConfiguration.uniformBucketLevelAccess.enabled: true)"),
    "enabled-not-boolean": (bucket(ubla="true"), ERROR,
                            "bucket b: cannot judge iamConfiguration.uniformBucketLevelAccess.enabled: 'true' is not "
                            "true or false"),
    "configuration-not-an-object": ({"name": "b", "iamConfiguration": "uniform"}, ERROR, ANY),
}  # fmt: skip


@pytest.mark.parametrize(("raw", "verdict", "reason"), DATA02.values(), ids=DATA02.keys())
def test_data02_uniform_access(raw: dict[str, Any], verdict: Verdict, reason: str) -> None:
    (found,) = judge(storage.data02_uniform_access, [raw])
    assert found.verdict is verdict, found.reason
    assert reason == ANY or found.reason == reason, found.reason


# --- DATA-03 -------------------------------------------------------------------------------------

DATA03: dict[str, tuple[str | None, list[dict[str, Any]] | None, Verdict, str]] = {
    "enforced": ("enforced", None, PASS,
                 "bucket b prevents public access: iamConfiguration.publicAccessPrevention: enforced"),
    "inherited-org-enforced": ("inherited", ORG_ON, PASS,
                               "bucket b prevents public access: iamConfiguration.publicAccessPrevention: inherited, "
                               f"and the organisation policy {PAP} is enforced (spec.rules[0]: enforce true, no "
                               "condition)"),
    "inherited-no-org-policy": ("inherited", None, FAIL,
                                "bucket b does not prevent public access: iamConfiguration.publicAccessPrevention: "
                                f"inherited, and the organisation policy {PAP} is not enforced (no policy: no rule in "
                                "its effective spec)"),
    "inherited-org-off": ("inherited", ORG_OFF, FAIL, ANY),
    "inherited-org-conditional": ("inherited", ORG_CONDITIONAL, FAIL, ANY),
    "unspecified-org-enforced": ("unspecified", ORG_ON, PASS, ANY),
    "unspecified-no-org": ("unspecified", None, FAIL,
                           "bucket b does not prevent public access: iamConfiguration.publicAccessPrevention: "
                           "unspecified (the legacy spelling of inherited), and the organisation policy "
                           f"{PAP} is not enforced (no policy: no rule in its effective spec)"),
    "absent-org-enforced": (None, ORG_ON, PASS, ANY),
    "absent-no-org": (None, None, FAIL, ANY),
    "inherited-org-not-collected": ("inherited", ORG_MISSING, ERROR, ANY),
    "enforced-org-not-collected": ("enforced", ORG_MISSING, PASS, ANY),
    "unknown-value": ("ENFORCED", ORG_ON, ERROR, ANY),
}  # fmt: skip


@pytest.mark.parametrize(("pap", "org", "verdict", "reason"), DATA03.values(), ids=DATA03.keys())
def test_data03_public_access_prevention(pap: str | None, org: list[dict[str, Any]] | None, verdict: Verdict,
                                         reason: str) -> None:  # fmt: skip
    (found,) = judge(storage.data03_public_access_prevention, [bucket(pap)], org)
    assert found.verdict is verdict, found.reason
    assert reason == ANY or found.reason == reason, found.reason


# --- REG-08 --------------------------------------------------------------------------------------

BE = "region.allowed (europe-west1)"
DUAL = {"location": "EU", "locationType": "dual-region",
        "customPlacementConfig": {"dataLocations": ["EUROPE-WEST1", "EUROPE-WEST4"]}}  # fmt: skip
REG08: dict[str, tuple[dict[str, Any], list[str] | None, Verdict, str, str]] = {
    "upper-case-region": ({"location": "EUROPE-WEST1"}, None, PASS, "EUROPE-WEST1",
                          f"bucket b is located only within {BE}: location EUROPE-WEST1"),
    "lower-case-region": ({"location": "europe-west1"}, None, PASS, "europe-west1", ANY),
    "allowed-in-upper-case": ({"location": "europe-west4"}, ["europe-west1", "europe-west4"], PASS, "europe-west4",
                              ANY),
    "other-region": ({"location": "US-CENTRAL1"}, None, FAIL, "US-CENTRAL1",
                     f"bucket b is located outside {BE}: location US-CENTRAL1"),
    "multi-region": ({"location": "EU", "locationType": "multi-region"}, None, FAIL, "EU",
                     f"bucket b is located outside {BE}: location EU (a multi-region)"),
    "multi-region-listed": ({"location": "EU"}, ["europe-west1", "eu"], PASS, "EU",
                            "bucket b is located only within region.allowed (europe-west1, eu): location EU "
                            "(a multi-region)"),
    "multi-region-listed-upper": ({"location": "EU"}, ["EU"], PASS, "EU", ANY),
    "multi-region-not-its-regions": ({"location": "EU"}, ["europe-west1", "europe-west4"], FAIL, "EU", ANY),
    "dual-region": ({"location": "EUR4", "locationType": "dual-region"}, None, FAIL, "EUR4",
                    f"bucket b is located outside {BE}: location EUR4 (a dual-region)"),
    "dual-region-listed": ({"location": "EUR4"}, ["eur4"], PASS, "EUR4", ANY),
    "configurable-dual-region": (DUAL, None, FAIL, "EUROPE-WEST4",
                                 f"bucket b is located outside {BE}: customPlacementConfig.dataLocations[1] "
                                 "EUROPE-WEST4; allowed: customPlacementConfig.dataLocations[0] EUROPE-WEST1"),
    "configurable-dual-region-allowed": (DUAL, ["europe-west1", "europe-west4"], PASS, "EUROPE-WEST1, EUROPE-WEST4",
                                         ANY),
    "configurable-dual-region-not-by-eu": (DUAL, ["eu"], FAIL, "EUROPE-WEST1, EUROPE-WEST4", ANY),
    "empty-data-locations-uses-location": ({"location": "EUROPE-WEST1", "customPlacementConfig": {"dataLocations": []}},
                                           None, PASS, "EUROPE-WEST1", ANY),
    "absent": ({}, None, ERROR, "location", "bucket b: cannot judge location: absent"),
    "not-text": ({"location": 7}, None, ERROR, "location", "bucket b: cannot judge location: 7 is not a location"),
    "data-locations-not-a-list": ({"location": "EU", "customPlacementConfig": {"dataLocations": "EUROPE-WEST1"}},
                                  None, ERROR, "customPlacementConfig.dataLocations", ANY),
}  # fmt: skip


@pytest.mark.parametrize(("where", "allowed", "verdict", "subject", "reason"), REG08.values(), ids=REG08.keys())
def test_reg08_buckets(where: dict[str, Any], allowed: list[str] | None, verdict: Verdict, subject: str,
                       reason: str) -> None:  # fmt: skip
    raw = {k: v for k, v in bucket().items() if k != "location"} | where
    (found,) = judge(storage.reg08_buckets, [raw], allowed=allowed)
    check(found, verdict, subject, reason)


# --- every bucket judged, nothing in scope, metadata -----------------------------------------------

STORAGE_IDS = ["DATA-02", "DATA-03", "FW-13", "REG-08"]


@pytest.mark.parametrize("control_id", STORAGE_IDS)
def test_one_result_per_bucket_and_none_without_buckets(control_id: str) -> None:
    control = default_registry().get(control_id)
    two = [bucket(), {**bucket(), "name": "c", "iamConfiguration": "broken"}]
    assert [f.resource for f in judge(control, two)] == ["//storage.googleapis.com/b", "//storage.googleapis.com/c"]
    assert judge(control, []) == []


META = {
    "FW-13": (Area.FW, Severity.CRITICAL, "4.0: 5.1 · 5.0: 5.1", ("CC6.1", "CC6.6"), ("buckets", "orgPolicies"), ()),
    "DATA-02": (Area.DATA, Severity.MEDIUM, "4.0: 5.2 · 5.0: 5.2", ("CC6.1",), ("buckets",), ()),
    "DATA-03": (Area.DATA, Severity.MEDIUM, "", ("CC6.6",), ("buckets", "orgPolicies"), ()),
    "REG-08": (Area.REG, Severity.HIGH, "", ("C1.1", "CC6.7"), ("buckets",), ("region.allowed",)),
}


@pytest.mark.parametrize("control_id", STORAGE_IDS)
def test_metadata_is_complete(control_id: str) -> None:
    control = default_registry().get(control_id)
    meta = control.meta
    refs = meta.references
    assert (meta.area, meta.severity, refs.cis_text(), refs.soc2, meta.kinds, meta.params) == META[control_id]
    assert meta.unit == "bucket" and meta.title[0].isupper() and control_id in ids(meta.area)
    assert len(meta.rationale) > 100 and "gcloud " in meta.remediation
    assert storage.__doc__ and control.func.__doc__ and control in vars(storage).values()
