"""Each `check` format's mapping, one small table per format, on results built by hand."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from checks.model import Area, Result, Severity, Verdict
from checks.registry import ControlMeta, References
from monitor.commands.formats import RENDERERS, CheckReport
from monitor.commands.formats.report import finding_key

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def meta(severity: Severity = Severity.HIGH, control: str = "FW-01") -> ControlMeta:
    return ControlMeta(
        id=control,
        title="No SSH from the internet",
        area=Area.FW,
        severity=severity,
        kinds=("compute.Firewall",),
        rationale="SSH open to the world is brute-forced within minutes.",
        remediation='Narrow "sourceRanges", then re-run',
        references=References(cis=(("4.0", "3.6"), ("5.0", "3.6"))),
    )


def result(verdict: Verdict, *, excepted: bool = False, resource: str = "fw/a", reason: str = "open") -> Result:
    return Result("FW-01", "p1", resource, "", verdict, reason, excepted, exception_reason="ok" if excepted else None)


def report(
    *results: Result,
    severity: Severity = Severity.HIGH,
    source: str | None = None,
    judged: dict[str, tuple[str, ...]] | None = None,
) -> CheckReport:
    return CheckReport(NOW, list(results), {"FW-01": meta(severity)}, "9.9.9", source=source, judged=judged)


@pytest.mark.parametrize(
    ("severity", "level", "low", "high"),
    [
        (Severity.CRITICAL, "error", 9.0, 10.0),
        (Severity.HIGH, "error", 7.0, 8.9),
        (Severity.MEDIUM, "warning", 4.0, 6.9),
        (Severity.LOW, "note", 0.1, 3.9),
    ],
)
def test_sarif_severity_is_a_level_and_the_github_security_severity_band(
    severity: Severity, level: str, low: float, high: float
) -> None:
    run = json.loads(RENDERERS["sarif"](report(result(Verdict.FAIL), severity=severity)))["runs"][0]
    [rule] = run["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"]["level"] == run["results"][0]["level"] == level
    assert low <= float(rule["properties"]["security-severity"]) <= high


@pytest.mark.parametrize(
    ("source", "location"),
    [
        ("cw.yaml", {"uri": "cw.yaml", "uriBaseId": "%SRCROOT%"}),
        ("./conf/cw.yaml", {"uri": "conf/cw.yaml", "uriBaseId": "%SRCROOT%"}),
        ("/etc/controlwatch.yaml", {"uri": "file:///etc/controlwatch.yaml"}),
    ],
)
def test_sarif_physical_location_is_the_config_file(source: str, location: dict[str, str]) -> None:
    run = json.loads(RENDERERS["sarif"](report(result(Verdict.FAIL), source=source)))["runs"][0]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] == location


def test_sarif_leaves_out_passes_suppresses_excepted_and_marks_errors() -> None:
    results = (result(Verdict.PASS, resource="x"), result(Verdict.FAIL, excepted=True), result(Verdict.ERROR))
    run = json.loads(RENDERERS["sarif"](report(*results)))["runs"][0]
    assert [(r["properties"]["verdict"], "suppressions" in r, r["level"]) for r in run["results"]] == [
        ("fail", True, "error"),
        ("error", False, "error"),
    ]
    assert run["invocations"][0]["executionSuccessful"] is False


def test_finding_key_follows_identity_not_verdict_or_reason() -> None:
    base = result(Verdict.FAIL)
    assert finding_key(base) == finding_key(result(Verdict.PASS, reason="closed now"))
    assert finding_key(base) != finding_key(result(Verdict.FAIL, resource="fw/b"))
    assert finding_key(base) != finding_key(Result("FW-01", "p1", "fw/a", "alice", Verdict.FAIL, "open"))


@pytest.mark.parametrize(
    ("results", "outcome", "counts"),
    [
        ((result(Verdict.PASS),), None, (0, 0, 0)),
        ((result(Verdict.PASS), result(Verdict.FAIL, resource="b")), "failure", (1, 0, 0)),
        ((result(Verdict.FAIL), result(Verdict.ERROR, resource="b")), "error", (0, 1, 0)),
        ((result(Verdict.FAIL, excepted=True),), "skipped", (0, 0, 1)),
        ((result(Verdict.PASS, resource="b"), result(Verdict.FAIL, excepted=True)), None, (0, 0, 0)),
        ((), "skipped", (0, 0, 1)),  # judged, but nothing to judge: not applicable
    ],
)
def test_junit_outcome_of_a_control_in_a_scope(
    results: tuple[Result, ...], outcome: str | None, counts: tuple[int, int, int]
) -> None:
    xml = ET.fromstring(RENDERERS["junit"](report(*results, judged={"p1": ("FW-01",)})))
    [suite] = xml.findall("testsuite")
    [case] = suite.findall("testcase")
    found = [child.tag for child in case if child.tag != "system-out"]
    assert found == ([outcome] if outcome else [])
    assert (int(suite.get("failures", "")), int(suite.get("errors", "")), int(suite.get("skipped", ""))) == counts
    assert suite.get("name") == "p1" and case.get("name", "").startswith("FW-01 ")
    if any(r.excepted for r in results):
        assert "excepted: fw/a" in (case.findtext("system-out") or "")


def test_csv_quotes_commas_quotes_and_line_breaks_and_skips_passes() -> None:
    awkward = 'port 22, "any"\nsecond line'
    text = RENDERERS["csv"](report(result(Verdict.PASS), result(Verdict.FAIL, reason=awkward, excepted=True)))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(r["reason"], r["excepted"], r["exception_reason"], r["cis"]) for r in rows] == [
        (awkward, "true", "ok", "4.0:3.6 5.0:3.6")
    ]
    assert rows[0]["remediation"] == 'Narrow "sourceRanges", then re-run'


@pytest.mark.parametrize(
    ("given", "status", "code", "compliance"),
    [
        (result(Verdict.PASS), "New", "PASS", "Pass"),
        (result(Verdict.FAIL), "New", "FAIL", "Fail"),
        (result(Verdict.FAIL, excepted=True), "Suppressed", "FAIL", "Fail"),
        (result(Verdict.ERROR), "New", "ERROR", "Unknown"),
    ],
)
def test_ocsf_status_of_a_result(given: Result, status: str, code: str, compliance: str) -> None:
    [finding] = json.loads(RENDERERS["ocsf"](report(given)))
    assert (finding["status"], finding["status_code"], finding["compliance"]["status"]) == (status, code, compliance)
    assert finding["class_uid"] == 2003 and finding["type_uid"] == 200301
    assert finding["time"] == int(NOW.timestamp() * 1000)


@pytest.mark.parametrize(
    ("severity", "severity_id"),
    [(Severity.LOW, 2), (Severity.MEDIUM, 3), (Severity.HIGH, 4), (Severity.CRITICAL, 5)],
)
def test_ocsf_severity_id(severity: Severity, severity_id: int) -> None:
    [finding] = json.loads(RENDERERS["ocsf"](report(result(Verdict.FAIL), severity=severity)))
    assert finding["severity_id"] == severity_id
    assert finding["compliance"]["requirements"] == ["CIS 4.0 3.6", "CIS 5.0 3.6"]
