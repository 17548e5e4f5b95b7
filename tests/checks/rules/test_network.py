"""Firewall semantics shared by the FW controls: protocols, ports, ranges, coverage, targets."""

from __future__ import annotations

from typing import Any

import pytest

from checks.kernel import Unjudgeable
from checks.rules.network import (
    ALL,
    DEFAULT_SOURCE,
    EMPTY,
    Coverage,
    internet_families,
    network_key,
    parse_entries,
    parse_ports,
    parse_rule,
    protocol_number,
)
from checks.rules.shadowing import exposure, targets_cover

NET = "https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/vpc"


def rule(**fields: Any) -> dict[str, Any]:
    """An ingress allow of tcp:22 from 0.0.0.0/0 in network vpc, with `fields` changed (None drops)."""
    base: dict[str, Any] = {
        "name": "r",
        "network": NET,
        "sourceRanges": ["0.0.0.0/0"],
        "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("tcp", 6), ("TCP", 6), ("Tcp", 6), ("6", 6), (6, 6), ("udp", 17), ("17", 17), ("sctp", 132),
        ("132", 132), ("icmp", 1), ("1", 1), ("esp", 50), ("ah", 51), ("ipip", 4), ("58", 58),
        ("0", 0), ("255", 255), ("all", None), ("ALL", None),
    ],
    ids=lambda v: repr(v),
)  # fmt: skip
def test_protocol_numbers(value: object, number: int | None) -> None:
    assert protocol_number(value) == number


@pytest.mark.parametrize("value", ["foo", "256", "", "-1", "tcp:22", None, True, 6.0], ids=repr)
def test_unknown_protocols_are_unjudgeable(value: object) -> None:
    with pytest.raises(Unjudgeable, match="unknown IP protocol"):
        protocol_number(value, "allowed[0].IPProtocol")


@pytest.mark.parametrize(
    ("ports", "ranges"),
    [
        (["22"], ((22, 22),)),
        (["20-30"], ((20, 30),)),
        (["0-65535"], ((0, 65535),)),
        (["1-2", "3", "10-12", "11"], ((1, 3), (10, 12))),
        (["0-32767", "32768-65535"], ((0, 65535),)),
        ([22, "80"], ((22, 22), (80, 80))),
        (["5-5"], ((5, 5),)),
    ],
    ids=["single", "range", "all", "merged", "halves", "int", "one-port-range"],
)
def test_parse_ports(ports: list[object], ranges: tuple[tuple[int, int], ...]) -> None:
    assert parse_ports(ports, "ports") == ranges


@pytest.mark.parametrize(
    "bad", ["abc", "30-20", "65536", "22-", "-22", " 22", "22,23", "", True, None, "1-99999"], ids=repr
)
def test_bad_ports_are_unjudgeable(bad: object) -> None:
    with pytest.raises(Unjudgeable) as caught:
        parse_ports(["80", bad], "allowed[0].ports")
    assert caught.value.field == "allowed[0].ports[1]"
    assert repr(bad) in caught.value.message


