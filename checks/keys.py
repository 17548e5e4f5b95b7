"""Service-account key controls (IAM-08, IAM-09), one result per user-managed key.

Keys are read from the serviceAccountKeys kind: every service account of the project with
its keys under `keys`. `SYSTEM_MANAGED` keys are Google's (rotated by Google, never
downloadable) and get no result; a key whose type is missing or unknown is an `error`.
A key counts as *enabled* unless it has expired (`validBeforeTime` at or before the
snapshot's `now`: it can never be used again, pass), is `disabled`, or belongs to a disabled
account (pass, `latent: true`: one click from live). Ages are measured against the
snapshot's `now`, never the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from checks.backup import age_text
from checks.kernel import JSON, Judgement, Unjudgeable, attempt, parse_time
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.snapshot import Kind, Snapshot

HOST = "//iam.googleapis.com/"
USER, SYSTEM = "USER_MANAGED", "SYSTEM_MANAGED"
# What IAM-08 and IAM-09 give for a key they cannot read (their `unknown=`).
_KEY_UNKNOWN = (
    'A `keyType` other than `USER_MANAGED` or `SYSTEM_MANAGED` (or absent), `disabled` that is not true '
    'or false, a `validBeforeTime` that is not an RFC 3339 time, or an account whose `keys` is not a list '
    'of keys, gives an `error` for that key (or account); the other keys are still judged. Keys that '
    'could not be listed give one `error` for the project.'
)


@dataclass(frozen=True, slots=True)
class KeyState:
    """A user-managed key read: who it is, whether it can be used, and why not."""

    who: str
    account: str  # the account's email: the subject of every result about its keys
    enabled: bool
    latent: bool  # not usable only because it or its account is disabled
    why: str  # "" when enabled, else what makes it unusable


def _flag(resource: JSON, field: str) -> bool:
    value = resource.get(field, False)
    if not isinstance(value, bool):
        raise Unjudgeable(field, f"{value!r} is not true or false")
    return value


def _state(account: JSON, key: JSON, now: datetime, who: str) -> KeyState:
    email = str(account.get("email") or account.get("name", "?"))
    before = key.get("validBeforeTime")
    if before:
        until = parse_time(before)
        if until is None:
            raise Unjudgeable("validBeforeTime", f"{before!r} is not an RFC 3339 time")
        if until <= now:
            return KeyState(who, email, False, False, f"expired (validBeforeTime {before})")
    if _flag(key, "disabled"):
        return KeyState(who, email, False, True, "disabled (disabled: true)")
    if _flag(account, "disabled"):
        return KeyState(who, email, False, True, f"of the disabled service account {email}")
    return KeyState(who, email, True, False, "")


def _age(key: JSON, now: datetime) -> tuple[timedelta, str]:
    after = key.get("validAfterTime")
    when = parse_time(after)
    if when is None:
        raise Unjudgeable("validAfterTime", f"{after!r} is not an RFC 3339 time" if after else "absent")
    return max(now - when, timedelta(0)), f"validAfterTime {after}"


def _judged(judge: Callable[[JSON, KeyState], Judgement], account: JSON, key: JSON, now: datetime,
            who: str) -> Judgement:  # fmt: skip
    return judge(key, _state(account, key, now, who))


def _per_key(snapshot: Snapshot, judge: Callable[[JSON, KeyState], Judgement]) -> Iterator[Finding]:
    """One finding per user-managed key of every account; unreadable data is that key's (or account's) `error`."""
    for account in snapshot.get(Kind.SERVICE_ACCOUNT_KEYS):
        email = str(account.get("email") or account.get("name", "?"))
        account_name = f"{HOST}projects/{snapshot.scope}/serviceAccounts/{email}"
        keys = account.get("keys") or []
        if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
            reason = f"service account {email}: cannot judge keys: {keys!r} is not a list of keys"
            yield Finding(account_name, Verdict.ERROR, reason, "keys")
            continue
        for key in keys:
            key_id = str(key.get("name", "?")).rsplit("/", 1)[-1]
            resource = HOST + str(key["name"]) if key.get("name") else f"{account_name}/keys/?"
            who = f"key {key_id} of {email}"
            kind = key.get("keyType")
            if kind == SYSTEM:
                continue
            if kind != USER:
                reason = f"{who}: cannot judge keyType: {kind!r} is neither {USER} nor {SYSTEM}"
                yield Finding(resource, Verdict.ERROR, reason, "keyType")
                continue
            judged = attempt(_judged, judge, account, key, snapshot.now, who)
            if isinstance(judged, Unjudgeable):
                yield Finding(resource, Verdict.ERROR, judged.reason(who), judged.field)
            else:
                yield judged.at(resource)


@control(
    id="IAM-08", title="No user-managed service-account keys", area=Area.IAM, severity=Severity.MEDIUM,
    kinds=(Kind.SERVICE_ACCOUNT_KEYS,), unit="key",
    references=References(cis=(("4.0", "1.4"), ("5.0", "1.5")), soc2=("CC6.1",),
                          sha="USER_MANAGED_SERVICE_ACCOUNT_KEY"),
    rationale="A downloaded service-account key is a password that never expires, works from anywhere and "
    "bypasses every sign-in control: once copied into a laptop, a CI variable or a repository, nobody can "
    "tell where it is. Workload identity, attached service accounts and impersonation need no key.",
    remediation="Move the workload to an attached service account or workload identity federation, then "
    "delete the key: `gcloud iam service-accounts keys delete KEY_ID --iam-account=ACCOUNT`; prevent new ones "
    "with `gcloud resource-manager org-policies enable-enforce iam.disableServiceAccountKeyCreation "
    "--organization=ORG_ID`.",
    holds='A service account has no enabled user-managed key.',
    logic="One result per key of every service account of the project. `SYSTEM_MANAGED` keys are Google's "
        'and get no result. A `USER_MANAGED` key fails while it is usable; it passes when it has expired '
        "(`validBeforeTime` at or before the snapshot's time), and passes as latent (one change from "
        'usable) when the key is `disabled` or its service account is.',
    unknown=_KEY_UNKNOWN,
)
def iam08_user_managed_keys(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails every enabled user-managed key; a disabled key, or one of a disabled account, passes as
    latent; an expired key passes."""

    def judge(key: JSON, state: KeyState) -> Judgement:
        if state.enabled:
            return Judgement(Verdict.FAIL, f"{state.who} is an enabled user-managed key", state.account)
        reason = f"{state.who} is a user-managed key but {state.why}"
        return Judgement(Verdict.PASS, reason, state.account, state.latent)

    return _per_key(snapshot, judge)


