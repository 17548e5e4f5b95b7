"""FW-06 to FW-10 (logging, default network, egress, external IPs, flow logs) and the metadata
of every FW control, one row per case in the Compute REST shape."""

from __future__ import annotations

from typing import Any

import pytest

from checks import default_registry, firewall
from checks.model import Area, Finding, Verdict
from checks.params import Params
from checks.registry import Control, controls_in
from tests.builders import make_snapshot
from tests.checks.catalogue import ids

PROJECT = "https://www.googleapis.com/compute/v1/projects/shop-prod/"
PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
# The FW controls judging the VPC (firewall module); those on other resources (FW-13, buckets) are tested with them.
FW_IDS = sorted((c.meta.id for c in controls_in(vars(firewall).values())), key=lambda i: int(i.partition("-")[2]))


def fw(name: str = "r", **fields: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": name,
        "network": PROJECT + "global/networks/vpc",
        "sourceRanges": ["10.0.0.0/8"],
        "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}],
        "selfLink": PROJECT + f"global/firewalls/{name}",
    }
    rule.update(fields)
    return {key: value for key, value in rule.items() if value is not None}


def only(control: Control, compute: dict[str, Any], params: dict[str, Any] | None = None) -> Finding:
    (found,) = list(control(make_snapshot({"compute": compute}), Params.model_validate(params or {})))
    return found


def check(found: Finding, verdict: Verdict, subject: str, reason: str) -> None:
    assert (found.verdict, found.subject, found.latent) == (verdict, subject, False), found.reason
    assert found.reason == reason


# --- FW-06 ------------------------------------------------------------------------------------

FW06: dict[str, tuple[dict[str, Any], Verdict, str, str]] = {
    "on": ({"logConfig": {"enable": True}}, PASS, "", "rule r logs (logConfig.enable: true)"),
    "off": ({"logConfig": {"enable": False}}, FAIL, "", "rule r is enabled and does not log (logConfig.enable: false)"),
    "absent": ({}, FAIL, "", "rule r is enabled and does not log (logConfig absent: off by default)"),
    "enable-absent": ({"logConfig": {"metadata": "INCLUDE_ALL_METADATA"}}, FAIL, "",
                      "rule r is enabled and does not log (logConfig.enable absent: off by default)"),
    "disabled-false": ({"disabled": False}, FAIL, "", "rule r is enabled and does not log "
                       "(logConfig absent: off by default)"),
    "disabled": ({"disabled": True}, PASS, "", "rule r is disabled (disabled: true): out of scope until enabled"),
    "disabled-logging": ({"disabled": True, "logConfig": {"enable": True}}, PASS, "",
                         "rule r is disabled (disabled: true): out of scope until enabled"),
    "deny-rule": ({"allowed": None, "denied": [{"IPProtocol": "all"}]}, FAIL, "",
                  "rule r is enabled and does not log (logConfig absent: off by default)"),
    "enable-text": ({"logConfig": {"enable": "true"}}, ERROR, "logConfig.enable",
                    "rule r: cannot judge logConfig.enable: 'true' is not a boolean"),
    "config-list": ({"logConfig": [True]}, ERROR, "logConfig",
                    "rule r: cannot judge logConfig: [True] is not an object"),
}  # fmt: skip


@pytest.mark.parametrize(("fields", "verdict", "subject", "reason"), FW06.values(), ids=FW06.keys())
def test_fw06_rule_logging(fields: dict[str, Any], verdict: Verdict, subject: str, reason: str) -> None:
    found = only(firewall.fw06_rule_logging, {"firewalls": [fw(**fields)]})
    assert found.resource == "//compute.googleapis.com/projects/shop-prod/global/firewalls/r"
    check(found, verdict, subject, reason)


# --- FW-07 ------------------------------------------------------------------------------------

