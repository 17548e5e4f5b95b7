"""deploy/prometheus: the alert rules are valid, unit-tested by promtool (and those tests can fail), and
every alert is complete: severity, summary, description, runbook, and only metrics the daemon exports."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import promql
from tests.deploy.conftest import (
    PROMETHEUS_EXAMPLE,
    RESULTS_BASE,
    RULE_TESTS,
    RULES,
    RUNBOOK_BASE,
    RUNBOOKS,
    Prometheus,
    alert_names,
    alert_rules,
    load_yaml,
)
from tests.deploy.exported import closed_label_values, exported_samples
from tests.tools import require_tool, wait_until

SEVERITIES = {"critical", "warning", "none"}  # kube-prometheus's; Watchdog alone is `none`
RESULTS_ALERTS = {  # alerts about a scope link to its /results page (and control, when they carry one)
    "ControlwatchControlNewFailure": True,
    "ControlwatchScopeFailing": False,
    "ControlwatchControlError": True,
    "ControlwatchControlStale": True,
    "ControlwatchDriftActive": True,
    "ControlwatchNoApprovedBaseline": False,
    "ControlwatchRunDeadlineExceeded": False,
}
PROMTOOL_TIMEOUT = 60


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args], capture_output=True, text=True, timeout=PROMTOOL_TIMEOUT, cwd=cwd
    )


def rule_tests() -> list[dict[str, Any]]:
    return [
        {"test": test.get("name", ""), **case}
        for test in load_yaml(RULE_TESTS)["tests"]
        for case in test.get("alert_rule_test", [])
    ]


# ---------------------------------------------------------------------------------------------- promtool


def test_promtool_check_rules_with_fatal_lint() -> None:
    done = promtool("check", "rules", "--lint=all", "--lint-fatal", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_check_config_of_the_prometheus_example() -> None:
    """The example scrapes job controlwatch on 127.0.0.1:9797, loads the rules and sends to Alertmanager."""
    done = promtool("check", "config", str(PROMETHEUS_EXAMPLE))
    assert done.returncode == 0, done.stdout + done.stderr
    example = load_yaml(PROMETHEUS_EXAMPLE)
    assert example["rule_files"] == [RULES.name]
    [job] = [job for job in example["scrape_configs"] if job["job_name"] == "controlwatch"]
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:9797"]
    assert example["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]


@pytest.mark.slow
def test_promtool_unit_tests_pass() -> None:
    done = promtool("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def _first_firing(test: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in test.get("alert_rule_test", []) if c["exp_alerts"]), None)


def _flip_severity(test: dict[str, Any]) -> bool:
    case = _first_firing(test)
    if case is None:
        return False
    labels = case["exp_alerts"][0]["exp_labels"]
    labels["severity"] = "warning" if labels["severity"] == "critical" else "critical"
    return True


def _expect_silence_where_it_fires(test: dict[str, Any]) -> bool:
    case = _first_firing(test)
    if case is None:
        return False
    case["exp_alerts"] = []
    return True


def _expect_firing_where_it_is_quiet(test: dict[str, Any]) -> bool:
    cases = test.get("alert_rule_test", [])
    if not any(c["alertname"] == "ControlwatchControlStale" for c in cases):
        return False
    quiet, firing = cases[0], cases[1]  # the never-succeeded control is still pending at 20m
    assert quiet["exp_alerts"] == [] and firing["exp_alerts"]
    quiet["exp_alerts"] = firing["exp_alerts"]
    return True


@pytest.mark.slow
@pytest.mark.parametrize("flip", [_flip_severity, _expect_silence_where_it_fires, _expect_firing_where_it_is_quiet])
def test_promtool_unit_tests_can_fail(tmp_path: Path, flip: Any) -> None:
    """Negative control: the test group holding one flipped expectation fails, and passes unflipped."""
    shutil.copy(RULES, tmp_path / RULES.name)
    tests = load_yaml(RULE_TESTS)
    group = next(t for t in tests["tests"] if flip(copy.deepcopy(t)))
    for variant, flipped in (("as-is", group), ("flipped", copy.deepcopy(group))):
        if variant == "flipped":
            flip(flipped)
        path = tmp_path / f"{variant}.test.yml"
        path.write_text(yaml.safe_dump({**tests, "tests": [flipped]}, sort_keys=False, width=1000), encoding="utf-8")
        done = promtool("test", "rules", path.name, cwd=tmp_path)
        if variant == "as-is":
            assert done.returncode == 0, done.stdout + done.stderr
        else:
            assert done.returncode != 0, done.stdout + done.stderr
            assert "FAILED" in done.stdout + done.stderr


# ---------------------------------------------------------------------------------------------- coverage


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    firing: dict[str, int] = defaultdict(int)
    quiet: dict[str, int] = defaultdict(int)
    for case in rule_tests():
        (firing if case["exp_alerts"] else quiet)[case["alertname"]] += 1
    for name in alert_names():
        assert firing[name], f"{name}: no unit test where it fires"
        if name != "Watchdog":  # vector(1): fires by design, there is no quiet case
            assert quiet[name], f"{name}: no unit test where it stays quiet"
    assert set(firing) | set(quiet) <= set(alert_names()), "unit tests for alerts that do not exist"


def test_every_alert_rule_is_exercised_by_a_firing_case() -> None:
    """Each rule of a multi-rule alert (critical/warning, overdue/never) fires in some test with its own labels."""
    fired = {
        (case["alertname"], exp["exp_labels"].get("severity"), exp["exp_labels"].get("stale"))
        for case in rule_tests()
        for exp in case["exp_alerts"]
    }
    for rule in alert_rules():
        key = (rule["alert"], rule["labels"]["severity"], rule["labels"].get("stale"))
        assert key in fired, f"no firing unit test for the rule {key}"


def test_firing_expectations_carry_every_annotation() -> None:
    for case in rule_tests():
        for exp in case["exp_alerts"]:
            assert exp["exp_labels"]["severity"] in SEVERITIES, case
            links = {"results_url"} if case["alertname"] in RESULTS_ALERTS else set()
            assert set(exp["exp_annotations"]) == {"summary", "description", "runbook_url"} | links, case
            assert exp["exp_annotations"]["runbook_url"] == f"{RUNBOOK_BASE}{case['alertname']}.md"


# ---------------------------------------------------------------------------------------------- content


def test_the_alert_set() -> None:
    assert alert_names() == sorted(
        [
            "ControlwatchControlNewFailure",
            "ControlwatchScopeFailing",
            "ControlwatchControlError",
            "ControlwatchControlStale",
            "ControlwatchDriftActive",
            "ControlwatchNoApprovedBaseline",
            "ControlwatchSchedulerHeartbeatStale",
            "ControlwatchRunDeadlineExceeded",
            "ControlwatchApiRateLimited",
            "ControlwatchExporterDown",
            "ControlwatchExporterAbsent",
            "ControlwatchSchedulerJobsLost",
            "ControlwatchConfigReloadFailed",
            "ControlwatchEvidenceWriteErrors",
            "ControlwatchEvidenceVerifyFailed",
            "ControlwatchEvidenceCheckpointMissing",
            "ControlwatchExceptionsStale",
            "ControlwatchScopeDiscoveryFailing",
            "ControlwatchScopeOwnership",
            "Watchdog",
        ]
    )


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: f"{r['alert']}-{r['labels']['severity']}")
def test_every_alert_has_severity_annotations_and_its_runbook(rule: dict[str, Any]) -> None:
    name = rule["alert"]
    assert rule["labels"]["severity"] in SEVERITIES
    assert (rule["labels"]["severity"] == "none") == (name == "Watchdog")
    annotations = rule["annotations"]
    assert annotations["summary"].strip() and annotations["description"].strip()
    assert annotations["runbook_url"] == f"{RUNBOOK_BASE}{name}.md"
    assert (RUNBOOKS / f"{name}.md").is_file(), f"deploy/runbooks/{name}.md is missing"
    if name != "Watchdog":
        assert "{{" in annotations["description"], "the description is templated with $labels/$value"
        assert 'job="controlwatch"' in rule["expr"], 'every controlwatch selector names job="controlwatch"'


def test_only_a_new_failure_of_a_critical_or_high_control_pages_for_a_failure() -> None:
    """Failures page only when new (first seen within the window); standing ones are one ticket per scope."""
    [new] = [r for r in alert_rules() if r["alert"] == "ControlwatchControlNewFailure"]
    assert new["labels"]["severity"] == "critical"
    assert 'severity=~"critical|high"' in new["expr"] and 'status="fail"' in new["expr"]
    assert "time() - controlwatch_control_new_failure_timestamp_seconds" in new["expr"]
    [scope] = [r for r in alert_rules() if r["alert"] == "ControlwatchScopeFailing"]
    assert scope["labels"]["severity"] == "warning"
    assert "count by (job, instance, scope)" in scope["expr"], "one alert per scope, not per control"
    paging_on_status = [
        r["alert"]
        for r in alert_rules()
        if r["labels"]["severity"] == "critical" and 'status="fail"' in r["expr"] and r["alert"] != new["alert"]
    ]
    assert paging_on_status == [], "a standing failure must not page"


def test_one_runbook_base_url() -> None:
    """Operators point the runbooks elsewhere with one substitution of this one string, used nowhere else."""
    text = RULES.read_text(encoding="utf-8")
    urls = re.findall(r"runbook_url: \"([^\"]+)\"", text)
    assert {url for url in urls} == {rule["annotations"]["runbook_url"] for rule in alert_rules()}
    for url in urls:
        assert url.startswith(RUNBOOK_BASE), url
        assert (RUNBOOKS / url.removeprefix(RUNBOOK_BASE)).is_file(), f"{url}: no such runbook in deploy/runbooks"
    assert text.count(RUNBOOK_BASE) == len(urls) + 2, "the base only in runbook_url (and the header)"


def test_one_results_base_url() -> None:
    """`results_url` is the daemon's filtered /results page, from one base, on every alert about a scope."""
    text = RULES.read_text(encoding="utf-8")
    for rule in alert_rules():
        url = rule["annotations"].get("results_url")
        if rule["alert"] not in RESULTS_ALERTS:
            assert url is None, rule["alert"]
            continue
        query = "?scope={{ $labels.scope }}" + (
            "&control={{ $labels.control }}" if RESULTS_ALERTS[rule["alert"]] else ""
        )
        assert url == f"{RESULTS_BASE}/results{query}", rule["alert"]
    assert text.count(RESULTS_BASE) == len(re.findall(r"results_url: ", text)) + 2, "the base only in results_url"


