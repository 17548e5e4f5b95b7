"""FW-01 to FW-06 over the effective firewall: hierarchical and network firewall policies with
the VPC rules, in Google's order, one row per edge case the catalogue names.

Each case is an estate (VPC rules, hierarchical policy entries as the firewallPolicies kind
delivers them, network policies, the network) and the one finding asked about: a VPC rule
(`rule r`) or a policy rule (the policy's resource and the rule's priority). Rows assert the
verdict, subject and the deciding parts of the reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks import firewall
from checks.model import Finding, Verdict
from checks.params import Params
from checks.registry import Control
from tests.builders import make_snapshot
from tests.checks.test_firewall_exposure import allow, deny

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
ORG, FOLDER = "organizations/4242", "folders/55"
COMPUTE = "https://www.googleapis.com/compute/v1/projects/shop-prod/"
NET = COMPUTE + "global/networks/vpc"
OTHER_NET = COMPUTE + "global/networks/other"
VPC_RULE = "//compute.googleapis.com/projects/shop-prod/global/firewalls/r"
ORG_POLICY = "//compute.googleapis.com/locations/global/firewallPolicies/101"
FOLDER_POLICY = "//compute.googleapis.com/locations/global/firewallPolicies/201"
NET_POLICY = "//compute.googleapis.com/projects/shop-prod/global/firewallPolicies/net-policy"
WEST1 = "//compute.googleapis.com/projects/shop-prod/regions/europe-west1/firewallPolicies/"
ORG_LABEL = "firewall policy org-baseline (organizations/4242)"
SA = "app@shop-prod.iam.gserviceaccount.com"


def rule(
    priority: int, action: str = "allow", *ports: str, src: list[str] | None = None, **fields: Any
) -> dict[str, Any]:
    """An ingress policy rule matching `ports` (`tcp:22`, `all`) from `src` (default 0.0.0.0/0)."""
    match: dict[str, Any] = {"layer4Configs": [_l4(p) for p in ports or ("tcp:22",)]}
    if src is not None or not any(key.startswith("src") for key in fields):
        match["srcIpRanges"] = src if src is not None else ["0.0.0.0/0"]
    match.update({key: fields.pop(key) for key in list(fields) if key.startswith("src")})
    return {"kind": "compute#firewallPolicyRule", "priority": priority, "direction": "INGRESS", "action": action,
            "match": match, **fields}  # fmt: skip


def _l4(text: str) -> dict[str, Any]:
    proto, _, ports = text.partition(":")
    return {"ipProtocol": proto, "ports": ports.split(",")} if ports else {"ipProtocol": proto}


def hierarchical(parent: str, *rules: dict[str, Any], ident: str = "", short: str = "",
                 attached: str = "") -> dict[str, Any]:  # fmt: skip
    """An entry of the firewallPolicies kind (listed nearest first): a policy of `parent`,
    associated with `attached` (default itself)."""
    ident = ident or ("101" if parent == ORG else "201")
    short = short or ("org-baseline" if parent == ORG else "prod")
    associations = [{"name": "a", "attachmentTarget": attached or parent}]
    policy = {"kind": "compute#firewallPolicy", "id": ident, "name": ident, "shortName": short, "parent": parent,
              "rules": list(rules), "associations": associations}  # fmt: skip
    return {"parent": parent, "policy": policy}


def network_policy(*rules: dict[str, Any], name: str = "net-policy", region: str = "",
                   network: str | None = NET) -> dict[str, Any]:  # fmt: skip
    """A global (or regional) network firewall policy associated with `network` (None: with none)."""
    where = f"regions/{region}" if region else "global"
    policy: dict[str, Any] = {"kind": "compute#firewallPolicy", "name": name, "rules": list(rules),
                              "selfLink": f"{COMPUTE}{where}/firewallPolicies/{name}"}  # fmt: skip
    if region:
        policy["region"] = COMPUTE + f"regions/{region}"
    if network:
        policy["associations"] = [{"name": "n", "attachmentTarget": network}]
    return policy


def network(name: str = "vpc", order: str | None = None, **fields: Any) -> dict[str, Any]:
    found = {"kind": "compute#network", "name": name, "selfLink": COMPUTE + f"global/networks/{name}", **fields}
    if order:
        found["networkFirewallPolicyEnforcementOrder"] = order
    return found


Estate = dict[str, Any]
Rules = list[dict[str, Any]]


def estate(vpc: Rules | None = None, hier: Rules | None = None, policies: Rules | None = None,
           networks: Rules | None = None) -> Estate:  # fmt: skip
    """VPC rules, hierarchical entries, network policies and networks (default: the network vpc)."""
    found = {"vpc": vpc or [], "hier": hier or [], "policies": policies or []}
    return {**found, "networks": [network()] if networks is None else networks}


def findings(control: Control, case: Estate, public_ports: tuple[str, ...] = ()) -> list[Finding]:
    compute = {"firewalls": case["vpc"], "networks": case["networks"], "firewallPolicies": case["policies"]}
    snapshot = make_snapshot({"compute": compute}, firewall_policies=case["hier"])
    params = Params.model_validate({"firewall": {"public_ports": list(public_ports)}})
    return list(control(snapshot, params))


def the(found: list[Finding], resource: str, priority: int | None = None) -> Finding:
    """The one finding about `resource` (a policy: its rule at `priority`)."""
    at = f"priority {priority}"
    mine = [f for f in found if f.resource == resource and (priority is None or f.subject.split(":")[0] == at)]
    assert len(mine) == 1, found
    return mine[0]


def check(found: Finding, verdict: Verdict, subject: str, reason: str, latent: bool = False) -> None:
    assert (found.verdict, found.subject, found.latent) == (verdict, subject, latent), found.reason
    for part in reason.split("…"):
        assert part in found.reason, found.reason


# (estate, the finding asked about: resource and policy rule priority, verdict, subject, reason parts)
Case = tuple[Estate, str, int | None, Verdict, str, str]
BEFORE, AFTER = [network(order="BEFORE_CLASSIC_FIREWALL")], [network(order="AFTER_CLASSIC_FIREWALL")]
SHADOWED_BY_ORG = f"but it is shadowed by deny rule 1000 of {ORG_LABEL}"

FW01: dict[str, Case] = {
    # an internet allow in a hierarchical policy exposes with no VPC rule involved
    "org-allow-no-vpc-rule": (
        estate(hier=[hierarchical(ORG, rule(1000))]), ORG_POLICY, 1000, FAIL,
        "priority 1000: tcp:22 from 0.0.0.0/0",
        f"rule 1000 of {ORG_LABEL} allows tcp:22 from 0.0.0.0/0 (srcIpRanges) at priority 1000 on network vpc; "
        "not shadowed"),
    "folder-allow-no-vpc-rule": (
        estate(hier=[hierarchical(FOLDER, rule(10, src=["::/0"]))]), FOLDER_POLICY, 10, FAIL,
        "priority 10: tcp:22 from ::/0", "rule 10 of firewall policy prod (folders/55) allows tcp:22 from ::/0…"),
    "no-network-no-result": (
        estate(hier=[hierarchical(ORG, rule(1000))], networks=[]), ORG_POLICY, None, ERROR, "", ""),
    # a hierarchical deny shadows a VPC allow, whatever the priorities
    "org-deny-shadows-vpc-allow": (
        estate([allow(priority=0)], [hierarchical(ORG, rule(1000, "deny"))]), VPC_RULE, None, PASS,
        "tcp:22 from 0.0.0.0/0", SHADOWED_BY_ORG),
    "org-deny-shadows-folder-allow": (
        estate(hier=[hierarchical(FOLDER, rule(1)), hierarchical(ORG, rule(1000, "deny", "all"))]),
        FOLDER_POLICY, 1, PASS, "priority 1: tcp:22 from 0.0.0.0/0", SHADOWED_BY_ORG),
    "folder-deny-does-not-shadow-org-allow": (
        estate(hier=[hierarchical(FOLDER, rule(1, "deny")), hierarchical(ORG, rule(1000))]),
        ORG_POLICY, 1000, FAIL, "priority 1000: tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "same-policy-deny-first": (
        estate(hier=[hierarchical(ORG, rule(10, "deny"), rule(1000))]), ORG_POLICY, 1000, PASS,
        "priority 1000: tcp:22 from 0.0.0.0/0", "but it is shadowed by deny rule 10 of …"),
    "same-policy-allow-first": (
        estate(hier=[hierarchical(ORG, rule(2000, "deny"), rule(1000))]), ORG_POLICY, 1000, FAIL,
        "priority 1000: tcp:22 from 0.0.0.0/0", "…not shadowed"),
    # a VPC allow shadowed only by a lower level is still exposed
    "network-policy-after-classic": (
        estate([allow()], policies=[network_policy(rule(1, "deny"))]), VPC_RULE, None, FAIL,
        "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "network-policy-after-classic-explicit": (
        estate([allow()], policies=[network_policy(rule(1, "deny"))], networks=AFTER),
        VPC_RULE, None, FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "network-policy-before-classic": (
        estate([allow()], policies=[network_policy(rule(1, "deny"))], networks=BEFORE),
        VPC_RULE, None, PASS, "tcp:22 from 0.0.0.0/0",
        "but it is shadowed by deny rule 1 of network firewall policy net-policy"),
    "vpc-deny-shadows-network-policy-allow-after-classic": (
        estate([deny(priority=65000)], policies=[network_policy(rule(1))]), NET_POLICY, 1, PASS,
        "priority 1: tcp:22 from 0.0.0.0/0", "but it is shadowed by deny rule d (priority 65000)"),
    "vpc-deny-after-network-policy-allow-before-classic": (
        estate([deny(priority=0)], policies=[network_policy(rule(1))], networks=BEFORE),
        NET_POLICY, 1, FAIL, "priority 1: tcp:22 from 0.0.0.0/0", "…on network vpc; not shadowed"),
    "network-policy-by-network-field": (
        estate(policies=[network_policy(rule(1), network=None)],
               networks=[network(firewallPolicy=COMPUTE + "global/firewallPolicies/net-policy")]),
        NET_POLICY, 1, FAIL, "priority 1: tcp:22 from 0.0.0.0/0", "…on network vpc…"),
    "network-policy-not-associated": (
        estate(policies=[network_policy(rule(1), network=None)]), NET_POLICY, 1, PASS, "priority 1",
        "rule 1 of network firewall policy net-policy applies to no network of the scope"),
    "unknown-enforcement-order": (
        estate([allow()], policies=[network_policy(rule(1))], networks=[network(order="SOMETIMES")]),
        VPC_RULE, None, ERROR, "networkFirewallPolicyEnforcementOrder", "…unknown order 'SOMETIMES'…"),
    # goto_next skips the rest of its policy: it neither exposes nor shadows
    "goto-next-skips-deny-below-it": (
        estate([allow()], [hierarchical(ORG, rule(10, "goto_next"), rule(20, "deny", "all"))]), VPC_RULE, None, FAIL,
        "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "goto-next-other-port-does-not": (
        estate([allow()], [hierarchical(ORG, rule(10, "goto_next", "tcp:443"), rule(20, "deny", "all"))]),
        VPC_RULE, None, PASS, "tcp:22 from 0.0.0.0/0", "but it is shadowed by deny rule 20 of…"),
    "goto-next-region-codes-skips-deny": (
        estate([allow()], [hierarchical(ORG, rule(10, "goto_next", srcRegionCodes=["CN"]), rule(20, "deny", "all"))]),
        VPC_RULE, None, FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "goto-next-skips-allow-below-it": (
        estate(hier=[hierarchical(ORG, rule(10, "goto_next"), rule(20))]), ORG_POLICY, 20, PASS,
        "priority 20: tcp:22 from 0.0.0.0/0", "but it is shadowed by goto_next rule 10 of…"),
    "goto-next-exposes-nothing": (
        estate(hier=[hierarchical(ORG, rule(10, "goto_next"))]), ORG_POLICY, 10, PASS, "priority 10",
        "is a goto_next rule: it passes traffic on, opening nothing"),
    # regional policies: a deny shadows only rules of its own region
    "regional-deny-does-not-shadow-vpc": (
        estate([allow()], policies=[network_policy(rule(1, "deny"), name="west", region="europe-west1")],
               networks=BEFORE),
        VPC_RULE, None, FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "regional-deny-shadows-same-region": (
        estate(policies=[network_policy(rule(1, "deny"), name="a", region="europe-west1"),
                         network_policy(rule(1), name="b", region="europe-west1")]),
        WEST1 + "b", 1, PASS, "priority 1: tcp:22 from 0.0.0.0/0",
        "but it is shadowed by deny rule 1 of regional network firewall policy a (europe-west1)"),
    "regional-deny-not-other-region": (
        estate(policies=[network_policy(rule(1, "deny"), name="a", region="europe-west1"),
                         network_policy(rule(1), name="b", region="europe-west4")]),
        "//compute.googleapis.com/projects/shop-prod/regions/europe-west4/firewallPolicies/b", 1, FAIL,
        "priority 1: tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "global-deny-shadows-regional": (
        estate(policies=[network_policy(rule(1), name="b", region="europe-west1"), network_policy(rule(5, "deny"))]),
        WEST1 + "b", 1, PASS, "priority 1: tcp:22 from 0.0.0.0/0", "…shadowed by deny rule 5 of network firewall…"),
    # internet sources other than a range: both families, and they never shadow
    "src-region-codes-expose": (
        estate(hier=[hierarchical(ORG, rule(1000, srcRegionCodes=["CN", "RU"]))]), ORG_POLICY, 1000, FAIL,
        "priority 1000: tcp:22 from srcRegionCodes: CN, RU",
        f"rule 1000 of {ORG_LABEL} allows tcp:22 from srcRegionCodes: CN, RU (srcRegionCodes) at priority 1000"),
    "src-network-type-internet": (
        estate(hier=[hierarchical(ORG, rule(1000, srcNetworkType="INTERNET"))]), ORG_POLICY, 1000, FAIL,
        "priority 1000: tcp:22 from srcNetworkType: INTERNET", ""),
    "src-threat-lists-and-fqdns": (
        estate(hier=[hierarchical(ORG, rule(1000, srcThreatIntelligences=["iplist-tor-exit-nodes"],
                                             srcFqdns=["example.com"]))]),  # fmt: skip
        ORG_POLICY, 1000, FAIL,
        "priority 1000: tcp:22 from srcThreatIntelligences: iplist-tor-exit-nodes+srcFqdns: example.com", ""),
    "src-network-type-non-internet": (
        estate(hier=[hierarchical(ORG, rule(1000, srcNetworkType="NON_INTERNET"))]), ORG_POLICY, 1000, PASS,
        "priority 1000", "…has no internet source (srcNetworkType: NON_INTERNET; no sources)"),
    "region-codes-deny-does-not-shadow": (
        estate([allow()], [hierarchical(ORG, rule(1, "deny", srcRegionCodes=["CN"]))]), VPC_RULE, None, FAIL,
        "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "v4-deny-leaves-v6": (
        estate([allow(sourceRanges=["0.0.0.0/0", "::/0"])], [hierarchical(ORG, rule(1, "deny"))]), VPC_RULE, None,
        FAIL, "tcp:22 from ::/0", "…partly shadowed by deny rule 1 of…"),
    # address groups can't be judged without the group
    "address-group-allow-is-an-error": (
        estate(hier=[hierarchical(ORG, rule(1000, srcAddressGroups=["projects/p/locations/global/addressGroups/g"]))]),
        ORG_POLICY, 1000, ERROR, "priority 1000: projects/p/locations/global/addressGroups/g",
        "allows tcp:22 from address groups only (match.srcAddressGroups: projects/p/locations/global/addressGroups/g)"),
    "address-group-deny-shadows-nothing": (
        estate([allow()], [hierarchical(ORG, rule(1, "deny", srcAddressGroups=["g"]))]), VPC_RULE, None, FAIL,
        "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    # targets compare like VPC targets
    "deny-on-service-account-not-all": (
        estate([allow()], [hierarchical(ORG, rule(1, "deny", targetServiceAccounts=[SA]))]), VPC_RULE, None, FAIL,
        "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-on-service-account-covers-it": (
        estate([allow(targetServiceAccounts=[SA])], [hierarchical(ORG, rule(1, "deny", targetServiceAccounts=[SA]))]),
        VPC_RULE, None, PASS, "tcp:22 from 0.0.0.0/0", "…shadowed by deny rule 1 of…"),
    "deny-on-secure-tag-not-network-tag": (
        estate([allow(targetTags=["web"])],
               [hierarchical(ORG, rule(1, "deny", targetSecureTags=[{"name": "tagValues/1"}]))]),
        VPC_RULE, None, FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-on-secure-tag-covers-same-tag": (
        estate(hier=[hierarchical(FOLDER, rule(1, targetSecureTags=[{"name": "tagValues/1"}])),
                     hierarchical(ORG, rule(1, "deny", targetSecureTags=[{"name": "tagValues/1"}]))]),
        FOLDER_POLICY, 1, PASS, "priority 1: tcp:22 from 0.0.0.0/0", "…shadowed by deny rule 1 of…"),
    "deny-on-other-network": (
        estate([allow()], [hierarchical(ORG, rule(1, "deny", targetResources=[OTHER_NET]))]), VPC_RULE, None, FAIL,
        "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-on-this-network": (
        estate([allow()], [hierarchical(ORG, rule(1, "deny", targetResources=[NET]))]), VPC_RULE, None, PASS,
        "tcp:22 from 0.0.0.0/0", "…shadowed by deny rule 1 of…"),
    "allow-on-other-network": (
        estate(hier=[hierarchical(ORG, rule(1, targetResources=[OTHER_NET]))]), ORG_POLICY, 1, PASS, "priority 1",
        "applies to no network of the scope"),
    # which hierarchical policies apply: associated with an ancestor
    "associated-with-another-folder": (
        estate(hier=[hierarchical(ORG, rule(1000), attached="folders/999")]), ORG_POLICY, None, ERROR, "", ""),
    "associated-with-an-ancestor-without-policies": (
        estate(hier=[{**hierarchical(ORG, rule(1000), attached=FOLDER), "ancestors": [FOLDER, ORG]}]), ORG_POLICY,
        1000, FAIL, "priority 1000: tcp:22 from 0.0.0.0/0", ""),
    "disabled-allow-is-latent": (
        estate(hier=[hierarchical(ORG, rule(1000, disabled=True))]), ORG_POLICY, 1000, PASS,
        "priority 1000: tcp:22 from 0.0.0.0/0", "…is disabled (disabled: true) but would allow…"),
    "security-profile-group-allows": (
        estate(hier=[hierarchical(ORG, rule(1000, "apply_security_profile_group"))]), ORG_POLICY, 1000, FAIL,
        "priority 1000: tcp:22 from 0.0.0.0/0", ""),
    "egress-rule": (
        estate(hier=[hierarchical(ORG, {**rule(1000), "direction": "EGRESS"})]), ORG_POLICY, 1000, PASS,
        "priority 1000", "…is an egress rule…"),
    "unreadable-rule": (
        estate(hier=[hierarchical(ORG, {**rule(1000), "match": {"srcIpRanges": ["0.0.0.0/0"]}})]), ORG_POLICY, None,
        ERROR, "match.layer4Configs", "rule 1000 of firewall policy org-baseline (organizations/4242): cannot judge…"),
    "unreadable-rule-stops-its-policy-shadowing": (
        estate([allow()], [hierarchical(ORG, {"priority": 5, "action": "goto_next"}, rule(10, "deny"))]), VPC_RULE,
        None, FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("case", "resource", "priority", "verdict", "subject", "reason"), FW01.values(), ids=FW01.keys()
)
def test_fw01_over_the_effective_firewall(
    case: Estate, resource: str, priority: int | None, verdict: Verdict, subject: str, reason: str
) -> None:
    found = findings(firewall.fw01_ssh, case)
    if not subject and verdict is ERROR:  # the policy does not apply: no result names it
        assert [f for f in found if f.resource == resource] == []
        return
    check(the(found, resource, priority), verdict, subject, reason, latent="disabled" in reason)


def test_an_address_group_allow_is_an_error_only_where_its_ports_matter() -> None:
    case = estate(hier=[hierarchical(ORG, rule(1000, srcAddressGroups=["g"]))])
    assert the(findings(firewall.fw01_ssh, case), ORG_POLICY, 1000).verdict is ERROR
    rdp = the(findings(firewall.fw02_rdp, case), ORG_POLICY, 1000)
    assert (rdp.verdict, rdp.reason) == (PASS, f"rule 1000 of {ORG_LABEL} has no internet source (srcAddressGroups: g)")


def test_other_exposure_controls_judge_policy_rules_too() -> None:
    case = estate(hier=[hierarchical(ORG, rule(1000, "allow", "tcp:3389", "tcp:3306", "tcp"))])
    assert the(findings(firewall.fw02_rdp, case), ORG_POLICY, 1000).verdict is FAIL
    fw03 = the(findings(firewall.fw03_admin_ports, case), ORG_POLICY, 1000)
    assert fw03.verdict is FAIL and "reaching FTP" in fw03.reason
    assert the(findings(firewall.fw04_open_all, case), ORG_POLICY, 1000).verdict is FAIL
    approved = estate(hier=[hierarchical(ORG, rule(1000, "allow", "tcp:443"))])
    fw05 = the(findings(firewall.fw05_public_ports, approved, ("tcp:443",)), ORG_POLICY, 1000)
    assert (fw05.verdict, fw05.subject) == (PASS, "priority 1000: tcp:443 from 0.0.0.0/0")


FW04: dict[str, tuple[Estate, Verdict, str]] = {
    "one-deny-covers-the-entry": (
        estate([allow("tcp")], [hierarchical(ORG, rule(1, "deny", "tcp"))]), PASS, "…shadowed by deny rule 1 of…"),
    "two-denies-between-them": (
        estate([allow("tcp")], [hierarchical(ORG, rule(1, "deny", "tcp:0-30000"), rule(2, "deny", "tcp:30001-65535"))]),
        FAIL, "…allows tcp from 0.0.0.0/0…partly shadowed by deny rule 1 of…"),
    "vpc-denies-between-them": (
        estate([allow("tcp"), deny("tcp:0-30000"), deny("tcp:30001-65535", name="d2")]), FAIL,
        "…partly shadowed by deny rule d (priority 900), deny rule d2 (priority 900)"),
    "one-per-protocol": (
        estate([allow("tcp", "udp")], [hierarchical(ORG, rule(1, "deny", "tcp"), rule(2, "deny", "udp"))]), PASS,
        "…shadowed by…"),
    "all-needs-one-deny": (
        estate([allow("all")], [hierarchical(ORG, rule(1, "deny", "tcp"), rule(2, "deny", "udp"))]), FAIL,
        "…allows all except tcp, udp from 0.0.0.0/0…"),
}  # fmt: skip


@pytest.mark.parametrize(("case", "verdict", "reason"), FW04.values(), ids=FW04.keys())
def test_fw04_is_shadowed_only_where_one_deny_covers_the_whole_entry(
    case: Estate, verdict: Verdict, reason: str
) -> None:
    found = the(findings(firewall.fw04_open_all, case), VPC_RULE)
    assert found.verdict is verdict, found.reason
    for part in reason.split("…"):
        assert part in found.reason, found.reason


def test_without_policies_vpc_rules_are_judged_as_before() -> None:
    rules = [allow(), deny(priority=900, sourceRanges=["::/0"])]
    with_kinds = findings(firewall.fw01_ssh, estate(rules))
    alone = list(firewall.fw01_ssh(make_snapshot({"compute": {"firewalls": rules}}), Params()))
    assert with_kinds == alone


FW06: dict[str, tuple[Estate, str, int, Verdict | None, str]] = {
    "hierarchical-not-logging": (
        estate(hier=[hierarchical(ORG, rule(1000))]), ORG_POLICY, 1000, FAIL,
        f"rule 1000 of {ORG_LABEL} is enabled and does not log (enableLogging absent: off by default)"),
    "hierarchical-logging": (
        estate(hier=[hierarchical(ORG, rule(1000, "deny", enableLogging=True))]), ORG_POLICY, 1000, PASS,
        f"rule 1000 of {ORG_LABEL} logs (enableLogging: true)"),
    "logging-false": (
        estate(policies=[network_policy(rule(7, enableLogging=False))]), NET_POLICY, 7, FAIL,
        "rule 7 of network firewall policy net-policy is enabled and does not log (enableLogging: false)"),
    "not-associated-network-policy-too": (
        estate(policies=[network_policy(rule(7), network=None)]), NET_POLICY, 7, FAIL, "…does not log…"),
    "disabled": (
        estate(hier=[hierarchical(ORG, rule(1000, disabled=True))]), ORG_POLICY, 1000, PASS,
        "…is disabled (disabled: true): out of scope until enabled"),
    "goto-next-decides-nothing": (
        estate(hier=[hierarchical(ORG, rule(1000, "goto_next"))]), ORG_POLICY, 1000, None, ""),
    "unknown-action": (
        estate(hier=[hierarchical(ORG, rule(1000, "maybe"))]), ORG_POLICY, 1000, ERROR, "…unknown action 'maybe'"),
}  # fmt: skip


@pytest.mark.parametrize(("case", "resource", "priority", "verdict", "reason"), FW06.values(), ids=FW06.keys())
def test_fw06_covers_policy_rules(
    case: Estate, resource: str, priority: int, verdict: Verdict | None, reason: str
) -> None:
    found = [f for f in findings(firewall.fw06_rule_logging, case) if f.resource == resource]
    if verdict is None:
        assert found == []
        return
    (only,) = found
    assert only.verdict is verdict, only.reason
    assert only.subject == (f"priority {priority}" if verdict is not ERROR else "action")
    for part in reason.split("…"):
        assert part in only.reason, only.reason