FW07: dict[str, tuple[dict[str, Any], str, Verdict, str, str]] = {
    "default-network": ({"networks": [{"name": "default", "selfLink": PROJECT + "global/networks/default"}]},
                        "networks/default", FAIL, "default",
                        "network default is the project's default network (name: default)"),
    "custom-network": ({"networks": [{"name": "prod-vpc", "selfLink": PROJECT + "global/networks/prod-vpc"}]},
                       "networks/prod-vpc", PASS, "prod-vpc", "network prod-vpc is not named default"),
    "network-without-link": ({"networks": [{"name": "default"}]}, "networks/default", FAIL, "default", "…"),
    "allow-internal": ({"firewalls": [fw("default-allow-internal")]}, "firewalls/default-allow-internal", FAIL,
                       "default-allow-internal",
                       "rule default-allow-internal, a default-network rule, is enabled (disabled absent)"),
    "allow-ssh": ({"firewalls": [fw("default-allow-ssh", disabled=False)]}, "firewalls/default-allow-ssh", FAIL,
                  "default-allow-ssh", "rule default-allow-ssh, a default-network rule, is enabled (disabled: false)"),
    "allow-rdp": ({"firewalls": [fw("default-allow-rdp")]}, "firewalls/default-allow-rdp", FAIL,
                  "default-allow-rdp", "…"),
    "allow-icmp": ({"firewalls": [fw("default-allow-icmp")]}, "firewalls/default-allow-icmp", FAIL,
                   "default-allow-icmp", "…"),
    "disabled": ({"firewalls": [fw("default-allow-ssh", disabled=True)]}, "firewalls/default-allow-ssh", PASS,
                 "default-allow-ssh", "rule default-allow-ssh is disabled (disabled: true)"),
    "unreadable": ({"firewalls": [fw("default-allow-rdp", disabled=1)]}, "firewalls/default-allow-rdp", ERROR,
                   "disabled", "rule default-allow-rdp: cannot judge disabled: 1 is not a boolean"),
    # without a name, a network or rule might be the default one: never a pass
    "unnamed-network": ({"networks": [{"selfLink": PROJECT + "global/networks/default"}]}, "networks/default",
                        ERROR, "name", "network ?: cannot judge name: absent"),
    "unnamed-rule": ({"firewalls": [{"selfLink": PROJECT + "global/firewalls/default-allow-ssh"}]},
                     "firewalls/default-allow-ssh", ERROR, "name", "rule ?: cannot judge name: absent"),
    "numbered-rule": ({"firewalls": [{**fw("x"), "name": 7}]}, "firewalls/x", ERROR, "name",
                      "rule 7: cannot judge name: 7 is not a rule name"),
}  # fmt: skip


@pytest.mark.parametrize(("compute", "resource", "verdict", "subject", "reason"), FW07.values(), ids=FW07.keys())
def test_fw07_default_network(
    compute: dict[str, Any], resource: str, verdict: Verdict, subject: str, reason: str
) -> None:
    found = only(firewall.fw07_default_network, {"networks": [], "firewalls": [], **compute})
    assert found.resource == f"//compute.googleapis.com/projects/shop-prod/global/{resource}"
    assert (found.verdict, found.subject) == (verdict, subject)
    assert reason == "…" or found.reason == reason


def test_fw07_other_rules_are_not_its_units() -> None:
    compute = {"networks": [], "firewalls": [fw("default-allow-http"), fw("allow-ssh"), fw("my-default-allow-ssh")]}
    assert list(firewall.fw07_default_network(make_snapshot({"compute": compute}), Params())) == []


# --- FW-08 ------------------------------------------------------------------------------------

VPC = PROJECT + "global/networks/vpc"


def egress(name: str = "deny-all-egress", **fields: Any) -> dict[str, Any]:
    rule = {"direction": "EGRESS", "sourceRanges": None, "allowed": None, "denied": [{"IPProtocol": "all"}],
            "destinationRanges": ["0.0.0.0/0"], "priority": 65535, **fields}  # fmt: skip
    return fw(name, **rule)


def subnet(stack: str | None, network: str = VPC, name: str = "s1") -> dict[str, Any]:
    sub = {"name": name, "network": network, "region": PROJECT + "regions/europe-west1", "stackType": stack}
    return {key: value for key, value in sub.items() if value is not None}


