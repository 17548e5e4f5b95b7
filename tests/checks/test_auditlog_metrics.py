"""LOG-03 (logs-based metrics per kind of change), the filter token helpers, and the metadata of
every LOG control, one row per case in the Logging v2 REST shape. Here every metric has an enabled
alert policy on it (`findings`), so the metric decides; `test_log03_alerts.py` holds the alerts' cases."""

from __future__ import annotations

from typing import Any

import pytest

from checks import auditlog, default_registry, logretention, oversight
from checks.model import Area, Finding, Verdict
from checks.params import Params
from checks.rules import log_filters
from checks.snapshot import Kind
from monitor.run.runner import run_control
from tests.builders import make_snapshot
from tests.checks.catalogue import NETWORKS, ids

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
KINDS = ["firewall", "ownership", "audit-config", "custom-roles", "routes", "networks", "bucket-iam", "sql-config"]
LOG_IDS = ids(Area.LOG)
#: the LOG controls of the audit-log modules (the networks ones are tested in their own files)
AUDIT_LOG_IDS = [cid for cid in LOG_IDS if cid not in NETWORKS[Area.LOG]]

# The CIS v4.0 2.4 to 2.11 (v5.0 2.5 to 2.12) filters, as the benchmark (and the demo's ledger-clean) write them.
CIS = {
    "firewall": 'resource.type="gce_firewall_rule" AND (protoPayload.methodName:"compute.firewalls.patch" OR '
    'protoPayload.methodName:"compute.firewalls.insert" OR protoPayload.methodName:"compute.firewalls.delete")',
    "ownership": '(protoPayload.serviceName="cloudresourcemanager.googleapis.com") AND (ProjectOwnership OR '
    'projectOwnerInvitee) OR (protoPayload.serviceData.policyDelta.bindingDeltas.action="REMOVE" AND '
    'protoPayload.serviceData.policyDelta.bindingDeltas.role="roles/owner") OR '
    '(protoPayload.serviceData.policyDelta.bindingDeltas.action="ADD" AND '
    'protoPayload.serviceData.policyDelta.bindingDeltas.role="roles/owner")',
    "audit-config": 'protoPayload.methodName="SetIamPolicy" AND '
    "protoPayload.serviceData.policyDelta.auditConfigDeltas:*",
    "custom-roles": 'resource.type="iam_role" AND (protoPayload.methodName="google.iam.admin.v1.CreateRole" OR '
    'protoPayload.methodName="google.iam.admin.v1.DeleteRole" OR '
    'protoPayload.methodName="google.iam.admin.v1.UpdateRole")',
    "routes": 'resource.type="gce_route" AND (protoPayload.methodName:"compute.routes.delete" OR '
    'protoPayload.methodName:"compute.routes.insert")',
    "networks": 'resource.type="gce_network" AND (protoPayload.methodName:"compute.networks.insert" OR '
    'protoPayload.methodName:"compute.networks.patch" OR protoPayload.methodName:"compute.networks.delete" OR '
    'protoPayload.methodName:"compute.networks.removePeering" OR '
    'protoPayload.methodName:"compute.networks.addPeering")',
    "bucket-iam": 'resource.type="gcs_bucket" AND protoPayload.methodName="storage.setIamPermissions"',
    "sql-config": 'protoPayload.methodName="cloudsql.instances.update"',
}  # fmt: skip
TOKENS = {
    "firewall": "gce_firewall_rule, compute.firewalls.insert, compute.firewalls.patch, compute.firewalls.delete",
    "routes": "gce_route, compute.routes.insert, compute.routes.delete",
}


def metric(name: str, text: str | None, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "description": "", "filter": text, "createTime": "2024-02-05T09:10:01.201337Z",
            "metricDescriptor": {"metricKind": "DELTA", "valueType": "INT64", "unit": "1"}, **fields}  # fmt: skip
    return {key: value for key, value in body.items() if value is not None}


