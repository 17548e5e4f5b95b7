"""FW-01 to FW-05: what a rule effectively opens to the internet, one row per case.

Each case is a list of firewall rules in the Compute REST shape; the rule judged is named `r`
(the others are context: deny rules, other networks). Rows assert the exact verdict, subject
and reason (or, for the longest reasons, their deciding parts).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from checks import firewall
from checks.model import Finding, Verdict
from checks.params import Params
from checks.registry import Control
from tests.builders import make_snapshot

BASE = "https://www.googleapis.com/compute/v1/projects/shop-prod/global/"
NET = BASE + "networks/vpc"
RESOURCE = "//compute.googleapis.com/projects/shop-prod/global/firewalls/r"
NOT_SHADOWED = "at priority 1000; not shadowed"
PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
DEFAULT_SOURCE = "(no sourceRanges, sourceTags or sourceServiceAccounts: the API default)"


def allow(*entries: str, **fields: Any) -> dict[str, Any]:
    """Rule `r` allowing `proto[:ports]` entries (`tcp:22`, `tcp:20-30`, `all`) from 0.0.0.0/0."""
    rule: dict[str, Any] = {
        "kind": "compute#firewall",
        "name": "r",
        "network": NET,
        "priority": 1000,
        "direction": "INGRESS",
        "sourceRanges": ["0.0.0.0/0"],
        "allowed": [_entry(entry) for entry in entries or ("tcp:22",)],
        "selfLink": BASE + "firewalls/r",
    }
    rule.update(fields)
    return {key: value for key, value in rule.items() if value is not None}


def deny(*entries: str, **fields: Any) -> dict[str, Any]:
    """Deny rule `d` (priority 900, from 0.0.0.0/0, same network), with `fields` changed."""
    name = fields.get("name", "d")
    changes = {"name": name, "priority": 900, "selfLink": BASE + f"firewalls/{name}", "allowed": None, **fields}
    return {**allow(**changes), "denied": [_entry(entry) for entry in entries or ("tcp:22",)]}


def _entry(text: str) -> dict[str, Any]:
    proto, _, ports = text.partition(":")
    return {"IPProtocol": proto, "ports": ports.split(",")} if ports else {"IPProtocol": proto}


def judge(control: Control, rules: list[dict[str, Any]], public_ports: Iterable[str] = ()) -> Finding:
    """The one finding `control` gives rule `r`."""
    params = Params.model_validate({"firewall": {"public_ports": list(public_ports)}})
    findings = list(control(make_snapshot({"compute": {"firewalls": rules}}), params))
    assert len(findings) == len(rules)
    (found,) = [finding for finding in findings if finding.resource == RESOURCE]
    return found


Case = tuple[list[dict[str, Any]], Verdict, str, str]  # rules, verdict, subject, reason (exact, or "…" parts)


def check(found: Finding, verdict: Verdict, subject: str, reason: str, latent: bool = False) -> None:
    assert (found.verdict, found.subject, found.latent) == (verdict, subject, latent), found.reason
    if "…" in reason:
        for part in reason.split("…"):
            assert part in found.reason
    else:
        assert found.reason == reason


FW01: dict[str, Case] = {
    "v4-zero": ([allow()], FAIL, "tcp:22 from 0.0.0.0/0",
                f"rule r allows tcp:22 from 0.0.0.0/0 (sourceRanges) {NOT_SHADOWED}"),
    "v6-zero": ([allow(sourceRanges=["::/0"])], FAIL, "tcp:22 from ::/0",
                f"rule r allows tcp:22 from ::/0 (sourceRanges) {NOT_SHADOWED}"),
    "v4-bare-zero": ([allow(sourceRanges=["0.0.0.0"])], FAIL, "tcp:22 from 0.0.0.0", "…from 0.0.0.0 (sourceRanges)…"),
    "v6-bare": ([allow(sourceRanges=["::"])], FAIL, "tcp:22 from ::", "…from :: (sourceRanges)…"),
    "v6-bare-0": ([allow(sourceRanges=["::0"])], FAIL, "tcp:22 from ::0", "…from ::0 (sourceRanges)…"),
    "v4-halves": ([allow(sourceRanges=["0.0.0.0/1", "128.0.0.0/1"])], FAIL,
                  "tcp:22 from 0.0.0.0/1+128.0.0.0/1", "…from 0.0.0.0/1+128.0.0.0/1 (sourceRanges)…"),
    "v6-halves": ([allow(sourceRanges=["::/1", "8000::/1"])], FAIL, "tcp:22 from ::/1+8000::/1", "…"),
    "both-families": ([allow(sourceRanges=["0.0.0.0/0", "::/0", "10.0.0.0/8"])], FAIL,
                      "tcp:22 from 0.0.0.0/0, ::/0", f"…tcp:22 from 0.0.0.0/0, ::/0 (sourceRanges) {NOT_SHADOWED}"),
    "no-source-fields": ([allow(sourceRanges=None)], FAIL, "tcp:22 from 0.0.0.0/0",
                         f"rule r allows tcp:22 from 0.0.0.0/0 {DEFAULT_SOURCE} {NOT_SHADOWED}"),
    "v4-half-only": ([allow(sourceRanges=["0.0.0.0/1"])], PASS, "",
                     "rule r has no internet source (sourceRanges: 0.0.0.0/1)"),
    "private": ([allow(sourceRanges=["10.0.0.0/8"])], PASS, "",
                "rule r has no internet source (sourceRanges: 10.0.0.0/8)"),
    "source-tags-only": ([allow(sourceRanges=None, sourceTags=["bastion"])], PASS, "",
                         "rule r has no internet source (sourceTags: bastion)"),
    "source-accounts-only": ([allow(sourceRanges=None, sourceServiceAccounts=["b@p.iam.gserviceaccount.com"])],
                             PASS, "", "rule r has no internet source "
                             "(sourceServiceAccounts: b@p.iam.gserviceaccount.com)"),
    "ranges-or-tags": ([allow(sourceTags=["bastion"])], FAIL, "tcp:22 from 0.0.0.0/0", "…"),
    "protocol-6": ([allow("6:22")], FAIL, "tcp:22 from 0.0.0.0/0", "…"),
    "protocol-upper": ([allow("TCP:22")], FAIL, "tcp:22 from 0.0.0.0/0", "…"),
    "protocol-all": ([allow("all")], FAIL, "tcp:22, sctp:22 from 0.0.0.0/0",
                     f"rule r allows tcp:22, sctp:22 from 0.0.0.0/0 (sourceRanges) {NOT_SHADOWED}"),
    "tcp-no-ports": ([allow("tcp")], FAIL, "tcp:22 from 0.0.0.0/0", "…"),
    "range": ([allow("tcp:20-30")], FAIL, "tcp:22 from 0.0.0.0/0", "…"),
    "range-beside": ([allow("tcp:23-30,8080")], PASS, "",
                     "rule r does not allow tcp:22 or sctp:22 (allowed[]: tcp:23-30, tcp:8080)"),
    "second-entry": ([allow("tcp:80", "tcp:22")], FAIL, "tcp:22 from 0.0.0.0/0", "…"),
    "sctp": ([allow("sctp:22")], FAIL, "sctp:22 from 0.0.0.0/0", "…"),
    "sctp-132": ([allow("132:22")], FAIL, "sctp:22 from 0.0.0.0/0", "…"),
    "udp": ([allow("udp:22")], PASS, "", "rule r does not allow tcp:22 or sctp:22 (allowed[]: udp:22)"),
    "icmp": ([allow("icmp")], PASS, "", "rule r does not allow tcp:22 or sctp:22 (allowed[]: icmp)"),
    "egress": ([allow(direction="EGRESS")], PASS, "",
               "rule r is an egress rule (direction: EGRESS): it opens no ingress"),
    "direction-absent": ([allow(direction=None)], FAIL, "tcp:22 from 0.0.0.0/0", "…"),
    "deny-rule": ([deny(name="r", selfLink=BASE + "firewalls/r")], PASS, "",
                  "rule r is a deny rule (denied[]): it opens nothing"),
    "disabled-false": ([allow(disabled=False)], FAIL, "tcp:22 from 0.0.0.0/0", "…"),
    "priority-absent": ([allow(priority=None), deny(priority=1000)], PASS, "tcp:22 from 0.0.0.0/0", "…shadowed…"),
    # shadowing
    "shadowed": ([allow(), deny()], PASS, "tcp:22 from 0.0.0.0/0",
                 "rule r allows tcp:22 from 0.0.0.0/0 (sourceRanges) at priority 1000, "
                 "but it is shadowed by deny rule d (priority 900)"),
    "deny-wins-ties": ([allow(), deny(priority=1000)], PASS, "tcp:22 from 0.0.0.0/0",
                       "…shadowed by deny rule d (priority 1000)"),
    "deny-lower-precedence": ([allow(), deny(priority=1001)], FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-other-network": ([allow(), deny(network=BASE + "networks/other")], FAIL, "tcp:22 from 0.0.0.0/0",
                           "…not shadowed"),
    "deny-relative-network": ([allow(), deny(network="global/networks/vpc")], PASS, "tcp:22 from 0.0.0.0/0",
                              "…shadowed by deny rule d…"),
    "deny-v4-allow-v6": ([allow(sourceRanges=["::/0"]), deny()], FAIL, "tcp:22 from ::/0", "…not shadowed"),
    "deny-v6-allow-both": ([allow(sourceRanges=["0.0.0.0/0", "::/0"]), deny(sourceRanges=["::/0"])], FAIL,
                           "tcp:22 from 0.0.0.0/0", "rule r allows tcp:22 from 0.0.0.0/0 (sourceRanges) at "
                           "priority 1000; partly shadowed by deny rule d (priority 900)"),
    "deny-halves": ([allow(), deny(sourceRanges=["0.0.0.0/1", "128.0.0.0/1"])], PASS, "tcp:22 from 0.0.0.0/0",
                    "…shadowed by deny rule d…"),
    "deny-partial-range": ([allow(), deny(sourceRanges=["0.0.0.0/1"])], FAIL, "tcp:22 from 0.0.0.0/0", "…"),
    "deny-default-source": ([allow(), deny(sourceRanges=None)], PASS, "tcp:22 from 0.0.0.0/0", "…shadowed…"),
    "deny-source-tags-only": ([allow(), deny(sourceRanges=None, sourceTags=["x"])], FAIL,
                              "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-other-port": ([allow(), deny("tcp:23")], FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-range": ([allow(), deny("tcp:1-1024")], PASS, "tcp:22 from 0.0.0.0/0", "…shadowed…"),
    "deny-all": ([allow(), deny("all")], PASS, "tcp:22 from 0.0.0.0/0", "…shadowed…"),
    "deny-protocol-number": ([allow(), deny("6:22")], PASS, "tcp:22 from 0.0.0.0/0", "…shadowed…"),
    "deny-tcp-keeps-sctp": ([allow("all"), deny("tcp")], FAIL, "sctp:22 from 0.0.0.0/0",
                            "rule r allows sctp:22 from 0.0.0.0/0 (sourceRanges) at priority 1000; "
                            "partly shadowed by deny rule d (priority 900)"),
    "two-denies": ([allow("all"), deny("tcp"), deny("sctp", name="d2", priority=950)], PASS,
                   "tcp:22, sctp:22 from 0.0.0.0/0",
                   "…but it is shadowed by deny rule d (priority 900), deny rule d2 (priority 950)"),
    "deny-disabled": ([allow(), deny(disabled=True)], FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-egress": ([allow(), deny(direction="EGRESS")], FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-with-destination-ranges": ([allow(), deny(destinationRanges=["10.0.0.5/32"])], FAIL,
                                     "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-unreadable": ([allow(), deny("tcp:x")], FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    # targets
    "deny-all-targets": ([allow(targetTags=["web"]), deny()], PASS, "tcp:22 from 0.0.0.0/0", "…shadowed…"),
    "deny-same-tags": ([allow(targetTags=["web"]), deny(targetTags=["web"])], PASS, "tcp:22 from 0.0.0.0/0",
                       "…shadowed…"),
    "deny-tag-superset": ([allow(targetTags=["web"]), deny(targetTags=["db", "web"])], PASS,
                          "tcp:22 from 0.0.0.0/0", "…shadowed…"),
    "deny-tag-subset": ([allow(targetTags=["web", "db"]), deny(targetTags=["web"])], FAIL,
                        "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-tags-allow-all": ([allow(), deny(targetTags=["web"])], FAIL, "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-tags-allow-accounts": ([allow(targetServiceAccounts=["web"]), deny(targetTags=["web"])], FAIL,
                                 "tcp:22 from 0.0.0.0/0", "…not shadowed"),
    "deny-accounts-superset": ([allow(targetServiceAccounts=["a"]), deny(targetServiceAccounts=["a", "b"])], PASS,
                               "tcp:22 from 0.0.0.0/0", "…shadowed…"),
    # unreadable rule r
    "bad-port": ([allow("tcp:abc")], ERROR, "allowed[0].ports[0]",
                 "rule r: cannot judge allowed[0].ports[0]: 'abc' is not a port or port range (e.g. '22', '20-30')"),
    "bad-protocol": ([allow("gre")], ERROR, "allowed[0].IPProtocol",
                     "rule r: cannot judge allowed[0].IPProtocol: unknown IP protocol 'gre'"),
    "bad-range": ([allow(sourceRanges=["everywhere"])], ERROR, "sourceRanges[0]",
                  "rule r: cannot judge sourceRanges[0]: 'everywhere' is not an IP address range"),
    "bad-disabled": ([allow(disabled="no")], ERROR, "disabled", "rule r: cannot judge disabled: 'no' is not a boolean"),
}  # fmt: skip


@pytest.mark.parametrize(("rules", "verdict", "subject", "reason"), FW01.values(), ids=FW01.keys())
def test_fw01_ssh(rules: list[dict[str, Any]], verdict: Verdict, subject: str, reason: str) -> None:
    check(judge(firewall.fw01_ssh, rules), verdict, subject, reason)


LATENT: dict[str, tuple[list[dict[str, Any]], bool, str, str]] = {
    "disabled": ([allow(disabled=True)], True, "tcp:22 from 0.0.0.0/0",
                 "rule r is disabled (disabled: true) but would allow tcp:22 from 0.0.0.0/0 (sourceRanges) "
                 "at priority 1000; not shadowed: it is one click from live"),
    "disabled-v6": ([allow(disabled=True, sourceRanges=["::/0"])], True, "tcp:22 from ::/0", "…one click from live"),
    "disabled-shadowed": ([allow(disabled=True), deny()], False, "tcp:22 from 0.0.0.0/0",
                          "…shadowed by deny rule d (priority 900)"),
    "disabled-private": ([allow(disabled=True, sourceRanges=["10.0.0.0/8"])], False, "", "…no internet source…"),
    "disabled-other-port": ([allow("tcp:80", disabled=True)], False, "", "…does not allow…"),
}  # fmt: skip


@pytest.mark.parametrize(("rules", "latent", "subject", "reason"), LATENT.values(), ids=LATENT.keys())
def test_fw01_disabled_rules_pass_latent_when_they_would_expose(
    rules: list[dict[str, Any]], latent: bool, subject: str, reason: str
) -> None:
    check(judge(firewall.fw01_ssh, rules), PASS, subject, reason, latent=latent)


FW02: dict[str, Case] = {
    "tcp": ([allow("tcp:3389")], FAIL, "tcp:3389 from 0.0.0.0/0",
            f"rule r allows tcp:3389 from 0.0.0.0/0 (sourceRanges) {NOT_SHADOWED}"),
    "udp": ([allow("udp:3389")], FAIL, "udp:3389 from 0.0.0.0/0", "…"),
    "udp-17": ([allow("17:3000-4000")], FAIL, "udp:3389 from 0.0.0.0/0", "…"),
    "all": ([allow("all")], FAIL, "tcp:3389, udp:3389 from 0.0.0.0/0", "…"),
    "sctp": ([allow("sctp:3389")], PASS, "", "rule r does not allow tcp:3389 or udp:3389 (allowed[]: sctp:3389)"),
    "next-port": ([allow("tcp:3390")], PASS, "", "…does not allow…"),
    "v6": ([allow("tcp:3389", sourceRanges=["::/0"])], FAIL, "tcp:3389 from ::/0", "…"),
    "shadowed-udp-only": ([allow("tcp:3389", "udp:3389"), deny("udp:3389")], FAIL, "tcp:3389 from 0.0.0.0/0",
                          "…partly shadowed by deny rule d (priority 900)"),
    "ssh-only": ([allow()], PASS, "", "…does not allow…"),
}  # fmt: skip


@pytest.mark.parametrize(("rules", "verdict", "subject", "reason"), FW02.values(), ids=FW02.keys())
def test_fw02_rdp(rules: list[dict[str, Any]], verdict: Verdict, subject: str, reason: str) -> None:
    check(judge(firewall.fw02_rdp, rules), verdict, subject, reason)


# FW-03's list of services, typed out again here on purpose: the list is the spec.
FW03_PORTS = {
    "FTP": [20, 21], "Telnet": [23], "SMTP": [25], "DNS": [53], "POP3": [110], "NetBIOS": [137, 138, 139],
    "LDAP": [389, 636], "SMB": [445], "MSSQL": [1433], "Oracle": [1521, 2483, 2484], "MySQL": [3306],
    "PostgreSQL": [5432], "VNC": [5900], "Redis": [6379], "Kubernetes": [6443, 10250], "Docker": [2375, 2376],
    "Cassandra": [7000, 7001, 7199, 9042, 9160], "Elasticsearch": [9200, 9300], "Memcached": [11211],
    "MongoDB": [27017, 27018, 27019],
}  # fmt: skip
FW03_EACH = [
    (proto, port, service) for service, ports in FW03_PORTS.items() for port in ports for proto in ("tcp", "udp")
]


@pytest.mark.parametrize(("proto", "port", "service"), FW03_EACH, ids=[f"{p}:{n}" for p, n, _ in FW03_EACH])
def test_fw03_each_listed_port_fails(proto: str, port: int, service: str) -> None:
    found = judge(firewall.fw03_admin_ports, [allow(f"{proto}:{port}")])
    check(found, FAIL, f"{proto}:{port} from 0.0.0.0/0",
          f"rule r allows {proto}:{port} from 0.0.0.0/0 (sourceRanges) at priority 1000, reaching {service}; "
          "not shadowed")  # fmt: skip


def test_fw03_list_is_exact() -> None:
    """Every port of tcp and udp opened: the subject is exactly the listed ports, nothing more."""
    listed = sorted(port for ports in FW03_PORTS.values() for port in ports)
    found = judge(firewall.fw03_admin_ports, [allow("tcp", "udp")])
    pairs = found.subject.removesuffix(" from 0.0.0.0/0").split(", ")
    opened = set()
    for pair in pairs:
        proto, _, ports = pair.partition(":")
        low, _, high = ports.partition("-")
        opened |= {(proto, port) for port in range(int(low), int(high or low) + 1)}
    assert opened == {(proto, port) for proto in ("tcp", "udp") for port in listed}
    assert found.reason.endswith(", reaching " + ", ".join(FW03_PORTS) + "; not shadowed")


FW03: dict[str, Case] = {
    "neighbours": ([allow("tcp:22,24,26,54,111,140,2377,3307,6380,27020")], PASS, "",
                   "rule r does not allow a database or admin port "
                   "(allowed[]: tcp:22, tcp:24, tcp:26, tcp:54, tcp:111, tcp:140, tcp:2377, tcp:3307, tcp:6380, "
                   "tcp:27020)"),
    "sctp": ([allow("sctp:3306")], PASS, "", "…does not allow…"),
    "range-of-two-services": ([allow("tcp:3300-3400,6379")], FAIL, "tcp:3306, tcp:6379 from 0.0.0.0/0",
                              "…, reaching MySQL, Redis; not shadowed"),
    "deny-leaves-next-port": ([allow("tcp:22-23"), deny("tcp:22")], FAIL, "tcp:23 from 0.0.0.0/0",
                              "…reaching Telnet; not shadowed"),
    "deny-covers": ([allow("tcp:23"), deny("tcp:23")], PASS, "tcp:23 from 0.0.0.0/0", "…shadowed by deny rule d…"),
    "partly-shadowed": ([allow("tcp:5432,6379"), deny("tcp:5432")], FAIL, "tcp:6379 from 0.0.0.0/0",
                        "…reaching Redis; partly shadowed by deny rule d (priority 900)"),
}  # fmt: skip


@pytest.mark.parametrize(("rules", "verdict", "subject", "reason"), FW03.values(), ids=FW03.keys())
def test_fw03_admin_ports(rules: list[dict[str, Any]], verdict: Verdict, subject: str, reason: str) -> None:
    check(judge(firewall.fw03_admin_ports, rules), verdict, subject, reason)


EVERY = ", opening every port or protocol"
FW04: dict[str, Case] = {
    "all": ([allow("all")], FAIL, "all from 0.0.0.0/0",
            f"rule r allows all from 0.0.0.0/0 (sourceRanges) at priority 1000{EVERY}; not shadowed"),
    "tcp-no-ports": ([allow("tcp")], FAIL, "tcp from 0.0.0.0/0", "…"),
    "udp-no-ports": ([allow("udp")], FAIL, "udp from 0.0.0.0/0", "…"),
    "sctp-no-ports": ([allow("sctp")], FAIL, "sctp from 0.0.0.0/0", "…"),
    "6-no-ports": ([allow("6")], FAIL, "tcp from 0.0.0.0/0", "…"),
    "halves-one-entry": ([allow("tcp:0-32767,32768-65535")], FAIL, "tcp from 0.0.0.0/0", "…"),
    "halves-two-entries": ([allow("tcp:0-32767", "tcp:32768-65535")], FAIL, "tcp from 0.0.0.0/0", "…"),
    "1-65535": ([allow("udp:1-65535")], FAIL, "udp:1-65535 from 0.0.0.0/0", "…"),
    "2-65535": ([allow("tcp:2-65535")], PASS, "",
                "rule r does not allow every port or protocol (allowed[]: tcp:2-65535)"),
    "0-65534": ([allow("tcp:0-65534")], PASS, "", "…does not allow…"),
    "icmp": ([allow("icmp")], PASS, "", "…does not allow…"),
    "wide-and-narrow": ([allow("tcp:443", "udp")], FAIL, "udp from 0.0.0.0/0", "…"),
    "v6": ([allow("all", sourceRanges=["::/0"])], FAIL, "all from ::/0", "…"),
    "private": ([allow("all", sourceRanges=["10.0.0.0/8"])], PASS, "", "…no internet source…"),
    "egress": ([allow("all", direction="EGRESS")], PASS, "", "…egress rule…"),
    "shadowed-by-deny-all": ([allow("all"), deny("all")], PASS, "all from 0.0.0.0/0",
                             "rule r allows all from 0.0.0.0/0 (sourceRanges) at priority 1000, "
                             "but it is shadowed by deny rule d (priority 900)"),
    "partly-shadowed": ([allow("all"), deny("tcp:22")], FAIL, "all except tcp:22 from 0.0.0.0/0",
                        "…partly shadowed by deny rule d (priority 900)"),
    "tcp-shadowed": ([allow("tcp"), deny("tcp")], PASS, "tcp from 0.0.0.0/0", "…shadowed…"),
    "deny-v4-only": ([allow("all", sourceRanges=["0.0.0.0/0", "::/0"]), deny("all")], FAIL, "all from ::/0", "…"),
    "disabled": ([allow("all", disabled=True)], PASS, "all from 0.0.0.0/0", "…one click from live"),
}  # fmt: skip


@pytest.mark.parametrize(("rules", "verdict", "subject", "reason"), FW04.values(), ids=FW04.keys())
def test_fw04_every_port(rules: list[dict[str, Any]], verdict: Verdict, subject: str, reason: str) -> None:
    found = judge(firewall.fw04_open_all, rules)
    check(found, verdict, subject, reason, latent=rules[0].get("disabled", False))


OUTSIDE = ", outside firewall.public_ports"
FW05: dict[str, tuple[list[dict[str, Any]], list[str], Verdict, str, str]] = {
    "approved": ([allow("tcp:443")], ["tcp:443"], PASS, "tcp:443 from 0.0.0.0/0",
                 "rule r allows only approved tcp:443 from 0.0.0.0/0 (sourceRanges)"),
    "one-port-over": ([allow("tcp:443-444")], ["tcp:443"], FAIL, "tcp:444 from 0.0.0.0/0",
                      f"rule r allows tcp:444 from 0.0.0.0/0 (sourceRanges) at priority 1000{OUTSIDE} (tcp:443); "
                      "not shadowed"),
    "all": ([allow("all")], ["tcp:443"], FAIL, "all except tcp:443 from 0.0.0.0/0", "…not shadowed"),
    "all-shadowed": ([allow("all"), deny("all")], ["tcp:443"], PASS, "all from 0.0.0.0/0",
                     "…shadowed by deny rule d (priority 900)"),
    "nothing-approved": ([allow("tcp:443")], [], FAIL, "tcp:443 from 0.0.0.0/0", f"…{OUTSIDE} (empty); …"),
    "whole-protocol-approved": ([allow("tcp:1-65535")], ["tcp"], PASS, "tcp:1-65535 from 0.0.0.0/0", "…"),
    "numeric-spec": ([allow("tcp:443")], ["6:443"], PASS, "tcp:443 from 0.0.0.0/0", "…only approved…"),
    "range-spec": ([allow("udp:5050")], ["udp:5000-5100"], PASS, "udp:5050 from 0.0.0.0/0", "…"),
    "other-protocol": ([allow("udp:443")], ["tcp:443"], FAIL, "udp:443 from 0.0.0.0/0", "…"),
    "icmp-approved": ([allow("icmp")], ["icmp"], PASS, "icmp from 0.0.0.0/0", "…"),
    "icmp-unapproved": ([allow("icmp")], ["tcp:443"], FAIL, "icmp from 0.0.0.0/0", "…"),
    "deny-tcp-22-leaves-23": ([allow("tcp:22-23"), deny("tcp:22")], [], FAIL, "tcp:23 from 0.0.0.0/0",
                              "…partly shadowed by deny rule d (priority 900)"),
    "approved-rest-shadowed": ([allow("tcp:22", "tcp:443"), deny("tcp:22")], ["tcp:443"], PASS,
                               "tcp:443 from 0.0.0.0/0", "rule r allows only approved tcp:443 from 0.0.0.0/0 "
                               "(sourceRanges); partly shadowed by deny rule d (priority 900)"),
    "v6-unapproved": ([allow("tcp:443-444", sourceRanges=["0.0.0.0/0", "::/0"])], ["tcp:443"], FAIL,
                      "tcp:444 from 0.0.0.0/0, ::/0", "…"),
    "private": ([allow("all", sourceRanges=["192.168.0.0/16"])], [], PASS, "", "…no internet source…"),
    "egress": ([allow("all", direction="EGRESS")], [], PASS, "", "…egress…"),
    "disabled": ([allow("tcp:8080", disabled=True)], ["tcp:443"], PASS, "tcp:8080 from 0.0.0.0/0",
                 "…would allow tcp:8080…one click from live"),
}  # fmt: skip


@pytest.mark.parametrize(("rules", "public", "verdict", "subject", "reason"), FW05.values(), ids=FW05.keys())
def test_fw05_public_ports(
    rules: list[dict[str, Any]], public: list[str], verdict: Verdict, subject: str, reason: str
) -> None:
    found = judge(firewall.fw05_public_ports, rules, public)
    check(found, verdict, subject, reason, latent=rules[0].get("disabled", False))


EXPOSURE = [firewall.fw01_ssh, firewall.fw02_rdp, firewall.fw03_admin_ports, firewall.fw04_open_all,
            firewall.fw05_public_ports]  # fmt: skip


@pytest.mark.parametrize("control", EXPOSURE, ids=lambda c: c.meta.id)
def test_no_rules_no_findings(control: Control) -> None:
    assert list(control(make_snapshot({"compute": {"firewalls": []}}), Params())) == []


@pytest.mark.parametrize("control", EXPOSURE, ids=lambda c: c.meta.id)
def test_unreadable_deny_is_an_error_of_its_own(control: Control) -> None:
    findings = list(control(make_snapshot({"compute": {"firewalls": [allow("all"), deny("tcp:x")]}}), Params()))
    assert [(f.resource.rsplit("/", 1)[1], f.verdict) for f in findings] == [("r", FAIL), ("d", ERROR)]
    assert findings[1].reason == "rule d: cannot judge denied[0].ports[0]: 'x' is not a port or port range " \
        "(e.g. '22', '20-30')"  # fmt: skip