V6 = egress("deny-v6", destinationRanges=["::/0"])
NO_V4 = "network vpc has no enabled egress rule denying all to 0.0.0.0/0 (direction: EGRESS, denied[]: all, no targets)"
NO_V6 = ("network vpc has no enabled egress rule denying all to ::/0 (direction: EGRESS, denied[]: all, no targets), "
         "needed as subnetwork s1 has stackType: IPV4_IPV6")  # fmt: skip
FW08: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]], Verdict, str, str]] = {
    "deny-all": ([egress()], [subnet("IPV4_ONLY")], PASS, "0.0.0.0/0",
                 "network vpc: rule deny-all-egress denies all egress to 0.0.0.0/0"),
    "none": ([], [], FAIL, "0.0.0.0/0", NO_V4),
    "destination-absent": ([egress(destinationRanges=None)], [], PASS, "0.0.0.0/0", "…"),
    "tcp-and-udp-only": ([egress(denied=[{"IPProtocol": "tcp"}, {"IPProtocol": "udp"}])], [], FAIL,
                                    "0.0.0.0/0", NO_V4),
    "disabled": ([egress(disabled=True)], [], FAIL, "0.0.0.0/0",
                 f"{NO_V4} (rule deny-all-egress would, but is disabled)"),
    "ingress": ([egress(direction="INGRESS", sourceRanges=["0.0.0.0/0"], destinationRanges=None)], [], FAIL,
                "0.0.0.0/0", NO_V4),
    "allow-not-deny": ([egress(denied=None, allowed=[{"IPProtocol": "all"}])], [], FAIL, "0.0.0.0/0", NO_V4),
    "partial-range": ([egress(destinationRanges=["0.0.0.0/1"])], [], FAIL, "0.0.0.0/0", NO_V4),
    "halves": ([egress(destinationRanges=["0.0.0.0/1", "128.0.0.0/1"])], [], PASS, "0.0.0.0/0", "…"),
    "targeted": ([egress(targetTags=["web"])], [], FAIL, "0.0.0.0/0", NO_V4),
    "other-network": ([egress(network=PROJECT + "global/networks/other")], [], FAIL, "0.0.0.0/0", NO_V4),
    "relative-network": ([egress(network="global/networks/vpc")], [], PASS, "0.0.0.0/0", "…"),
    "dual-stack-v4-only": ([egress()], [subnet("IPV4_IPV6")], FAIL, "::/0", NO_V6),
    "dual-stack-both": ([egress(), V6], [subnet("IPV4_IPV6")], PASS, "0.0.0.0/0, ::/0",
                        "network vpc: rule deny-all-egress denies all egress to 0.0.0.0/0; rule deny-v6 denies all "
                        "egress to ::/0, needed as subnetwork s1 has stackType: IPV4_IPV6"),
    "dual-stack-one-rule": ([egress(destinationRanges=["0.0.0.0/0", "::/0"])], [subnet("IPV4_IPV6")], PASS,
                            "0.0.0.0/0, ::/0", "…"),
    "dual-stack-nothing": ([], [subnet("IPV4_IPV6")], FAIL, "0.0.0.0/0, ::/0",
                           "network vpc has no enabled egress rule denying all to 0.0.0.0/0, ::/0 (direction: "
                           "EGRESS, denied[]: all, no targets), needed as subnetwork s1 has stackType: IPV4_IPV6"),
    "dual-stack-other-network": ([egress()], [subnet("IPV4_IPV6", network=PROJECT + "global/networks/other")], PASS,
                                 "0.0.0.0/0", "…"),
    "ipv6-only-subnet": ([egress()], [subnet("IPV6_ONLY")], FAIL, "::/0", "…"),
    "stack-absent": ([egress()], [subnet(None)], PASS, "0.0.0.0/0", "…"),
    "stack-unknown": ([egress()], [subnet("IPV9")], ERROR, "::/0",
                      "network vpc: cannot judge egress to ::/0: subnetwork s1 has unknown stackType 'IPV9'"),
    "stack-unknown-covered": ([egress(), V6], [subnet("IPV9")], PASS, "0.0.0.0/0, ::/0", "…"),
    "unreadable-rule": ([egress(denied=[{"IPProtocol": "all", "ports": ["1"]}])], [], ERROR, "0.0.0.0/0",
                        "network vpc: cannot judge egress to 0.0.0.0/0: rule deny-all-egress: denied[0].ports: "
                        "ports are given for all, which has none"),
    "unreadable-but-covered": ([egress(), fw("junk", disabled="x")], [], PASS, "0.0.0.0/0", "…"),
}  # fmt: skip