def test_the_documented_substitution_relinks_every_alert(tmp_path: Path) -> None:
    """The header's substitution, applied to both bases, moves every link and leaves valid rules."""
    text = RULES.read_text(encoding="utf-8")
    moved = text.replace(RUNBOOK_BASE, "https://git.example.be/sec/runbooks/").replace(
        RESULTS_BASE, "https://controlwatch.example.be"
    )
    (tmp_path / RULES.name).write_text(moved, encoding="utf-8")
    done = promtool("check", "rules", str(tmp_path / RULES.name))
    assert done.returncode == 0, done.stdout + done.stderr
    for rule in (r for g in yaml.safe_load(moved)["groups"] for r in g["rules"]):
        annotations = rule["annotations"]
        assert annotations["runbook_url"] == f"https://git.example.be/sec/runbooks/{rule['alert']}.md"
        if rule["alert"] in RESULTS_ALERTS:
            assert annotations["results_url"].startswith("https://controlwatch.example.be/results?scope=")


def test_rules_and_their_tests_use_only_exported_metrics_and_labels() -> None:
    exprs = [rule["expr"] for rule in alert_rules()]
    series = [s["series"] for t in load_yaml(RULE_TESTS)["tests"] for s in t.get("input_series", [])]
    for expr in exprs + series:
        check_names_and_labels(expr)


