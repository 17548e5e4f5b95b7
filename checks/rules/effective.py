"""The effective firewall of each network: every rule that can decide an ingress packet, in
Google's order, so that FW-01..FW-05 judge what really reaches a VM, not the VPC rules alone.

Per network, the levels are (see the catalogue, "Firewall policies in FW-01..FW-06"):
1. the hierarchical policies associated with the organisation, then each folder from the
   top down to the project's parent (several at one node: as listed);
2. the VPC rules, the global network policies and the regional ones (by region), the VPC
   rules first unless the network's `networkFirewallPolicyEnforcementOrder` is
   `BEFORE_CLASSIC_FIREWALL`, then last.
Within a level the first matching `allow` or `deny` decides; `goto_next` skips the rest of
its policy. So an allow's exposure is removed by (a) the denies of its own level that take
precedence (the VPC `ShadowIndex`, unchanged: with no policy the VPC rules are judged as
before), and a `goto_next` of its own policy before it (the traffic skips it), and (b) any
deny of a level above, except the part a `goto_next` before that deny in its own policy
lets through. Only an internet range shadows; a regional policy applies to its region
only, so its denies shadow only rules of that region's policies.

Pure: everything is built from the snapshot, once per snapshot (`Snapshot.derive`).
Kinds a caller did not collect count as empty: the runner never calls a control whose
declared kinds are missing, so this only lets the VPC rules be judged alone in tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

from checks.kernel import JSON, Unjudgeable, read_each
from checks.names import compute_name
from checks.rules.network import ALL, EMPTY, Coverage, Rule, network_key, parse_rules
from checks.rules.policies import PolicyRule, parse_policy_rule, region_of
from checks.rules.shadowing import Exposure, ShadowIndex
from checks.snapshot import Kind, Snapshot

BEFORE, AFTER = "BEFORE_CLASSIC_FIREWALL", "AFTER_CLASSIC_FIREWALL"
_LAST = 2**40  # a priority after every rule's: every deny of a level above takes precedence
Reading = tuple[JSON, Rule | Unjudgeable]


@dataclass(frozen=True, slots=True)
class Policy:
    """One firewall policy as read: its full resource name, how reasons name it, its rules."""

    resource: str
    label: str
    hierarchical: bool
    region: str | None
    raw: JSON
    readings: tuple[tuple[JSON, PolicyRule | Unjudgeable], ...]

    @property
    def sound(self) -> bool:
        """Every rule read: a rule that can't be read may be a goto_next before a deny, so a
        policy with one shadows nothing."""
        return all(isinstance(rule, PolicyRule) for _, rule in self.readings)

    @property
    def rules(self) -> list[PolicyRule]:
        return [rule for _, rule in self.readings if isinstance(rule, PolicyRule)]


@dataclass(frozen=True, slots=True)
class Level:
    """One step of the order: a policy, or the VPC rules (`policy` None)."""

    policy: Policy | None

    @property
    def region(self) -> str | None:
        return self.policy.region if self.policy is not None else None


def _policy(raw: object, scope: str, parent: str | None) -> Policy:
    """A policy read from its JSON; `parent` is the ancestor a hierarchical one is listed under."""
    policy = raw if isinstance(raw, dict) else {}
    name = str(policy.get("name", "?"))
    region = region_of(policy) if parent is None else None
    if parent is not None:
        shown = policy.get("shortName") or policy.get("displayName") or name
        resource, label = (
            f"//compute.googleapis.com/locations/global/firewallPolicies/{name}",
            f"firewall policy {shown} ({parent})",
        )
    else:
        resource = compute_name(policy, scope, "firewallPolicies")
        label = f"regional network firewall policy {name} ({region})" if region else f"network firewall policy {name}"
    rules = policy.get("rules", [])
    if not isinstance(raw, dict) or not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        bad: tuple[tuple[JSON, PolicyRule | Unjudgeable], ...] = (
            (policy, Unjudgeable("rules", "is not a list of objects")),
        )
        return Policy(resource, label, parent is not None, region, policy, bad)
    readings = read_each(rules, lambda rule: parse_policy_rule(rule, scope, resource, label, region))
    return Policy(resource, label, parent is not None, region, policy, tuple(readings))


def _optional(snapshot: Snapshot, kind: str) -> tuple[JSON, ...]:
    """The resources of `kind`, none when it was not collected (see the module's docstring)."""
    return snapshot.get(kind) if kind in snapshot.kinds else ()


def _hierarchy(snapshot: Snapshot) -> list[Policy]:
    """The hierarchical policies associated with an ancestor, organisation first, then folders down."""
    entries = [e if isinstance(e, dict) else {} for e in _optional(snapshot, Kind.FIREWALL_POLICIES)]
    chain: list[str] = []
    for entry in entries:  # nearest first; `ancestors` is the whole chain, policies or not
        for node in [*(entry.get("ancestors") or []), entry.get("parent")]:
            if isinstance(node, str) and node not in chain:
                chain.append(node)
    chain.sort(key=lambda node: node.startswith("organizations/"))  # the organisation is the root
    found: list[Policy] = []
    for node in reversed(chain):
        for entry in entries:
            raw = entry.get("policy")
            associations = raw.get("associations") if isinstance(raw, dict) else None
            targets = [a.get("attachmentTarget") for a in associations or [] if isinstance(a, dict)]
            if node in targets or (not isinstance(raw, dict) and entry.get("parent") == node):
                found.append(_policy(raw, snapshot.scope, str(entry.get("parent", node))))
    return found


@dataclass
class Effective:
    """The effective firewall of one snapshot's networks (`effective(snapshot)` builds it once)."""

    scope: str
    vpc: list[Reading]
    vpc_index: ShadowIndex
    networks: dict[str | None, JSON]
    hierarchy: list[Policy]
    network_policies: list[Policy]
    _levels: dict[str | None, tuple[Level, ...]] = field(default_factory=dict)
    _indexes: dict[tuple[object, ...], ShadowIndex] = field(default_factory=dict)

    # --- the order -----------------------------------------------------------------------------

    def associated(self, policy: Policy, key: str | None) -> bool:
        """A network policy applies to the network by the network's `firewallPolicy` or its own `associations[]`."""
        named = str(self.networks.get(key, {}).get("firewallPolicy") or "")
        if named and not policy.region and named.rstrip("/").rsplit("/", 1)[-1] == policy.raw.get("name"):
            return True
        associations = policy.raw.get("associations") or []
        return any(
            isinstance(a, dict) and network_key(a.get("attachmentTarget"), self.scope) == key for a in associations
        )

    def levels(self, key: str | None) -> tuple[Level, ...]:
        """The levels deciding traffic to the network `key`, in Google's order."""
        if key not in self._levels:
            hierarchy = [Level(policy) for policy in self.hierarchy]
            mine = [p for p in self.network_policies if self.associated(p, key)]
            network = [Level(p) for p in sorted(mine, key=lambda p: (p.region or "", p.resource))]
            order = self.networks.get(key, {}).get("networkFirewallPolicyEnforcementOrder") or AFTER
            if network and order not in (BEFORE, AFTER):
                raise Unjudgeable("networkFirewallPolicyEnforcementOrder", f"unknown order {order!r} of {key}")
            vpc = [Level(None)]
            self._levels[key] = tuple(hierarchy + (network + vpc if order == BEFORE else vpc + network))
        return self._levels[key]

    def network_keys(self) -> list[str]:
        """The scope's networks (the VPC rules' when the networks were not collected)."""
        keys = [key for key in self.networks if key is not None]
        return keys or sorted({r.network for _, r in self.vpc if isinstance(r, Rule) and r.network})

    def applies_to(self, policy: Policy, rule: PolicyRule) -> list[str]:
        """The networks of the scope the rule of `policy` decides traffic for."""
        keys = (
            self.network_keys()
            if policy.hierarchical
            else [k for k in self.network_keys() if self.associated(policy, k)]
        )
        return [key for key in keys if not rule.networks or key in rule.networks]

    # --- shadowing -----------------------------------------------------------------------------

    def _policy_index(self, policy: Policy, key: str | None) -> ShadowIndex:
        """Denies and goto_nexts of one policy for one network: what removes a later rule of its own policy."""
        cache = ("policy", policy.resource, key)
        if cache not in self._indexes:
            removers = [
                dataclasses.replace(rule, allow=False, network=key, internet=rule.shadow_internet)
                for rule in policy.rules
                if policy.sound and not rule.allow and (not rule.networks or key in rule.networks)
            ]
            self._indexes[cache] = ShadowIndex(removers)
        return self._indexes[cache]

    def _upper_denies(self, level: Level, key: str | None) -> Iterator[Rule]:
        """The denies of `level` as they apply from above: per family, less what a goto_next
        before them in their policy lets through."""
        if level.policy is None:
            yield from (
                rule for _, rule in self.vpc if isinstance(rule, Rule) and rule.network == key and not rule.allow
            )
            return
        if not level.policy.sound:
            return
        passed: dict[int, Coverage] = {4: EMPTY, 6: EMPTY}
        for rule in sorted(level.policy.rules, key=lambda r: r.priority):
            if rule.networks and key not in rule.networks or not rule.ingress or not rule.enabled:
                continue
            if rule.action == "goto_next":
                for family in rule.internet if not rule.address_groups else (4, 6):
                    passed[family] = passed[family] | rule.coverage
            elif not rule.allow:
                for family, ranges in rule.shadow_internet.items():
                    left = rule.coverage - passed[family]
                    if left:
                        yield dataclasses.replace(rule, coverage=left, internet={family: ranges}, network=key)

    def _upper_index(self, key: str | None, position: int, region: str | None) -> ShadowIndex:
        cache = ("upper", key, position, region)
        if cache not in self._indexes:
            above = [lvl for lvl in self.levels(key)[:position] if lvl.region is None or lvl.region == region]
            self._indexes[cache] = ShadowIndex(deny for lvl in above for deny in self._upper_denies(lvl, key))
        return self._indexes[cache]

    def exposure(self, rule: Rule, key: str | None, wanted: Coverage = ALL) -> Exposure:
        """What `rule` (a VPC rule, or a policy rule at the network `key`) opens to the internet
        of `wanted`, and what is left once every rule taking precedence has had its say."""
        levels = self.levels(key)
        if isinstance(rule, PolicyRule):
            position = next(i for i, lvl in enumerate(levels) if lvl.policy and lvl.policy.resource == rule.policy)
            level = levels[position]
            assert level.policy is not None
            rule = dataclasses.replace(rule, network=key)
            same = self._policy_index(level.policy, key).exposure(rule, wanted)
        else:
            position = next(i for i, lvl in enumerate(levels) if lvl.policy is None)
            same = self.vpc_index.exposure(rule, wanted)
        if position == 0 or not same.opened:
            return same
        upper = self._upper_index(key, position, levels[position].region)
        effective: dict[int, Coverage] = {}
        removed: list[Rule] = []
        for family, left in same.effective.items():
            seen = upper.exposure(
                dataclasses.replace(rule, priority=_LAST, internet={family: rule.internet[family]}, network=key), left
            )
            effective[family] = seen.effective.get(family, EMPTY)
            removed += [deny for deny in seen.shadowed_by if deny.name not in {d.name for d in removed}]
        return Exposure(same.opened, effective, (*removed, *same.shadowed_by))


def effective(snapshot: Snapshot) -> Effective:
    """The effective firewall of the snapshot, built once and shared by FW-01..FW-05."""
    return snapshot.derive("firewalls.effective", _build)


def vpc_readings(snapshot: Snapshot) -> list[Reading]:
    """Every VPC rule read once per snapshot: FW-01 to FW-05 and FW-08 share the readings."""
    return snapshot.derive("firewalls.parsed", lambda s: parse_rules(s.get(Kind.FIREWALLS), s.scope))


def _build(snapshot: Snapshot) -> Effective:
    hierarchy, network_policies = policies(snapshot)
    vpc = vpc_readings(snapshot)
    networks: dict[str | None, JSON] = {}
    for network in _optional(snapshot, Kind.NETWORKS):
        networks[network_key(network.get("selfLink") or network.get("name"), snapshot.scope)] = network
    return Effective(
        scope=snapshot.scope,
        vpc=vpc,
        vpc_index=ShadowIndex(rule for _, rule in vpc if isinstance(rule, Rule)),
        networks=networks,
        hierarchy=hierarchy,
        network_policies=network_policies,
    )


def describe_rule(rule: Rule) -> str:
    """How a reason names a rule that removed exposure: `deny rule d (priority 900)`,
    `deny rule 100 of firewall policy org-baseline (organizations/4242)`, `goto_next rule …`."""
    if isinstance(rule, PolicyRule):
        return f"{rule.action} {rule.name}"
    return f"deny rule {rule.name} (priority {rule.priority})"


def policies(snapshot: Snapshot) -> tuple[list[Policy], list[Policy]]:
    """The hierarchical policies that apply to the scope (organisation first) and every network
    policy of the project, read once per snapshot; without the networks, which FW-06 does not need."""
    return snapshot.derive("firewalls.policies", _read_policies)


def _read_policies(snapshot: Snapshot) -> tuple[list[Policy], list[Policy]]:
    network = [
        _policy(raw, snapshot.scope, None)
        for kind in (Kind.NETWORK_FIREWALL_POLICIES, Kind.REGION_NETWORK_FIREWALL_POLICIES)
        for raw in _optional(snapshot, kind)
    ]
    return _hierarchy(snapshot), network
