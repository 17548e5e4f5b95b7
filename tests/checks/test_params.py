"""Parameter grammar shared by the config loader and the controls."""

from __future__ import annotations

import pytest

from checks.params import Params, PortSpec, parse_port_spec


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tcp:443", PortSpec("tcp", 443, 443)),
        ("udp:5000-5100", PortSpec("udp", 5000, 5100)),
        ("tcp", PortSpec("tcp", 0, 65535)),
        ("6:22", PortSpec("tcp", 22, 22)),
        ("icmp", PortSpec("icmp", 0, 65535)),
    ],
)
def test_port_specs(text: str, expected: PortSpec) -> None:
    assert parse_port_spec(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tpc:443", "unknown protocol 'tpc'"),
        ("tcp443", "is not proto[:port[-port]]"),
        ("tcp:99999", "0 <= low <= high <= 65535"),
        ("tcp:30-20", "0 <= low <= high <= 65535"),
        ("300:1", "protocol numbers go from 0 to 255"),
    ],
)
def test_bad_port_specs_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_port_spec(text)


def test_scope_overrides_merge_and_revalidate() -> None:
    merged = Params().merged({"firewall": {"public_ports": ["tcp:443"]}})
    assert merged.firewall.public_ports == ("tcp:443",)
    assert merged.region.allowed == ("europe-west1",)
    with pytest.raises(ValueError, match="unknown protocol"):
        Params().merged({"firewall": {"public_ports": ["tpc:1"]}})
