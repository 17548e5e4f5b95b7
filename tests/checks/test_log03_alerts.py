"""LOG-03's alert half: for a metric that holds every token of its kind of change, an enabled
alert policy with a threshold condition on `logging.googleapis.com/user/NAME` must exist.
One row per case in the Cloud Monitoring v3 REST shape; the metric half is in
`test_auditlog_metrics.py`."""

from __future__ import annotations

from typing import Any

import pytest

from checks import auditlog, default_registry
from checks.model import Verdict
from checks.params import Params
from checks.rules.alert_policies import watched_by_threshold
from checks.snapshot import Kind
from monitor.run.runner import run_control
from tests.builders import make_snapshot
from tests.checks.test_auditlog_metrics import CIS, KINDS, alert, metric

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
FW = metric("fw", CIS["firewall"])
TYPE = "logging.googleapis.com/user/fw"
NO_ALERT = (f"metric fw matches every CIS v4.0 2.7 / v5.0 2.8 token, but no enabled alert policy has a threshold "
            f"condition on {TYPE}")  # fmt: skip
SHA = "; SHA FIREWALL_NOT_MONITORED"
PASSED = ("metric fw matches every CIS v4.0 2.7 / v5.0 2.8 token (gce_firewall_rule, compute.firewalls.insert, "
          f"compute.firewalls.patch, compute.firewalls.delete) and enabled alert policy alert on fw watches {TYPE}")


def condition(**fields: Any) -> dict[str, Any]:
    return {"name": "c", "displayName": "a condition", **fields}


def policy(*conditions: dict[str, Any], name: str = "p", enabled: bool | None = True) -> dict[str, Any]:
    body = {"name": f"projects/shop-prod/alertPolicies/{name}", "displayName": name, "combiner": "OR",
            "enabled": enabled, "conditions": list(conditions)}  # fmt: skip
    return {k: v for k, v in body.items() if v is not None}


def threshold(text: str) -> dict[str, Any]:
    return condition(conditionThreshold={"filter": text, "comparison": "COMPARISON_GT", "duration": "0s"})


CASES: dict[str, tuple[list[Any], list[Any], Verdict, str]] = {
    "enabled-threshold": ([FW], [alert("fw")], PASS, PASSED),
    "unquoted-metric-type-and-more": ([FW], [policy(threshold(f'resource.type="global" AND metric.type={TYPE}'))],
                                      PASS, "…"),
    "disabled-policy": ([FW], [alert("fw", enabled=False)], FAIL,
                        f"{NO_ALERT}; policy alert on fw watches it but is disabled (enabled: false){SHA}"),
    "no-policies": ([FW], [], FAIL, f"{NO_ALERT}; the project has no alert policies{SHA}"),
    "policy-on-another-metric": ([FW], [alert("fw-old")], FAIL, f"{NO_ALERT}{SHA}"),
    "policy-on-a-longer-name": ([FW], [policy(threshold(f'metric.type="{TYPE}2"'))], FAIL, f"{NO_ALERT}{SHA}"),
    "policy-without-conditions": ([FW], [policy()], FAIL, f"{NO_ALERT}{SHA}"),
    "absence-condition": ([FW], [policy(condition(conditionAbsent={"filter": f'metric.type="{TYPE}"',
                                                                   "duration": "300s"}))], FAIL,
                          f"{NO_ALERT}; policy p: an absence condition (fires when it stops reporting){SHA}"),
    "mql-query": ([FW], [policy(condition(conditionMonitoringQueryLanguage={
                      "query": f"fetch global | metric '{TYPE}' | align delta(1m) | condition val() > 0"}))],
                  FAIL, f"{NO_ALERT}; policy p: an MQL query (not read){SHA}"),
    "promql-query": ([FW], [policy(condition(conditionPrometheusQueryLanguage={
                        "query": "sum(rate(logging_googleapis_com:user_fw[1m])) > 0"}))],
                     FAIL, f"{NO_ALERT}; policy p: a PromQL query (not read){SHA}"),
    "enabled-absent": ([FW], [alert("fw", enabled=None)], ERROR,
                       f"cannot judge alert policy {alert('fw')['name']} enabled: absent (Monitoring: assume nothing); "
                       f"and {NO_ALERT}"),
    "enabled-absent-but-another-counts": ([FW], [alert("fw", enabled=None, name="x"), alert("fw")], PASS, PASSED),
    "enabled-not-boolean": ([FW], [alert("fw", enabled="true")], ERROR,
                            f"cannot judge alert policy {alert('fw')['name']} enabled: 'true' is not a boolean; "
                            f"and {NO_ALERT}"),
    "threshold-without-filter": ([FW], [policy(condition(conditionThreshold={"comparison": "COMPARISON_GT"}))],
                                 ERROR, "cannot judge alert policy projects/shop-prod/alertPolicies/p conditions[0]."
                                 f"conditionThreshold.filter: absent; and {NO_ALERT}"),
    "unreadable-policy-but-another-counts": ([FW], [{"displayName": "nameless"}, alert("fw")], PASS, PASSED),
    "policy-not-an-object": ([FW], ["p"], ERROR, "cannot judge alertPolicies[0]: 'p' is not an object; and "
                             f"{NO_ALERT}"),
    "disabled-metric-with-alert": ([metric("fw", CIS["firewall"], disabled=True)], [alert("fw")], FAIL, "…"),
    "second-metric-has-the-alert": ([metric("a", CIS["firewall"]), FW], [alert("fw")], PASS, PASSED),
    "no-metric-but-alerts": ([], [alert("fw")], FAIL, "…"),
    "unreadable-policy-and-no-metric": ([], ["p"], FAIL, "…"),  # no metric: no policy could make it pass
}  # fmt: skip