def test_template_queries_use_only_exported_metrics() -> None:
    text = RULES.read_text(encoding="utf-8")
    for name in set(re.findall(r"\b(?:controlwatch_[a-z0-9_]+|up)\b(?=\{)", text)):
        assert name in exported_samples(), name


def check_names_and_labels(expr: str) -> None:
    """Every metric is exported, every matcher label is one of its labels, every value of a closed label
    is one the daemon writes, and every grouping label belongs to a metric of the expression."""
    known = exported_samples()
    closed = closed_label_values()
    used = promql.usage(expr)
    assert used.selectors or expr.strip() == "vector(1)", expr
    labels_in_expr: set[str] = set()
    for selector in used.selectors:
        assert selector.name in known, f"{selector.name} is not exported by the daemon (in {expr!r})"
        labels_in_expr |= known[selector.name]
        for label, op, value in selector.matchers:
            assert label in known[selector.name], f"{selector.name} has no label {label} (in {expr!r})"
            if label in closed and op in ("=", "=~") and value != ".*":  # .* is a dashboard's "All"
                words = [value] if op == "=" else promql.literal_alternatives(value)
                assert words is not None, f"{label}=~{value!r}: use an alternation of values"
                assert set(words) <= closed[label], f"{label}: {set(words) - closed[label]} never exported"
    assert used.grouping_labels <= labels_in_expr, f"{used.grouping_labels - labels_in_expr} in {expr!r}"


def test_the_name_checker_catches_mistakes() -> None:
    """The checker itself can fail: unknown metric, unknown label, unknown value, stray grouping label."""
    check_names_and_labels('sum by (scope) (controlwatch_run_deadline_exceeded_total{job="controlwatch"})')
    for bad in (
        'controlwatch_control_state{job="controlwatch"}',
        'controlwatch_drift_active{job="controlwatch",area="drift"}',
        'controlwatch_api_retries_total{reason="RATE_LIMIT_EXCEEDED"}',
        'controlwatch_control_status{status=~"fail|failing"}',
        "sum by (scope) (controlwatch_api_requests_total)",
    ):
        with pytest.raises(AssertionError):
            check_names_and_labels(bad)


# ---------------------------------------------------------------------------------------------- real Prometheus


@pytest.mark.slow
def test_a_real_prometheus_loads_and_evaluates_every_rule(prometheus: Prometheus) -> None:
    """Loaded by Prometheus itself (evaluation every 1 s): every rule evaluates without error."""
    evaluated = wait_until(
        lambda: (
            len(prometheus.rules()) == len(alert_rules()) and all(r["health"] != "unknown" for r in prometheus.rules())
        ),
        timeout=20,
        interval=0.25,
    )
    rules = prometheus.rules()
    assert evaluated, rules
    assert [(r["name"], r["health"], r.get("lastError", "")) for r in rules if r["health"] != "ok"] == []
    assert {r["name"] for r in rules} == set(alert_names())
    # nothing is scraped: only the Watchdog fires; ExporterAbsent is pending (for 5m)
    states = {r["name"]: r["state"] for r in rules if r["state"] != "inactive"}
    assert states == {"Watchdog": "firing", "ControlwatchExporterAbsent": "pending"}
