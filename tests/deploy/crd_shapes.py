"""The schemas of the monitoring CRDs the manifests use, as pydantic models: the Prometheus Operator's
PrometheusRule and ServiceMonitor (monitoring.coreos.com/v1) and GKE Managed Prometheus's PodMonitoring
(monitoring.googleapis.com/v1).

Written from the CRDs' openAPIV3Schema (field names, types, enums, required fields, duration patterns,
the list-map key and cross-field rules), limited to the fields a scrape or rule set of this kind uses:
an unknown field is refused, as a typo would be pruned or rejected by the API server. Offline, like the
hand checks of the other manifests: no cluster, no downloaded schema.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# Prometheus durations as the CRDs' pattern has them: units in decreasing order, each at most once.
Duration = Annotated[
    str, StringConstraints(pattern=r"^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$")
]
LabelName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]
_UNITS = {"y": 31_536_000_000, "w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}


def milliseconds(duration: str) -> int:
    return sum(int(n) * _UNITS[unit] for n, unit in re.findall(r"([0-9]+)(ms|[ywdhms])", duration))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class ObjectMeta(Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)]
    namespace: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class Requirement(Strict):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = []


class LabelSelector(Strict):
    matchLabels: dict[str, str] = {}
    matchExpressions: list[Requirement] = []


# ---------------------------------------------------------------------------------------- PrometheusRule


class Rule(Strict):
    alert: str | None = None
    record: str | None = None
    expr: int | str
    for_: Duration | None = Field(None, alias="for")
    keep_firing_for: Annotated[Duration, StringConstraints(min_length=1)] | None = None
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_of_alert_and_record(self) -> Rule:
        if (self.alert is None) == (self.record is None):
            raise ValueError("exactly one of `alert` and `record` must be set")
        if self.record is not None and self.annotations:
            raise ValueError("annotations are only valid on alerting rules")
        return self


class RuleGroup(Strict):
    name: Annotated[str, StringConstraints(min_length=1)]
    interval: Duration | None = None
    query_offset: Duration | None = None
    limit: int | None = None
    labels: dict[str, str] = {}
    partial_response_strategy: Annotated[str, StringConstraints(pattern=r"^(?i)(abort|warn)?$")] | None = None
    rules: list[Rule] = []


class RuleSpec(Strict):
    groups: list[RuleGroup] = []

    @model_validator(mode="after")
    def _group_names_are_keys(self) -> RuleSpec:  # x-kubernetes-list-type: map, keyed by name
        names = [g.name for g in self.groups]
        if len(names) != len(set(names)):
            raise ValueError(f"group names must be unique: {names}")
        return self


class PrometheusRule(Strict):
    apiVersion: Literal["monitoring.coreos.com/v1"]
    kind: Literal["PrometheusRule"]
    metadata: ObjectMeta
    spec: RuleSpec


# ---------------------------------------------------------------------------------------- ServiceMonitor


class SecretKey(Strict):
    name: str
    key: str
    optional: bool | None = None


class SecretOrConfigMap(Strict):
    secret: SecretKey | None = None
    configMap: SecretKey | None = None


class OperatorTLS(Strict):
    ca: SecretOrConfigMap | None = None
    cert: SecretOrConfigMap | None = None
    keySecret: SecretKey | None = None
    serverName: str | None = None
    insecureSkipVerify: bool | None = None


class OperatorBasicAuth(Strict):
    username: SecretKey
    password: SecretKey


GmpAction = Literal[
    "replace", "lowercase", "uppercase", "keep", "drop", "keepequal", "dropequal", "hashmod", "labeldrop", "labelkeep"
]  # labelmap is not permitted in GMP
RelabelAction = Literal[
    "replace", "Replace", "keep", "Keep", "drop", "Drop", "hashmod", "HashMod", "labelmap", "LabelMap",
    "labeldrop", "LabelDrop", "labelkeep", "LabelKeep", "lowercase", "Lowercase", "uppercase", "Uppercase",
    "keepequal", "KeepEqual", "dropequal", "DropEqual",
]  # fmt: skip


class Relabeling(Strict):
    sourceLabels: list[LabelName] = []
    separator: str | None = None
    targetLabel: str | None = None
    regex: str | None = None
    modulus: int | None = None
    replacement: str | None = None
    action: RelabelAction = "replace"


class ServiceEndpoint(Strict):
    port: str | None = None
    targetPort: int | str | None = None
    path: str | None = None
    scheme: Literal["http", "https", "HTTP", "HTTPS"] | None = None
    interval: Duration | None = None
    scrapeTimeout: Duration | None = None
    honorLabels: bool | None = None
    relabelings: list[Relabeling] = []
    metricRelabelings: list[Relabeling] = []
    tlsConfig: OperatorTLS | None = None
    basicAuth: OperatorBasicAuth | None = None

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> ServiceEndpoint:
        if self.interval and self.scrapeTimeout and milliseconds(self.scrapeTimeout) > milliseconds(self.interval):
            raise ValueError("scrapeTimeout must not exceed interval")
        return self


class NamespaceSelector(Strict):
    any: bool | None = None
    matchNames: list[str] = []


class ServiceMonitorSpec(Strict):
    jobLabel: str | None = None
    targetLabels: list[str] = []
    podTargetLabels: list[str] = []
    selector: LabelSelector
    namespaceSelector: NamespaceSelector | None = None
    endpoints: list[ServiceEndpoint] = []
    sampleLimit: int | None = None


class ServiceMonitor(Strict):
    apiVersion: Literal["monitoring.coreos.com/v1"]
    kind: Literal["ServiceMonitor"]
    metadata: ObjectMeta
    spec: ServiceMonitorSpec


# ---------------------------------------------------------------------------------------- PodMonitoring


class SecretRef(Strict):
    name: str
    key: str  # no namespace: PodMonitoring reads Secrets of its own namespace only


class SecretSelector(Strict):
    secret: SecretRef | None = None


class GmpTLS(Strict):
    ca: SecretSelector | None = None
    cert: SecretSelector | None = None
    key: SecretSelector | None = None
    serverName: str | None = None
    insecureSkipVerify: bool | None = None
    minVersion: Literal["TLS10", "TLS11", "TLS12", "TLS13"] | None = None
    maxVersion: Literal["TLS10", "TLS11", "TLS12", "TLS13"] | None = None

    @model_validator(mode="after")
    def _cert_with_key(self) -> GmpTLS:
        if (self.cert is None) != (self.key is None):
            raise ValueError("client cert and client key must be provided together")
        return self


class GmpBasicAuth(Strict):
    username: str | None = None
    password: SecretSelector | None = None


class GmpAuthorization(Strict):
    type: str | None = None
    credentials: SecretSelector | None = None


class GmpRelabeling(Strict):
    sourceLabels: list[LabelName] = []
    separator: str | None = None
    targetLabel: LabelName | None = None
    regex: str | None = None
    modulus: int | None = None
    replacement: str | None = None
    action: GmpAction | None = None


class PodEndpoint(Strict):
    port: Annotated[str, StringConstraints(min_length=1, max_length=253)] | int
    interval: Duration
    timeout: Duration | None = None
    scheme: Literal["http", "https"] | None = None
    path: str | None = None
    params: dict[str, list[str]] = {}
    proxyUrl: str | None = None
    metricRelabeling: list[GmpRelabeling] = []
    tls: GmpTLS | None = None
    basicAuth: GmpBasicAuth | None = None
    authorization: GmpAuthorization | None = None

    @model_validator(mode="after")
    def _rules(self) -> PodEndpoint:
        if self.port == 0:
            raise ValueError("port is required")
        if self.timeout and milliseconds(self.timeout) > milliseconds(self.interval):
            raise ValueError("scrape timeout must not be greater than scrape interval")
        if self.basicAuth is not None and self.authorization is not None:
            raise ValueError("at most one of authorization, basicAuth and oauth2")
        return self


class LabelMapping(Strict):
    from_: str = Field(alias="from")
    to: LabelName | None = None


class TargetLabels(Strict):
    metadata: list[Literal["container", "node", "pod", "top_level_controller_name", "top_level_controller_type"]] = []
    fromPod: list[LabelMapping] = []


class PodMonitoringSpec(Strict):
    selector: LabelSelector
    endpoints: Annotated[list[PodEndpoint], Field(min_length=1, max_length=10)]
    targetLabels: TargetLabels | None = None
    filterRunning: bool | None = None


class PodMonitoring(Strict):
    apiVersion: Literal["monitoring.googleapis.com/v1"]
    kind: Literal["PodMonitoring"]
    metadata: ObjectMeta
    spec: PodMonitoringSpec
