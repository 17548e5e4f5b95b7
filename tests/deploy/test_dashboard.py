"""deploy/grafana: the dashboard is the generator's output, well formed, and every query in it parses on
a real Prometheus and uses only what the daemon exports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import promql
from tests.deploy.conftest import DASHBOARD, DASHBOARD_SCRIPT, RUNBOOK_BASE, RUNBOOKS, Prometheus
from tests.deploy.exported import exported_samples
from tests.deploy.test_alert_rules import check_names_and_labels
from tests.tools import require_tool

# What Grafana puts in place of its variables; `.*` is the dashboard's "All" value.
SUBSTITUTIONS = {
    "job": ".*",
    "instance": ".*",
    "scope": ".*",
    "area": ".*",
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}


def substitute(expr: str) -> str:
    out = re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", lambda m: SUBSTITUTIONS[m.group(1) or m.group(2)], expr)
    assert "$" not in out, out
    return out


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def expressions() -> list[tuple[str, str]]:
    """(panel title / refId, expression after substitution) for every query and variable."""
    out = [(f"{p['title']}/{t['refId']}", substitute(t["expr"])) for p in panels() for t in p["targets"]]
    for var in dashboard()["templating"]["list"]:
        if var["type"] == "query":
            out.append((f"${var['name']}", substitute(promql.label_values_selector(var["query"]))))
    return out


def test_the_json_is_the_generators_output() -> None:
    done = subprocess.run(
        [sys.executable, str(DASHBOARD_SCRIPT), "--check"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr


def test_shape() -> None:
    d = dashboard()
    assert d["uid"] == "controlwatch" and d["title"]
    names = {v["name"]: v for v in d["templating"]["list"]}
    assert {"job", "instance", "scope", "area", "results_base", "runbook_base"} <= set(names)
    for name in ("job", "instance", "scope", "area"):
        assert names[name]["type"] == "query" and names[name]["includeAll"] and names[name]["allValue"] == ".*"
    assert names["job"]["query"] == "label_values(controlwatch_build_info, job)"
    assert names["instance"]["query"] == 'label_values(controlwatch_build_info{job=~"$job"}, instance)'
    for name, default in (("results_base", "http://controlwatch:9797"), ("runbook_base", RUNBOOK_BASE)):
        assert names[name]["type"] == "textbox" and names[name]["query"] == names[name]["current"]["value"] == default
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    order = list(names)  # a variable's query may use only those before it
    assert order.index("job") < order.index("instance") < order.index("scope")
    rows = [p["title"] for p in d["panels"] if p["type"] == "row"]
    assert rows == [
        "Overview by area and scope",
        "Failing and erroring controls",
        "Drift",
        "Accepted risks (exceptions)",
        "controlwatch health",
        "Evidence ledger",
    ]
    for p in d["panels"]:
        pos = p["gridPos"]
        assert 0 <= pos["x"] and pos["x"] + pos["w"] <= 24, p["title"]


def test_every_panel_has_a_query() -> None:
    for p in panels():
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert t["expr"].strip() and t["refId"], p["title"]
            assert t["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_the_panels_the_issue_asks_for() -> None:
    exprs = " ".join(t["expr"] for p in panels() for t in p["targets"])
    for needle in (
        "controlwatch_control_status",
        "controlwatch_drift_active",
        "increase(controlwatch_drift_events_total",
        "controlwatch_control_excepted_resources",
        "controlwatch_exceptions_stale",
        "time() - controlwatch_scheduler_heartbeat_timestamp_seconds",
        "controlwatch_scheduler_job_events_total",
        "controlwatch_api_requests_total",
        "controlwatch_api_retries_total",
        "histogram_quantile(0.95, sum by (kind, le) (rate(controlwatch_collection_duration_seconds_bucket",
        "controlwatch_run_deadline_exceeded_total",
        "controlwatch_build_info",
        "controlwatch_evidence_chain_length",
        "controlwatch_evidence_last_checkpoint_timestamp_seconds",
    ):
        assert needle in exprs, needle
    for p in panels():  # per-control panels follow the scope variable
        for t in p["targets"]:
            if "scope" in exported_labels(t["expr"]):
                assert 'scope=~"$scope"' in t["expr"], p["title"]


def test_every_selector_follows_the_job_and_instance_variables() -> None:
    """No hard-coded job: one dashboard for any scrape job name and each replica of a sharded daemon."""
    exprs = [t["expr"] for p in panels() for t in p["targets"]]
    exprs += [promql.label_values_selector(v["query"]) for v in dashboard()["templating"]["list"]
              if v["type"] == "query" and v["name"] not in ("job", "instance")]  # fmt: skip
    for expr in exprs:
        assert 'job="' not in expr, expr
        ranges_only = re.sub(r"\$__\w+", "5m", expr)  # the matchers keep their "$job" and "$instance"
        for selector in promql.usage(ranges_only).selectors:
            assert ("job", "=~", "$job") in selector.matchers, (selector.name, expr)
            assert ("instance", "=~", "$instance") in selector.matchers, (selector.name, expr)


def test_a_state_timeline_of_each_control_and_scope() -> None:
    [timeline] = [p for p in panels() if p["type"] == "state-timeline"]
    [t] = timeline["targets"]
    used = promql.usage(substitute(t["expr"]))
    assert {s.name for s in used.selectors} == {"controlwatch_control_status"}
    assert "max by (control, scope)" in t["expr"] and t["legendFormat"] == "{{control}} {{scope}}"
    texts = {m["options"][k]["text"]: k for m in timeline["fieldConfig"]["defaults"]["mappings"] for k in m["options"]}
    assert texts == {"pass": "0", "fail": "1", "error": "2"}
    assert timeline["gridPos"]["w"] == 24


@pytest.mark.slow
def test_the_state_timeline_reads_pass_fail_and_error_from_real_series(tmp_path: Path) -> None:
    """promtool evaluates the panel's query over one-hot status series: 0 pass, 1 fail, 2 error, per pair."""
    [timeline] = [p for p in panels() if p["type"] == "state-timeline"]
    expr = substitute(timeline["targets"][0]["expr"])
    base = 'controlwatch_control_status{job="controlwatch",instance="i",area="firewall",severity="high"'
    one_hot = {"FW-01": "pass pass fail fail error", "FW-02": "error fail pass pass pass"}
    series = []
    for control, statuses in one_hot.items():
        for status in ("pass", "fail", "error"):
            values = " ".join("1" if s == status else "0" for s in statuses.split())
            series.append({"series": f'{base},control="{control}",scope="p",status="{status}"}}', "values": values})
    code = {"pass": 0, "fail": 1, "error": 2}
    cases = [
        {
            "expr": expr,
            "eval_time": f"{minute}m",
            "exp_samples": [
                {"labels": f'{{control="{control}",scope="p"}}', "value": code[statuses.split()[minute]]}
                for control, statuses in one_hot.items()
            ],
        }
        for minute in range(5)
    ]
    (tmp_path / "none.yml").write_text("groups: []\n", encoding="utf-8")
    test = {"rule_files": ["none.yml"], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": cases}]}  # fmt: skip
    (tmp_path / "timeline.test.yml").write_text(yaml.safe_dump(test, sort_keys=False), encoding="utf-8")
    done = subprocess.run(
        [require_tool("promtool"), "test", "rules", "timeline.test.yml"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _links(panel: dict[str, Any]) -> list[str]:
    return [link["url"] for link in panel["fieldConfig"]["defaults"].get("links", [])]


def test_rows_link_to_results_and_the_runbooks() -> None:
    """Every table with a control and a scope per row links the row to /results and to its runbook."""
    results = "${results_base}/results?scope=${__data.fields.scope}&control=${__data.fields.control}"
    by_area = "${results_base}/results?scope=${__data.fields.scope}&area=${__data.fields.area}"
    linked = 0
    for p in panels():
        columns = set(p["transformations"][1]["options"]["renameByName"]) if p["type"] == "table" else set()
        if {"control", "scope"} <= columns:
            assert results in _links(p), p["title"]
            linked += 1
        elif {"area", "scope"} <= columns:
            assert by_area in _links(p), p["title"]
        for url in _links(p):
            if url.startswith("${runbook_base}"):
                assert (RUNBOOKS / url.removeprefix("${runbook_base}")).is_file(), url
            else:
                assert url.startswith("${results_base}/results?"), url
    assert linked >= 3
    [timeline] = [p for p in panels() if p["type"] == "state-timeline"]
    assert _links(timeline) == [results.replace("__data.fields", "__field.labels")]
    failing = next(p for p in panels() if p["title"] == "Failing and erroring controls")
    wanted = ("ControlwatchControlNewFailure", "ControlwatchScopeFailing")
    assert {f"${{runbook_base}}{name}.md" for name in wanted} <= set(_links(failing))


def exported_labels(expr: str) -> set[str]:
    return set().union(*(exported_samples()[s.name] for s in promql.usage(substitute(expr)).selectors))


@pytest.mark.parametrize(("where", "expr"), expressions(), ids=[w for w, _ in expressions()])
def test_every_query_uses_only_exported_metrics_and_labels(where: str, expr: str) -> None:
    check_names_and_labels(expr)


@pytest.mark.slow
def test_every_query_parses_on_a_real_prometheus(prometheus: Prometheus) -> None:
    failures = {}
    for where, expr in expressions():
        answer = prometheus.query(expr)
        if answer.get("status") != "success":
            failures[where] = (expr, answer.get("errorType"), answer.get("error"))
    assert failures == {}


@pytest.mark.slow
def test_the_real_prometheus_rejects_bad_promql(prometheus: Prometheus) -> None:
    """Negative control: the check above can fail."""
    answer = prometheus.query('sum by (scope (controlwatch_control_status{job=~".*"})')
    assert answer["status"] == "error" and answer["errorType"] == "bad_data"