@pytest.mark.parametrize(("rules", "subnets", "verdict", "subject", "reason"), FW08.values(), ids=FW08.keys())
def test_fw08_egress_deny(
    rules: list[dict[str, Any]], subnets: list[dict[str, Any]], verdict: Verdict, subject: str, reason: str
) -> None:
    compute = {"firewalls": rules, "subnetworks": subnets, "networks": [{"name": "vpc", "selfLink": VPC}]}
    found = only(firewall.fw08_egress_deny, compute)
    assert found.resource == "//compute.googleapis.com/projects/shop-prod/global/networks/vpc"
    assert (found.verdict, found.subject) == (verdict, subject), found.reason
    assert reason == "…" or found.reason == reason


# --- FW-09 ------------------------------------------------------------------------------------


def vm(*interfaces: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "name": "web-1",
        "zone": PROJECT + "zones/europe-west1-b",
        "status": "RUNNING",
        "selfLink": PROJECT + "zones/europe-west1-b/instances/web-1",
        "networkInterfaces": list(interfaces),
        **fields,
    }


NAT = {"type": "ONE_TO_ONE_NAT", "name": "external-nat", "natIP": "34.76.1.2"}
FW09: dict[str, tuple[dict[str, Any], list[str], Verdict, str, str]] = {
    "nat": (vm({"name": "nic0", "accessConfigs": [NAT]}), [], FAIL, "nic0 ONE_TO_ONE_NAT 34.76.1.2",
            "instance web-1 has an external IP via networkInterfaces[0].accessConfigs[0] (type ONE_TO_ONE_NAT, "
            "natIP 34.76.1.2); it matches no firewall.public_instances entry"),
    "nat-no-ip": (vm({"name": "nic0", "accessConfigs": [{"type": "ONE_TO_ONE_NAT"}]}), [], FAIL,
                  "nic0 ONE_TO_ONE_NAT (no natIP)", "instance web-1 has an external IP via "
                  "networkInterfaces[0].accessConfigs[0] (type ONE_TO_ONE_NAT, no natIP: it gets one when it starts); "
                  "it matches no firewall.public_instances entry"),
    "type-absent": (vm({"name": "nic0", "accessConfigs": [{"natIP": "34.76.1.2"}]}), [], FAIL,
                    "nic0 ONE_TO_ONE_NAT 34.76.1.2",
                    "instance web-1 has an external IP via networkInterfaces[0].accessConfigs[0] (type absent: "
                    "ONE_TO_ONE_NAT, natIP 34.76.1.2); it matches no firewall.public_instances entry"),
    "terminated": (vm({"name": "nic0", "accessConfigs": [{"type": "ONE_TO_ONE_NAT"}]}, status="TERMINATED"), [],
                   FAIL, "nic0 ONE_TO_ONE_NAT (no natIP)", "…"),
    "ipv6": (vm({"name": "nic0", "ipv6AccessConfigs": [{"type": "DIRECT_IPV6", "externalIpv6": "2600:1900::"}]}),
             [], FAIL, "nic0 DIRECT_IPV6 2600:1900::", "instance web-1 has an external IP via "
             "networkInterfaces[0].ipv6AccessConfigs[0] (type DIRECT_IPV6, externalIpv6 2600:1900::); "
             "it matches no firewall.public_instances entry"),
    "ipv6-no-type": (vm({"name": "nic0", "ipv6AccessConfigs": [{}]}), [], FAIL, "nic0 DIRECT_IPV6 (no externalIpv6)",
                     "…"),
    "second-nic": (vm({"name": "nic0"}, {"name": "nic1", "accessConfigs": [NAT]}), [], FAIL,
                   "nic1 ONE_TO_ONE_NAT 34.76.1.2", "…"),
    "internal-only": (vm({"name": "nic0", "networkIP": "10.0.0.2"}), [], PASS, "",
                      "instance web-1 has no external IP (no ONE_TO_ONE_NAT accessConfigs, no ipv6AccessConfigs)"),
    "no-interfaces": (vm(), [], ERROR, "networkInterfaces",
                      "instance web-1: cannot judge networkInterfaces: is absent or empty (every instance has at "
                      "least one interface)"),
    "approved-path": (vm({"name": "nic0", "accessConfigs": [NAT]}), ["shop-prod/europe-west1-b/web-1"], PASS,
                      "nic0 ONE_TO_ONE_NAT 34.76.1.2",
                      "instance web-1 has an external IP via networkInterfaces[0].accessConfigs[0] (type "
                      "ONE_TO_ONE_NAT, natIP 34.76.1.2); approved by firewall.public_instances entry "
                      "shop-prod/europe-west1-b/web-1"),
    "other-zone": (vm({"name": "nic0", "accessConfigs": [NAT]}), ["shop-prod/europe-west1-c/web-1"], FAIL,
                   "nic0 ONE_TO_ONE_NAT 34.76.1.2", "…"),
    "other-project": (vm({"name": "nic0", "accessConfigs": [NAT]}), ["shop-test/europe-west1-b/web-1"], FAIL,
                      "nic0 ONE_TO_ONE_NAT 34.76.1.2", "…"),
    "approved-label": (vm({"name": "nic0", "accessConfigs": [NAT]}, labels={"exposure": "public"}),
                       ["exposure=public"], PASS, "nic0 ONE_TO_ONE_NAT 34.76.1.2", "…entry exposure=public"),
    "label-other-value": (vm({"name": "nic0", "accessConfigs": [NAT]}, labels={"exposure": "internal"}),
                          ["exposure=public"], FAIL, "nic0 ONE_TO_ONE_NAT 34.76.1.2", "…"),
    "label-absent": (vm({"name": "nic0", "accessConfigs": [NAT]}), ["exposure=public"], FAIL,
                     "nic0 ONE_TO_ONE_NAT 34.76.1.2", "…"),
    "unknown-type": (vm({"name": "nic0", "accessConfigs": [{"type": "MAGIC"}]}), [], ERROR,
                     "networkInterfaces[0].accessConfigs[0].type",
                     "instance web-1: cannot judge networkInterfaces[0].accessConfigs[0].type: unknown type 'MAGIC'"),
    "configs-not-list": (vm({"name": "nic0", "accessConfigs": {"type": "ONE_TO_ONE_NAT"}}), [], ERROR,
                         "networkInterfaces[0].accessConfigs", "…"),
}  # fmt: skip


