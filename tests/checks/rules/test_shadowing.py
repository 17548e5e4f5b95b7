"""The shadow index against the engine it replaced: the same exposure for every rule.

`reference_exposure` is the old engine verbatim (every rule compared with every other). Seeded
random rule sets, built to collide (few networks, tags, names and priorities; both address
families; every protocol spelling), and the benchmark's large-estate generator are judged by
both: the pairs opened, the pairs left after shadowing, and the very deny rules named, in
order, must be identical. Then the index's work is held to the rule count.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from benchmarks.firewall_scale import SCOPE, estate
from checks import default_registry
from checks.params import Params
from checks.rules import effective
from checks.rules.network import ALL, Coverage, Rule, parse_rules
from checks.rules.shadowing import Exposure, ShadowIndex, exposure
from checks.snapshot import Kind, KindUnavailable
from tests.builders import make_snapshot
from tests.checks.rules import reference_exposure as reference

NET = "https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/"
WANTED = (
    ALL,
    Coverage.from_specs(["tcp:22", "sctp:22"]),
    Coverage.from_specs(["tcp:20-25", "udp:53", "tcp:3306", "icmp"]),
    Coverage.from_specs(["tcp:443"]),
)
_PROTOCOLS = ("tcp", "tcp", "TCP", "6", "udp", "17", "sctp", "icmp", "all", "esp", "132")
_PORTS = ("22", "20-30", "21-23", "80", "443", "0-100", "1-65535", "3389", "25", "53", "8000-9000", "0")
_RANGES = (
    ["0.0.0.0/0"], ["::/0"], ["0.0.0.0/0", "::/0"], ["0.0.0.0/1", "128.0.0.0/1"], ["10.0.0.0/8"],
    ["0.0.0.0"], ["::/0", "10.0.0.0/8"],
)  # fmt: skip


def _entry(rng: random.Random) -> dict[str, Any]:
    protocol = rng.choice(_PROTOCOLS)
    if protocol.lower() in ("tcp", "6", "udp", "17", "sctp", "132") and rng.random() < 0.8:
        return {"IPProtocol": protocol, "ports": rng.sample(_PORTS, rng.randint(1, 3))}
    return {"IPProtocol": protocol}


def _rule(rng: random.Random, count: int) -> dict[str, Any]:
    raw: dict[str, Any] = {"name": f"r{rng.randrange(max(1, count // 2))}"}  # duplicate names too
    if rng.random() < 0.95:
        raw["network"] = NET + rng.choice(("vpc", "vpc", "vpc", "other"))
    if rng.random() < 0.9:
        raw["priority"] = rng.choice((0, 10, 100, 900, 1000, 1000, 1000, 65535))
    if rng.random() < 0.85:
        raw["direction"] = rng.choice(("INGRESS", "INGRESS", "INGRESS", "EGRESS", "ingress"))
    raw["denied" if rng.random() < 0.45 else "allowed"] = [_entry(rng) for _ in range(rng.randint(1, 3))]
    roll = rng.random()
    if roll < 0.7:
        raw["sourceRanges"] = rng.choice(_RANGES)
    elif roll < 0.8:
        raw["sourceTags"] = ["a"]
    if rng.random() < 0.1:
        raw["destinationRanges"] = ["10.0.0.0/8"]
    roll = rng.random()
    if roll < 0.4:
        raw["targetTags"] = rng.sample(("a", "b", "c"), rng.randint(1, 3))
    elif roll < 0.55:
        raw["targetServiceAccounts"] = rng.sample(("x@p", "y@p"), rng.randint(1, 2))
    elif roll < 0.6:
        raw["targetTags"], raw["targetServiceAccounts"] = ["a"], ["x@p"]
    if rng.random() < 0.15:
        raw["disabled"] = True
    return raw


def _rules(raws: list[dict[str, Any]], scope: str = "shop-prod") -> list[Rule]:
    return [rule for _, rule in parse_rules(raws, scope) if isinstance(rule, Rule)]


def _same(new: Exposure, old: reference.Exposure) -> bool:
    """Equal coverages, and the very same deny rule objects named in the same order."""
    return (
        dict(new.opened) == dict(old.opened)
        and dict(new.effective) == dict(old.effective)
        and [id(d) for d in new.shadowed_by] == [id(d) for d in old.shadowed_by]
    )


@pytest.mark.parametrize("seed", range(8))
def test_random_rule_sets_get_the_reference_exposure(seed: int) -> None:
    rng = random.Random(seed)
    compared = shadowed = 0
    for _ in range(60):
        count = rng.randint(2, 30)
        rules = _rules([_rule(rng, count) for _ in range(count)])
        index = ShadowIndex(rules)
        for rule in rules:
            for wanted in (*WANTED, rule.wide):
                new, old = index.exposure(rule, wanted), reference.exposure(rule, rules, wanted)
                assert _same(new, old), (rule, wanted, new, old)
                compared += 1
                shadowed += bool(old.shadowed_by)
    assert compared > 1000 and shadowed > 100  # the sets did collide


def test_a_large_estate_gets_the_reference_exposure() -> None:
    rules = _rules(estate(1500, seed=7)["firewalls"], SCOPE)
    index = ShadowIndex(rules)
    shadowed = 0
    for rule in rules:
        for wanted in (ALL, WANTED[1]):
            old = reference.exposure(rule, rules, wanted)
            assert _same(index.exposure(rule, wanted), old), rule
            shadowed += bool(old.shadowed_by)
    assert shadowed > 50


def test_ties_and_families_name_deny_rules_in_the_reference_order() -> None:
    """Two deny rules of one name and priority (deny wins ties; then their order in the list),
    one removing only IPv6 pairs: named once each, in the order the old engine named them."""
    raws = [
        {"name": "r", "network": NET + "vpc", "sourceRanges": ["0.0.0.0/0", "::/0"],
         "allowed": [{"IPProtocol": "tcp", "ports": ["20-30"]}]},
        {"name": "d", "network": NET + "vpc", "sourceRanges": ["::/0"],
         "denied": [{"IPProtocol": "tcp", "ports": ["22"]}]},
        {"name": "d", "network": NET + "vpc", "sourceRanges": ["0.0.0.0/0"], "denied": [{"IPProtocol": "tcp"}]},
        {"name": "c", "network": NET + "vpc", "priority": 1000, "denied": [{"IPProtocol": "all"}]},
    ]  # fmt: skip
    rules = _rules(raws)
    new, old = exposure(rules[0], rules), reference.exposure(rules[0], rules)
    assert _same(new, old)
    assert [d.name for d in new.shadowed_by] == ["c", "d"]
    rules[3:] = []
    new, old = exposure(rules[0], rules), reference.exposure(rules[0], rules)
    assert _same(new, old) and [id(d) for d in new.shadowed_by] == [id(rules[2]), id(rules[1])]


def test_the_work_grows_with_the_rule_count_not_its_square() -> None:
    """Segments and groups looked at, judging every rule for every pair: a bounded number per
    rule, set by the ports and protocols in play, not by the rule count (the old engine
    compared each rule with all n; 30k rules of the benchmark's estate: about 14 each)."""
    per_rule = {}
    for n in (5_000, 30_000):
        rules = _rules(estate(n)["firewalls"], SCOPE)
        index = ShadowIndex(rules)
        for rule in rules:
            index.exposure(rule)
        per_rule[n] = index.comparisons / n
    assert per_rule[30_000] <= 20, per_rule
    assert per_rule[30_000] <= 2 * per_rule[5_000], per_rule  # six times the rules: not six times the work each


def test_deny_rules_below_an_allow_rule_are_passed_over_a_block_at_a_time() -> None:
    """3,000 deny rules each on its own port, all but six below the allow rules in precedence:
    the reference's exposure, and the index looks at a block of those at a time, not each."""
    denies = [{"name": f"d{i}", "network": NET + "vpc", "priority": 500 if i % 500 == 0 else 2000,
               "denied": [{"IPProtocol": "tcp", "ports": [str(i * 10)]}]} for i in range(1, 3001)]  # fmt: skip
    allows = [{"name": f"a{i}", "network": NET + "vpc", "allowed": [{"IPProtocol": "tcp"}]} for i in range(100)]
    rules = _rules(denies + allows)
    index = ShadowIndex(rules)
    for rule in rules[-3:]:
        assert _same(index.exposure(rule), reference.exposure(rule, rules))
    assert [d.name for d in index.exposure(rules[-1]).shadowed_by] == sorted(f"d{i}" for i in range(500, 3001, 500))
    index.comparisons = 0
    for rule in rules[-100:]:
        index.exposure(rule)
    assert index.comparisons <= 100 * 400, index.comparisons  # a scan of every segment: 100 * 3000


def test_the_firewall_rules_are_read_once_per_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """FW-01 to FW-05 and FW-08 share one reading of the rules and one index (`Snapshot.derive`);
    a new snapshot (a new run, or one `replace`d with a baseline) reads them again."""
    reads: list[int] = []

    def counted(resources: Any, scope: str) -> Any:
        reads.append(len(resources))
        return parse_rules(resources, scope)

    monkeypatch.setattr(effective, "parse_rules", counted)
    rules = [{"name": "r", "allowed": [{"IPProtocol": "tcp"}]}, {"name": "d", "denied": [{"IPProtocol": "all"}]}]
    snapshot = make_snapshot({"compute": {"firewalls": rules, "networks": [], "subnetworks": []}})
    registry = default_registry()
    for control_id in ("FW-01", "FW-02", "FW-03", "FW-04", "FW-05", "FW-08"):
        list(registry.get(control_id)(snapshot, Params()))
    assert reads == [2]
    list(registry.get("FW-01")(replace(snapshot, baseline={}), Params()))
    assert reads == [2, 2]


def test_what_derive_raises_is_not_kept() -> None:
    snapshot = make_snapshot({})
    with pytest.raises(KindUnavailable):
        snapshot.derive("firewalls", lambda s: s.get(Kind.FIREWALLS))
    assert snapshot.derive("firewalls", lambda s: "now readable") == "now readable"
