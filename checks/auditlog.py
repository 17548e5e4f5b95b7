"""Audit logging controls (LOG-01 to LOG-03), as the README's controls table states them.

LOG-01 judges the effective audit configuration of a project: the union of the
`auditConfigs` of its organisation, its folders and itself (a level can add log types,
never remove them, but an exemption anywhere exempts). LOG-02 looks for one sink that
exports every log of the project: on the project, or on an ancestor with
`includeChildren: true`. LOG-03 looks, per kind of change that CIS names (v4.0 2.4 to 2.11,
v5.0 2.5 to 2.12), for an enabled logs-based metric whose filter holds that kind's tokens (see
`checks.rules.log_filters`) and an enabled alert policy watching it (`checks.rules.alert_policies`).

Decisions the catalogue leaves open:
- a whitespace-only sink filter is empty (the Logging API matches every entry with it);
  a filter holding only comments is not recognised as empty (it fails: conservative);
- a sink whose `exclusions` are all `disabled: true` still does not count: the spec says
  "no exclusions", and re-enabling one is a click away; an empty list is no exclusions;
- a `disabled` metric does not count for LOG-03; the reason names it if it would;
- LOG-03 counts an alert by its threshold condition's `metric.type`, as CIS audits it; an MQL or
  PromQL query naming the metric does not count (named in the reason);
- unreadable data (an audit config without `service`, an unknown `logType`, a sink or
  metric without `name`, a non-boolean flag) gives `error`, never `pass`; LOG-02 and
  LOG-03 still pass when another, readable sink or metric qualifies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from checks.kernel import Unjudgeable, read_each
from checks.model import Area, Finding, Severity, Verdict
from checks.names import project_name
from checks.params import Params
from checks.registry import References, control
from checks.rules.alert_policies import Policy, alerting_on, metric_type, read_policy
from checks.rules.log_filters import tokens_in
from checks.rules.log_sinks import Sink, candidates, read_all
from checks.rules.network import flag, strings
from checks.snapshot import Kind, Snapshot

_ALL = "allServices"
_REQUIRED = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")
_LOG_TYPES = frozenset(_REQUIRED) | {"LOG_TYPE_UNSPECIFIED"}


def _unreadable(resource: str, where: str, error: Unjudgeable, also: str = "") -> Finding:
    """An `error` finding: `where` names the level or item (if any), `error.field` the field."""
    at = f"{where} " if where else ""
    return Finding(resource, Verdict.ERROR, f"cannot judge {at}{error.field}: {error.message}{also}", error.field)


# --- LOG-01 -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Union:
    """The effective audit configuration, with where each part came from."""

    levels: list[str] = field(default_factory=list)  # organisation first, project last
    logged: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in _REQUIRED})
    exemptions: list[tuple[str, str]] = field(default_factory=list)  # (member, "DATA_READ of S at L")
    per_service: list[str] = field(default_factory=list)  # "storage.googleapis.com at projects/p"

    def add(self, level: str, policy: object) -> None:
        """Fold one level's Policy in; raises Unjudgeable on data it cannot read."""
        self.levels.append(level)
        if not isinstance(policy, dict):
            raise Unjudgeable("iamPolicy", f"{policy!r} is not an object")
        configs = policy.get("auditConfigs", [])
        if not isinstance(configs, list):
            raise Unjudgeable("auditConfigs", f"{configs!r} is not a list")
        for i, config in enumerate(configs):
            where = f"auditConfigs[{i}]"
            if not isinstance(config, dict):
                raise Unjudgeable(where, f"{config!r} is not an object")
            service = config.get("service")
            if not isinstance(service, str) or not service:
                raise Unjudgeable(f"{where}.service", "absent" if service is None else f"{service!r} is not a service")
            entries = config.get("auditLogConfigs", [])
            if not isinstance(entries, list):
                raise Unjudgeable(f"{where}.auditLogConfigs", f"{entries!r} is not a list")
            if service != _ALL and entries:
                self.per_service.append(f"{service} at {level}")
            for j, entry in enumerate(entries):
                self._add_entry(level, service, f"{where}.auditLogConfigs[{j}]", entry)

    def _add_entry(self, level: str, service: str, where: str, entry: object) -> None:
        if not isinstance(entry, dict):
            raise Unjudgeable(where, f"{entry!r} is not an object")
        log_type = entry.get("logType")
        if log_type not in _LOG_TYPES:
            raise Unjudgeable(f"{where}.logType", f"{log_type!r} is not a log type ({', '.join(_REQUIRED)})")
        try:
            members = strings(entry, "exemptedMembers")
        except Unjudgeable as error:
            raise Unjudgeable(f"{where}.exemptedMembers", error.message) from None
        self.exemptions.extend((member, f"{log_type} of {service} at {level}") for member in members)
        if service == _ALL and log_type in self.logged:
            self.logged[log_type].append(level)

    def judge(self, resource: str) -> Finding:
        missing = [t for t in _REQUIRED if not self.logged[t]]
        logs = [f"{t} ({', '.join(self.logged[t])})" for t in _REQUIRED if self.logged[t]]
        parts = [f"effective audit config ({' + '.join(self.levels)})"]
        if missing:
            parts.append(f"allServices misses {', '.join(missing)} at every level")
            parts.append(f"it logs {', '.join(logs)}" if logs else "no level logs any type for allServices")
            if self.per_service:
                parts.append(f"per-service entries do not cover allServices ({', '.join(self.per_service)})")
        else:
            parts.append(f"allServices logs {', '.join(logs)}")
        if self.exemptions:
            parts.append("exemptedMembers: " + "; ".join(f"{m} from {what}" for m, what in self.exemptions))
        else:
            parts.append("no exemptedMembers")
        reason = ": ".join(parts[:2]) + "".join(f"; {part}" for part in parts[2:])
        if missing:
            return Finding(resource, Verdict.FAIL, reason, ", ".join(missing))
        if self.exemptions:
            return Finding(resource, Verdict.FAIL, reason, ", ".join(sorted({m for m, _ in self.exemptions})))
        return Finding(resource, Verdict.PASS, reason, _ALL)


