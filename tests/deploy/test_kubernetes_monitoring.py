"""deploy/kubernetes for the monitoring stack: the PrometheusRule is the generator's output from the
alert rules and fits the CRD's schema; the ServiceMonitor and GKE's PodMonitoring fit theirs and find
the daemon of both workload manifests under the job the rules select; the NetworkPolicy admits the
scrapers by namespace and nothing else."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from tests.deploy import crd_shapes
from tests.deploy.conftest import ROOT, RULES, load_yaml
from tests.tools import require_tool

KUBE = ROOT / "deploy" / "kubernetes"
PROMETHEUSRULE = KUBE / "controlwatch-prometheusrule.yaml"
SERVICEMONITOR = KUBE / "controlwatch-servicemonitor.yaml"
PODMONITORING = KUBE / "controlwatch-podmonitoring.yaml"
GENERATOR = ROOT / "deploy" / "prometheus" / "generate_prometheusrule.py"
WORKLOADS = {"single": KUBE / "controlwatch.yaml", "sharded": KUBE / "controlwatch-sharded.yaml"}
METRICS_PORT = 9797


def kinds(path: Path) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))}


def uncommented(path: Path) -> dict[str, dict[str, Any]]:
    """The manifest with its commented block (the lines after one ending in "uncomment:") switched on."""
    lines, out, live = path.read_text(encoding="utf-8").splitlines(), [], False
    for line in lines:
        m = re.match(r"^(\s*)# (.*)$", line)
        if live and m:
            out.append(m.group(1) + m.group(2))
            continue
        live = line.rstrip().endswith("uncomment:")
        out.append(line)
    assert out != lines, f"{path.name} has no commented block to switch on"
    return {doc["kind"]: doc for doc in yaml.safe_load_all("\n".join(out))}


def rules_job() -> str:
    """The job every alert rule selects."""
    exprs = " ".join(rule["expr"] for group in load_yaml(RULES)["groups"] for rule in group["rules"])
    [job] = set(re.findall(r'\bjob="([^"]+)"', exprs))
    return str(job)


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against a label set."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for req in selector.get("matchExpressions", []):
        has, value = req["key"] in labels, labels.get(req["key"])
        if not {
            "In": has and value in req.get("values", []),
            "NotIn": not has or value not in req.get("values", []),
            "Exists": has,
            "DoesNotExist": not has,
        }[req["operator"]]:
            return False
    return True


def pod_template(workload: dict[str, dict[str, Any]]) -> dict[str, Any]:
    kind = "StatefulSet" if "StatefulSet" in workload else "Deployment"
    return dict(workload[kind]["spec"]["template"])


def container_port(workload: dict[str, dict[str, Any]], name: str) -> int:
    [container] = pod_template(workload)["spec"]["containers"]
    [port] = [p["containerPort"] for p in container["ports"] if p["name"] == name]
    return int(port)


def reject(model: type[BaseModel], doc: dict[str, Any], mutate: Any) -> None:
    broken = yaml.safe_load(yaml.safe_dump(doc))
    mutate(broken)
    with pytest.raises(ValidationError):
        model.model_validate(broken)


# ---------------------------------------------------------------------------------------- PrometheusRule


def test_the_prometheusrule_is_the_generators_output() -> None:
    done = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_the_prometheusrule_holds_the_rule_files_groups_and_kube_prometheus_labels() -> None:
    rule = load_yaml(PROMETHEUSRULE)
    assert rule["spec"]["groups"] == load_yaml(RULES)["groups"]
    text = PROMETHEUSRULE.read_text(encoding="utf-8")
    assert not re.search(r":\s+[&*]\w+\s*$", text, re.MULTILINE), "YAML anchors and aliases are expanded"
    labels = rule["metadata"]["labels"]
    assert labels["prometheus"] == "k8s" and labels["role"] == "alert-rules"  # kube-prometheus's ruleSelector
    assert rule["metadata"]["namespace"] == kinds(WORKLOADS["single"])["Deployment"]["metadata"]["namespace"]


def test_the_prometheusrule_fits_the_crd_schema() -> None:
    doc = load_yaml(PROMETHEUSRULE)
    parsed = crd_shapes.PrometheusRule.model_validate(doc)
    assert sum(len(g.rules) for g in parsed.spec.groups) == sum(len(g["rules"]) for g in load_yaml(RULES)["groups"])


def test_the_prometheusrule_schema_check_can_fail() -> None:
    doc = load_yaml(PROMETHEUSRULE)
    model = crd_shapes.PrometheusRule
    reject(model, doc, lambda d: d["spec"]["groups"][0]["rules"][0].update(expression="up"))  # unknown field
    reject(model, doc, lambda d: d["spec"]["groups"][0]["rules"][0].update(record="x"))  # alert and record
    reject(model, doc, lambda d: d["spec"]["groups"][0]["rules"][0].update({"for": "5 minutes"}))
    reject(model, doc, lambda d: d["spec"]["groups"][0]["rules"][0]["labels"].update(tier=1))  # not a string
    reject(model, doc, lambda d: d["spec"]["groups"].append(dict(d["spec"]["groups"][0])))  # duplicate name
    reject(model, doc, lambda d: d.update(apiVersion="monitoring.coreos.com/v1beta1"))


def test_promtool_accepts_the_prometheusrules_groups(tmp_path: Path) -> None:
    extracted = tmp_path / "from-prometheusrule.yml"
    extracted.write_text(yaml.safe_dump({"groups": load_yaml(PROMETHEUSRULE)["spec"]["groups"]}), encoding="utf-8")
    done = subprocess.run(
        [require_tool("promtool"), "check", "rules", str(extracted)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


def test_the_generator_takes_a_namespace_and_labels_and_refuses_bad_ones(tmp_path: Path) -> None:
    out = tmp_path / "rule.yaml"
    args = [sys.executable, str(GENERATOR), "--out", str(out)]
    done = subprocess.run(
        [*args, "--namespace", "monitoring", "--label", "release=kube-prometheus-stack", "--label", "role=rules"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    meta = crd_shapes.PrometheusRule.model_validate(load_yaml(out)).metadata
    assert meta.namespace == "monitoring"
    assert meta.labels["release"] == "kube-prometheus-stack" and meta.labels["role"] == "rules"
    stale = subprocess.run([*args[:2], "--check", "--out", str(out)], capture_output=True, text=True, timeout=30)
    assert stale.returncode == 1 and "is stale" in stale.stderr  # other labels than the shipped ones
    for bad in (["--label", "release"], ["--label", "bad key=x"], ["--namespace", "Monitoring"]):
        done = subprocess.run([*args, *bad], capture_output=True, text=True, timeout=30)
        assert done.returncode == 2 and bad[0] in done.stderr and repr(bad[1]) in done.stderr, done.stderr


# ---------------------------------------------------------------------------------------- ServiceMonitor


@pytest.mark.parametrize("variant", ["shipped", "tls-and-basic-auth"])
def test_the_servicemonitor_fits_the_crd_schema(variant: str) -> None:
    docs = kinds(SERVICEMONITOR) if variant == "shipped" else uncommented(SERVICEMONITOR)
    monitor = crd_shapes.ServiceMonitor.model_validate(docs["ServiceMonitor"])
    [endpoint] = monitor.spec.endpoints
    if variant == "shipped":
        assert endpoint.scheme is None and endpoint.basicAuth is None
    else:
        assert endpoint.scheme == "https" and endpoint.tlsConfig and endpoint.basicAuth


def test_the_servicemonitor_schema_check_can_fail() -> None:
    doc = kinds(SERVICEMONITOR)["ServiceMonitor"]
    model = crd_shapes.ServiceMonitor
    reject(model, doc, lambda d: d["spec"]["endpoints"][0].update(intervall="30s"))
    reject(model, doc, lambda d: d["spec"]["endpoints"][0].update(scrapeTimeout="1m"))  # longer than interval
    reject(model, doc, lambda d: d["spec"]["endpoints"][0]["relabelings"][0].update(action="rename"))
    reject(model, doc, lambda d: d["spec"].pop("selector"))


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_the_servicemonitor_finds_the_daemon_as_the_rules_job(workload: str) -> None:
    """Its selector picks the Service in its namespace, its port is the Service's, which leads to the
    container's metrics port, and the job (from `jobLabel`) is the one the alert rules select."""
    monitor = kinds(SERVICEMONITOR)["ServiceMonitor"]
    docs = kinds(WORKLOADS[workload])
    service = docs["Service"]
    spec = monitor["spec"]
    assert service["metadata"]["namespace"] in spec["namespaceSelector"]["matchNames"]
    assert matches(spec["selector"], service["metadata"]["labels"])
    [endpoint] = spec["endpoints"]
    [port] = [p for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
    assert container_port(docs, port["targetPort"]) == METRICS_PORT
    assert matches({"matchLabels": service["spec"]["selector"]}, pod_template(docs)["metadata"]["labels"])
    assert service["metadata"]["labels"][spec["jobLabel"]] == rules_job()


def test_kube_prometheus_may_discover_the_targets() -> None:
    """kube-prometheus's Prometheus reads only some namespaces: the Role lets it list this one's endpoints."""
    docs = kinds(SERVICEMONITOR)
    role, binding = docs["Role"], docs["RoleBinding"]
    namespace = docs["ServiceMonitor"]["metadata"]["namespace"]
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == namespace
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]}
    assert binding["roleRef"] == role_ref
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prometheus-k8s", "namespace": "monitoring"}]
    granted = {(g, r) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]}
    assert {("", "services"), ("", "endpoints"), ("", "pods"), ("discovery.k8s.io", "endpointslices")} <= granted
    assert all(set(rule["verbs"]) == {"get", "list", "watch"} for rule in role["rules"])  # read only


