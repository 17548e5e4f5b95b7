"""API key controls (IAM-12..IAM-15), one result per API key of the project.

Keys come from the apiKeys kind (API Keys API v2, `projects/P/locations/global/keys`),
without their key strings. A key carrying a `deleteTime` is deleted (kept 30 days for
undeletion, unusable): out of scope. Ages are measured against the snapshot's `now`.
A project whose API Keys API is disabled lists no keys (the run notes it); keys made
before it was disabled cannot be read there, and are not judged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from datetime import timedelta

from checks.backup import age_text
from checks.kernel import JSON, Judgement, Unjudgeable, attempt, parse_time
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.snapshot import Kind, Snapshot

HOST = "//apikeys.googleapis.com/"
#: the API target standing for every Google Cloud API (CIS 1.14: not a restriction)
ALL_CLOUD_APIS = "cloudapis.googleapis.com"
_SCHEMES = ("https://", "http://", "*://")
_DEFINITION_BASE = "API keys come from one listing of `projects/P/locations/global/keys` (deleted keys are not " \
    "listed; a key with `deleteTime` is out of scope)."  # fmt: skip

KeyJudge = Callable[[JSON, str], Judgement | None]


def _per_key(snapshot: Snapshot, judge: KeyJudge) -> Iterator[Finding]:
    for key in snapshot.get(Kind.API_KEYS):
        name = str(key.get("name") or "projects/?/locations/global/keys/?")
        uid = name.rsplit("/", 1)[-1]
        display = key.get("displayName")
        who = f"API key {display!r} ({uid})" if isinstance(display, str) and display else f"API key {uid}"
        if key.get("deleteTime"):
            continue
        judged = attempt(judge, key, who)
        if isinstance(judged, Unjudgeable):
            yield Finding(HOST + name, Verdict.ERROR, judged.reason(who), judged.field)
        elif judged is not None:
            yield judged.at(HOST + name)


def _restrictions(key: JSON) -> JSON:
    found = key.get("restrictions", {})
    if not isinstance(found, dict):
        raise Unjudgeable("restrictions", f"{found!r} is not an object")
    return found


def _entries(restrictions: JSON, kind: str, field: str) -> list[object] | None:
    """The list `restrictions.kind.field`, None when `kind` is absent."""
    if kind not in restrictions:
        return None
    block = restrictions[kind]
    if not isinstance(block, dict):
        raise Unjudgeable(f"restrictions.{kind}", f"{block!r} is not an object")
    entries = block.get(field, [])
    if not isinstance(entries, list):
        raise Unjudgeable(f"restrictions.{kind}.{field}", f"{entries!r} is not a list")
    return entries


# --- IAM-12 ------------------------------------------------------------------------------------


@control(
    id="IAM-12", title="No API keys", area=Area.IAM, severity=Severity.LOW,
    kinds=(Kind.API_KEYS,), unit="API key",
    references=References(cis=(("4.0", "1.12"), ("5.0", "1.13")), soc2=("CC6.1",), sha="API_KEY_EXISTS"),
    rationale="An API key is a bearer string: it names no user or workload, travels inside apps and web "
    "pages, and works for whoever copies it. Google's standard authentication (service accounts, OAuth, "
    "workload identity) needs none; a key that exists is one more secret to leak, and keys of retired "
    "services linger with their access intact.",
    remediation="Move callers to standard authentication, then delete the key: `gcloud services api-keys "
    "delete KEY_UID`. Where a key must stay, restrict and rotate it (IAM-13..IAM-15) and accept the risk.",
    holds="The project holds no (undeleted) API key.",
    logic=_DEFINITION_BASE + " Every key listed fails, named by its display name and uid; the project "
    "passes by having no result at all.",
    unknown="error naming the field for a key that cannot be read; the apiKeys kind failing makes the control "
    "error. A disabled API Keys API lists no key (the run notes it).",
)
def iam12_api_keys(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails every API key of the project."""

    def judge(key: JSON, who: str) -> Judgement:
        return Judgement(Verdict.FAIL, f"{who} exists (created {key.get('createTime', 'at an unknown time')})")

    return _per_key(snapshot, judge)


# --- IAM-13 ------------------------------------------------------------------------------------


def wide_referrer(pattern: str) -> bool:
    """`*`, `*.com`, `https://*.org/*`: a referrer pattern matching any site (CIS 1.13)."""
    rest = pattern
    for scheme in _SCHEMES:
        if rest.startswith(scheme):
            rest = rest[len(scheme) :]
            break
    host = rest.split("/", 1)[0]
    return host == "*" or (host.startswith("*.") and "." not in host[2:])


