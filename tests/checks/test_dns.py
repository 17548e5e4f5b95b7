"""FW-15 (DNSSEC), FW-16 and FW-17 (no RSASHA1 key-signing / zone-signing key) per public managed
zone, and LOG-10 (DNS query logging) per network: one row per case, in the Cloud DNS v1 and
Compute REST shapes."""

from __future__ import annotations

from typing import Any

import pytest

from checks import default_registry, dns
from checks.kinds import Kind
from checks.model import Area, Finding, Verdict
from checks.params import Params
from checks.registry import Control
from tests.builders import make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
ZONE = "//dns.googleapis.com/projects/shop-prod/managedZones/z1"
COMPUTE = "https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/"


def spec(key_type: str, algorithm: str, length: int = 2048) -> dict[str, Any]:
    return {"kind": "dns#dnsKeySpec", "keyType": key_type, "algorithm": algorithm, "keyLength": length}


STRONG = [spec("keySigning", "rsasha256"), spec("zoneSigning", "rsasha256", 1024)]
SIGNED = {"state": "on", "nonExistence": "nsec3", "defaultKeySpecs": STRONG}


def zone(**fields: Any) -> dict[str, Any]:
    made = {"kind": "dns#managedZone", "name": "z1", "dnsName": "example.be.", "visibility": "public", **fields}
    return {key: value for key, value in made.items() if value is not None}


def judged(control: Control, zones: list[dict[str, Any]]) -> list[Finding]:
    return list(control(make_snapshot({"dns": {"managedZones": zones}}), Params()))


# --- FW-15 ------------------------------------------------------------------------------------

FW15: dict[str, tuple[dict[str, Any], Verdict | None, str]] = {
    "on": ({"dnssecConfig": SIGNED}, PASS, "zone z1 (example.be.) signs its records (dnssecConfig.state: on)"),
    "off": ({"dnssecConfig": {"state": "off"}}, FAIL,
            "zone z1 (example.be.) is public and unsigned (dnssecConfig.state: off)"),
    "no-config": ({}, FAIL, "zone z1 (example.be.) is public and unsigned (dnssecConfig absent: off by default)"),
    "no-state": ({"dnssecConfig": {"nonExistence": "nsec"}}, FAIL,
                 "zone z1 (example.be.) is public and unsigned (dnssecConfig.state absent: off by default)"),
    "transfer": ({"dnssecConfig": {**SIGNED, "state": "transfer"}}, FAIL,
                 "zone z1 (example.be.) is in DNSSEC transfer mode (dnssecConfig.state: transfer): meant for "
                 "moving a signed zone, not on"),
    "visibility-default": ({"visibility": None}, FAIL,
                           "zone z1 (example.be.) is public and unsigned (dnssecConfig absent: off by default)"),
    "private": ({"visibility": "private"}, None, ""),
    "private-off": ({"visibility": "private", "dnssecConfig": {"state": "off"}}, None, ""),
    "state-unknown": ({"dnssecConfig": {"state": "ON"}}, ERROR,
                      "zone z1: cannot judge dnssecConfig.state: unknown value 'ON'"),
    "config-not-object": ({"dnssecConfig": "on"}, ERROR, "zone z1: cannot judge dnssecConfig: 'on' is not an object"),
    "visibility-unknown": ({"visibility": "internal"}, ERROR,
                           "zone z1: cannot judge visibility: unknown value 'internal'"),
}  # fmt: skip


@pytest.mark.parametrize(("fields", "verdict", "reason"), FW15.values(), ids=FW15.keys())
def test_fw15_dnssec(fields: dict[str, Any], verdict: Verdict | None, reason: str) -> None:
    _expect(judged(dns.fw15_dnssec, [zone(**fields)]), verdict, reason)


def _expect(found: list[Finding], verdict: Verdict | None, reason: str) -> None:
    if verdict is None:
        assert found == []
        return
    (one,) = found
    assert (one.resource, one.verdict, one.reason) == (ZONE, verdict, reason)


# --- FW-16, FW-17 -----------------------------------------------------------------------------