def alert(metric_name: str, enabled: Any = True, **fields: Any) -> dict[str, Any]:
    """An AlertPolicy with one threshold condition on the user metric `metric_name`, as CIS writes it."""
    body: dict[str, Any] = {
        "name": f"projects/shop-prod/alertPolicies/{abs(hash(metric_name)) % 10**9}",
        "displayName": f"alert on {metric_name}", "combiner": "OR", "enabled": enabled,
        "conditions": [{"name": "c", "displayName": "any change", "conditionThreshold": {
            "filter": f'metric.type="logging.googleapis.com/user/{metric_name}"', "comparison": "COMPARISON_GT",
            "thresholdValue": 0, "duration": "0s"}}],
        **fields,
    }  # fmt: skip
    return {key: value for key, value in body.items() if value is not None}


def watched(metric_name: str) -> str:
    return f" and enabled alert policy alert on {metric_name} watches logging.googleapis.com/user/{metric_name}"


def findings(metrics: list[Any], policies: list[Any] | None = None) -> dict[str, Finding]:
    """LOG-03 over `metrics`, each with an enabled alert policy on it unless `policies` are given."""
    if policies is None:
        policies = [alert(m["name"]) for m in metrics if isinstance(m, dict) and isinstance(m.get("name"), str)]
    fragment = {"logging": {"metrics": metrics}, "monitoring": {"alertPolicies": policies}}
    found = list(auditlog.log03_change_metrics(make_snapshot(fragment), Params()))
    assert [f.subject for f in found] == KINDS
    assert {f.resource for f in found} == {"//cloudresourcemanager.googleapis.com/projects/shop-prod"}
    return {f.subject: f for f in found}


def test_log03_the_cis_filters_pass_every_kind() -> None:
    found = findings([metric(f"cis-{kind}", text) for kind, text in CIS.items()])
    assert {kind: f.verdict for kind, f in found.items()} == dict.fromkeys(KINDS, PASS)
    assert found["firewall"].reason == (
        f"metric cis-firewall matches every CIS v4.0 2.7 / v5.0 2.8 token ({TOKENS['firewall']})"
        + watched("cis-firewall")
    )
    assert found["audit-config"].reason == (
        "metric cis-audit-config matches every CIS v4.0 2.5 / v5.0 2.6 token (auditConfigDeltas)"
        + watched("cis-audit-config")
    )
    assert found["bucket-iam"].reason == (
        "metric cis-bucket-iam matches every CIS v4.0 2.10 / v5.0 2.11 token (gcs_bucket, storage.setIamPermissions)"
        + watched("cis-bucket-iam")
    )


def test_log03_no_metrics_fails_every_kind() -> None:
    found = findings([])
    assert {kind: f.verdict for kind, f in found.items()} == dict.fromkeys(KINDS, FAIL)
    assert found["routes"].reason == (
        f"no enabled logs-based metric matches every CIS v4.0 2.8 / v5.0 2.9 token: missing {TOKENS['routes']} "
        "(the project has no logs-based metrics); SHA ROUTE_NOT_MONITORED"
    )


MISS = "no enabled logs-based metric matches every CIS"
FW_MISS = f"{MISS} v4.0 2.7 / v5.0 2.8 token: missing"
OWNERS, ROLES = f"{MISS} v4.0 2.4 / v5.0 2.5 token", f"{MISS} v4.0 2.6 / v5.0 2.7 token"
ROUTES, NETS = f"{MISS} v4.0 2.8 / v5.0 2.9 token", f"{MISS} v4.0 2.9 / v5.0 2.10 token"
SPACED = """RESOURCE.TYPE = "GCE_FIREWALL_RULE"
    AND (  protoPayload.methodName : "COMPUTE.FIREWALLS.PATCH"
\tOR protoPayload.methodName:"Compute.Firewalls.Insert" OR protoPayload.methodName:"compute.firewalls.DELETE" )"""

