"""IAM-10 and IAM-11 on Cloud KMS key rings and keys in the cloudkms v1 REST shape; one row per case.

Times are relative to the snapshot's `now` (`tests.builders.NOW`), never the wall clock;
`iam.kms_rotation_max_days` is 90 unless a row says otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from checks import default_registry
from checks.model import Finding, Verdict
from checks.params import Params
from tests.builders import NOW, make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
RING = "projects/shop-prod/locations/europe-west1/keyRings/shop"
KEY = f"{RING}/cryptoKeys/orders"
WHO = f"key orders of key ring {RING}"
OWN = {"version": 1, "etag": "BwX=",
       "bindings": [{"role": "roles/cloudkms.admin", "members": ["group:kms@example.com"]}]}  # fmt: skip
EMPTY = {"version": 1, "etag": "ACAB"}
REGISTRY = default_registry()


def later(days: float) -> str:
    return (NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def key(**fields: Any) -> dict[str, Any]:
    found = {"name": KEY, "purpose": "ENCRYPT_DECRYPT", "createTime": "2026-01-01T00:00:00Z",
             "rotationPeriod": "7776000s", "nextRotationTime": later(30), "iamPolicy": OWN, **fields}  # fmt: skip
    return {k: v for k, v in found.items() if v is not None}


def judge(control_id: str, keys: Any, *, ring_policy: Any = EMPTY, params: dict[str, Any] | None = None
          ) -> list[Finding]:  # fmt: skip
    ring: dict[str, Any] = {"name": RING, "createTime": "2026-01-01T00:00:00Z", "cryptoKeys": keys}
    if ring_policy is not None:
        ring["iamPolicy"] = ring_policy
    snapshot = make_snapshot({"kms": {"keyRings": [ring]}})
    return list(REGISTRY.get(control_id)(snapshot, Params.model_validate(params or {})))


def public(member: str, **extra: Any) -> dict[str, Any]:
    binding = {"role": "roles/cloudkms.cryptoKeyDecrypter", "members": ["user:a@example.com", member], **extra}
    return {"version": 1, "etag": "BwY=", "bindings": [binding]}


# (key, ring policy, verdict, reason or field for an error)
IAM10: dict[str, tuple[dict[str, Any], Any, Verdict, str]] = {
    "private": (key(), EMPTY, PASS,
                f"{WHO}: neither its policy nor its key ring's grants allUsers or allAuthenticatedUsers"),
    "all-users-on-key": (key(iamPolicy=public("allUsers")), EMPTY, FAIL,
                         f"{WHO} is public: roles/cloudkms.cryptoKeyDecrypter allUsers (on the key)"),
    "all-authenticated-on-ring": (key(), public("allAuthenticatedUsers"), FAIL,
                                  f"{WHO} is public: roles/cloudkms.cryptoKeyDecrypter allAuthenticatedUsers "
                                  "(on its key ring)"),
    "conditional-grant-counts": (key(iamPolicy=public("allUsers", condition={"title": "t", "expression": "true"})),
                                 EMPTY, FAIL,
                                 f"{WHO} is public: roles/cloudkms.cryptoKeyDecrypter allUsers (on the key)"),
    "policy-without-bindings": (key(iamPolicy=EMPTY), EMPTY, PASS, f"{WHO}: neither its policy nor its key ring's "
                                "grants allUsers or allAuthenticatedUsers"),
    "asymmetric-key-judged-too": (key(purpose="ASYMMETRIC_SIGN", iamPolicy=public("allUsers")), EMPTY, FAIL,
                                  f"{WHO} is public: roles/cloudkms.cryptoKeyDecrypter allUsers (on the key)"),
    "domain-member-is-not-public": (key(iamPolicy=public("domain:example.com")), EMPTY, PASS, f"{WHO}: neither its "
                                    "policy nor its key ring's grants allUsers or allAuthenticatedUsers"),
    "key-policy-unread": (key(iamPolicy=None), EMPTY, ERROR, "iamPolicy"),
    "ring-policy-unread": (key(), None, ERROR, "keyRing.iamPolicy"),
    "bindings-not-a-list": (key(iamPolicy={"etag": "x", "bindings": {}}), EMPTY, ERROR, "iamPolicy.bindings"),
    "members-not-a-list": (key(iamPolicy={"etag": "x", "bindings": [{"role": "r", "members": "allUsers"}]}), EMPTY,
                           ERROR, "iamPolicy.bindings[0].members"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(IAM10))
def test_iam10(case: str) -> None:
    one, ring_policy, verdict, expected = IAM10[case]
    (finding,) = judge("IAM-10", [one], ring_policy=ring_policy)
    assert finding.resource == f"//cloudkms.googleapis.com/{KEY}"
    assert finding.verdict is verdict
    if verdict is ERROR:
        assert finding.subject == expected and finding.reason.startswith(f"{WHO}: cannot judge {expected}: ")
    else:
        assert finding.reason == expected


# (key, params, verdict or None when out of scope, reason or field for an error)
IAM11: dict[str, tuple[dict[str, Any], dict[str, Any], Verdict | None, str]] = {
    "90-days-due-in-30": (key(), {}, PASS,
                          f"{WHO} rotates every 90d ≤ 90d, next rotation in 30d (nextRotationTime {later(30)})"),
    "exactly-the-limit": (key(nextRotationTime=later(90)), {}, PASS, "…"),
    "no-rotation-period": (key(rotationPeriod=None), {}, FAIL,
                           f"{WHO} has no rotationPeriod: it is never rotated automatically"),
    "period-too-long": (key(rotationPeriod="31536000s"), {}, FAIL,
                        f"{WHO} rotates every 365d (rotationPeriod 31536000s) > iam.kms_rotation_max_days 90"),
    "period-one-second-over": (key(rotationPeriod="7776001s"), {}, FAIL, "…"),
    "fractional-period": (key(rotationPeriod="86400.5s"), {}, PASS, "…"),
    "next-rotation-too-far": (key(nextRotationTime=later(91)), {}, FAIL,
                              f"{WHO} next rotates in 91d (nextRotationTime {later(91)}) > "
                              "iam.kms_rotation_max_days 90"),
    "no-next-rotation": (key(nextRotationTime=None), {}, FAIL,
                         f"{WHO} has a rotationPeriod of 90d but no nextRotationTime: no rotation is scheduled"),
    "next-rotation-past-passes": (key(nextRotationTime=later(-2)), {}, PASS,
                                  f"{WHO} rotates every 90d ≤ 90d, next rotation 2d ago "
                                  f"(nextRotationTime {later(-2)})"),
    "param-30-days": (key(), {"iam": {"kms_rotation_max_days": 30}}, FAIL,
                      f"{WHO} rotates every 90d (rotationPeriod 7776000s) > iam.kms_rotation_max_days 30"),
    "asymmetric-out-of-scope": (key(purpose="ASYMMETRIC_DECRYPT", rotationPeriod=None), {}, None, ""),
    "mac-out-of-scope": (key(purpose="MAC", rotationPeriod=None), {}, None, ""),
    "purpose-absent": (key(purpose=None), {}, ERROR, "purpose"),
    "period-unreadable": (key(rotationPeriod="90d"), {}, ERROR, "rotationPeriod"),
    "next-rotation-unreadable": (key(nextRotationTime="soon"), {}, ERROR, "nextRotationTime"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(IAM11))
def test_iam11(case: str) -> None:
    one, params, verdict, expected = IAM11[case]
    findings = judge("IAM-11", [one], params=params)
    if verdict is None:
        assert findings == []
        return
    (finding,) = findings
    assert finding.resource == f"//cloudkms.googleapis.com/{KEY}" and finding.verdict is verdict
    if verdict is ERROR:
        assert finding.subject == expected and finding.reason.startswith(f"{WHO}: cannot judge {expected}: ")
    elif expected != "…":
        assert finding.reason == expected


@pytest.mark.parametrize("control_id", ["IAM-10", "IAM-11"])
def test_a_ring_whose_keys_are_unreadable_is_its_error_and_the_others_are_judged(control_id: str) -> None:
    good = {"name": "projects/shop-prod/locations/global/keyRings/ok", "iamPolicy": EMPTY,
            "cryptoKeys": [key(name="projects/shop-prod/locations/global/keyRings/ok/cryptoKeys/k")]}  # fmt: skip
    bad = {"name": RING, "iamPolicy": EMPTY, "cryptoKeys": {"orders": {}}}
    snapshot = make_snapshot({"kms": {"keyRings": [bad, good]}})
    findings = list(REGISTRY.get(control_id)(snapshot, Params()))
    assert [(f.resource, f.verdict, f.subject) for f in findings] == [
        (f"//cloudkms.googleapis.com/{RING}", ERROR, "cryptoKeys"),
        ("//cloudkms.googleapis.com/projects/shop-prod/locations/global/keyRings/ok/cryptoKeys/k", PASS, ""),
    ]


def test_each_key_of_each_ring_gets_one_result() -> None:
    keys = [key(name=f"{RING}/cryptoKeys/k{i}") for i in range(3)]
    assert [f.resource.rsplit("/", 1)[-1] for f in judge("IAM-11", keys)] == ["k0", "k1", "k2"]
    assert judge("IAM-10", []) == []
