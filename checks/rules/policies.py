"""What a firewall-policy rule matches, read from the Compute REST JSON shape (`FirewallPolicy`,
hierarchical or network), as a `Rule` the VPC definitions already judge.

A policy rule reads like a VPC rule once its fields are renamed: `action` (`allow`, `deny`,
`goto_next`), `match.srcIpRanges`, `match.layer4Configs[]` (`ipProtocol`, `ports`, read as
VPC `allowed[]`), `targetServiceAccounts`, `targetSecureTags`, `enableLogging`. What it
adds, as the catalogue settles it:
- sources that are the internet without a range: `srcNetworkType: INTERNET`, and non-empty
  `srcRegionCodes`, `srcThreatIntelligences` or `srcFqdns`, count as both `0.0.0.0/0` and
  `::/0` for exposure, and never shadow (only an internet range does: `shadow_internet`);
- `srcNetworkType` `NON_INTERNET`, `INTRA_VPC` or `VPC_NETWORKS` is no internet traffic;
- `srcAddressGroups` can't be judged without the group: kept in `address_groups`;
- `targetResources` limits the rule to those networks (`networks`, keys as `network_key`);
- secure tags compare only with secure tags: they are kept in `target_tags` as `secure:NAME`,
  so that `targets_cover` never matches them against VPC network tags;
- `apply_security_profile_group` lets traffic through after inspection: read as `allow`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from checks.kernel import JSON, Unjudgeable
from checks.names import last_segment
from checks.rules.network import (
    DEFAULT_SOURCE,
    Rule,
    flag,
    internet_families,
    network_key,
    obj,
    parse_entries,
    strings,
)

ACTIONS = {"allow": "allow", "deny": "deny", "goto_next": "goto_next", "apply_security_profile_group": "allow"}
_NOT_INTERNET = frozenset({"NON_INTERNET", "INTRA_VPC", "VPC_NETWORKS"})
_NETWORK_TYPES = frozenset({"INTERNET", "UNSPECIFIED", *_NOT_INTERNET})
MAX_PRIORITY = 2**31 - 1


@dataclass(frozen=True, slots=True)
class PolicyRule(Rule):
    """One rule of a firewall policy; `name` is how reasons name it (`rule 1000 of firewall policy …`)."""

    action: str  # allow, deny or goto_next
    shadow_internet: Mapping[int, tuple[str, ...]]  # the internet ranges: only these shadow
    address_groups: tuple[str, ...]  # srcAddressGroups, when nothing else makes it internet
    networks: frozenset[str]  # targetResources as network keys; empty: every network of the policy
    logging: bool  # enableLogging
    policy: str  # the policy's full resource name
    region: str | None  # a regional network policy's region


def _layer4(match: JSON) -> list[JSON]:
    """`match.layer4Configs[]` as VPC `allowed[]` entries."""
    configs = match.get("layer4Configs")
    if not isinstance(configs, list) or not configs or not all(isinstance(c, dict) for c in configs):
        raise Unjudgeable("match.layer4Configs", "is not a non-empty list of objects")
    return [{"IPProtocol": c.get("ipProtocol"), **({"ports": c["ports"]} if "ports" in c else {})} for c in configs]


def _internet(match: JSON) -> tuple[dict[int, tuple[str, ...]], dict[int, tuple[str, ...]], str]:
    """(internet sources by family for exposure, the internet ranges that may shadow, the fields)."""
    kind = match.get("srcNetworkType")
    if kind is not None and kind not in _NETWORK_TYPES:
        raise Unjudgeable("match.srcNetworkType", f"unknown network type {kind!r}")
    if kind in _NOT_INTERNET:
        return {}, {}, f"srcNetworkType: {kind}"
    ranges = strings(match, "srcIpRanges")
    shadow = internet_families(ranges, "match.srcIpRanges") if ranges else {}
    others = [f"{key}: {', '.join(strings(match, key))}" for key in ("srcRegionCodes", "srcThreatIntelligences",
              "srcFqdns") if strings(match, key)]  # fmt: skip
    if kind == "INTERNET" and not ranges:
        others.insert(0, "srcNetworkType: INTERNET")
    if not ranges and not others and not strings(match, "srcAddressGroups") and not match.get("srcSecureTags"):
        return {4: ("0.0.0.0/0",)}, {4: ("0.0.0.0/0",)}, DEFAULT_SOURCE
    exposure = {family: tuple(found) for family, found in shadow.items()}
    for family in (4, 6) if others else ():
        exposure[family] = (*exposure.get(family, ()), *others)
    fields = ", ".join((["srcIpRanges"] if shadow else []) + [other.split(":", 1)[0] for other in others])
    return exposure, shadow, fields


def parse_policy_rule(raw: JSON, scope: str, policy: str, label: str, region: str | None) -> PolicyRule:
    """Read one rule of the policy `policy` (named `label` in reasons); raises Unjudgeable."""
    direction = raw.get("direction", "INGRESS")
    if direction not in ("INGRESS", "EGRESS"):
        raise Unjudgeable("direction", f"unknown direction {direction!r}")
    action = raw.get("action")
    if action not in ACTIONS:
        raise Unjudgeable("action", f"unknown action {action!r}")
    priority = raw.get("priority")
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= MAX_PRIORITY:
        raise Unjudgeable("priority", f"{priority!r} is not a priority (0-{MAX_PRIORITY})")
    match = obj(raw, "match")
    coverage, wide = parse_entries(_layer4(match), "match.layer4Configs")
    ingress = direction == "INGRESS"
    internet, shadow, fields = _internet(match) if ingress else ({}, {}, "")
    groups = strings(match, "srcAddressGroups")
    tags = raw.get("targetSecureTags") or []
    if not isinstance(tags, list) or not all(isinstance(t, dict) and isinstance(t.get("name"), str) for t in tags):
        raise Unjudgeable("targetSecureTags", "is not a list of {name: tagValues/N}")
    described = [(key, strings(match, key)) for key in ("srcIpRanges", "srcRegionCodes", "srcThreatIntelligences",
                 "srcFqdns", "srcAddressGroups")]  # fmt: skip
    described.append(("srcSecureTags", tuple(str(t.get("name")) for t in match.get("srcSecureTags") or [])))
    kind = match.get("srcNetworkType")
    sources = "; ".join(f"{key}: {', '.join(values)}" for key, values in described if values)
    return PolicyRule(
        name=f"rule {priority} of {label}",
        network=None,
        ingress=ingress,
        allow=ACTIONS[str(action)] == "allow",
        enabled=not flag(raw, "disabled"),
        priority=priority,
        coverage=coverage,
        wide=wide,
        internet=internet,
        ranges_field=fields,
        sources=(f"srcNetworkType: {kind}; " if kind else "") + (sources or "no sources"),
        target_tags=frozenset(f"secure:{t['name']}" for t in tags),
        target_accounts=frozenset(strings(raw, "targetServiceAccounts")),
        narrowed=bool(strings(match, "destIpRanges") or strings(match, "destAddressGroups")),
        action=ACTIONS[str(action)],
        shadow_internet=shadow if ingress else {},
        address_groups=groups if not internet else (),
        networks=frozenset(k for url in strings(raw, "targetResources") if (k := network_key(url, scope))),
        logging=flag(raw, "enableLogging"),
        policy=policy,
        region=region,
    )


def region_of(policy: JSON) -> str | None:
    """A regional network policy's region (last segment of `region`), None for a global one."""
    region = policy.get("region")
    return last_segment(str(region)) if region else None
