"""The sharded manifest: a StatefulSet whose pods read their shard from their own name and the
count, which must be the replicas'; one ledger volume per replica; a headless Service; the
embedded config valid and sharded by the pod's ordinal."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from checks import default_registry
from monitor.config.model import parse_config
from monitor.config.sharding import POD_NAME, SHARDS, shard_from
from monitor.run.shard import Shard
from tests.deploy.test_kubernetes import _egress_admits

MANIFEST = Path(__file__).parents[2] / "deploy" / "kubernetes" / "controlwatch-sharded.yaml"


def documents() -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(MANIFEST.read_text())}


def container() -> dict[str, Any]:
    [found] = documents()["StatefulSet"]["spec"]["template"]["spec"]["containers"]
    return dict(found)


def env() -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container()["env"]}


def test_a_statefulset_of_four_started_in_parallel() -> None:
    spec = documents()["StatefulSet"]["spec"]
    assert spec["replicas"] == 4
    assert spec["podManagementPolicy"] == "Parallel"
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()


def test_each_pod_reads_its_index_from_its_name_and_the_count_equals_the_replicas() -> None:
    found = env()
    assert found[POD_NAME]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert int(found[SHARDS]["value"]) == documents()["StatefulSet"]["spec"]["replicas"]


def test_the_embedded_config_shards_by_the_pod_ordinal() -> None:
    docs = documents()
    text = docs["ConfigMap"]["data"]["controlwatch.yaml"]
    config = parse_config(text, "ConfigMap controlwatch-sharded-config", known_controls=default_registry().ids())
    assert config.scopes.discovering and config.metrics.listen == "0.0.0.0:9797"
    name, count = docs["StatefulSet"]["metadata"]["name"], env()[SHARDS]["value"]
    for ordinal in range(docs["StatefulSet"]["spec"]["replicas"]):
        environ = {POD_NAME: f"{name}-{ordinal}", SHARDS: count}
        assert shard_from(config.shard, environ) == Shard(ordinal, int(count))
    volumes = {v["name"]: v for v in docs["StatefulSet"]["spec"]["template"]["spec"]["volumes"]}
    assert volumes["config"]["configMap"]["name"] == docs["ConfigMap"]["metadata"]["name"]


def test_every_replica_keeps_its_ledger_on_its_own_volume() -> None:
    docs = documents()
    text = docs["ConfigMap"]["data"]["controlwatch.yaml"]
    ledger_dir = PurePosixPath(str(parse_config(text, "cm").evidence.path)).parent
    [claim] = docs["StatefulSet"]["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    mounts = {m["name"]: m["mountPath"] for m in container()["volumeMounts"]}
    assert PurePosixPath(mounts[claim["metadata"]["name"]]) == ledger_dir
    shared = {v["name"] for v in docs["StatefulSet"]["spec"]["template"]["spec"]["volumes"]}
    assert claim["metadata"]["name"] not in shared  # not one volume for all: a ledger has one writer


def test_a_headless_service_names_each_replica() -> None:
    docs = documents()
    service = docs["Service"]
    assert service["spec"]["clusterIP"] == "None"
    assert docs["StatefulSet"]["spec"]["serviceName"] == service["metadata"]["name"]
    assert service["spec"]["selector"].items() <= docs["StatefulSet"]["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["targetPort"] == container()["ports"][0]["name"]


def test_pods_are_hardened_probed_and_fenced_as_the_single_process_is() -> None:
    docs = documents()
    pod = docs["StatefulSet"]["spec"]["template"]["spec"]
    found = container()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert found["securityContext"]["readOnlyRootFilesystem"] is True
    assert found["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert found["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert found["resources"]["limits"]
    assert "iam.gke.io/gcp-service-account" in docs["ServiceAccount"]["metadata"]["annotations"]
    policy = docs["NetworkPolicy"]
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": 9797, "protocol": "TCP"}]
    assert _egress_admits(policy, "169.254.169.252", 988) and _egress_admits(policy, "142.250.1.95", 443)
    assert not _egress_admits(policy, "10.0.0.8", 80)
