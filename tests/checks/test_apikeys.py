"""IAM-12..IAM-15 on API keys in the apikeys v2 REST shape; one row per case.

Ages are relative to the snapshot's `now` (`tests.builders.NOW`); `iam.api_key_max_age_days`
is 90 unless a row says otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from checks import default_registry
from checks.apikeys import wide_referrer
from checks.model import Finding, Verdict
from checks.params import Params
from tests.builders import NOW, make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
UID = "5d7c1e2f-0a1b-4c3d-8e9f-0a1b2c3d4e5f"
NAME = f"projects/731234567890/locations/global/keys/{UID}"
WHO = f"API key 'maps' ({UID})"
REGISTRY = default_registry()


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def key(**fields: Any) -> dict[str, Any]:
    found = {"name": NAME, "uid": UID, "displayName": "maps", "createTime": ago(10), "updateTime": ago(10),
             "etag": "W/\"x\"",
             "restrictions": {"browserKeyRestrictions": {"allowedReferrers": ["https://shop.example.com/*"]},
                              "apiTargets": [{"service": "maps-backend.googleapis.com"}]}, **fields}  # fmt: skip
    return {k: v for k, v in found.items() if v is not None}


def restricted(**restrictions: Any) -> dict[str, Any]:
    return key(restrictions=restrictions)


def judge(control_id: str, keys: list[dict[str, Any]], params: dict[str, Any] | None = None) -> list[Finding]:
    snapshot = make_snapshot({"apiKeys": {"keys": keys}})
    return list(REGISTRY.get(control_id)(snapshot, Params.model_validate(params or {})))


def check(control_id: str, one: dict[str, Any], verdict: Verdict | None, expected: str,
          params: dict[str, Any] | None = None) -> None:  # fmt: skip
    findings = judge(control_id, [one], params)
    if verdict is None:
        assert findings == []
        return
    (finding,) = findings
    assert finding.resource == f"//apikeys.googleapis.com/{NAME}" and finding.verdict is verdict
    if verdict is ERROR:
        assert finding.subject == expected and finding.reason.startswith(f"{WHO}: cannot judge {expected}: ")
    elif expected != "…":
        assert finding.reason == expected


IAM12: dict[str, tuple[dict[str, Any], Verdict | None, str]] = {
    "a-key-exists": (key(), FAIL, f"{WHO} exists (created {ago(10)})"),
    "restricted-still-exists": (key(restrictions={"apiTargets": [{"service": "x.googleapis.com"}]}), FAIL, "…"),
    "no-display-name": (key(displayName=None), FAIL, f"API key {UID} exists (created {ago(10)})"),
    "deleted-out-of-scope": (key(deleteTime=ago(1)), None, ""),
}


@pytest.mark.parametrize("case", list(IAM12))
def test_iam12(case: str) -> None:
    one, verdict, expected = IAM12[case]
    if case == "no-display-name":
        (finding,) = judge("IAM-12", [one])
        assert finding.verdict is verdict and finding.reason == expected
        return
    check("IAM-12", one, verdict, expected)


IAM13: dict[str, tuple[dict[str, Any], Verdict, str]] = {
    "referrers": (key(), PASS, f"{WHO} is restricted to 1 HTTP referrers"),
    "ips": (restricted(serverKeyRestrictions={"allowedIps": ["203.0.113.7", "198.51.100.0/24"]}), PASS,
            f"{WHO} is restricted to 2 IP addresses"),
    "android": (restricted(androidKeyRestrictions={"allowedApplications": [
        {"sha1Fingerprint": "DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09",
         "packageName": "com.shop"}]}),
        PASS, f"{WHO} is restricted to 1 Android apps"),
    "ios": (restricted(iosKeyRestrictions={"allowedBundleIds": ["com.example.shop"]}), PASS,
            f"{WHO} is restricted to 1 iOS apps"),
    "no-restrictions-at-all": (key(restrictions=None), FAIL, f"{WHO} is usable from anywhere: it has no application "
                               "restriction (HTTP referrers, IP addresses, Android or iOS apps)"),
    "api-targets-only": (restricted(apiTargets=[{"service": "maps-backend.googleapis.com"}]), FAIL, "…"),
    "empty-referrers": (restricted(browserKeyRestrictions={}), FAIL, f"{WHO} is usable from anywhere: its HTTP "
                        "referrers restriction lists none (browserKeyRestrictions.allowedReferrers empty)"),
    "star-referrer": (restricted(browserKeyRestrictions={"allowedReferrers": ["https://shop.example.com/*", "*"]}),
                      FAIL, f"{WHO} is usable from anywhere: its HTTP referrers include *, which match any site"),
    "tld-referrer": (restricted(browserKeyRestrictions={"allowedReferrers": ["https://*.com/*"]}), FAIL,
                     f"{WHO} is usable from anywhere: its HTTP referrers include https://*.com/*, which match any "
                     "site"),
    "subdomain-wildcard-is-fine": (restricted(browserKeyRestrictions={"allowedReferrers": ["*.example.com/*"]}),
                                   PASS, "…"),
    "any-ipv4": (restricted(serverKeyRestrictions={"allowedIps": ["0.0.0.0/0"]}), FAIL,
                 f"{WHO} is usable from anywhere: its IP addresses include 0.0.0.0/0, which is any host"),
    "unspecified-ipv6": (restricted(serverKeyRestrictions={"allowedIps": ["::0"]}), FAIL, "…"),
    "unspecified-ipv4": (restricted(serverKeyRestrictions={"allowedIps": ["0.0.0.0"]}), FAIL, "…"),
    "bad-ip": (restricted(serverKeyRestrictions={"allowedIps": ["10.0.0.0/33"]}), ERROR,
               "restrictions.serverKeyRestrictions.allowedIps[0]"),
    "referrer-not-a-string": (restricted(browserKeyRestrictions={"allowedReferrers": [7]}), ERROR,
                              "restrictions.browserKeyRestrictions.allowedReferrers[0]"),
    "block-not-an-object": (restricted(iosKeyRestrictions=["com.x"]), ERROR, "restrictions.iosKeyRestrictions"),
    "restrictions-not-an-object": (key(restrictions="none"), ERROR, "restrictions"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(IAM13))
def test_iam13(case: str) -> None:
    check("IAM-13", *IAM13[case])


@pytest.mark.parametrize(
    ("pattern", "wide"),
    [("*", True), ("*.com", True), ("http://*.org/*", True), ("*://*.io", True), ("*.example.com", False),
     ("https://shop.example.com/*", False), ("localhost", False)],
)  # fmt: skip
def test_a_referrer_is_wide_when_its_host_is_any_site(pattern: str, wide: bool) -> None:
    assert wide_referrer(pattern) is wide


IAM14: dict[str, tuple[dict[str, Any], Verdict, str]] = {
    "one-api": (key(), PASS, f"{WHO} may call only maps-backend.googleapis.com"),
    "with-methods": (restricted(apiTargets=[{"service": "translate.googleapis.com", "methods": ["Translate*"]},
                                            {"service": "maps-backend.googleapis.com"}]),
                     PASS,
                     f"{WHO} may call only translate.googleapis.com, maps-backend.googleapis.com"),
    "no-restrictions": (key(restrictions=None), FAIL,
                        f"{WHO} has no API restriction: it may call every API enabled in the project"),
    "app-restriction-only": (restricted(browserKeyRestrictions={"allowedReferrers": ["https://a.example/*"]}), FAIL,
                             f"{WHO} has no API restriction: it may call every API enabled in the project"),
    "empty-targets": (restricted(apiTargets=[]), FAIL, "…"),
    "all-cloud-apis": (restricted(apiTargets=[{"service": "cloudapis.googleapis.com"}]), FAIL,
                       f"{WHO} is restricted to cloudapis.googleapis.com, which is every Google Cloud API"),
    "targets-not-a-list": (restricted(apiTargets={"service": "x"}), ERROR, "restrictions.apiTargets"),
    "target-without-service": (restricted(apiTargets=[{"methods": ["*"]}]), ERROR,
                               "restrictions.apiTargets[0].service"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(IAM14))
def test_iam14(case: str) -> None:
    check("IAM-14", *IAM14[case])


IAM15: dict[str, tuple[dict[str, Any], dict[str, Any], Verdict, str]] = {
    "young": (key(), {}, PASS, f"{WHO} is 10d old (createTime {ago(10)}) ≤ iam.api_key_max_age_days 90"),
    "exactly-90-days": (key(createTime=ago(90)), {}, PASS, "…"),
    "old": (key(createTime=ago(91)), {}, FAIL,
            f"{WHO} is 91d old (createTime {ago(91)}) > iam.api_key_max_age_days 90"),
    "old-but-recently-updated": (key(createTime=ago(200), updateTime=ago(1)), {}, FAIL, "…"),
    "param-5-days": (key(), {"iam": {"api_key_max_age_days": 5}}, FAIL,
                     f"{WHO} is 10d old (createTime {ago(10)}) > iam.api_key_max_age_days 5"),
    "created-in-the-future": (key(createTime="2099-01-01T00:00:00Z"), {}, PASS, "…"),
    "no-create-time": (key(createTime=None), {}, ERROR, "createTime"),
    "bad-create-time": (key(createTime="yesterday"), {}, ERROR, "createTime"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(IAM15))
def test_iam15(case: str) -> None:
    one, params, verdict, expected = IAM15[case]
    check("IAM-15", one, verdict, expected, params)


@pytest.mark.parametrize("control_id", ["IAM-12", "IAM-13", "IAM-14", "IAM-15"])
def test_one_result_per_key_and_an_unreadable_key_hides_no_other(control_id: str) -> None:
    other = key(name="projects/731234567890/locations/global/keys/k2", displayName="other")
    broken = key(restrictions="broken", createTime="never")
    findings = judge(control_id, [broken, other])
    assert [f.resource.rsplit("/", 1)[-1] for f in findings] == [UID, "k2"]
    if control_id != "IAM-12":
        assert findings[0].verdict is ERROR and findings[1].verdict is not ERROR
    assert judge(control_id, []) == []
