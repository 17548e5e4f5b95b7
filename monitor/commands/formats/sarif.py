"""`check --format sarif`: SARIF 2.1.0 for GitHub code scanning (README, "Command line").

One rule per control that produced a result, one result per finding (fail or error; passes
are left out). GitHub needs a physical location on every result and this tool reads no source
file, so each result points at line 1 of the file the run was configured by (`--config`, else
`--scenario`), where the scope is declared; the project and resource are its logical location.
Each result carries fingerprints derived from (control, scope, resource, subject), so code
scanning tracks one finding across runs and closes its alert when it passes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from checks.model import Result, Severity, Verdict
from checks.registry import ControlMeta
from monitor.commands.formats.report import DOCS_URL, CheckReport, cis_ids, finding_key, help_uri, iso, non_pass

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "controlwatchFinding/v1"

LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
# GitHub reads `security-severity` as a CVSS-like score: ≥9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, <4.0 low.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}


def render(report: CheckReport) -> str:
    findings = non_pass(report.results)
    rule_ids = sorted({r.control for r in findings})
    index = {control: i for i, control in enumerate(rule_ids)}
    errors = [r for r in findings if r.verdict is Verdict.ERROR]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "controlwatch",
                "version": report.version,
                "semanticVersion": report.version,
                "informationUri": DOCS_URL,
                "rules": [_rule(report.controls[c]) for c in rule_ids],
            }
        },
        "invocations": [
            {
                "executionSuccessful": not errors,
                "endTimeUtc": iso(report.now),
                "toolExecutionNotifications": [_notification(r, index[r.control]) for r in errors],
            }
        ],
        "results": [_result(r, report.controls[r.control], index[r.control], report.source) for r in findings],
    }
    return json.dumps({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _rule(meta: ControlMeta) -> dict[str, Any]:
    tags = ["security", meta.area.value, *cis_ids(meta), *(f"SOC 2 {c}" for c in meta.references.soc2)]
    return {
        "id": meta.id,
        "name": meta.id.replace("-", ""),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.rationale or meta.title},
        "help": {"text": meta.remediation, "markdown": f"**Remediation.** {meta.remediation}"},
        "helpUri": help_uri(meta.id),
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
        "properties": {
            "tags": list(dict.fromkeys(tags)),
            "security-severity": SECURITY_SEVERITY[meta.severity],
            "problem.severity": meta.severity.value,
        },
    }


def _result(result: Result, meta: ControlMeta, rule_index: int, source: str | None) -> dict[str, Any]:
    key = finding_key(result)
    could_not_judge = result.verdict is Verdict.ERROR
    text = f"could not judge: {result.reason}" if could_not_judge else result.reason
    subject = f" [{result.subject}]" if result.subject else ""
    data: dict[str, Any] = {
        "ruleId": result.control,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": "error" if could_not_judge else LEVELS[meta.severity],
        "message": {"text": f"{result.scope}: {result.resource}{subject}: {text}"},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": _artifact(source), "region": {"startLine": 1}},
                "logicalLocations": [
                    {"name": result.scope, "kind": "namespace"},
                    {
                        "name": result.resource.rsplit("/", 1)[-1],
                        "fullyQualifiedName": result.resource,
                        "kind": "resource",
                    },
                ],
            }
        ],
        "fingerprints": {FINGERPRINT: key},
        # Given here so the upload action does not derive one from the (shared) line 1.
        "partialFingerprints": {"primaryLocationLineHash": key, FINGERPRINT: key},
        "properties": {
            "scope": result.scope,
            "resource": result.resource,
            "subject": result.subject,
            "verdict": result.verdict.value,
            "excepted": result.excepted,
            "latent": result.latent,
        },
    }
    if result.excepted:
        data["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": result.exception_reason or "accepted risk"}
        ]
    return data


def _notification(result: Result, rule_index: int) -> dict[str, Any]:
    """An error also tells the invocation that a control could not run: it is never a pass."""
    return {
        "level": "error",
        "message": {"text": f"{result.control} could not judge {result.scope}: {result.reason}"},
        "associatedRule": {"id": result.control, "index": rule_index},
    }


def _artifact(source: str | None) -> dict[str, str]:
    """The config file as a repository-relative URI when given relatively, else as a file URI."""
    if not source:
        return {"uri": "controlwatch.yaml", "uriBaseId": "%SRCROOT%"}
    path = Path(source)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": path.as_posix(), "uriBaseId": "%SRCROOT%"}