LOG03: dict[str, tuple[list[Any], str, Verdict, str]] = {
    "firewall-other-whitespace-and-case": ([metric("fw", SPACED)], "firewall", PASS, "…"),
    "firewall-v1-method-names": ([metric("fw", 'resource.type="gce_firewall_rule" AND (methodName='
                                 '"v1.compute.firewalls.insert" OR methodName="v1.compute.firewalls.patch" '
                                 'OR methodName="beta.compute.firewalls.delete")')], "firewall", PASS, "…"),
    "firewall-missing-delete": ([metric("fw", CIS["firewall"].replace("compute.firewalls.delete", "x"))], "firewall",
                                FAIL, f"{FW_MISS} compute.firewalls.delete (closest: metric fw, with "
                                "gce_firewall_rule, compute.firewalls.insert, compute.firewalls.patch); "
                                "SHA FIREWALL_NOT_MONITORED"),
    "firewall-insert-only": ([metric("fw-inserts", 'resource.type="gce_firewall_rule" AND '
                             'protoPayload.methodName:"compute.firewalls.insert"')], "firewall", FAIL,
                             f"{FW_MISS} compute.firewalls.patch, compute.firewalls.delete (closest: metric "
                             "fw-inserts, with gce_firewall_rule, compute.firewalls.insert); "
                             "SHA FIREWALL_NOT_MONITORED"),
    "firewall-closest-has-most": ([metric("a", "gce_firewall_rule"), metric("b", CIS["firewall"].replace("patch", "x")),
                                   metric("c", "compute.firewalls.delete")], "firewall", FAIL,
                                  f"{FW_MISS} compute.firewalls.patch (closest: metric b, with gce_firewall_rule, "
                                  "compute.firewalls.insert, compute.firewalls.delete); SHA FIREWALL_NOT_MONITORED"),
    "firewall-split-over-two-metrics": ([metric("a", "gce_firewall_rule compute.firewalls.insert"),
                                         metric("b", "compute.firewalls.patch compute.firewalls.delete")], "firewall",
                                        FAIL, "…"),
    "firewall-disabled": ([metric("fw", CIS["firewall"], disabled=True)], "firewall", FAIL,
                          f"{FW_MISS} {TOKENS['firewall']} (no enabled metric has any of them); metric fw matches but "
                          "is disabled (disabled: true); SHA FIREWALL_NOT_MONITORED"),
    "firewall-disabled-and-enabled-copy": ([metric("off", CIS["firewall"], disabled=True),
                                            metric("on", CIS["firewall"], disabled=False)], "firewall", PASS,
                                           f"metric on matches every CIS v4.0 2.7 / v5.0 2.8 token "
                                           f"({TOKENS['firewall']}){watched('on')}"),
    "tokens-in-description-only": ([metric("fw", "severity>=ERROR", description=CIS["firewall"])], "firewall", FAIL,
                                   f"{FW_MISS} {TOKENS['firewall']} (no enabled metric has any of them); "
                                   "SHA FIREWALL_NOT_MONITORED"),
    "ownership-cis": ([metric("owners", CIS["ownership"])], "ownership", PASS,
                      "metric owners matches every CIS v4.0 2.4 / v5.0 2.5 token (bindingDeltas, roles/owner)"
                      + watched("owners")),
    "ownership-add-only-lower-case": ([metric("owners", 'servicedata.policydelta.bindingdeltas.action="add" and '
                                       'protopayload.servicedata.policydelta.bindingdeltas.role="roles/owner"')],
                                      "ownership", PASS, "…"),
    "ownership-without-binding-deltas": ([metric("owners", '(protoPayload.serviceName="cloudresourcemanager.googleapis'
                                          '.com") AND (ProjectOwnership OR projectOwnerInvitee)')], "ownership", FAIL,
                                         f"{OWNERS}: missing bindingDeltas, roles/owner (no enabled metric has "
                                         "any of them); SHA OWNER_NOT_MONITORED"),
    "ownership-custom-owner-role": ([metric("owners", 'protoPayload.serviceData.policyDelta.bindingDeltas.role='
                                     '"projects/shop-prod/roles/owner"')], "ownership", FAIL,
                                    f"{OWNERS}: missing roles/owner (closest: metric owners, with "
                                    "bindingDeltas); SHA OWNER_NOT_MONITORED"),
    "audit-config-lower-case": ([metric("audit", "protopayload.servicedata.policydelta.auditconfigdeltas:*")],
                                "audit-config", PASS, "…"),
    "custom-roles-missing-update": ([metric("roles", CIS["custom-roles"].replace(" OR protoPayload.methodName="
                                     '"google.iam.admin.v1.UpdateRole"', ""))], "custom-roles", FAIL,
                                    f"{ROLES}: missing UpdateRole (closest: metric roles, with iam_role, "
                                    "CreateRole, DeleteRole); SHA CUSTOM_ROLE_NOT_MONITORED"),
    "routes-on-cloud-router-type": ([metric("r", CIS["routes"].replace("gce_route", "gce_router"))], "routes", FAIL,
                                    f"{ROUTES}: missing gce_route (closest: metric r, with "
                                    "compute.routes.insert, compute.routes.delete); SHA ROUTE_NOT_MONITORED"),
    "networks-without-peering": ([metric("n", 'resource.type="gce_network" AND (protoPayload.methodName:'
                                  '"compute.networks.insert" OR protoPayload.methodName:"compute.networks.patch" OR '
                                  'protoPayload.methodName:"compute.networks.delete")')], "networks", FAIL,
                                 f"{NETS}: missing compute.networks.removePeering, "
                                 "compute.networks.addPeering (closest: metric n, with gce_network, "
                                 "compute.networks.insert, compute.networks.patch, compute.networks.delete); "
                                 "SHA NETWORK_NOT_MONITORED"),
    "networks-endpoint-groups-only": ([metric("n", CIS["networks"].replace("gce_network", "gce_network_endpoint"))],
                                      "networks", FAIL, "…"),
    "unreadable-but-another-passes": ([metric("", "x"), metric("fw", CIS["firewall"])], "firewall", PASS, "…"),
    "metric-without-name": ([metric("fw", CIS["firewall"]), {"filter": "x"}], "routes", ERROR,
                            f"cannot judge logMetrics[1].name: absent; and {ROUTES}: missing "
                            f"{TOKENS['routes']} (no enabled metric has any of them)"),
    "metric-without-filter": ([metric("m", None)], "routes", ERROR,
                              f"cannot judge metric m filter: absent; and {ROUTES}: missing {TOKENS['routes']} "
                              "(the project has no logs-based metrics)"),
    "disabled-not-boolean": ([metric("m", CIS["routes"], disabled="false")], "routes", ERROR,
                             f"cannot judge metric m disabled: 'false' is not a boolean; and {ROUTES}: missing "
                             f"{TOKENS['routes']} (the project has no logs-based metrics)"),
    "metric-not-an-object": (["m"], "audit-config", ERROR, "…"),
}  # fmt: skip


