"""FW-14 (no legacy network): one row per case, each network in the Compute REST shape."""

from __future__ import annotations

from typing import Any

import pytest

from checks import default_registry, network
from checks.model import Verdict
from checks.params import Params
from tests.builders import make_snapshot

PROJECT = "https://www.googleapis.com/compute/v1/projects/shop-prod/"
PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR

FW14: dict[str, tuple[dict[str, Any], Verdict, str]] = {
    "custom": ({"autoCreateSubnetworks": False}, PASS,
               "network n1 is a custom-mode VPC network (autoCreateSubnetworks: false, no IPv4Range)"),
    "auto": ({"autoCreateSubnetworks": True}, PASS,
             "network n1 is an auto-mode VPC network (autoCreateSubnetworks: true, no IPv4Range)"),
    "mode-absent": ({}, PASS, "network n1 is a custom-mode VPC network (autoCreateSubnetworks absent, no IPv4Range)"),
    "legacy": ({"IPv4Range": "10.240.0.0/16", "gatewayIPv4": "10.240.0.1"}, FAIL,
               "network n1 is a legacy network (IPv4Range: 10.240.0.0/16, no subnet mode): one range for every region"),
    "empty-range": ({"IPv4Range": "", "autoCreateSubnetworks": False}, PASS,
                    "network n1 is a custom-mode VPC network (autoCreateSubnetworks: false, no IPv4Range)"),
    "both": ({"IPv4Range": "10.240.0.0/16", "autoCreateSubnetworks": False}, ERROR,
             "network n1: cannot judge IPv4Range: '10.240.0.0/16' beside autoCreateSubnetworks: False: legacy and "
             "subnet mode"),
    "range-not-text": ({"IPv4Range": ["10.240.0.0/16"]}, ERROR,
                       "network n1: cannot judge IPv4Range: ['10.240.0.0/16'] is not a CIDR range"),
    "mode-not-bool": ({"autoCreateSubnetworks": "false"}, ERROR,
                      "network n1: cannot judge autoCreateSubnetworks: 'false' is not a boolean"),
}  # fmt: skip


@pytest.mark.parametrize(("fields", "verdict", "reason"), FW14.values(), ids=FW14.keys())
def test_fw14_legacy_network(fields: dict[str, Any], verdict: Verdict, reason: str) -> None:
    net = {"kind": "compute#network", "name": "n1", "selfLink": PROJECT + "global/networks/n1", **fields}
    (found,) = network.fw14_legacy_network(make_snapshot({"compute": {"networks": [net]}}), Params())
    assert found.resource == "//compute.googleapis.com/projects/shop-prod/global/networks/n1"
    assert (found.verdict, found.reason) == (verdict, reason)


def test_each_network_has_its_own_result_and_an_unreadable_one_hides_none() -> None:
    nets = [
        {"name": "old", "IPv4Range": "10.240.0.0/16"},
        {"name": "odd", "autoCreateSubnetworks": 1},
        {"name": "vpc", "autoCreateSubnetworks": False},
    ]
    found = list(network.fw14_legacy_network(make_snapshot({"compute": {"networks": nets}}), Params()))
    assert [(f.resource.rsplit("/", 1)[-1], f.verdict) for f in found] == [("old", FAIL), ("odd", ERROR), ("vpc", PASS)]


def test_no_network_gives_no_result() -> None:
    assert list(network.fw14_legacy_network(make_snapshot({"compute": {"networks": []}}), Params())) == []


def test_the_definition_is_complete() -> None:
    meta = default_registry().get("FW-14").meta
    assert meta.holds and meta.logic and "`error`" in meta.unknown and "IPv4Range" in meta.logic
    assert meta.references.cis == (("4.0", "3.2"), ("5.0", "3.2")) and meta.references.sha == "LEGACY_NETWORK"
