"""The exposure engine as it was before the shadow index: every rule compared with every other.

Kept verbatim (quadratic, slow) as the reference the index is held to, verdict by verdict,
in `tests/checks/rules/test_shadowing.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from checks.rules.network import ALL, Coverage, Rule


def targets_cover(deny: Rule, allow: Rule) -> bool:
    """Whether `deny` applies to every instance `allow` applies to (tags against service
    accounts cannot be compared, so they do not cover)."""
    if not deny.target_tags and not deny.target_accounts:
        return True
    if allow.target_tags:
        return allow.target_tags <= deny.target_tags
    if allow.target_accounts:
        return allow.target_accounts <= deny.target_accounts
    return False


def can_shadow(deny: Rule, allow: Rule) -> bool:
    """An enabled ingress deny of the same network, taking precedence (deny wins ties), whose
    targets cover the allow's. Which families and pairs it removes is up to `exposure`."""
    return (
        not deny.allow
        and deny.ingress
        and deny.enabled
        and not deny.narrowed
        and deny.network is not None
        and deny.network == allow.network
        and deny.priority <= allow.priority
        and targets_cover(deny, allow)
    )


@dataclass(frozen=True, slots=True)
class Exposure:
    """What an ingress allow rule opens to the internet, per address family."""

    opened: Mapping[int, Coverage]  # before shadowing
    effective: Mapping[int, Coverage]  # after shadowing
    shadowed_by: tuple[Rule, ...]  # the deny rules that removed something, in precedence order


def exposure(rule: Rule, rules: Iterable[Rule], wanted: Coverage = ALL) -> Exposure:
    """The part of `wanted` the rule opens to the internet, judged as if it were enabled (a
    disabled rule's exposure is latent), and what remains after shadowing by `rules`."""
    if not (rule.ingress and rule.allow):
        return Exposure({}, {}, ())
    denies = sorted((d for d in rules if can_shadow(d, rule)), key=lambda d: (d.priority, d.name))
    opened = rule.coverage & wanted
    effective: dict[int, Coverage] = {}
    shadowed_by: list[Rule] = []
    for family in sorted(rule.internet):
        left = opened
        for deny in denies:
            if family in deny.internet and left & deny.coverage:
                left = left - deny.coverage
                if all(other is not deny for other in shadowed_by):
                    shadowed_by.append(deny)
        effective[family] = left
    shadowed_by.sort(key=lambda d: (d.priority, d.name))
    return Exposure({family: opened for family in sorted(rule.internet)}, effective, tuple(shadowed_by))