@control(
    id="IAM-09", title="Keys are rotated", area=Area.IAM, severity=Severity.MEDIUM,
    kinds=(Kind.SERVICE_ACCOUNT_KEYS,), params=("iam.key_max_age_days",), unit="key",
    references=References(cis=(("4.0", "1.7"), ("5.0", "1.8")), soc2=("CC6.1",), sha="SERVICE_ACCOUNT_KEY_NOT_ROTATED"),
    rationale="Where a key cannot be avoided, its age bounds how long a leaked copy stays useful. A key "
    "older than the rotation period has had that much time to be copied, logged or left behind, and its "
    "holders have stopped expecting it to change.",
    remediation="Rotate: create a new key, deploy it, then delete the old one: `gcloud iam service-accounts "
    "keys create new-key.json --iam-account=ACCOUNT` and `gcloud iam service-accounts keys delete KEY_ID "
    "--iam-account=ACCOUNT`.",
    holds='Every usable user-managed service-account key is younger than `iam.key_max_age_days`.',
    logic='One result per `USER_MANAGED` key (`SYSTEM_MANAGED` keys are rotated by Google: no result). An '
        "expired key passes. Otherwise its age is the snapshot's time minus `validAfterTime`; an enabled "
        'key older than `iam.key_max_age_days` (default 90) fails, a younger one passes; a disabled key, '
        'or one of a disabled account, passes, marked latent when it is too old.',
    unknown=_KEY_UNKNOWN + " An absent or unparseable `validAfterTime` is an `error` for the key.",
)
def iam09_key_rotation(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an enabled user-managed key whose `validAfterTime` is older than `iam.key_max_age_days`
    (against the snapshot's `now`); a disabled old key passes as latent, an expired one passes."""
    days = params.iam.key_max_age_days
    limit = timedelta(days=days)

    def judge(key: JSON, state: KeyState) -> Judgement:
        if not state.enabled and not state.latent:
            return Judgement(Verdict.PASS, f"{state.who} cannot be used: {state.why}", state.account)
        age, since = _age(key, snapshot.now)
        old = age > limit
        aged = f"{age_text(age)} old ({since}) {'>' if old else '≤'} iam.key_max_age_days {days}"
        if not state.enabled:
            return Judgement(Verdict.PASS, f"{state.who} is {aged}, but {state.why}", state.account, old)
        return Judgement(Verdict.FAIL if old else Verdict.PASS, f"{state.who} is {aged}", state.account)

    return _per_key(snapshot, judge)