def judged(metrics: list[Any], policies: list[Any], notes: dict[str, str] | None = None) -> dict[str, Any]:
    fragment = {"logging": {"metrics": metrics}, "monitoring": {"alertPolicies": policies}}
    found = list(auditlog.log03_change_metrics(make_snapshot(fragment, notes=notes), Params()))
    assert [f.subject for f in found] == KINDS  # one result per CIS change, in order
    return {f.subject: f for f in found}


@pytest.mark.parametrize(("metrics", "policies", "verdict", "reason"), CASES.values(), ids=CASES.keys())
def test_log03_alert_policies(metrics: list[Any], policies: list[Any], verdict: Verdict, reason: str) -> None:
    found = judged(metrics, policies)["firewall"]
    assert found.verdict is verdict, found.reason
    assert reason == "…" or found.reason == reason


def test_a_disabled_monitoring_api_means_no_alerts() -> None:
    found = judged([FW], [], notes={Kind.ALERT_POLICIES: "Cloud Monitoring API not enabled"})["firewall"]
    assert (found.verdict, found.reason) == (
        FAIL, f"{NO_ALERT}; Cloud Monitoring API not enabled: the project has no alert policies{SHA}")


def test_the_new_changes_need_their_own_metric_and_alert() -> None:
    metrics = [metric("buckets", CIS["bucket-iam"]), metric("sql", CIS["sql-config"])]
    found = judged(metrics, [alert("buckets")])
    assert found["bucket-iam"].verdict is PASS
    assert found["sql-config"].verdict is FAIL and found["sql-config"].reason.startswith(
        "metric sql matches every CIS v4.0 2.11 / v5.0 2.12 token, but no enabled alert policy")
    assert found["sql-config"].reason.endswith("; SHA SQL_INSTANCE_NOT_MONITORED")
    storage_only = judged([metric("b", 'protoPayload.methodName="storage.setIamPermissions"')], [alert("b")])
    assert storage_only["bucket-iam"].reason == (
        "no enabled logs-based metric matches every CIS v4.0 2.10 / v5.0 2.11 token: missing gcs_bucket (closest: "
        "metric b, with storage.setIamPermissions); SHA BUCKET_IAM_NOT_MONITORED")


def test_uncollected_alert_policies_are_an_error_for_every_change() -> None:
    snapshot = make_snapshot({"logging": {"metrics": [FW]}})  # alertPolicies not collected
    results = run_control(default_registry().get("LOG-03"), snapshot, Params())
    assert results and {r.verdict for r in results} == {ERROR}


@pytest.mark.parametrize(("text", "names"), [
    ('metric.type="logging.googleapis.com/user/fw"', {"fw"}),
    ("metric.type = logging.googleapis.com/user/fw AND resource.type=global", {"fw"}),
    ('METRIC.TYPE="logging.googleapis.com/user/a" OR metric.type="logging.googleapis.com/user/b"', {"a", "b"}),
    ('metric.type="logging.googleapis.com/byte_count"', set()),
    ('metric.label.x="logging.googleapis.com/user/fw"', set()),
])  # fmt: skip
def test_which_metrics_a_threshold_filter_selects(text: str, names: set[str]) -> None:
    assert watched_by_threshold(text) == names
