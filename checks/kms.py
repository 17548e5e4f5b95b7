"""Cloud KMS key controls (IAM-10, IAM-11), one result per CryptoKey.

Keys are read from the keyRings kind: every key ring of the project (all locations) with
its IAM policy under `iamPolicy` and its keys under `cryptoKeys`, each key with its own
`iamPolicy`. A key inherits its ring's policy, so IAM-10 reads both. Times are measured
against the snapshot's `now`, never the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

from checks.backup import age_text
from checks.kernel import JSON, Judgement, Unjudgeable, attempt, parse_time
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.snapshot import Kind, Snapshot

HOST = "//cloudkms.googleapis.com/"
PUBLIC = ("allUsers", "allAuthenticatedUsers")
#: the only purpose Cloud KMS rotates automatically (symmetric encryption keys)
ROTATED_PURPOSE = "ENCRYPT_DECRYPT"
_DURATION = re.compile(r"(\d+)(?:\.(\d{1,9}))?s")

KeyJudge = Callable[[JSON, JSON, str], Judgement | None]


def public_grants(policy: object, field: str) -> list[str]:
    """`ROLE MEMBER` for every binding of `policy` granting allUsers or allAuthenticatedUsers.

    A conditional binding counts (its condition may hold); an unread policy is Unjudgeable,
    never "no grants".
    """
    if not isinstance(policy, dict):
        why = "absent (the policy was not read)" if policy is None else f"{policy!r} is not an object"
        raise Unjudgeable(field, why)
    bindings = policy.get("bindings", [])
    if not isinstance(bindings, list):
        raise Unjudgeable(f"{field}.bindings", f"{bindings!r} is not a list")
    found: list[str] = []
    for i, binding in enumerate(bindings):
        members = binding.get("members") if isinstance(binding, dict) else None
        if not isinstance(members, list):
            raise Unjudgeable(f"{field}.bindings[{i}].members", f"{members!r} is not a list")
        role = binding.get("role", "?")
        found += [f"{role} {member}" for member in members if member in PUBLIC]
    return found


def _per_key(snapshot: Snapshot, judge: KeyJudge) -> Iterator[Finding]:
    """One finding per key of every ring; a ring whose keys cannot be read is that ring's `error`."""
    for ring in snapshot.get(Kind.KEY_RINGS):
        ring_name = str(ring.get("name") or "?")
        keys = ring.get("cryptoKeys", [])
        if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
            reason = f"key ring {ring_name}: cannot judge cryptoKeys: {keys!r} is not a list of keys"
            yield Finding(HOST + ring_name, Verdict.ERROR, reason, "cryptoKeys")
            continue
        for key in keys:
            name = str(key.get("name") or f"{ring_name}/cryptoKeys/?")
            who = f"key {name.rsplit('/', 1)[-1]} of key ring {ring_name}"
            judged = attempt(judge, ring, key, who)
            if isinstance(judged, Unjudgeable):
                yield Finding(HOST + name, Verdict.ERROR, judged.reason(who), judged.field)
            elif judged is not None:
                yield judged.at(HOST + name)