@pytest.mark.parametrize(
    ("ranges", "families"),
    [
        (["0.0.0.0/0"], {4: ("0.0.0.0/0",)}),
        (["::/0"], {6: ("::/0",)}),
        (["0.0.0.0"], {4: ("0.0.0.0",)}),
        (["::"], {6: ("::",)}),
        (["::0"], {6: ("::0",)}),
        (["0.0.0.0/1", "128.0.0.0/1"], {4: ("0.0.0.0/1", "128.0.0.0/1")}),
        (["::/1", "8000::/1"], {6: ("::/1", "8000::/1")}),
        (["0.0.0.0/1", "64.0.0.0/2", "128.0.0.0/1"], {4: ("0.0.0.0/1", "64.0.0.0/2", "128.0.0.0/1")}),
        (["10.0.0.0/8", "0.0.0.0/0"], {4: ("0.0.0.0/0",)}),
        (["0.0.0.0/0", "::/0"], {4: ("0.0.0.0/0",), 6: ("::/0",)}),
        (["0.0.0.0/1", "::/1", "8000::/1"], {6: ("::/1", "8000::/1")}),
        (["0.0.0.0/1"], {}),
        (["0.0.0.0/1", "128.0.0.0/2"], {}),
        (["10.0.0.0/8"], {}),
        (["0.0.0.0/32"], {}),
        (["0.0.0.0/1", "8000::/1"], {}),
        (["10.0.0.1/8"], {}),
        ([], {}),
    ],
    ids=[
        "v4-zero", "v6-zero", "v4-bare", "v6-bare", "v6-bare-0", "v4-halves", "v6-halves", "v4-overlapping",
        "v4-with-private", "both", "v6-halves-v4-half", "v4-half", "v4-three-quarters", "private",
        "v4-host-zero", "halves-of-different-families", "host-bits-set", "none",
    ],
)  # fmt: skip
def test_internet_families(ranges: list[str], families: dict[int, tuple[str, ...]]) -> None:
    assert internet_families(ranges, "sourceRanges") == families


@pytest.mark.parametrize("bad", ["internet", "0.0.0.0/33", "300.0.0.0/8", 0], ids=repr)
def test_bad_ranges_are_unjudgeable(bad: object) -> None:
    with pytest.raises(Unjudgeable) as caught:
        internet_families(["10.0.0.0/8", bad], "sourceRanges")
    assert caught.value.field == "sourceRanges[1]"


@pytest.mark.parametrize(
    ("coverage", "text"),
    [
        (Coverage.from_specs(["tcp:22"]), "tcp:22"),
        (Coverage.from_specs(["tcp:22", "sctp:22", "tcp:20-21"]), "tcp:20-22, sctp:22"),
        (Coverage.from_specs(["udp", "tcp:80"]), "tcp:80, udp"),
        (Coverage.from_specs(["icmp"]), "icmp"),
        (Coverage.from_specs(["icmp:8"]), "icmp"),
        (Coverage.from_specs(["47"]), "47"),
        (Coverage.from_specs(["all"]), "all"),
        (ALL, "all"),
        (ALL - Coverage.from_specs(["tcp:22"]), "all except tcp:22"),
        (ALL - Coverage.from_specs(["tcp", "udp:53"]), "all except tcp, udp:53"),
        (EMPTY, "nothing"),
    ],
    ids=[
        "port", "ports-merged", "whole-protocol", "portless", "portless-ignores-port", "number", "all-spec",
        "all", "all-except-port", "all-except-protocol", "empty",
    ],
)  # fmt: skip
def test_coverage_text(coverage: Coverage, text: str) -> None:
    assert str(coverage) == text


def test_coverage_set_operations() -> None:
    web = Coverage.from_specs(["tcp:80-90", "udp:53"])
    assert str(web - Coverage.from_specs(["tcp:85"])) == "tcp:80-84, tcp:86-90, udp:53"
    assert str(web & Coverage.from_specs(["tcp:88-100", "sctp:53"])) == "tcp:88-90"
    assert str(web | Coverage.from_specs(["tcp:91"])) == "tcp:80-91, udp:53"
    assert not web - Coverage.from_specs(["all"])
    assert web & ALL == web


