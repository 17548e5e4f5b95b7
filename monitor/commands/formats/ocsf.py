"""`check --format ocsf`: OCSF 1.5.0 Compliance Findings (class 2003), as Prowler emits them
(README, "Command line"): a JSON array with one finding per result, passes included, so a
security data lake sees a control pass as well as fail. An excepted failure is a finding with
status Suppressed; a result that could not be judged has compliance status Unknown and
status code ERROR, never Pass. `finding_info.uid` is stable per (control, scope, resource,
subject) across runs.
"""

from __future__ import annotations

import json
from typing import Any

from checks.model import Result, Severity, Verdict
from checks.registry import CIS_VERSIONS, ControlMeta
from monitor.commands.formats.report import CheckReport, cis_ids, finding_key, help_uri

OCSF_VERSION = "1.5.0"
COMPLIANCE_FINDING, FINDINGS_CATEGORY, ACTIVITY_CREATE = 2003, 2, 1
GCP_PROJECT = 11  # OCSF account type_id "GCP Project"

SEVERITY_IDS = {
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
COMPLIANCE_STATUS = {Verdict.PASS: (1, "Pass"), Verdict.FAIL: (3, "Fail"), Verdict.ERROR: (0, "Unknown")}
CIS_STANDARD = "CIS Google Cloud Platform Foundation Benchmark v{version}.0"


def render(report: CheckReport) -> str:
    time_ms = int(report.now.timestamp() * 1000)
    findings = [_finding(r, report.controls[r.control], report.version, time_ms) for r in report.results]
    return json.dumps(findings, indent=2) + "\n"


def _finding(result: Result, meta: ControlMeta, version: str, time_ms: int) -> dict[str, Any]:
    severity_id, severity = SEVERITY_IDS[meta.severity]
    status_id, status = (3, "Suppressed") if result.excepted else (1, "New")
    compliance_id, compliance_status = COMPLIANCE_STATUS[result.verdict]
    key = finding_key(result)
    return {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": FINDINGS_CATEGORY,
        "category_name": "Findings",
        "class_uid": COMPLIANCE_FINDING,
        "class_name": "Compliance Finding",
        "type_uid": COMPLIANCE_FINDING * 100 + ACTIVITY_CREATE,
        "type_name": "Compliance Finding: Create",
        "time": time_ms,
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "status_code": result.verdict.value.upper(),
        "status_detail": result.reason,
        "message": result.reason,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "controlwatch",
                "vendor_name": "controlwatch",
                "uid": "controlwatch",
                "version": version,
            },
            "event_code": meta.id,
            "profiles": ["cloud"],
        },
        "cloud": {"provider": "GCP", "account": {"uid": result.scope, "type_id": GCP_PROJECT, "type": "GCP Project"}},
        "finding_info": {
            "uid": f"controlwatch-{key}",
            "title": meta.title,
            "desc": meta.rationale or meta.title,
            "types": [meta.area.value],
            "created_time": time_ms,
            "product_uid": "controlwatch",
        },
        "compliance": {
            "control": meta.id,
            "desc": meta.holds or meta.title,
            "category": meta.area.value,
            "standards": _standards(meta),
            "requirements": [*cis_ids(meta), *(f"SOC 2 {c}" for c in meta.references.soc2)],
            "status_id": compliance_id,
            "status": compliance_status,
            "status_detail": result.reason,
        },
        "resources": [_resource(result, meta)],
        "remediation": {"desc": meta.remediation, "references": [help_uri(meta.id)]},
        "unmapped": {"excepted": result.excepted, "latent": result.latent}
        | ({"exception_reason": result.exception_reason} if result.exception_reason else {}),
    }


def _resource(result: Result, meta: ControlMeta) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "uid": result.resource,
        "name": result.resource.rsplit("/", 1)[-1] or result.resource,
        "type": meta.unit,
        "group": {"name": result.scope},
    }
    if result.subject:
        resource["data"] = {"subject": result.subject}
    return resource


def _standards(meta: ControlMeta) -> list[str]:
    names = [CIS_STANDARD.format(version=v) for v in CIS_VERSIONS if meta.references.cis_ids(v)]
    if meta.references.soc2:
        names.append("SOC 2")
    return names or ["controlwatch catalogue"]