KSK = "zone z1's key-signing key spec"
ZSK = "zone z1's zone-signing key spec"
ALGORITHMS: dict[str, tuple[dict[str, Any], tuple[Verdict | None, str], tuple[Verdict | None, str]]] = {
    "strong": ({"dnssecConfig": SIGNED},
               (PASS, f"{KSK} does not use RSASHA1 (keySigning: rsasha256 (2048 bits))"),
               (PASS, f"{ZSK} does not use RSASHA1 (zoneSigning: rsasha256 (1024 bits))")),
    "ecdsa": ({"dnssecConfig": {**SIGNED, "defaultKeySpecs": [spec("keySigning", "ecdsap256sha256", 256),
                                                              spec("zoneSigning", "ecdsap384sha384", 384)]}},
              (PASS, f"{KSK} does not use RSASHA1 (keySigning: ecdsap256sha256 (256 bits))"),
              (PASS, f"{ZSK} does not use RSASHA1 (zoneSigning: ecdsap384sha384 (384 bits))")),
    "ksk-sha1": ({"dnssecConfig": {**SIGNED, "defaultKeySpecs": [spec("keySigning", "rsasha1"), STRONG[1]]}},
                 (FAIL, f"{KSK} uses RSASHA1 (keySigning: rsasha1 (2048 bits); dnssecConfig.state: on)"),
                 (PASS, f"{ZSK} does not use RSASHA1 (zoneSigning: rsasha256 (1024 bits))")),
    "zsk-sha1": ({"dnssecConfig": {**SIGNED, "defaultKeySpecs": [STRONG[0], spec("zoneSigning", "rsasha1", 1024)]}},
                 (PASS, f"{KSK} does not use RSASHA1 (keySigning: rsasha256 (2048 bits))"),
                 (FAIL, f"{ZSK} uses RSASHA1 (zoneSigning: rsasha1 (1024 bits); dnssecConfig.state: on)")),
    "one-of-two-sha1": ({"dnssecConfig": {**SIGNED, "defaultKeySpecs": [
                            *STRONG, {"keyType": "keySigning", "algorithm": "rsasha1"}]}},
                        (FAIL, f"{KSK} uses RSASHA1 (keySigning: rsasha256 (2048 bits), rsasha1; "
                               "dnssecConfig.state: on)"),
                        (PASS, f"{ZSK} does not use RSASHA1 (zoneSigning: rsasha256 (1024 bits))")),
    "sha1-while-off": ({"dnssecConfig": {"state": "off", "defaultKeySpecs": [spec("keySigning", "rsasha1"),
                                                                             spec("zoneSigning", "rsasha1")]}},
                       (FAIL, f"{KSK} uses RSASHA1 (keySigning: rsasha1 (2048 bits); dnssecConfig.state: off)"),
                       (FAIL, f"{ZSK} uses RSASHA1 (zoneSigning: rsasha1 (2048 bits); dnssecConfig.state: off)")),
    "off-no-specs": ({"dnssecConfig": {"state": "off"}},
                     (PASS, "zone z1 has no key-signing key spec and signs nothing (dnssecConfig.state: off)"),
                     (PASS, "zone z1 has no zone-signing key spec and signs nothing (dnssecConfig.state: off)")),
    "unsigned": ({},
                 (PASS, "zone z1 has no key-signing key spec and signs nothing (dnssecConfig absent: off by default)"),
                 (PASS, "zone z1 has no zone-signing key spec and signs nothing (dnssecConfig absent: off by "
                        "default)")),
    "on-no-specs": ({"dnssecConfig": {"state": "on"}},
                    (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs: no keySigning entry while DNSSEC "
                            "is on"),
                    (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs: no zoneSigning entry while DNSSEC "
                            "is on")),
    "transfer-ksk-only": ({"dnssecConfig": {"state": "transfer", "defaultKeySpecs": [STRONG[0]]}},
                          (PASS, f"{KSK} does not use RSASHA1 (keySigning: rsasha256 (2048 bits))"),
                          (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs: no zoneSigning entry while "
                                  "DNSSEC is transfer")),
    "private": ({"visibility": "private", "dnssecConfig": {"defaultKeySpecs": [spec("keySigning", "rsasha1")]}},
                (None, ""), (None, "")),
    "algorithm-unknown": ({"dnssecConfig": {**SIGNED, "defaultKeySpecs": [spec("keySigning", "RSASHA1"),
                                                                          STRONG[1]]}},
                          (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs[0].algorithm: unknown value "
                                  "'RSASHA1'"),
                          (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs[0].algorithm: unknown value "
                                  "'RSASHA1'")),
    "key-type-unknown": ({"dnssecConfig": {**SIGNED, "defaultKeySpecs": [{"keyType": "ksk", "algorithm": "rsasha1"}]}},
                         (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs[0].keyType: unknown value 'ksk'"),
                         (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs[0].keyType: unknown value 'ksk'")),
    "spec-not-object": ({"dnssecConfig": {**SIGNED, "defaultKeySpecs": ["rsasha256"]}},
                        (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs[0]: 'rsasha256' is not an object"),
                        (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs[0]: 'rsasha256' is not an object")),
    "specs-not-list": ({"dnssecConfig": {**SIGNED, "defaultKeySpecs": {"keyType": "keySigning"}}},
                       (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs: {'keyType': 'keySigning'} is not "
                               "a list"),
                       (ERROR, "zone z1: cannot judge dnssecConfig.defaultKeySpecs: {'keyType': 'keySigning'} is not "
                               "a list")),
}  # fmt: skip


@pytest.mark.parametrize(("fields", "ksk", "zsk"), ALGORITHMS.values(), ids=ALGORITHMS.keys())
def test_fw16_and_fw17_key_algorithms(
    fields: dict[str, Any], ksk: tuple[Verdict | None, str], zsk: tuple[Verdict | None, str]
) -> None:
    _expect(judged(dns.fw16_ksk_algorithm, [zone(**fields)]), *ksk)
    _expect(judged(dns.fw17_zsk_algorithm, [zone(**fields)]), *zsk)


def test_each_zone_has_its_own_result_and_an_unreadable_one_hides_none() -> None:
    zones = [zone(name="a", dnssecConfig=SIGNED), zone(name="b", dnssecConfig=7), zone(name="c")]
    found = judged(dns.fw15_dnssec, zones)
    assert [(f.resource.rsplit("/", 1)[1], f.verdict) for f in found] == [("a", PASS), ("b", ERROR), ("c", FAIL)]


# --- LOG-10 -----------------------------------------------------------------------------------


def net(name: str) -> dict[str, Any]:
    return {"kind": "compute#network", "name": name, "selfLink": COMPUTE + name, "autoCreateSubnetworks": False}


def policy(name: str, *urls: str, **fields: Any) -> dict[str, Any]:
    networks = [{"kind": "dns#policyNetwork", "networkUrl": url} for url in urls]
    return {"kind": "dns#policy", "name": name, "networks": networks, **fields}


LOG10: dict[str, tuple[list[dict[str, Any]], Verdict, str]] = {
    "logging-policy": ([policy("p", COMPUTE + "vpc", enableLogging=True)], PASS,
                       "network vpc logs DNS queries (policy p: enableLogging: true)"),
    "other-url-form": ([policy("p", "https://compute.googleapis.com/compute/v1/projects/shop-prod/global/networks/vpc",
                               enableLogging=True)], PASS,
                       "network vpc logs DNS queries (policy p: enableLogging: true)"),
    "no-policy": ([], FAIL, "network vpc is bound to no DNS server policy, so its queries are not logged"),
    "policy-elsewhere": ([policy("p", COMPUTE + "other", enableLogging=True)], FAIL,
                         "network vpc is bound to no DNS server policy, so its queries are not logged"),
    "same-name-other-project": ([policy("p", "https://www.googleapis.com/compute/v1/projects/hub/global/networks/vpc",
                                        enableLogging=True)], FAIL,
                                "network vpc is bound to no DNS server policy, so its queries are not logged"),
    "logging-off": ([policy("p", COMPUTE + "vpc", enableLogging=False)], FAIL,
                    "network vpc is bound to DNS policy p without enableLogging: true"),
    "logging-absent": ([policy("p", COMPUTE + "vpc", enableInboundForwarding=True)], FAIL,
                       "network vpc is bound to DNS policy p without enableLogging: true"),
    "one-of-two-quiet": ([policy("a", COMPUTE + "vpc", enableLogging=True), policy("b", COMPUTE + "vpc")], FAIL,
                         "network vpc is bound to DNS policy b without enableLogging: true"),
    "unreadable-other": ([policy("p", COMPUTE + "vpc", enableLogging=True), policy("q", enableLogging="yes")], PASS,
                         "network vpc logs DNS queries (policy p: enableLogging: true)"),
    "unreadable-only": ([policy("q", COMPUTE + "vpc", enableLogging="yes")], ERROR,
                        "network vpc: cannot judge DNS logging: no readable policy binds it; DNS policy q: cannot "
                        "judge enableLogging: 'yes' is not a boolean"),
    "networks-not-list": ([{"kind": "dns#policy", "name": "q", "enableLogging": True, "networks": "vpc"}], ERROR,
                          "network vpc: cannot judge DNS logging: no readable policy binds it; DNS policy q: cannot "
                          "judge networks: 'vpc' is not a list"),
    "entry-without-url": ([{"kind": "dns#policy", "name": "q", "enableLogging": True, "networks": [{}]}], ERROR,
                          "network vpc: cannot judge DNS logging: no readable policy binds it; DNS policy q: cannot "
                          "judge networks[0].networkUrl: None names no network"),
}  # fmt: skip


@pytest.mark.parametrize(("policies", "verdict", "reason"), LOG10.values(), ids=LOG10.keys())
def test_log10_dns_logging(policies: list[dict[str, Any]], verdict: Verdict, reason: str) -> None:
    snapshot = make_snapshot({"compute": {"networks": [net("vpc")]}, "dns": {"policies": policies}})
    (found,) = dns.log10_dns_logging(snapshot, Params())
    assert found.resource == "//compute.googleapis.com/projects/shop-prod/global/networks/vpc"
    assert (found.verdict, found.reason) == (verdict, reason)


def test_log10_judges_each_network_against_the_one_listing() -> None:
    policies = [policy("logs", COMPUTE + "a", COMPUTE + "b", enableLogging=True), policy("quiet", COMPUTE + "c")]
    snapshot = make_snapshot({"compute": {"networks": [net("a"), net("b"), net("c"), net("d")]},
                              "dns": {"policies": policies}})  # fmt: skip
    found = list(dns.log10_dns_logging(snapshot, Params()))
    assert [(f.resource.rsplit("/", 1)[1], f.verdict) for f in found] == [
        ("a", PASS), ("b", PASS), ("c", FAIL), ("d", FAIL)
    ]


# --- definitions --------------------------------------------------------------------------------

REFS = {
    "FW-15": (Area.FW, (Kind.MANAGED_ZONES,), "public managed zone", (("4.0", "3.3"), ("5.0", "3.3")),
              "DNSSEC_DISABLED"),
    "FW-16": (Area.FW, (Kind.MANAGED_ZONES,), "public managed zone", (("4.0", "3.4"), ("5.0", "3.4")),
              "RSASHA1_FOR_SIGNING"),
    "FW-17": (Area.FW, (Kind.MANAGED_ZONES,), "public managed zone", (("4.0", "3.5"), ("5.0", "3.5")),
              "RSASHA1_FOR_SIGNING"),
    "LOG-10": (Area.LOG, (Kind.NETWORKS, Kind.DNS_POLICIES), "network", (("4.0", "2.12"), ("5.0", "2.13")),
               "DNS_LOGGING_DISABLED"),
}  # fmt: skip


@pytest.mark.parametrize("control_id", sorted(REFS))
def test_the_definitions_are_complete(control_id: str) -> None:
    item = default_registry().get(control_id)
    meta = item.meta
    assert (meta.area, meta.kinds, meta.unit, meta.references.cis, meta.references.sha) == REFS[control_id]
    assert meta.holds and meta.logic and "`error`" in meta.unknown and meta.references.soc2
    assert len(meta.rationale) > 100 and "gcloud " in meta.remediation
    assert dns.__doc__ and item.func.__doc__ and meta.title[0].isupper()