@pytest.mark.parametrize(
    ("entries", "wide"),
    [
        ([{"IPProtocol": "all"}], "all"),
        ([{"IPProtocol": "tcp"}], "tcp"),
        ([{"IPProtocol": "udp", "ports": []}], "udp"),
        ([{"IPProtocol": "132"}], "sctp"),
        ([{"IPProtocol": "tcp", "ports": ["0-32767", "32768-65535"]}], "tcp"),
        ([{"IPProtocol": "tcp", "ports": ["0-32767"]}, {"IPProtocol": "6", "ports": ["32768-65535"]}], "tcp"),
        ([{"IPProtocol": "tcp", "ports": ["1-65535"]}], "tcp:1-65535"),
        ([{"IPProtocol": "tcp", "ports": ["2-65535"]}], "nothing"),
        ([{"IPProtocol": "tcp", "ports": ["0-65534"]}], "nothing"),
        ([{"IPProtocol": "icmp"}], "nothing"),
        ([{"IPProtocol": "tcp", "ports": ["22"]}, {"IPProtocol": "udp"}], "udp"),
    ],
    ids=[
        "all", "tcp-no-ports", "udp-empty-ports", "sctp-number", "halves-one-entry", "halves-two-entries",
        "1-65535", "2-65535", "0-65534", "icmp", "only-the-wide-entry",
    ],
)  # fmt: skip
def test_wide_entries(entries: list[dict[str, Any]], wide: str) -> None:
    assert str(parse_entries(entries, "allowed")[1]) == wide


@pytest.mark.parametrize(
    ("entries", "field", "message"),
    [
        ([{"IPProtocol": "icmp", "ports": ["8"]}], "allowed[0].ports", "ports are given for icmp"),
        ([{"IPProtocol": "all", "ports": ["22"]}], "allowed[0].ports", "ports are given for all"),
        ([{"IPProtocol": "gre"}], "allowed[0].IPProtocol", "unknown IP protocol 'gre'"),
        ([{"ports": ["22"]}], "allowed[0].IPProtocol", "unknown IP protocol None"),
        ([{"IPProtocol": "tcp", "ports": "22"}], "allowed[0].ports", "is not a list"),
        (["tcp"], "allowed[0]", "is not an object"),
        ([], "allowed", "is not a non-empty list"),
    ],
    ids=["ports-on-icmp", "ports-on-all", "unknown-name", "no-protocol", "ports-string", "entry-string", "empty"],
)
def test_bad_entries_are_unjudgeable(entries: list[Any], field: str, message: str) -> None:
    with pytest.raises(Unjudgeable) as caught:
        parse_entries(entries, "allowed")
    assert (caught.value.field, message in caught.value.message) == (field, True)


def test_rule_defaults() -> None:
    read = parse_rule(rule(), "shop-prod")
    assert (read.ingress, read.allow, read.enabled, read.priority) == (True, True, True, 1000)
    assert read.network == "shop-prod/vpc"
    assert read.internet == {4: ("0.0.0.0/0",)}
    assert read.ranges_field == "sourceRanges"