@pytest.mark.parametrize(("instance", "public", "verdict", "subject", "reason"), FW09.values(), ids=FW09.keys())
def test_fw09_external_ip(
    instance: dict[str, Any], public: list[str], verdict: Verdict, subject: str, reason: str
) -> None:
    found = only(firewall.fw09_external_ip, {"instances": [instance]}, {"firewall": {"public_instances": public}})
    assert found.resource == "//compute.googleapis.com/projects/shop-prod/zones/europe-west1-b/instances/web-1"
    assert (found.verdict, found.subject) == (verdict, subject), found.reason
    if reason.startswith("…"):
        assert found.reason.endswith(reason[1:])
    else:
        assert found.reason == reason


# --- FW-10 ------------------------------------------------------------------------------------

CIS_FLOWS = {"enable": True, "aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 1.0,
             "metadata": "INCLUDE_ALL_METADATA"}  # fmt: skip
ALL_FLOWS = "5-second aggregation, sampling 1.0, all metadata, no filter"
SHORT = "subnetwork s1 logs flows (logConfig.enable: true) short of CIS 3.8: "
FW10: dict[str, tuple[dict[str, Any], Verdict, str]] = {
    "cis-settings": ({"logConfig": CIS_FLOWS}, PASS,
                     f"subnetwork s1 logs every flow (logConfig.enable: true, {ALL_FLOWS})"),
    "interval-default": ({"logConfig": {**CIS_FLOWS, "aggregationInterval": None}}, PASS,
                         f"subnetwork s1 logs every flow (logConfig.enable: true, {ALL_FLOWS})"),
    "filter-true": ({"logConfig": {**CIS_FLOWS, "filterExpr": " true "}}, PASS,
                    f"subnetwork s1 logs every flow (logConfig.enable: true, {ALL_FLOWS})"),
    "filter-empty": ({"logConfig": {**CIS_FLOWS, "filterExpr": ""}}, PASS,
                     f"subnetwork s1 logs every flow (logConfig.enable: true, {ALL_FLOWS})"),
    "legacy-flag-cis": ({"enableFlowLogs": True, "logConfig": {**CIS_FLOWS, "enable": None}}, PASS,
                        f"subnetwork s1 logs every flow (enableFlowLogs: true, {ALL_FLOWS})"),
    "rfc1918-name": ({"purpose": "PRIVATE_RFC_1918", "logConfig": CIS_FLOWS}, PASS,
                     f"subnetwork s1 logs every flow (logConfig.enable: true, {ALL_FLOWS})"),
    "half-sampled": ({"logConfig": {**CIS_FLOWS, "flowSampling": 0.5}}, FAIL,
                     SHORT + "logConfig.flowSampling: 0.5 (not 1.0: only part of the flows is reported)"),
    "sampling-default": ({"logConfig": {**CIS_FLOWS, "flowSampling": None}}, FAIL,
                         SHORT + "logConfig.flowSampling absent: 0.5 by default (not 1.0: only part of the flows "
                         "is reported)"),
    "sampling-zero": ({"logConfig": {**CIS_FLOWS, "flowSampling": 0}}, FAIL,
                      SHORT + "logConfig.flowSampling: 0 (not 1.0: only part of the flows is reported)"),
    "slow-interval": ({"logConfig": {**CIS_FLOWS, "aggregationInterval": "INTERVAL_30_SEC"}}, FAIL,
                      SHORT + "logConfig.aggregationInterval: INTERVAL_30_SEC (not INTERVAL_5_SEC)"),
    "metadata-default": ({"logConfig": {**CIS_FLOWS, "metadata": None}}, FAIL,
                         SHORT + "logConfig.metadata absent: EXCLUDE_ALL_METADATA by default "
                         "(not INCLUDE_ALL_METADATA)"),
    "custom-metadata": ({"logConfig": {**CIS_FLOWS, "metadata": "CUSTOM_METADATA", "metadataFields": ["src_vpc"]}},
                        FAIL, SHORT + "logConfig.metadata: CUSTOM_METADATA (not INCLUDE_ALL_METADATA)"),
    "filtered": ({"logConfig": {**CIS_FLOWS, "filterExpr": "inIpRange(connection.src_ip, '10.0.0.0/8')"}}, FAIL,
                 SHORT + "logConfig.filterExpr: \"inIpRange(connection.src_ip, '10.0.0.0/8')\" (exports only the "
                 "flows it matches)"),
    "all-short": ({"logConfig": {"enable": True}}, FAIL,
                  SHORT + "logConfig.flowSampling absent: 0.5 by default (not 1.0: only part of the flows is "
                  "reported); logConfig.metadata absent: EXCLUDE_ALL_METADATA by default (not INCLUDE_ALL_METADATA)"),
    "legacy-flag-defaults": ({"enableFlowLogs": True}, FAIL,
                             "subnetwork s1 logs flows (enableFlowLogs: true) short of CIS 3.8: logConfig.flowSampling "
                             "absent: 0.5 by default (not 1.0: only part of the flows is reported); logConfig.metadata "
                             "absent: EXCLUDE_ALL_METADATA by default (not INCLUDE_ALL_METADATA)"),
    "off": ({"logConfig": {"enable": False}}, FAIL, "subnetwork s1 does not log flows (logConfig.enable: false)"),
    "off-with-settings": ({"logConfig": {**CIS_FLOWS, "enable": False}}, FAIL,
                          "subnetwork s1 does not log flows (logConfig.enable: false)"),
    "absent": ({}, FAIL, "subnetwork s1 does not log flows (logConfig absent: off by default)"),
    "legacy-off": ({"enableFlowLogs": False}, FAIL,
                   "subnetwork s1 does not log flows (logConfig absent: off by default, enableFlowLogs: false)"),
    "enable-absent": ({"logConfig": {"aggregationInterval": "INTERVAL_5_SEC"}}, FAIL,
                      "subnetwork s1 does not log flows (logConfig.enable absent: off by default)"),
    "regional-proxy": ({"purpose": "REGIONAL_MANAGED_PROXY"}, PASS,
                       "subnetwork s1 has purpose REGIONAL_MANAGED_PROXY, which cannot log flows"),
    "global-proxy": ({"purpose": "GLOBAL_MANAGED_PROXY"}, PASS,
                     "subnetwork s1 has purpose GLOBAL_MANAGED_PROXY, which cannot log flows"),
    "psc": ({"purpose": "PRIVATE_SERVICE_CONNECT"}, PASS,
            "subnetwork s1 has purpose PRIVATE_SERVICE_CONNECT, which cannot log flows"),
    "legacy-proxy-name": ({"purpose": "INTERNAL_HTTPS_LOAD_BALANCER"}, PASS,
                          "subnetwork s1 has purpose INTERNAL_HTTPS_LOAD_BALANCER, which cannot log flows"),
    "private-nat": ({"purpose": "PRIVATE_NAT"}, PASS,
                    "subnetwork s1 has purpose PRIVATE_NAT: outside CIS 3.8, which judges PRIVATE ones"),
    "peer-migration": ({"purpose": "PEER_MIGRATION"}, PASS,
                       "subnetwork s1 has purpose PEER_MIGRATION: outside CIS 3.8, which judges PRIVATE ones"),
    "private-purpose": ({"purpose": "PRIVATE"}, FAIL,
                        "subnetwork s1 does not log flows (logConfig absent: off by default)"),
    "purpose-unknown": ({"purpose": "PRIVATE_FUTURE", "logConfig": CIS_FLOWS}, ERROR,
                        "subnetwork s1: cannot judge purpose: unknown purpose 'PRIVATE_FUTURE'"),
    "purpose-not-text": ({"purpose": ["PRIVATE"]}, ERROR,
                         "subnetwork s1: cannot judge purpose: ['PRIVATE'] is not a string"),
    "config-not-object": ({"logConfig": True}, ERROR, "subnetwork s1: cannot judge logConfig: True is not an object"),
    "enable-text": ({"logConfig": {"enable": "yes"}}, ERROR,
                    "subnetwork s1: cannot judge logConfig.enable: 'yes' is not a boolean"),
    "sampling-text": ({"logConfig": {**CIS_FLOWS, "flowSampling": "half"}}, ERROR,
                      "subnetwork s1: cannot judge logConfig.flowSampling: 'half' is not a number in [0, 1]"),
    "sampling-above-one": ({"logConfig": {**CIS_FLOWS, "flowSampling": 2}}, ERROR,
                           "subnetwork s1: cannot judge logConfig.flowSampling: 2 is not a number in [0, 1]"),
    "interval-unknown": ({"logConfig": {**CIS_FLOWS, "aggregationInterval": "INTERVAL_1_SEC"}}, ERROR,
                         "subnetwork s1: cannot judge logConfig.aggregationInterval: unknown value 'INTERVAL_1_SEC'"),
    "metadata-unknown": ({"logConfig": {**CIS_FLOWS, "metadata": ["ALL"]}}, ERROR,
                         "subnetwork s1: cannot judge logConfig.metadata: unknown value ['ALL']"),
    "filter-not-text": ({"logConfig": {**CIS_FLOWS, "filterExpr": 1}}, ERROR,
                        "subnetwork s1: cannot judge logConfig.filterExpr: 1 is not a string"),
}  # fmt: skip


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    """A case's fields, a None value (at the top or in `logConfig`) meaning the field is absent."""
    kept = {key: value for key, value in fields.items() if value is not None}
    if isinstance(kept.get("logConfig"), dict):
        kept["logConfig"] = {key: value for key, value in kept["logConfig"].items() if value is not None}
    return kept


