"""The Kubernetes manifests: their embedded config is a valid controlwatch config, and the pod
runs as the design says (non-root, read-only root filesystem, probes, limits, NetworkPolicy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from checks import default_registry
from monitor.config.model import parse_config

MANIFEST = Path(__file__).parents[2] / "deploy" / "kubernetes" / "controlwatch.yaml"


def documents() -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(MANIFEST.read_text())}


def test_embedded_config_is_valid() -> None:
    config_text = documents()["ConfigMap"]["data"]["controlwatch.yaml"]
    config = parse_config(config_text, "ConfigMap controlwatch-config", known_controls=default_registry().ids())
    assert config.metrics.listen == "0.0.0.0:9797"
    assert config.evidence.signing_key_file is not None and config.evidence.cloud_logging


def test_pod_is_hardened_and_probed() -> None:
    docs = documents()
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["limits"]
    assert "iam.gke.io/gcp-service-account" in docs["ServiceAccount"]["metadata"]["annotations"]
    assert docs["NetworkPolicy"]["spec"]["ingress"][0]["ports"] == [{"port": 9797, "protocol": "TCP"}]


def _egress_admits(policy: dict[str, Any], address: str, port: int) -> bool:
    """Whether a NetworkPolicy egress rule lets TCP to address:port out (no `to`: any address)."""
    import ipaddress

    for rule in policy["spec"]["egress"]:
        ports = [p for p in rule.get("ports", []) if p.get("protocol", "TCP") == "TCP"]
        if not any(p["port"] == port for p in ports):
            continue
        peers = rule.get("to")
        if peers is None:
            return True
        for peer in peers:
            block = peer.get("ipBlock")
            if block and ipaddress.ip_address(address) in ipaddress.ip_network(block["cidr"]):
                return True
    return False


def test_workload_identity_can_reach_the_gke_metadata_server() -> None:
    """Without this egress the pod gets no Google token and every collection fails."""
    policy = documents()["NetworkPolicy"]
    assert _egress_admits(policy, "169.254.169.252", 988)  # GKE metadata server, GKE 1.21+
    assert _egress_admits(policy, "169.254.169.254", 80)  # the same, on Dataplane V2
    assert _egress_admits(policy, "142.250.1.95", 443)  # Google APIs
    # ... and nothing else opens: plain HTTP goes only to the metadata address
    assert not _egress_admits(policy, "10.0.0.8", 80) and not _egress_admits(policy, "10.0.0.8", 988)