@control(
    id="IAM-10", title="Cloud KMS keys are not public", area=Area.IAM, severity=Severity.HIGH,
    kinds=(Kind.KEY_RINGS,), unit="KMS key",
    references=References(cis=(("4.0", "1.9"), ("5.0", "1.10")), soc2=("CC6.1",), sha="KMS_PUBLIC_KEY"),
    rationale="A key that allUsers or allAuthenticatedUsers may use (or administer) lets anyone on the "
    "internet, or anyone with a Google account, decrypt what it protects, sign as its owner, or destroy it "
    "and with it every piece of data encrypted under it. A grant on the key ring reaches every key in it, so "
    "both policies are read; CIS's audit reads the key's alone.",
    remediation="Remove the public members from the key's (or its ring's) policy: `gcloud kms keys "
    "remove-iam-policy-binding KEY --keyring=RING --location=LOCATION --member=allUsers --role=ROLE` (and "
    "`--member=allAuthenticatedUsers`; for a ring, `gcloud kms keyrings remove-iam-policy-binding`).",
    holds="No binding of the key's IAM policy, nor of its key ring's, grants any role to allUsers or "
    "allAuthenticatedUsers.",
    logic="For each CryptoKey of each key ring (every KMS location of the project): read the ring's policy "
    "(`keyRings.getIamPolicy`, version 3) and the key's (`cryptoKeys.getIamPolicy`, version 3); fail when any "
    "binding's `members` holds `allUsers` or `allAuthenticatedUsers`, naming the role, the member and whether "
    "the grant is the key's or the ring's. A conditional binding counts (its condition may hold). A policy "
    "without `bindings` grants nothing. Every key is in scope, whatever its purpose or state. The project's "
    "own IAM policy is IAM-06's concern.",
    unknown="error naming the field: a ring's or key's `iamPolicy` absent or not an object, `bindings` not a "
    "list, a binding's `members` not a list, a ring's `cryptoKeys` not a list of keys (then the ring is the "
    "error). The keyRings kind failing (a location, ring or policy unreadable) makes the control error.",
)
def iam10_public_keys(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a key whose policy, or whose ring's policy, grants allUsers or allAuthenticatedUsers."""

    def judge(ring: JSON, key: JSON, who: str) -> Judgement:
        grants = [f"{g} (on the key)" for g in public_grants(key.get("iamPolicy"), "iamPolicy")]
        grants += [f"{g} (on its key ring)" for g in public_grants(ring.get("iamPolicy"), "keyRing.iamPolicy")]
        if grants:
            listed = "; ".join(grants)
            return Judgement(Verdict.FAIL, f"{who} is public: {listed}", listed)
        return Judgement(Verdict.PASS, f"{who}: neither its policy nor its key ring's grants allUsers or "
                         "allAuthenticatedUsers")  # fmt: skip

    return _per_key(snapshot, judge)


def duration(value: object, field: str) -> timedelta:
    """A REST Duration (`7776000s`, `3.5s`) as a timedelta; Unjudgeable otherwise."""
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise Unjudgeable(field, f"{value!r} is not a duration such as '7776000s'")
    seconds, fraction = match.groups()
    return timedelta(seconds=int(seconds), microseconds=int((fraction or "0").ljust(6, "0")[:6]))


@control(
    id="IAM-11", title="Cloud KMS keys rotate within 90 days", area=Area.IAM, severity=Severity.MEDIUM,
    kinds=(Kind.KEY_RINGS,), params=("iam.kms_rotation_max_days",), unit="KMS key",
    references=References(cis=(("4.0", "1.10"), ("5.0", "1.11")), soc2=("CC6.1",), sha="KMS_KEY_NOT_ROTATED"),
    rationale="Rotation bounds how much data one key version protects and how long a leaked or cracked "
    "version stays useful. Cloud KMS rotates a symmetric key by itself once it has a rotation period and a "
    "next rotation time; a key with neither keeps its first version for ever.",
    remediation="Schedule rotation: `gcloud kms keys update KEY --keyring=RING --location=LOCATION "
    "--rotation-period=90d --next-rotation-time=YYYY-MM-DDTHH:MM:SSZ`.",
    holds="A symmetric encryption key has a rotation period of at most `iam.kms_rotation_max_days` (90) days "
    "and its next rotation is due within that many days of now.",
    logic="For each CryptoKey whose `purpose` is `ENCRYPT_DECRYPT` (the only purpose Cloud KMS rotates "
    "automatically; asymmetric, MAC and raw keys are out of scope, as in CIS): fail when `rotationPeriod` is "
    "absent (no automatic rotation) or longer than the limit; fail when `nextRotationTime` is absent or later "
    "than the snapshot's now plus the limit; else pass. A `nextRotationTime` already past passes (CIS asks only "
    "that it be within the limit). Import-only keys are judged like any other.",
    unknown="error naming the field: `purpose` absent or not a string, `rotationPeriod` not a Duration "
    "(`7776000s`), `nextRotationTime` not an RFC 3339 time; a ring's `cryptoKeys` not a list of keys.",
)
def iam11_key_rotation(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a symmetric key without automatic rotation, with a period above the limit, or whose next
    rotation is further away than the limit."""
    days = params.iam.kms_rotation_max_days
    limit = timedelta(days=days)

    def judge(ring: JSON, key: JSON, who: str) -> Judgement | None:
        purpose = key.get("purpose")
        if not isinstance(purpose, str) or not purpose:
            raise Unjudgeable("purpose", "absent" if purpose is None else f"{purpose!r} is not a purpose")
        if purpose != ROTATED_PURPOSE:
            return None
        raw = key.get("rotationPeriod")
        if raw is None:
            return Judgement(Verdict.FAIL, f"{who} has no rotationPeriod: it is never rotated automatically")
        period = duration(raw, "rotationPeriod")
        if period > limit:
            return Judgement(Verdict.FAIL, f"{who} rotates every {age_text(period)} (rotationPeriod {raw}) > "
                             f"iam.kms_rotation_max_days {days}")  # fmt: skip
        text = key.get("nextRotationTime")
        if text is None:
            return Judgement(Verdict.FAIL, f"{who} has a rotationPeriod of {age_text(period)} but no "
                             "nextRotationTime: no rotation is scheduled")  # fmt: skip
        upcoming = parse_time(text)
        if upcoming is None:
            raise Unjudgeable("nextRotationTime", f"{text!r} is not an RFC 3339 time")
        wait = upcoming - snapshot.now
        if wait > limit:
            return Judgement(Verdict.FAIL, f"{who} next rotates in {age_text(wait)} (nextRotationTime {text}) > "
                             f"iam.kms_rotation_max_days {days}")  # fmt: skip
        due = f"in {age_text(wait)}" if wait >= timedelta(0) else f"{age_text(-wait)} ago"
        return Judgement(Verdict.PASS, f"{who} rotates every {age_text(period)} ≤ {days}d, next rotation "
                         f"{due} (nextRotationTime {text})")  # fmt: skip

    return _per_key(snapshot, judge)