@pytest.mark.parametrize(("fields", "verdict", "reason"), FW10.values(), ids=FW10.keys())
def test_fw10_flow_logs(fields: dict[str, Any], verdict: Verdict, reason: str) -> None:
    sub = {"name": "s1", "network": VPC, "region": PROJECT + "regions/europe-west1",
           "selfLink": PROJECT + "regions/europe-west1/subnetworks/s1", **_without_none(fields)}  # fmt: skip
    found = only(firewall.fw10_flow_logs, {"subnetworks": [sub]})
    assert found.resource == "//compute.googleapis.com/projects/shop-prod/regions/europe-west1/subnetworks/s1"
    assert (found.verdict, found.reason) == (verdict, reason)


# --- nothing in scope, metadata ---------------------------------------------------------------


@pytest.mark.parametrize("control_id", FW_IDS)
def test_nothing_in_scope_gives_no_findings(control_id: str) -> None:
    empty: dict[str, list[Any]] = {"firewalls": [], "networks": [], "subnetworks": [], "instances": []}
    control = default_registry().get(control_id)
    assert list(control(make_snapshot({"compute": empty}), Params())) == []


def test_registry_holds_every_fw_control() -> None:
    assert [c for c in default_registry().ids() if c.startswith("FW-")] == ids(Area.FW)
    assert set(FW_IDS) < set(ids(Area.FW))


