"""Reading a Cloud Storage bucket (storage v1 JSON) as the bucket controls judge it.

- A result names the bucket as Cloud Asset Inventory does: `//storage.googleapis.com/NAME`.
- Public access prevention: `iamConfiguration.publicAccessPrevention` is `enforced` or
  `inherited`; the legacy `unspecified`, and an absent field (the API's default), read as
  `inherited`: the bucket follows the organisation policy `storage.publicAccessPrevention`.
- Uniform bucket-level access: `iamConfiguration.uniformBucketLevelAccess.enabled`, or the
  legacy `bucketPolicyOnly.enabled` where the current field is absent; absent is off.
- The IAM policy rides on the bucket as `iamPolicy` (the collector's nesting); a bucket
  without one has no bindings. Conditional bindings still count; reasons name the condition.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from checks.kernel import JSON, Judge, Unjudgeable, attempt
from checks.model import Finding, Verdict

HOST = "//storage.googleapis.com/"
PUBLIC = frozenset({"allUsers", "allAuthenticatedUsers"})
_PREVENTION = "iamConfiguration.publicAccessPrevention"
_LEGACY_INHERITED = "unspecified"


def bucket_name(bucket: JSON) -> str:
    return f"{HOST}{bucket.get('name', '?')}"


def per_bucket(buckets: Iterable[JSON], judge: Judge[JSON]) -> Iterator[Finding]:
    """One finding per bucket, named `bucket NAME` in reasons; unreadable data is that bucket's `error`."""
    for bucket in buckets:
        who = f"bucket {bucket.get('name', '?')}"
        judged = attempt(judge, bucket, who)
        if isinstance(judged, Unjudgeable):
            yield Finding(bucket_name(bucket), Verdict.ERROR, judged.reason(who), judged.field)
        elif judged is not None:
            yield judged.at(bucket_name(bucket))


def _configuration(bucket: JSON) -> JSON:
    config = bucket.get("iamConfiguration")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise Unjudgeable("iamConfiguration", f"{config!r} is not an object")
    return config


@dataclass(frozen=True, slots=True)
class Prevention:
    """A bucket's public access prevention: `enforced` or not, and how the bucket spells it."""

    enforced: bool
    shown: str  # `publicAccessPrevention: inherited`, with the legacy or absent spelling explained


def prevention(bucket: JSON) -> Prevention:
    value = _configuration(bucket).get("publicAccessPrevention")
    if value == "enforced":
        return Prevention(True, f"{_PREVENTION}: enforced")
    if value == "inherited":
        return Prevention(False, f"{_PREVENTION}: inherited")
    if value == _LEGACY_INHERITED:
        return Prevention(False, f"{_PREVENTION}: unspecified (the legacy spelling of inherited)")
    if value is None:
        return Prevention(False, f"{_PREVENTION} absent (the default: inherited)")
    raise Unjudgeable(_PREVENTION, f"{value!r} is neither enforced nor inherited")


def uniform_access(bucket: JSON) -> tuple[bool, str]:
    """(on, how it reads): the current field, else the legacy one, else off."""
    config = _configuration(bucket)
    for key in ("uniformBucketLevelAccess", "bucketPolicyOnly"):
        if key not in config:
            continue
        setting, field = config[key], f"iamConfiguration.{key}"
        if not isinstance(setting, dict):
            raise Unjudgeable(field, f"{setting!r} is not an object")
        enabled = setting.get("enabled", False)
        if not isinstance(enabled, bool):
            raise Unjudgeable(f"{field}.enabled", f"{enabled!r} is not true or false")
        legacy = " (the legacy name of uniformBucketLevelAccess)" if key == "bucketPolicyOnly" else ""
        return enabled, f"{field}.enabled: {str(enabled).lower()}{legacy}"
    return False, "iamConfiguration.uniformBucketLevelAccess absent (the default: off)"


def public_grants(bucket: JSON) -> list[str]:
    """`ROLE MEMBER` (with ` if 'condition'`) for every binding granting allUsers or allAuthenticatedUsers."""
    policy = bucket.get("iamPolicy")
    if policy is None:  # the collector reads it beside every bucket: absent means it was not read
        raise Unjudgeable("iamPolicy", "absent: the bucket's IAM policy was not read")
    if not isinstance(policy, dict):
        raise Unjudgeable("iamPolicy", f"{policy!r} is not an object")
    bindings = policy.get("bindings") or []
    if not isinstance(bindings, list):
        raise Unjudgeable("iamPolicy.bindings", f"{bindings!r} is not a list")
    found = []
    for i, binding in enumerate(bindings):
        members = binding.get("members") if isinstance(binding, dict) else None
        if not isinstance(members, list):
            raise Unjudgeable(f"iamPolicy.bindings[{i}].members", f"{members!r} is not a list")
        condition = binding.get("condition") or {}
        title = condition.get("title") or condition.get("expression") if isinstance(condition, dict) else None
        suffix = f" if {title!r}" if title else ""
        found += [f"{binding.get('role', '?')} {member}{suffix}" for member in members if member in PUBLIC]
    return found