def wide_address(text: str, field: str) -> bool:
    """`0.0.0.0`, `0.0.0.0/0`, `::0`, `::/0`: an allowed IP that is any host (CIS 1.13)."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise Unjudgeable(field, f"{text!r} is not an IP address or range") from None
    return network.prefixlen == 0 or network.network_address.is_unspecified


def _application_restriction(key: JSON) -> tuple[bool, str]:
    """(restricted, what restricts it or why it does not)."""
    restrictions = _restrictions(key)
    checks: tuple[tuple[str, str, str], ...] = (
        ("browserKeyRestrictions", "allowedReferrers", "HTTP referrers"),
        ("serverKeyRestrictions", "allowedIps", "IP addresses"),
        ("androidKeyRestrictions", "allowedApplications", "Android apps"),
        ("iosKeyRestrictions", "allowedBundleIds", "iOS apps"),
    )
    for kind, field, label in checks:
        entries = _entries(restrictions, kind, field)
        if entries is None:
            continue
        if not entries:
            return False, f"its {label} restriction lists none ({kind}.{field} empty)"
        where = f"restrictions.{kind}.{field}"
        for i, entry in enumerate(entries):
            if field in ("allowedReferrers", "allowedIps", "allowedBundleIds") and not isinstance(entry, str):
                raise Unjudgeable(f"{where}[{i}]", f"{entry!r} is not a string")
            if field == "allowedApplications" and not isinstance(entry, dict):
                raise Unjudgeable(f"{where}[{i}]", f"{entry!r} is not an application")
        if field == "allowedReferrers":
            wide = [str(e) for e in entries if wide_referrer(str(e))]
            if wide:
                return False, f"its HTTP referrers include {', '.join(wide)}, which match any site"
        if field == "allowedIps":
            wide = [str(e) for i, e in enumerate(entries) if wide_address(str(e), f"{where}[{i}]")]
            if wide:
                return False, f"its IP addresses include {', '.join(wide)}, which is any host"
        return True, f"restricted to {len(entries)} {label}"
    return False, "it has no application restriction (HTTP referrers, IP addresses, Android or iOS apps)"


@control(
    id="IAM-13", title="API keys are restricted to their hosts and apps", area=Area.IAM, severity=Severity.MEDIUM,
    kinds=(Kind.API_KEYS,), unit="API key",
    references=References(cis=(("4.0", "1.13"), ("5.0", "1.14")), soc2=("CC6.1",), sha="API_KEY_APPS_UNRESTRICTED"),
    rationale="A key without an application restriction works from any site, server or app that holds a "
    "copy; a copy scraped from a page or an app bundle is then as good as the original. Referrer, IP and "
    "app restrictions make a copy useless elsewhere (CIS rates this Manual; the API says it exactly).",
    remediation="Restrict the key: `gcloud services api-keys update KEY_UID --allowed-referrers=https://"
    "app.example.com/*` (or `--allowed-ips`, `--allowed-application`, `--allowed-bundle-ids`).",
    holds="Each API key is restricted to named HTTP referrers, IP addresses, Android apps or iOS apps, none "
    "of which is a wildcard for any site or host.",
    logic=_DEFINITION_BASE + " Read `restrictions` (absent: none). Fail when none of `browserKeyRestrictions."
    "allowedReferrers`, `serverKeyRestrictions.allowedIps`, `androidKeyRestrictions.allowedApplications`, "
    "`iosKeyRestrictions.allowedBundleIds` is set, when the one set is empty, when a referrer's host is `*` or "
    "`*.TLD` (any scheme, any path), or when an allowed IP is a /0 range or the unspecified address "
    "(`0.0.0.0`, `::0`); else pass, saying what restricts it.",
    unknown="error naming the field: `restrictions` or one of its blocks not an object, a list not a list, a "
    "referrer, IP or bundle id not a string, an IP that is not an address or range, an app not an object.",
)
def iam13_application_restrictions(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a key usable from any site, host or app."""

    def judge(key: JSON, who: str) -> Judgement:
        restricted, why = _application_restriction(key)
        if restricted:
            return Judgement(Verdict.PASS, f"{who} is {why}")
        return Judgement(Verdict.FAIL, f"{who} is usable from anywhere: {why}")

    return _per_key(snapshot, judge)


# --- IAM-14 ------------------------------------------------------------------------------------


