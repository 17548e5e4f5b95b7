"""FW-14: no legacy network, one result per VPC network of the project.

A legacy network predates subnetworks: one IPv4 range and one gateway for the whole
network, across every region. Compute still lists it, marked by `IPv4Range`; a VPC network
(auto or custom mode) has no `IPv4Range` and says its subnet mode in `autoCreateSubnetworks`.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.kernel import JSON, Judgement, Unjudgeable, per_resource
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.snapshot import Kind, Snapshot


def judge_legacy(network: JSON, who: str) -> Judgement:
    """Fails a network holding `IPv4Range` (legacy mode); a subnet-mode network passes, naming its mode."""
    ipv4 = network.get("IPv4Range")
    auto = network.get("autoCreateSubnetworks")
    if auto is not None and not isinstance(auto, bool):
        raise Unjudgeable("autoCreateSubnetworks", f"{auto!r} is not a boolean")
    if ipv4 is not None and not isinstance(ipv4, str):
        raise Unjudgeable("IPv4Range", f"{ipv4!r} is not a CIDR range")
    if ipv4:
        if auto is not None:  # the API never sets both: a network is legacy or has a subnet mode
            raise Unjudgeable("IPv4Range", f"{ipv4!r} beside autoCreateSubnetworks: {auto}: legacy and subnet mode")
        reason = f"{who} is a legacy network (IPv4Range: {ipv4}, no subnet mode): one range for every region"
        return Judgement(Verdict.FAIL, reason, ipv4)
    mode = "an auto" if auto else "a custom"
    said = "autoCreateSubnetworks absent" if auto is None else f"autoCreateSubnetworks: {str(auto).lower()}"
    return Judgement(Verdict.PASS, f"{who} is {mode}-mode VPC network ({said}, no IPv4Range)")


@control(
    id="FW-14", title="No legacy network", area=Area.FW, severity=Severity.MEDIUM,
    kinds=(Kind.NETWORKS,), unit="network",
    references=References(cis=(("4.0", "3.2"), ("5.0", "3.2")), soc2=("CC6.6",), sha="LEGACY_NETWORK"),
    rationale="A legacy network has one IPv4 range and one gateway for the whole network, in every region: "
    "it cannot have subnetworks, so it cannot have per-subnetwork flow logs, Private Google Access or "
    "regional ranges, and it cannot be converted. Google no longer creates them; the ones left are in old "
    "projects nobody has revisited.",
    remediation="Create a custom-mode VPC network (`gcloud compute networks create NETWORK "
    "--subnet-mode=custom`), move the workloads to it, then delete the legacy one: "
    "`gcloud compute networks delete LEGACY_NETWORK`.",
    holds="The VPC network is not a legacy network.",
    logic="Each network of the project's `networks` listing is judged alone. A network whose `IPv4Range` "
    "is a non-empty string is legacy and fails. A network without `IPv4Range` passes: auto mode when "
    "`autoCreateSubnetworks` is true, custom mode when it is false or absent (as gcloud reads it).",
    unknown="`error` for the network when `IPv4Range` is not a string, `autoCreateSubnetworks` is not a "
    "boolean, or both are set (the API gives a network one or the other); `error` for every network when "
    "the listing cannot be read.",
)
def fw14_legacy_network(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails each network in legacy mode (`IPv4Range` set), per network."""
    return per_resource(snapshot.get(Kind.NETWORKS), snapshot.scope, "networks", "network", judge_legacy)