def _level_name(index: int, entry: object) -> str:
    """`organizations/4242` or `folders/55`, from an ANCESTRY entry's resource."""
    if not isinstance(entry, dict):
        raise Unjudgeable(f"ancestry[{index}]", f"{entry!r} is not an object")
    resource = entry.get("resource")
    name = resource.get("name") if isinstance(resource, dict) else None
    if not isinstance(name, str) or not name.startswith(("folders/", "organizations/")):
        raise Unjudgeable(f"ancestry[{index}].resource.name", f"{name!r} is not a folder or organization name")
    if "iamPolicy" not in entry:
        raise Unjudgeable(f"ancestry[{index}].iamPolicy", "absent")
    return name


@control(
    id="LOG-01", title="Audit logs cover every service", area=Area.LOG, severity=Severity.HIGH,
    kinds=(Kind.IAM_POLICY, Kind.ANCESTRY), unit="scope",
    references=References(cis=(("4.0", "2.1"), ("5.0", "2.1")), soc2=("CC7.2",), sha="AUDIT_LOGGING_DISABLED"),
    rationale="Admin Activity logs are always on, but reads of configuration (ADMIN_READ) and reads "
    "and writes of data (DATA_READ, DATA_WRITE) are only logged when an audit config asks for them. "
    "Without them, who read a secret, exported a table or listed a bucket cannot be answered; an "
    "exempted member is exactly the identity whose actions then go unrecorded.",
    remediation="Set an allServices audit config with ADMIN_READ, DATA_READ and DATA_WRITE and no "
    "exemptedMembers, best once at the organisation: `gcloud organizations get-iam-policy ORG_ID "
    "--format=json > policy.json`, edit `auditConfigs`, then `gcloud organizations set-iam-policy ORG_ID "
    "policy.json`. Remove an exemption at the level that holds it the same way (`gcloud projects "
    "set-iam-policy PROJECT policy.json`, `gcloud resource-manager folders set-iam-policy FOLDER policy.json`).",
    holds="The project's effective audit configuration logs ADMIN_READ, DATA_READ and DATA_WRITE for "
        '`allServices`, exempting nobody.',
    logic='One result per project. The effective configuration is the union of the `auditConfigs` of the '
        'organisation, every folder above the project and the project itself (a level can add log types, '
        'never remove them; an exemption at any level applies). It fails when no level logs one of '
        'ADMIN_READ, DATA_READ, DATA_WRITE for `allServices` (per-service entries do not stand in for it '
        'and are named), and when any level lists `exemptedMembers` for any service, naming them; '
        'otherwise it passes, naming which levels log each type.',
    unknown='An audit config without `service`, an `auditLogConfigs` entry with an unknown `logType`, a value '
        'of the wrong JSON type (`auditConfigs` not a list, an entry not an object, `exemptedMembers` not '
        'a list of strings), an ancestor without a readable name or policy, or anything other than '
        'exactly one project policy gives an `error` for the project, naming the level and the field.',
)
def log01_audit_config(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails unless the union of the organisation's, folders' and project's audit configs logs
    ADMIN_READ, DATA_READ and DATA_WRITE for allServices with no exemptedMembers anywhere."""
    resource, project = project_name(snapshot.scope), f"projects/{snapshot.scope}"
    policies = snapshot.get(Kind.IAM_POLICY)
    ancestry = snapshot.get(Kind.ANCESTRY)
    effective, where = _Union(), ""
    try:
        named = [(_level_name(i, entry), entry) for i, entry in enumerate(ancestry)]
        for where, entry in reversed(named):
            effective.add(where, entry["iamPolicy"])
        where = project
        if len(policies) != 1:
            raise Unjudgeable("iamPolicy", f"{len(policies)} policies collected, expected one")
        effective.add(project, policies[0])
    except Unjudgeable as error:
        yield _unreadable(resource, where, error)
        return
    yield effective.judge(resource)


# --- LOG-02 -------------------------------------------------------------------------------------


@control(
    id="LOG-02", title="All logs are exported", area=Area.LOG, severity=Severity.HIGH,
    kinds=(Kind.SINKS, Kind.ANCESTOR_SINKS), unit="scope",
    references=References(cis=(("4.0", "2.2"), ("5.0", "2.3")), soc2=("CC7.2",), sha="LOG_NOT_EXPORTED"),
    rationale="Logs kept only in the project's own buckets expire with their retention and can be "
    "deleted by whoever controls the project. A sink that exports every entry, unfiltered and without "
    "exclusions, to a destination the project's admins do not control keeps the record an "
    "investigation or an auditor needs, even after a compromise.",
    remediation="Create an unfiltered sink without exclusions, once for all projects at the organisation "
    "or a folder: `gcloud logging sinks create all-logs storage.googleapis.com/BUCKET "
    "--organization=ORG_ID --include-children`, or per project: `gcloud logging sinks create all-logs "
    "storage.googleapis.com/BUCKET --project=PROJECT` (no `--log-filter`, no `--exclusion`); then grant "
    "the sink's writer identity write access to the destination.",
    holds='At least one sink exports every log entry of the project: enabled, with a destination, no filter '
        'and no exclusions.',
    logic="One result per project. The candidates are the project's own sinks and the sinks of its folders "
        "and organisation; an ancestor's sink counts only with `includeChildren: true`. A sink counts "
        'when it is not `disabled`, has a non-blank `destination`, an empty (or whitespace-only) `filter` '
        'and no `exclusions` (even exclusions that are all disabled: one click from live). One counting '
        'sink passes, naming it; otherwise it fails, saying what each candidate lacks. A filter of '
        'comments only is not recognised as empty and does not count.',
    unknown='A sink that cannot be read (not an object, without `name`, `destination` or `filter` not a '
        'string, a flag that is not true or false, `exclusions` not a list), or an ancestor whose sinks '
        'could not be listed, gives an `error` unless another, readable sink counts: the unreadable one '
        'might have.',
)
def log02_export(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Passes when an enabled sink with a destination, no filter and no exclusions exists on the
    project, or on an ancestor with includeChildren: true; the reason names it."""
    resource = project_name(snapshot.scope)
    own, inherited = snapshot.get(Kind.SINKS), snapshot.get(Kind.ANCESTOR_SINKS)
    readings = read_all(candidates(snapshot.scope, own, inherited))
    sinks = [sink for _, sink in readings if isinstance(sink, Sink)]
    broken = [(candidate.label, error) for candidate, error in readings if isinstance(error, Unjudgeable)]
    full = [sink for sink in sinks if not sink.shortfalls]
    if full:
        best = full[0]
        how = ", includeChildren: true" if best.inherited else ""
        also = f"; also {', '.join(sink.name for sink in full[1:])}" if full[1:] else ""
        reason = f"sink {best.name} exports every log to {best.destination}: enabled, no filter, no exclusions{how}"
        yield Finding(resource, Verdict.PASS, reason + also, best.name)
        return
    shortfalls = "; ".join(f"{sink.name} {', '.join(sink.shortfalls)}" for sink in sinks)
    if broken:
        label, problem = broken[0]
        yield _unreadable(resource, label, problem, f"; and no other sink counts: {shortfalls}" if sinks else "")
    elif sinks:
        yield Finding(resource, Verdict.FAIL, f"no sink exports every log: {shortfalls}")
    else:
        yield Finding(resource, Verdict.FAIL, "no sink exports every log: the project and its ancestors have none")


# --- LOG-03 -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Change:
    subject: str
    cis: tuple[str, str]  # (v4.0 id, v5.0 id)
    sha: str
    tokens: tuple[str, ...]

    @property
    def cited(self) -> str:
        """How a reason quotes it: by both benchmark versions."""
        return f"CIS v4.0 {self.cis[0]} / v5.0 {self.cis[1]}"


_CHANGES = (
    _Change("firewall", ("2.7", "2.8"), "FIREWALL_NOT_MONITORED",
            ("gce_firewall_rule", "compute.firewalls.insert", "compute.firewalls.patch", "compute.firewalls.delete")),
    _Change("ownership", ("2.4", "2.5"), "OWNER_NOT_MONITORED", ("bindingDeltas", "roles/owner")),
    _Change("audit-config", ("2.5", "2.6"), "AUDIT_CONFIG_NOT_MONITORED", ("auditConfigDeltas",)),
    _Change("custom-roles", ("2.6", "2.7"), "CUSTOM_ROLE_NOT_MONITORED",
            ("iam_role", "CreateRole", "DeleteRole", "UpdateRole")),
    _Change("routes", ("2.8", "2.9"), "ROUTE_NOT_MONITORED",
            ("gce_route", "compute.routes.insert", "compute.routes.delete")),
    _Change("networks", ("2.9", "2.10"), "NETWORK_NOT_MONITORED",
            ("gce_network", "compute.networks.insert", "compute.networks.patch", "compute.networks.delete",
             "compute.networks.removePeering", "compute.networks.addPeering")),
    _Change("bucket-iam", ("2.10", "2.11"), "BUCKET_IAM_NOT_MONITORED", ("gcs_bucket", "storage.setIamPermissions")),
    _Change("sql-config", ("2.11", "2.12"), "SQL_INSTANCE_NOT_MONITORED", ("cloudsql.instances.update",)),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Metric:
    name: str
    filter: str
    disabled: bool


def _read_metric(index: int, raw: object) -> _Metric:
    if not isinstance(raw, dict):
        raise Unjudgeable(f"logMetrics[{index}]", f"{raw!r} is not an object")
    name, text = raw.get("name"), raw.get("filter")
    if not isinstance(name, str) or not name:
        raise Unjudgeable(f"logMetrics[{index}].name", "absent" if name is None else f"{name!r} is not a name")
    if not isinstance(text, str):
        raise Unjudgeable(f"metric {name} filter", "absent" if text is None else f"{text!r} is not a string")
    try:
        return _Metric(name, text, flag(raw, "disabled"))
    except Unjudgeable as error:
        raise Unjudgeable(f"metric {name} disabled", error.message) from None


@dataclass(frozen=True, slots=True)
class _Alerts:
    """The project's alert policies as read, what could not be read, and the kind's note (API off)."""

    policies: list[Policy]
    broken: list[Unjudgeable]
    note: str | None


def _cannot(broken: list[Unjudgeable]) -> str:
    return "cannot judge " + "; ".join(f"{error.field}: {error.message}" for error in broken)


def _no_metric(resource: str, change: _Change, metrics: list[_Metric], broken: list[Unjudgeable]) -> Finding:
    """No enabled metric holds every token: fail (error when an unreadable metric might have)."""
    tokens = change.tokens
    found = [(m, tokens_in(m.filter, tokens)) for m in metrics]
    dormant = [m.name for m, hits in found if m.disabled and len(hits) == len(tokens)]
    partial = [(m, hits) for m, hits in found if hits and not m.disabled]
    closest = max(partial, key=lambda pair: len(pair[1])) if partial else None
    missing = [t for t in tokens if closest is None or t not in closest[1]]
    reason = f"no enabled logs-based metric matches every {change.cited} token: missing {', '.join(missing)}"
    if closest is not None:
        reason += f" (closest: metric {closest[0].name}, with {', '.join(closest[1])})"
    elif metrics:
        reason += " (no enabled metric has any of them)"
    else:
        reason += " (the project has no logs-based metrics)"
    if dormant:
        reason += f"; metric {', '.join(dormant)} matches but is disabled (disabled: true)"
    if broken:
        return Finding(resource, Verdict.ERROR, f"{_cannot(broken)}; and {reason}", change.subject)
    return Finding(resource, Verdict.FAIL, f"{reason}; SHA {change.sha}", change.subject)


def _no_alert(resource: str, change: _Change, matching: list[_Metric], alerts: _Alerts) -> Finding:
    """Metrics hold every token, none has an enabled alert: fail, or error when a policy that might is unreadable."""
    names = ", ".join(m.name for m in matching)
    types = ", ".join(metric_type(m.name) for m in matching)
    reason = (f"metric {names} matches every {change.cited} token, but no enabled alert policy has a "
              f"threshold condition on {types}")  # fmt: skip
    details: list[str] = []
    unknown: list[Unjudgeable] = []
    for metric in matching:
        on = alerting_on(metric.name, alerts.policies)
        details += [f"policy {p.label} watches it but is disabled (enabled: false)" for p in on.disabled]
        details += on.mentions
        unknown += [Unjudgeable(f"alert policy {p.name} enabled", "absent (Monitoring: assume nothing)")
                    for p in on.unknown]  # fmt: skip
    if alerts.note:
        details.append(f"{alerts.note}: the project has no alert policies")
    elif not alerts.policies and not alerts.broken:
        details.append("the project has no alert policies")
    reason += "".join(f"; {detail}" for detail in dict.fromkeys(details))
    broken = unknown + alerts.broken
    if broken:
        return Finding(resource, Verdict.ERROR, f"{_cannot(broken)}; and {reason}", change.subject)
    return Finding(resource, Verdict.FAIL, f"{reason}; SHA {change.sha}", change.subject)


def _judge_change(
    resource: str, change: _Change, metrics: list[_Metric], broken: list[Unjudgeable], alerts: _Alerts
) -> Finding:
    tokens = change.tokens
    matching = [m for m in metrics if not m.disabled and len(tokens_in(m.filter, tokens)) == len(tokens)]
    if not matching:
        return _no_metric(resource, change, metrics, broken)
    for metric in matching:
        watching = alerting_on(metric.name, alerts.policies).enabled
        if watching:
            reason = (f"metric {metric.name} matches every {change.cited} token ({', '.join(tokens)}) and enabled "
                      f"alert policy {watching[0].label} watches {metric_type(metric.name)}")  # fmt: skip
            return Finding(resource, Verdict.PASS, reason, change.subject)
    return _no_alert(resource, change, matching, alerts)


@control(
    id="LOG-03", title="Changes to the controls are themselves alerted on", area=Area.LOG,
    severity=Severity.MEDIUM, kinds=(Kind.LOG_METRICS, Kind.ALERT_POLICIES), unit="kind of change",
    references=References(
        cis=(*(("4.0", f"2.{n}") for n in range(4, 12)), *(("5.0", f"2.{n}") for n in range(5, 13))),
        soc2=("CC7.2", "CC8.1"), sha=", ".join(c.sha for c in _CHANGES)),
    logic_version=2,
    rationale="Whoever gains a foothold changes the controls first: opens a firewall rule, adds a route "
    "or a peering, makes themselves owner, widens a custom role or a bucket's IAM, reconfigures a "
    "database, or switches audit logging down. A logs-based metric per kind of change, with an enabled "
    "alert policy on it, turns each such change into a page within minutes instead of a surprise at "
    "the next review; a metric nobody alerts on only counts. CIS audits the alert by "
    "`conditions.conditionThreshold.filter` naming the metric's type; that is what counts here.",
    remediation="Create one logs-based metric per kind with the benchmark's filter, e.g. `gcloud logging "
    "metrics create firewall-changes --log-filter='resource.type=\"gce_firewall_rule\" AND "
    "(protoPayload.methodName:\"compute.firewalls.patch\" OR protoPayload.methodName:\"compute.firewalls.insert\" "
    "OR protoPayload.methodName:\"compute.firewalls.delete\")'`, then an enabled alerting policy whose "
    "threshold condition filters on `metric.type=\"logging.googleapis.com/user/firewall-changes\"`: "
    "`gcloud alpha monitoring policies create --policy-from-file=POLICY.json`.",
    holds="For one kind of change CIS names (v4.0 2.4-2.11, v5.0 2.5-2.12), an enabled logs-based metric's "
    "filter selects it and an enabled alert policy has a threshold condition on that metric.",
    logic="Per kind of change, in CIS order of the table (firewall, ownership, audit-config, custom-roles, "
    "routes, networks, bucket-iam, sql-config): (1) a metric of `logMetrics` counts when `disabled` is not "
    "true (absent: false) and its `filter` holds every token of the kind as a whole word, case and "
    "whitespace ignored (`checks.rules.log_filters`; a token under NOT still counts: token matching, not a "
    "parser). (2) For each counting metric, an alert policy of `alertPolicies` counts when `enabled` is "
    "true and one of its `conditions` has `conditionThreshold.filter` naming "
    "`metric.type=\"logging.googleapis.com/user/NAME\"` (quoted or not, the exact name). Absence "
    "conditions, MQL and PromQL queries, and log-match conditions do not count (the reason names an "
    "absence condition or a query that mentions the metric). Thresholds, the combiner and notification "
    "channels are not judged. Pass on the first metric with such a policy; otherwise fail, naming the "
    "closest metric, disabled ones, and disabled policies. A disabled Monitoring API means no policies.",
    unknown="A metric or policy that cannot be read (not an object, no `name`, `filter` or "
    "`conditionThreshold.filter` not a string, `disabled`/`enabled` not a boolean) gives `error` for a "
    "kind no readable metric and policy passes; so does a policy watching a counting metric without "
    "`enabled` (Monitoring says to assume nothing then). An uncollected `logMetrics` or `alertPolicies` "
    "gives `error` for every kind.",
)
def log03_change_metrics(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """One finding per kind of change (firewall, ownership, audit-config, custom-roles, routes, networks,
    bucket-iam, sql-config): passes when an enabled metric's filter holds every CIS token of that kind
    and an enabled alert policy's threshold condition watches that metric."""
    resource = project_name(snapshot.scope)
    readings = read_each(enumerate(snapshot.get(Kind.LOG_METRICS)), lambda item: _read_metric(*item))
    metrics = [metric for _, metric in readings if isinstance(metric, _Metric)]
    broken = [error for _, error in readings if isinstance(error, Unjudgeable)]
    read = read_each(enumerate(snapshot.get(Kind.ALERT_POLICIES)), lambda item: read_policy(*item))
    alerts = _Alerts(
        [policy for _, policy in read if isinstance(policy, Policy)],
        [error for _, error in read if isinstance(error, Unjudgeable)],
        snapshot.note(Kind.ALERT_POLICIES),
    )
    for change in _CHANGES:
        yield _judge_change(resource, change, metrics, broken, alerts)
