"""LOG-01 to LOG-03 on the demo organisation's own data (LOG-03 with its alert policies), handed over in the shapes the
collectors deliver (`Kind.ANCESTRY`, `Kind.ANCESTOR_SINKS`): the planted LOG failures, and
nothing else, independent of the collectors and the stand-in."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from checks import auditlog
from checks.model import Verdict
from checks.params import Params
from monitor.demo import DEMO_SCENARIO
from tests.builders import make_snapshot
from tests.demo.test_demo_org import FAILING

CONTROLS = {
    "LOG-01": auditlog.log01_audit_config,
    "LOG-02": auditlog.log02_export,
    "LOG-03": auditlog.log03_change_metrics,
}


def _bare(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key not in ("iamPolicy", "logging")}


@pytest.fixture(scope="module")
def verdicts() -> dict[tuple[str, str], list[tuple[Verdict, str, str]]]:
    """(control, projectId) -> [(verdict, subject, reason)] for every demo project."""
    doc = yaml.safe_load(DEMO_SCENARIO.read_text(encoding="utf-8"))
    nodes = {node["name"]: node for node in [doc["organization"], *doc["folders"]]}
    found: dict[tuple[str, str], list[tuple[Verdict, str, str]]] = {}
    for project in doc["projects"]:
        chain, parent = [], project["parent"]
        while parent in nodes:  # nearest first, ending with the organisation
            chain.append(nodes[parent])
            parent = nodes[parent].get("parent")
        ancestry = [{"resource": _bare(node), "iamPolicy": node.get("iamPolicy", {})} for node in chain]
        sinks = [{"parent": n["name"], "sink": s} for n in chain for s in n.get("logging", {}).get("sinks", [])]
        logging = {part: project["logging"][part] for part in ("sinks", "metrics")}
        fragment = {"iamPolicy": project["iamPolicy"], "logging": logging, "monitoring": project["monitoring"]}
        snapshot = make_snapshot(fragment, scope=project["projectId"], ancestry=ancestry, ancestor_sinks=sinks)
        for control_id, control in CONTROLS.items():
            findings = list(control(snapshot, Params()))
            found[(control_id, project["projectId"])] = [(f.verdict, f.subject, f.reason) for f in findings]
    return found


@pytest.mark.parametrize("control_id", sorted(CONTROLS))
def test_the_demo_fails_exactly_where_planted(
    control_id: str, verdicts: dict[tuple[str, str], list[tuple[Verdict, str, str]]]
) -> None:
    here = {scope: results for (cid, scope), results in verdicts.items() if cid == control_id}
    assert [r for results in here.values() for r in results if r[0] is Verdict.ERROR] == []
    failing = {scope for scope, results in here.items() if any(r[0] is Verdict.FAIL for r in results)}
    assert failing == FAILING[control_id]
    assert all(r[0] is Verdict.PASS for r in here["ledger-clean"])


def test_the_demo_reasons_name_what_decided(verdicts: dict[tuple[str, str], list[tuple[Verdict, str, str]]]) -> None:
    (prod,) = verdicts[("LOG-01", "shop-prod")]
    assert prod[0] is Verdict.PASS and "DATA_WRITE (organizations/4242)" in prod[2]
    (data,) = verdicts[("LOG-01", "data-platform")]
    assert data[1] == "serviceAccount:etl-runner@data-platform.iam.gserviceaccount.com"
    assert "from DATA_READ of allServices at projects/data-platform" in data[2]
    (exported,) = verdicts[("LOG-02", "shop-prod")]
    assert exported[:2] == (Verdict.PASS, "projects/shop-prod/sinks/shop-all-logs")  # the project's own first
    assert "; also folders/5501/sinks/prod-log-archive" in exported[2]
    (staging,) = verdicts[("LOG-02", "shop-staging")]
    assert "folders/5502/sinks/nonprod-archive does not include children (includeChildren: false)" in staging[2]
    assert "organizations/4242/sinks/org-audit-to-siem has a filter" in staging[2]
    (disabled,) = verdicts[("LOG-02", "data-platform")]
    assert "projects/data-platform/sinks/all-logs-to-bq is disabled (disabled: true)" in disabled[2]
    staged = {subject: verdict for verdict, subject, _ in verdicts[("LOG-03", "shop-staging")]}
    assert [s for s, v in staged.items() if v is Verdict.PASS] == ["networks"]
    prod_metrics = {subject: verdict for verdict, subject, _ in verdicts[("LOG-03", "shop-prod")]}
    assert [s for s, v in prod_metrics.items() if v is Verdict.PASS] == ["firewall", "ownership"]