@pytest.mark.parametrize(
    ("fields", "internet", "ranges_field"),
    [
        ({"sourceRanges": None}, {4: ("0.0.0.0/0",)}, DEFAULT_SOURCE),
        ({"sourceRanges": []}, {4: ("0.0.0.0/0",)}, DEFAULT_SOURCE),
        ({"sourceRanges": None, "sourceTags": ["web"]}, {}, DEFAULT_SOURCE),
        ({"sourceRanges": None, "sourceServiceAccounts": ["a@p.iam.gserviceaccount.com"]}, {}, DEFAULT_SOURCE),
        ({"sourceTags": ["web"]}, {4: ("0.0.0.0/0",)}, "sourceRanges"),
        ({"direction": "EGRESS", "sourceRanges": None}, {4: ("0.0.0.0/0",)}, "no destinationRanges: the API default"),
        ({"direction": "EGRESS", "destinationRanges": ["::/0"]}, {6: ("::/0",)}, "destinationRanges"),
    ],
    ids=[
        "no-source-fields", "empty-source-ranges", "source-tags-only", "source-accounts-only",
        "ranges-and-tags", "egress-no-destination", "egress-destination",
    ],
)  # fmt: skip
def test_rule_internet(fields: dict[str, Any], internet: dict[int, tuple[str, ...]], ranges_field: str) -> None:
    read = parse_rule(rule(**fields), "shop-prod")
    assert dict(read.internet) == internet
    if internet:
        assert read.ranges_field == ranges_field


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"direction": "SIDEWAYS"}, "direction"),
        ({"disabled": "yes"}, "disabled"),
        ({"priority": "high"}, "priority"),
        ({"priority": -1}, "priority"),
        ({"priority": 70000}, "priority"),
        ({"denied": [{"IPProtocol": "all"}]}, "allowed/denied"),
        ({"allowed": None}, "allowed/denied"),
        ({"sourceRanges": "0.0.0.0/0"}, "sourceRanges"),
        ({"targetTags": "web"}, "targetTags"),
    ],
    ids=["direction", "disabled", "priority-text", "priority-negative", "priority-big", "both-actions",
         "no-action", "ranges-string", "tags-string"],
)  # fmt: skip
def test_unjudgeable_rules(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(Unjudgeable) as caught:
        parse_rule(rule(**fields), "shop-prod")
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("url", "key"),
    [
        (NET, "shop-prod/vpc"),
        ("https://compute.googleapis.com/compute/v1/projects/shop-prod/global/networks/vpc", "shop-prod/vpc"),
        ("projects/host/global/networks/shared", "host/shared"),
        ("global/networks/vpc", "shop-prod/vpc"),
        ("vpc", "shop-prod/vpc"),
        ("", None),
        (None, None),
    ],
    ids=["self-link", "new-endpoint", "relative", "global-relative", "name", "empty", "absent"],
)
def test_network_key(url: object, key: str | None) -> None:
    assert network_key(url, "shop-prod") == key


@pytest.mark.parametrize(
    ("deny", "allow", "covers"),
    [
        ({}, {}, True),
        ({}, {"targetTags": ["web"]}, True),
        ({"targetTags": ["web"]}, {"targetTags": ["web"]}, True),
        ({"targetTags": ["web", "db"]}, {"targetTags": ["web"]}, True),
        ({"targetTags": ["web"]}, {"targetTags": ["web", "db"]}, False),
        ({"targetTags": ["web"]}, {}, False),
        ({"targetTags": ["web"]}, {"targetServiceAccounts": ["web"]}, False),
        ({"targetServiceAccounts": ["a", "b"]}, {"targetServiceAccounts": ["a"]}, True),
        ({"targetServiceAccounts": ["a"]}, {"targetServiceAccounts": ["a", "b"]}, False),
        ({"targetServiceAccounts": ["a"]}, {"targetTags": ["a"]}, False),
    ],
    ids=[
        "no-targets", "none-covers-tags", "same-tags", "tag-superset", "tag-subset", "tags-vs-all",
        "tags-vs-accounts", "account-superset", "account-subset", "accounts-vs-tags",
    ],
)  # fmt: skip
def test_targets_cover(deny: dict[str, Any], allow: dict[str, Any], covers: bool) -> None:
    deny_rule = parse_rule(rule(allowed=None, denied=[{"IPProtocol": "all"}], **deny), "p")
    assert targets_cover(deny_rule, parse_rule(rule(**allow), "p")) is covers


def test_exposure_per_family_and_port() -> None:
    both = ["0.0.0.0/0", "::/0"]
    allow = parse_rule(rule(sourceRanges=both, allowed=[{"IPProtocol": "tcp", "ports": ["22-23"]}]), "p")
    deny = parse_rule(rule(name="d", allowed=None, denied=[{"IPProtocol": "tcp", "ports": ["22"]}], priority=10), "p")
    seen = exposure(allow, [allow, deny])
    assert {family: str(c) for family, c in seen.opened.items()} == {4: "tcp:22-23", 6: "tcp:22-23"}
    assert {family: str(c) for family, c in seen.effective.items()} == {4: "tcp:23", 6: "tcp:22-23"}
    assert [d.name for d in seen.shadowed_by] == ["d"]