UNITS = {"FW-07": "network, and default-allow-* rule", "FW-08": "network", "FW-09": "instance", "FW-10": "subnetwork"}
PARAMS = {"FW-05": ("firewall.public_ports",), "FW-09": ("firewall.public_instances",)}


@pytest.mark.parametrize("control_id", FW_IDS)
def test_metadata_is_complete(control_id: str) -> None:
    meta = default_registry().get(control_id).meta
    assert meta.area is Area.FW
    assert meta.title and meta.title[0].isupper()
    assert len(meta.rationale) > 100 and "gcloud " in meta.remediation
    assert meta.references.soc2 and meta.references.sha
    assert meta.kinds and all(isinstance(kind, str) for kind in meta.kinds)
    assert meta.unit == UNITS.get(control_id, "firewall rule or policy rule")
    assert meta.params == PARAMS.get(control_id, ())
    for dotted in meta.params:  # every named parameter exists
        area, key = dotted.split(".")
        assert key in type(getattr(Params(), area)).model_fields
    assert firewall.__doc__ and getattr(firewall, _function_name(control_id)).func.__doc__


def _function_name(control_id: str) -> str:
    (name,) = [n for n, v in vars(firewall).items() if isinstance(v, Control) and v.meta.id == control_id]
    return name


def test_references_follow_the_catalogue() -> None:
    refs = {c.meta.id: (c.meta.severity.value, c.meta.references.cis_text(), c.meta.references.soc2,
                        c.meta.references.sha)
            for c in default_registry() if c.meta.id in FW_IDS}  # fmt: skip
    assert refs == {
        "FW-01": ("critical", "4.0: 3.6 · 5.0: 3.6", ("CC6.1", "CC6.6"), "OPEN_SSH_PORT"),
        "FW-02": ("critical", "4.0: 3.7 · 5.0: 3.7", ("CC6.1", "CC6.6"), "OPEN_RDP_PORT"),
        "FW-03": ("high", "", ("CC6.6",), "OPEN_*_PORT"),
        "FW-04": ("critical", "", ("CC6.6",), "OPEN_FIREWALL"),
        "FW-05": ("high", "", ("CC6.6",), "OPEN_FIREWALL"),
        "FW-06": ("medium", "", ("CC7.2",), "FIREWALL_RULE_LOGGING_DISABLED"),
        "FW-07": ("medium", "4.0: 3.1 · 5.0: 3.1", ("CC6.6",), "DEFAULT_NETWORK"),
        "FW-08": ("low", "", ("CC6.6",), "EGRESS_DENY_RULE_NOT_SET"),
        "FW-09": ("high", "4.0: 4.9 · 5.0: 4.9", ("CC6.6",), "PUBLIC_IP_ADDRESS"),
        "FW-10": ("low", "4.0: 3.8 · 5.0: 3.10", ("CC7.2",), "FLOW_LOGS_DISABLED"),
    }