@pytest.mark.parametrize(("metrics", "kind", "verdict", "reason"), LOG03.values(), ids=LOG03.keys())
def test_log03_change_metrics(metrics: list[Any], kind: str, verdict: Verdict, reason: str) -> None:
    found = findings(metrics)[kind]
    assert (found.verdict, found.latent) == (verdict, False), found.reason
    assert reason == "…" or found.reason == reason


# --- the filter helpers ---------------------------------------------------------------------------

TOKEN_CASES: dict[str, tuple[str, str, bool]] = {
    "plain": ('resource.type="gce_route"', "gce_route", True),
    "case-insensitive": ('RESOURCE.TYPE="GCE_ROUTE"', "gce_route", True),
    "longer-word": ('resource.type="gce_router"', "gce_route", False),
    "after-a-dot": ('methodName="v1.compute.routes.insert"', "compute.routes.insert", True),
    "custom-role-suffix": ('role="projects/p/roles/owner"', "roles/owner", False),
    "org-custom-role-suffix": ('role="organizations/1/roles/owner"', "roles/owner", False),
    "role-in-quotes": ('role="roles/owner"', "roles/owner", True),
    "longer-method": ('methodName:"google.iam.admin.v1.CreateRoleBinding"', "CreateRole", False),
    "token-with-space": ("a   AND\n b", "a and b", True),
}


@pytest.mark.parametrize(("text", "token", "expected"), TOKEN_CASES.values(), ids=TOKEN_CASES.keys())
def test_has_token(text: str, token: str, expected: bool) -> None:
    assert log_filters.has_token(text, token) is expected


def test_filter_helpers() -> None:
    assert log_filters.normalise("  A \n\tB  ") == "a b"
    assert log_filters.is_empty("") and log_filters.is_empty(" \n\t") and not log_filters.is_empty("-- comment")
    assert log_filters.tokens_in("b a", ("a", "c", "b")) == ("a", "b")
    assert log_filters.excerpt("x" * 10, 8) == "xxxxxxx…" and log_filters.excerpt("a\n  b") == "a b"


# --- metadata -------------------------------------------------------------------------------------


def test_registry_holds_every_log_control() -> None:
    registry = default_registry()
    assert [c.meta.id for c in registry if c.meta.area is Area.LOG] == LOG_IDS


