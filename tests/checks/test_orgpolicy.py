"""ORG-01 to ORG-03 on effective policies in the orgpolicy v2 REST shape; one row per case.

`region.allowed` is [europe-west1] and `org.required_constraints` its default unless a row
says otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks import default_registry, orgpolicy
from checks.kinds import ORG_CONSTRAINTS
from checks.model import Area, Finding, Severity, Verdict
from checks.params import REQUIRED_CONSTRAINTS, Params
from checks.registry import Control
from tests.builders import make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
ANY = "…"
HOST = "//orgpolicy.googleapis.com/projects/shop-prod/policies/"
LOCATIONS, DOMAINS = "gcp.resourceLocations", "iam.allowedPolicyMemberDomains"
BE = "region.allowed (europe-west1)"


def policy(constraint: str, *rules: dict[str, Any], name: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {"name": name or f"projects/482913570164/policies/{constraint}"}
    if rules:
        found["spec"] = {"etag": "CAE=", "rules": list(rules)}
    return found


def allowed(*values: str, **extra: Any) -> dict[str, Any]:
    return {"values": {"allowedValues": list(values)}, **extra}


def judge(control: Control, policies: list[dict[str, Any]], params: dict[str, Any] | None = None) -> list[Finding]:
    snapshot = make_snapshot({"orgPolicy": {"effectivePolicies": policies}})
    return list(control(snapshot, Params.model_validate(params or {})))


def check(found: Finding, verdict: Verdict, subject: str, reason: str) -> None:
    assert (found.verdict, found.subject) == (verdict, subject), found.reason
    assert reason == ANY or found.reason == reason, found.reason


# --- ORG-01 --------------------------------------------------------------------------------------

WHO = f"constraint {LOCATIONS}"
CONDITION = {"title": "sandbox", "expression": "resource.matchTag('env', 'sandbox')"}
ORG01: dict[str, tuple[list[dict[str, Any]], list[str] | None, Verdict, str, str]] = {
    "region-group": ([policy(LOCATIONS, allowed("in:europe-west1-locations"))], None, PASS,
                     "in:europe-west1-locations",
                     f"{WHO} allows only locations within {BE}: spec.rules[0].values.allowedValues[0] "
                     "in:europe-west1-locations (the region group of europe-west1)"),
    "bare-region": ([policy(LOCATIONS, allowed("europe-west1"))], None, PASS, "europe-west1", ANY),
    "is-prefix": ([policy(LOCATIONS, allowed("is:europe-west1"))], None, PASS, "is:europe-west1", ANY),
    "zone-value-is-its-region": ([policy(LOCATIONS, allowed("europe-west1-b", "europe-west1-c"))], None, PASS,
                                 "europe-west1-b, europe-west1-c", ANY),
    "zone-elsewhere": ([policy(LOCATIONS, allowed("in:europe-west1-locations", "europe-west4-a"))], None, FAIL,
                       "europe-west4-a",
                       f"{WHO} allows locations outside {BE}: spec.rules[0].values.allowedValues[1] europe-west4-a "
                       "(a zone of europe-west4)"),
    "other-region-group": ([policy(LOCATIONS, allowed("in:europe-west1-locations", "in:us-central1-locations"))],
                           None, FAIL, "in:us-central1-locations", ANY),
    "eu-group-fails": ([policy(LOCATIONS, allowed("in:eu-locations"))], None, FAIL, "in:eu-locations",
                       f"{WHO} allows locations outside {BE}: spec.rules[0].values.allowedValues[0] in:eu-locations "
                       "(the multi-region group of eu)"),
    "eu-group-listed-verbatim": ([policy(LOCATIONS, allowed("in:eu-locations"))], ["eu"], PASS, "in:eu-locations",
                                 ANY),
    "eu-group-not-by-its-regions": ([policy(LOCATIONS, allowed("in:eu-locations"))],
                                    ["europe-west1", "europe-west4"], FAIL, "in:eu-locations", ANY),
    "continent-group-fails": ([policy(LOCATIONS, allowed("in:europe-locations"))], None, FAIL, "in:europe-locations",
                              f"{WHO} allows locations outside {BE}: spec.rules[0].values.allowedValues[0] "
                              "in:europe-locations (a value group)"),
    "case-insensitive": ([policy(LOCATIONS, allowed("in:EUROPE-WEST1-locations"))], None, PASS,
                         "in:EUROPE-WEST1-locations", ANY),
    "conditional-rule-counted": ([policy(LOCATIONS, allowed("in:europe-west1-locations"),
                                         allowed("in:us-locations", condition=CONDITION))], None, FAIL,
                                 "in:us-locations",
                                 f"{WHO} allows locations outside {BE}: spec.rules[1].values.allowedValues[0] "
                                 "in:us-locations (the multi-region group of us)"),
    "conditional-rule-within": ([policy(LOCATIONS, allowed("europe-west1", condition=CONDITION))], None, PASS,
                                "europe-west1", ANY),
    "allow-all": ([policy(LOCATIONS, {"allowAll": True})], None, FAIL, "allowAll",
                  f"{WHO} allows every value (spec.rules[0]: allowAll true)"),
    "deny-all": ([policy(LOCATIONS, {"denyAll": True})], None, FAIL, "denyAll",
                 f"{WHO} denies every location (spec.rules[0]: denyAll true): no location allowed, nothing can be "
                 "created"),
    "denied-values-only": ([policy(LOCATIONS, {"values": {"deniedValues": ["in:us-locations"]}})], None, FAIL,
                           "no allowedValues",
                           f"{WHO} has no values.allowedValues in any rule: every location not denied is allowed"),
    "no-rule": ([policy(LOCATIONS)], None, FAIL, "",
                f"{WHO} has no policy (no rule in its effective spec): anything goes"),
    "empty-rules": ([{"name": f"projects/shop-prod/policies/{LOCATIONS}", "spec": {"rules": []}}], None, FAIL, "",
                    ANY),
    "constraints-prefix-in-name": ([policy(LOCATIONS, allowed("europe-west1"),
                                           name=f"projects/1/policies/constraints/{LOCATIONS}")], None, PASS,
                                   "europe-west1", ANY),
    "not-collected": ([], None, ERROR, LOCATIONS, ANY),
    "values-not-a-list": ([policy(LOCATIONS, {"values": {"allowedValues": "europe-west1"}})], None, ERROR,
                          "spec.rules[0].values.allowedValues",
                          f"{WHO}: cannot judge spec.rules[0].values.allowedValues: 'europe-west1' is not a list of "
                          "strings"),
    "allow-all-not-boolean": ([policy(LOCATIONS, {"allowAll": "true"})], None, ERROR, "spec.rules[0].allowAll", ANY),
    "spec-not-an-object": ([{"name": f"projects/1/policies/{LOCATIONS}", "spec": []}], None, ERROR, "spec", ANY),
}  # fmt: skip


@pytest.mark.parametrize(("policies", "region", "verdict", "subject", "reason"), ORG01.values(), ids=ORG01.keys())
def test_org01_resource_locations(policies: list[dict[str, Any]], region: list[str] | None, verdict: Verdict,
                                  subject: str, reason: str) -> None:  # fmt: skip
    (found,) = judge(orgpolicy.org01_resource_locations, policies, {"region": {"allowed": region}} if region else None)
    assert found.resource == HOST + LOCATIONS
    check(found, verdict, subject, reason)


# --- ORG-02 --------------------------------------------------------------------------------------

WHO2 = f"constraint {DOMAINS}"
ORG02: dict[str, tuple[list[dict[str, Any]], Verdict, str, str]] = {
    "customer-id": ([policy(DOMAINS, allowed("C03k8x2qf"))], PASS, "C03k8x2qf",
                    f"{WHO2} allows members of the listed customers only (values.allowedValues: C03k8x2qf)"),
    "is-prefix": ([policy(DOMAINS, allowed("is:C03k8x2qf", "C0partner"))], PASS, "C03k8x2qf, C0partner", ANY),
    "same-id-twice": ([policy(DOMAINS, allowed("is:C03k8x2qf"), allowed("C03k8x2qf", condition=CONDITION))], PASS,
                      "C03k8x2qf", ANY),
    "allow-all": ([policy(DOMAINS, {"allowAll": True})], FAIL, "allowAll",
                  f"{WHO2} allows every value (spec.rules[0]: allowAll true)"),
    "values-and-allow-all": ([policy(DOMAINS, allowed("C03k8x2qf"), {"allowAll": True, "condition": CONDITION})],
                             FAIL, "allowAll", f"{WHO2} allows every value (spec.rules[1]: allowAll true)"),
    "empty-values": ([policy(DOMAINS, allowed())], FAIL, "no allowedValues",
                     f"{WHO2} has no values.allowedValues in any rule: members of any domain can be granted access"),
    "no-rule": ([policy(DOMAINS)], FAIL, "", ANY),
    "constraints-prefix": ([policy(DOMAINS, allowed("C03k8x2qf"), name=f"projects/1/policies/constraints/{DOMAINS}")],
                           PASS, "C03k8x2qf", ANY),
    "not-collected": ([policy(LOCATIONS)], ERROR, DOMAINS,
                      f"{WHO2}: cannot judge: its effective policy was not collected"),
    "rules-not-a-list": ([{"name": f"projects/1/policies/{DOMAINS}", "spec": {"rules": {}}}], ERROR, "spec.rules", ANY),
}  # fmt: skip


@pytest.mark.parametrize(("policies", "verdict", "subject", "reason"), ORG02.values(), ids=ORG02.keys())
def test_org02_member_domains(policies: list[dict[str, Any]], verdict: Verdict, subject: str, reason: str) -> None:
    (found,) = judge(orgpolicy.org02_member_domains, policies)
    assert found.resource == HOST + DOMAINS
    check(found, verdict, subject, reason)


# --- ORG-03 --------------------------------------------------------------------------------------

OS_LOGIN = "compute.requireOsLogin"
ORG03: dict[str, tuple[list[dict[str, Any]], Verdict, str]] = {
    "enforced": ([policy(OS_LOGIN, {"enforce": True})], PASS,
                 f"constraint {OS_LOGIN} is enforced (spec.rules[0]: enforce true, no condition)"),
    "not-enforced": ([policy(OS_LOGIN, {"enforce": False})], FAIL,
                     f"constraint {OS_LOGIN} is not enforced (no rule with enforce true)"),
    "no-policy": ([policy(OS_LOGIN)], FAIL,
                  f"constraint {OS_LOGIN} is not enforced (no policy: no rule in its effective spec)"),
    "conditional-enforce": ([policy(OS_LOGIN, {"enforce": True, "condition": CONDITION}, {"enforce": False})], FAIL,
                            f"constraint {OS_LOGIN} is enforced only under a condition (spec.rules[0] "
                            "if 'sandbox')"),
    "conditional-and-unconditional": ([policy(OS_LOGIN, {"enforce": False, "condition": CONDITION},
                                              {"enforce": True})], PASS, ANY),
    "untitled-condition": ([policy(OS_LOGIN, {"enforce": True, "condition": {"expression": "true"}})], FAIL,
                           f"constraint {OS_LOGIN} is enforced only under a condition (spec.rules[0] "
                           "if 'true')"),
    "constraints-prefix-in-name": ([policy(OS_LOGIN, {"enforce": True},
                                           name=f"projects/1/policies/constraints/{OS_LOGIN}")], PASS, ANY),
    "enforce-not-boolean": ([policy(OS_LOGIN, {"enforce": "TRUE"})], ERROR,
                            f"constraint {OS_LOGIN}: cannot judge spec.rules[0].enforce: 'TRUE' is not true or false"),
    "not-collected": ([], ERROR, ANY),
}  # fmt: skip


@pytest.mark.parametrize(("policies", "verdict", "reason"), ORG03.values(), ids=ORG03.keys())
def test_org03_one_guardrail(policies: list[dict[str, Any]], verdict: Verdict, reason: str) -> None:
    (found,) = judge(orgpolicy.org03_guardrails, policies, {"org": {"required_constraints": [OS_LOGIN]}})
    assert found.resource == HOST + OS_LOGIN
    check(found, verdict, OS_LOGIN if verdict is not ERROR else found.subject, reason)


def test_org03_judges_every_required_constraint_in_order_with_or_without_prefix() -> None:
    policies = [policy(c, {"enforce": True}) for c in ORG_CONSTRAINTS]
    found = judge(orgpolicy.org03_guardrails, policies)
    assert [f.resource.removeprefix(HOST) for f in found] == list(REQUIRED_CONSTRAINTS)
    assert {f.verdict for f in found} == {PASS}
    required = [f"constraints/{OS_LOGIN}", OS_LOGIN, "constraints/custom.denyPublicIp"]
    found = judge(orgpolicy.org03_guardrails, policies, {"org": {"required_constraints": required}})
    assert [(f.resource.removeprefix(HOST), f.verdict) for f in found] == [(OS_LOGIN, PASS),
                                                                          ("custom.denyPublicIp", ERROR)]  # fmt: skip
    assert "its effective policy was not collected" in found[1].reason


def test_the_default_required_constraints_are_all_collected() -> None:
    assert set(REQUIRED_CONSTRAINTS) <= set(ORG_CONSTRAINTS)
    assert Params().org.required_constraints == REQUIRED_CONSTRAINTS


@pytest.mark.parametrize("bad", ["requireOsLogin", "compute requireOsLogin", "", "constraints/", 7])
def test_required_constraints_must_be_constraint_names(bad: Any) -> None:
    with pytest.raises(ValueError, match="required_constraints"):
        Params.model_validate({"org": {"required_constraints": [bad]}})


@pytest.mark.parametrize("control_id", ["ORG-01", "ORG-02", "ORG-03"])
def test_an_unreadable_kind_is_not_judged(control_id: str) -> None:
    from checks.snapshot import KindUnavailable

    snapshot = make_snapshot({}, errors={"orgPolicies": "HTTP 500"})
    with pytest.raises(KindUnavailable):
        list(default_registry().get(control_id)(snapshot, Params()))


META = {
    "ORG-01": (Severity.HIGH, ("C1.1",), ("region.allowed",)),
    "ORG-02": (Severity.HIGH, ("CC6.1",), ()),
    "ORG-03": (Severity.MEDIUM, ("CC6.6",), ("org.required_constraints",)),
}


@pytest.mark.parametrize("control_id", list(META))
def test_metadata_is_complete(control_id: str) -> None:
    control = default_registry().get(control_id)
    meta = control.meta
    assert (meta.severity, meta.references.soc2, meta.params) == META[control_id]
    assert (meta.area, meta.unit, meta.kinds) == (Area.ORG, "constraint", ("orgPolicies",))
    assert len(meta.rationale) > 100 and "gcloud " in meta.remediation
    assert orgpolicy.__doc__ and control.func.__doc__ and control in vars(orgpolicy).values()