# ---------------------------------------------------------------------------------------- PodMonitoring


@pytest.mark.parametrize("variant", ["shipped", "tls-and-basic-auth"])
def test_the_podmonitoring_fits_the_crd_schema(variant: str) -> None:
    docs = kinds(PODMONITORING) if variant == "shipped" else uncommented(PODMONITORING)
    monitoring = crd_shapes.PodMonitoring.model_validate(docs["PodMonitoring"])
    [endpoint] = monitoring.spec.endpoints
    assert (endpoint.scheme == "https" and endpoint.basicAuth is not None) == (variant != "shipped")


def test_the_podmonitoring_schema_check_can_fail() -> None:
    doc = kinds(PODMONITORING)["PodMonitoring"]
    model = crd_shapes.PodMonitoring
    reject(model, doc, lambda d: d["spec"]["endpoints"][0].pop("interval"))  # required
    reject(model, doc, lambda d: d["spec"]["endpoints"][0].update(timeout="45s"))  # longer than interval
    reject(model, doc, lambda d: d["spec"]["endpoints"][0].update(scrapeTimeout="10s"))  # the operator's name
    reject(model, doc, lambda d: d["spec"].update(endpoints=[]))
    reject(model, doc, lambda d: d["spec"]["targetLabels"].update(metadata=["namespace"]))


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_the_podmonitoring_finds_the_daemon_as_the_rules_job(workload: str) -> None:
    """Managed collection names the job after the PodMonitoring: it must be the rules' job."""
    monitoring = kinds(PODMONITORING)["PodMonitoring"]
    docs = kinds(WORKLOADS[workload])
    assert monitoring["metadata"]["name"] == rules_job()
    assert monitoring["metadata"]["namespace"] == docs["ServiceAccount"]["metadata"]["namespace"]
    assert matches(monitoring["spec"]["selector"], pod_template(docs)["metadata"]["labels"])
    [endpoint] = monitoring["spec"]["endpoints"]
    assert container_port(docs, endpoint["port"]) == METRICS_PORT


