"""Dataproc control DATA-43: clusters encrypt their disks with a customer-managed key (CIS 8.1).

Clusters come from the dataprocClusters kind, listed in each region the configuration
names (`region.allowed` of every scope): a cluster elsewhere is not listed, so not judged.
Results name a cluster as Cloud Asset Inventory does,
`//dataproc.googleapis.com/projects/P/regions/R/clusters/NAME`, its region read from the
`goog-dataproc-location` label Dataproc sets on every cluster.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.kernel import JSON, Judgement, Unjudgeable, attempt
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.rules.cmek import key_name, section
from checks.snapshot import Kind, Snapshot

HOST = "//dataproc.googleapis.com/"
REGION_LABEL = "goog-dataproc-location"
#: the key fields of `config.encryptionConfig`, newest first: `kmsKey` covers disks and job arguments
_KEY_FIELDS = ("kmsKey", "gcePdKmsKeyName")


def cluster_region(cluster: JSON) -> str:
    labels = cluster.get("labels")
    region = labels.get(REGION_LABEL) if isinstance(labels, dict) else None
    if not isinstance(region, str) or not region:
        raise Unjudgeable(f"labels.{REGION_LABEL}", f"{region!r} is not a region")
    return region


def judge_cluster_key(cluster: JSON, who: str) -> Judgement | None:
    if cluster.get("config") is None and cluster.get("virtualClusterConfig") is not None:
        return None  # Dataproc on GKE: its disks are the GKE node pools', not the cluster's
    config = cluster.get("config")
    if not isinstance(config, dict):
        raise Unjudgeable("config", f"{config!r} is not an object")
    setting = section(config, "encryptionConfig", "config.")
    for field in _KEY_FIELDS:
        key = key_name(setting, field, "config.encryptionConfig.")
        if key is not None:
            why = f"{who} encrypts its disks with the customer-managed key {key} ({field})"
            return Judgement(Verdict.PASS, why, key)
    return Judgement(Verdict.FAIL, f"{who} encrypts its persistent disks with a Google-managed key")


@control(
    id="DATA-43", title="Dataproc clusters are encrypted with a customer-managed key", area=Area.DATA,
    severity=Severity.MEDIUM, kinds=(Kind.DATAPROC_CLUSTERS,), unit="cluster",
    references=References(cis=(("4.0", "8.1"), ("5.0", "8.1")), soc2=("CC6.1",), sha="DATAPROC_CMEK_DISABLED"),
    rationale="A cluster's jobs write their data to the persistent disks of its VMs. With a customer-managed "
    "key (CMEK) the organisation holds the key those disks are encrypted with: it decides who may use it, "
    "sees every use, and can revoke it. The key is set when the cluster is created; CIS audits "
    "`gcePdKmsKeyName`, and Google's API has since added `kmsKey`, which encrypts the disks too (and job "
    "arguments): either counts.",
    remediation="Create a replacement cluster with a key and move the workloads: `gcloud dataproc clusters "
    "create NAME --region=REGION --kms-key=projects/P/locations/L/keyRings/R/cryptoKeys/K` (the Compute "
    "Engine service agent needs roles/cloudkms.cryptoKeyEncrypterDecrypter on the key), then delete the old one.",
    holds="The cluster's persistent disks are encrypted with a Cloud KMS key the organisation manages.",
    logic="Reads the cluster as clusters.list answers it, in each region of `region.allowed` (of every scope; "
    "multi-regions dropped): clusters in other regions are not listed, so not judged. A cluster with only "
    "`virtualClusterConfig` (Dataproc on GKE) is out of scope. It passes when `config.encryptionConfig.kmsKey` "
    "or `config.encryptionConfig.gcePdKmsKeyName` names a Cloud KMS key (the API's newer field first; CIS "
    "names only the older), and fails when `encryptionConfig` is absent or neither field is set. The key's "
    "own state and the staging buckets' encryption are out of scope.",
    unknown="A `config` that is absent (on a cluster that is not on GKE) or not an object, an "
    "`encryptionConfig` that is not an object, a key field that is not a `projects/…/cryptoKeys/…` name, "
    "or a cluster without its `goog-dataproc-location` label (no region to name it by) is an error naming "
    "that field; a region whose listing failed, or no region to list at all (`region.allowed` names "
    "multi-regions only), fails the whole kind (error).",
)
def data43_dataproc_cmek(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a cluster whose disks use Google's key."""
    for cluster in snapshot.get(Kind.DATAPROC_CLUSTERS):
        name = str(cluster.get("clusterName") or "?")
        who = f"cluster {name}"
        region = attempt(cluster_region, cluster)
        where = region if isinstance(region, str) else "?"
        full = f"{HOST}projects/{snapshot.scope}/regions/{where}/clusters/{name}"
        judged = region if isinstance(region, Unjudgeable) else attempt(judge_cluster_key, cluster, who)
        if isinstance(judged, Unjudgeable):
            yield Finding(full, Verdict.ERROR, judged.reason(who), judged.field)
        elif isinstance(judged, Judgement):
            yield judged.at(full)