def _api_targets(key: JSON) -> list[str]:
    targets = _restrictions(key).get("apiTargets", [])
    if not isinstance(targets, list):
        raise Unjudgeable("restrictions.apiTargets", f"{targets!r} is not a list")
    services = []
    for i, target in enumerate(targets):
        service = target.get("service") if isinstance(target, dict) else None
        if not isinstance(service, str) or not service:
            raise Unjudgeable(f"restrictions.apiTargets[{i}].service", f"{service!r} is not a service name")
        services.append(service)
    return services


@control(
    id="IAM-14", title="API keys are restricted to the APIs they need", area=Area.IAM, severity=Severity.MEDIUM,
    kinds=(Kind.API_KEYS,), unit="API key",
    references=References(cis=(("4.0", "1.14"), ("5.0", "1.15")), soc2=("CC6.1",), sha="API_KEY_APIS_UNRESTRICTED"),
    rationale="A key without API restrictions calls every API enabled in its project, so a key leaked from a "
    "maps widget can also call whatever else the project runs. Listing the APIs a key serves is least "
    "privilege for a credential that names nobody.",
    remediation="Restrict the key to its APIs: `gcloud services api-keys update KEY_UID "
    "--api-target=service=maps-backend.googleapis.com` (never `cloudapis.googleapis.com`, which is all of them).",
    holds="Each API key lists the APIs it may call, and none of them is `cloudapis.googleapis.com` (every "
    "Google Cloud API).",
    logic=_DEFINITION_BASE + " Read `restrictions.apiTargets` (absent, or no `restrictions`: unrestricted). "
    "Fail when it is empty or absent, or when a target's `service` is `cloudapis.googleapis.com`; else pass, "
    "naming the services (a target's `methods` narrow it further and are not judged).",
    unknown="error naming the field: `restrictions` not an object, `apiTargets` not a list, a target without a "
    "`service` name.",
)
def iam14_api_restrictions(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a key that may call every API."""

    def judge(key: JSON, who: str) -> Judgement:
        services = _api_targets(key)
        if not services:
            return Judgement(Verdict.FAIL, f"{who} has no API restriction: it may call every API enabled in the "
                             "project")  # fmt: skip
        if ALL_CLOUD_APIS in services:
            return Judgement(Verdict.FAIL, f"{who} is restricted to {ALL_CLOUD_APIS}, which is every Google Cloud "
                             "API")  # fmt: skip
        return Judgement(Verdict.PASS, f"{who} may call only {', '.join(services)}")

    return _per_key(snapshot, judge)


# --- IAM-15 ------------------------------------------------------------------------------------


@control(
    id="IAM-15", title="API keys are rotated", area=Area.IAM, severity=Severity.MEDIUM,
    kinds=(Kind.API_KEYS,), params=("iam.api_key_max_age_days",), unit="API key",
    references=References(cis=(("4.0", "1.15"), ("5.0", "1.16")), soc2=("CC6.1",), sha="API_KEY_NOT_ROTATED"),
    rationale="An API key never expires. Its age bounds how long a copy in an old app build, a log or a "
    "departed colleague's notes keeps working; a key replaced every 90 days limits that window.",
    remediation="Create a replacement with the same restrictions (`gcloud services api-keys create "
    "--display-name=NAME` then `update`), move its callers, and delete the old key: `gcloud services api-keys "
    "delete KEY_UID`.",
    holds="Each API key was created no more than `iam.api_key_max_age_days` (90) days ago.",
    logic=_DEFINITION_BASE + " Age is the snapshot's now minus `createTime` (CIS's audit reads the creation "
    "date; the API offers no rotation in place, so a rotated key is a new key). Fail when the age exceeds the "
    "limit, else pass; `updateTime` (a changed restriction) does not count as a rotation.",
    unknown="error naming `createTime` when it is absent or not an RFC 3339 time.",
)
def iam15_api_key_rotation(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a key older than `iam.api_key_max_age_days` by its `createTime`."""
    days = params.iam.api_key_max_age_days
    limit = timedelta(days=days)

    def judge(key: JSON, who: str) -> Judgement:
        created = key.get("createTime")
        when = parse_time(created)
        if when is None:
            raise Unjudgeable("createTime", f"{created!r} is not an RFC 3339 time" if created else "absent")
        age = max(snapshot.now - when, timedelta(0))
        old = age > limit
        verdict = Verdict.FAIL if old else Verdict.PASS
        return Judgement(verdict, f"{who} is {age_text(age)} old (createTime {created}) "
                         f"{'>' if old else '≤'} iam.api_key_max_age_days {days}")  # fmt: skip

    return _per_key(snapshot, judge)