# ---------------------------------------------------------------------------------------- NetworkPolicy


def ingress_admits(policy: dict[str, Any], namespace: str, pod_labels: dict[str, str], port: int) -> bool:
    """Whether the policy lets a pod with `pod_labels` in `namespace` reach `port` (TCP) of the pods it
    selects. Namespaces carry `kubernetes.io/metadata.name`, as Kubernetes sets it."""
    ns_labels = {"kubernetes.io/metadata.name": namespace}
    own = policy["metadata"]["namespace"]
    for rule in policy["spec"].get("ingress", []):
        ports = rule.get("ports")
        if ports is not None and not any(p["port"] == port and p.get("protocol", "TCP") == "TCP" for p in ports):
            continue
        peers = rule.get("from")
        if peers is None:
            return True
        for peer in peers:
            ns_sel, pod_sel = peer.get("namespaceSelector"), peer.get("podSelector")
            if ns_sel is None and pod_sel is None:
                continue  # an ipBlock peer: not a pod
            in_namespace = matches(ns_sel, ns_labels) if ns_sel is not None else namespace == own
            if in_namespace and (pod_sel is None or matches(pod_sel, pod_labels)):
                return True
    return False


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_the_network_policy_admits_the_scrapers_by_namespace(workload: str) -> None:
    policy = kinds(WORKLOADS[workload])["NetworkPolicy"]
    prometheus = {"app.kubernetes.io/name": "prometheus"}
    for labels in (prometheus, {"app.kubernetes.io/name": "prometheus-agent"}, {}):  # any pod of the namespace
        assert ingress_admits(policy, "monitoring", labels, METRICS_PORT), labels
    collector = {"app.kubernetes.io/name": "collector", "app": "managed-prometheus-collector"}
    assert ingress_admits(policy, "gmp-system", collector, METRICS_PORT)  # GKE Managed Prometheus
    assert not ingress_admits(policy, "default", prometheus, METRICS_PORT)
    assert not ingress_admits(policy, "controlwatch", prometheus, METRICS_PORT)
    assert not ingress_admits(policy, "monitoring", prometheus, 8080)


def test_the_ingress_check_can_fail() -> None:
    """Negative control: the old pod-label rule refuses a Prometheus labelled otherwise."""
    policy = kinds(WORKLOADS["single"])["NetworkPolicy"]
    old = yaml.safe_load(yaml.safe_dump(policy))
    old["spec"]["ingress"][0]["from"] = [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
        }
    ]
    assert ingress_admits(old, "monitoring", {"app.kubernetes.io/name": "prometheus"}, METRICS_PORT)
    assert not ingress_admits(old, "monitoring", {"app.kubernetes.io/name": "prometheus-agent"}, METRICS_PORT)
    assert not ingress_admits(old, "gmp-system", {"app.kubernetes.io/name": "collector"}, METRICS_PORT)