NO_SCC = {"LOG-05", "LOG-06"}
#: the LOG controls declared outside `checks/auditlog.py`
MODULE = {"LOG-04": logretention, "LOG-05": oversight, "LOG-06": oversight}


@pytest.mark.parametrize("control_id", AUDIT_LOG_IDS)
def test_metadata_is_complete(control_id: str) -> None:
    item = default_registry().get(control_id)
    meta = item.meta
    assert meta.area is Area.LOG and meta.title and meta.title[0].isupper()
    assert len(meta.rationale) > 100 and "gcloud " in meta.remediation
    # Security Command Center has no finding for Cloud Asset Inventory (LOG-05) or Access Approval (LOG-06).
    assert meta.references.cis and meta.references.soc2 and (meta.references.sha or control_id in NO_SCC)
    assert meta.params == () and meta.logic_version == (2 if control_id == "LOG-03" else 1)  # 2: alerts too
    assert meta.holds and meta.logic and meta.unknown
    module = MODULE.get(control_id, auditlog)
    assert module.__doc__ and item.func.__doc__
    assert [name for name, value in vars(module).items() if value is item]


def test_metadata_follows_the_catalogue() -> None:
    metas = {c.meta.id: c.meta for c in default_registry() if c.meta.id in AUDIT_LOG_IDS}
    rows = {cid: (m.severity.value, m.unit, m.kinds, m.references.cis_text(), m.references.soc2, m.references.sha)
            for cid, m in metas.items()}  # fmt: skip
    assert rows == {
        "LOG-01": ("high", "scope", (Kind.IAM_POLICY, Kind.ANCESTRY), "4.0: 2.1 · 5.0: 2.1", ("CC7.2",),
                   "AUDIT_LOGGING_DISABLED"),
        "LOG-02": ("high", "scope", (Kind.SINKS, Kind.ANCESTOR_SINKS), "4.0: 2.2 · 5.0: 2.3", ("CC7.2",),
                   "LOG_NOT_EXPORTED"),
        "LOG-03": ("medium", "kind of change", (Kind.LOG_METRICS, Kind.ALERT_POLICIES),
                   "4.0: 2.4, 2.5, 2.6, 2.7, 2.8, 2.9, 2.10, 2.11 · 5.0: 2.5, 2.6, 2.7, 2.8, 2.9, 2.10, 2.11, 2.12",
                   ("CC7.2", "CC8.1"),
                   "FIREWALL_NOT_MONITORED, OWNER_NOT_MONITORED, AUDIT_CONFIG_NOT_MONITORED, "
                   "CUSTOM_ROLE_NOT_MONITORED, ROUTE_NOT_MONITORED, NETWORK_NOT_MONITORED, "
                   "BUCKET_IAM_NOT_MONITORED, SQL_INSTANCE_NOT_MONITORED"),
        "LOG-04": ("high", "sink", (Kind.SINKS, Kind.ANCESTOR_SINKS, Kind.SINK_DESTINATIONS), "4.0: 2.3 · 5.0: 2.4",
                   ("CC7.2", "A1.2"), "LOCKED_RETENTION_POLICY_NOT_SET"),
        "LOG-05": ("medium", "scope", (Kind.ENABLED_SERVICES,), "4.0: 2.13 · 5.0: 2.14", ("CC6.1", "CC7.1"), ""),
        "LOG-06": ("low", "scope", (Kind.ACCESS_APPROVAL_SETTINGS,), "4.0: 2.15 · 5.0: 2.16", ("CC6.1", "CC9.2"),
                   ""),
    }  # fmt: skip
    titles = {cid: m.title for cid, m in metas.items()}
    assert titles == {
        "LOG-01": "Audit logs cover every service",
        "LOG-02": "All logs are exported",
        "LOG-03": "Changes to the controls are themselves alerted on",
        "LOG-04": "Exported logs can't be deleted early",
        "LOG-05": "Cloud Asset Inventory is enabled",
        "LOG-06": "Access Approval is enabled",
    }


@pytest.mark.parametrize("control_id", LOG_IDS)
def test_uncollected_kinds_are_an_error_not_a_pass(control_id: str) -> None:
    results = run_control(default_registry().get(control_id), make_snapshot({}), Params())
    assert results and all(r.verdict is ERROR for r in results)

