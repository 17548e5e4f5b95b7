"""deploy/runbooks and the README's on-call section: one runbook per alert and no orphan, each complete; the on-call
section lists every alert with its severity and runbook; metric names in prose are real ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.conftest import ONCALL, ROOT, RUNBOOKS, alert_names, alert_rules
from tests.deploy.exported import exported_samples

SECTIONS = ["## Meaning", "## Impact", "## See what fails", "## First steps", "## Silence or resolve", "## Escalation"]


def severities(alert: str) -> set[str]:
    return {rule["labels"]["severity"] for rule in alert_rules() if rule["alert"] == alert}


def test_one_runbook_per_alert_and_no_orphans() -> None:
    runbooks = sorted(p.stem for p in RUNBOOKS.glob("*.md"))
    assert runbooks == alert_names()


@pytest.mark.parametrize("alert", alert_names())
def test_runbook_is_complete(alert: str) -> None:
    text = (RUNBOOKS / f"{alert}.md").read_text(encoding="utf-8")
    assert text.startswith(f"# {alert}\n")
    positions = [text.find(section + "\n") for section in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions, strict=True) if p == -1]
    assert positions == sorted(positions), "sections in the usual order"
    start = text.index("**Severity:**")
    severity_paragraph = text[start : text.index("\n\n", start)]
    for severity in severities(alert):
        assert f"`{severity}`" in severity_paragraph, severity
    if alert != "Watchdog" and not alert.startswith("ControlwatchExporter"):
        assert "controlwatch results" in text or "/results" in text or "Grafana" in text


def test_oncall_section_lists_every_alert() -> None:
    text = ONCALL.read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| (\w+) \| .*$", text, re.MULTILINE)}
    for alert in alert_names():
        assert alert in rows, alert
        assert f"(deploy/runbooks/{alert}.md)" in rows[alert]
        for severity in severities(alert):
            assert f"`{severity}`" in rows[alert], (alert, severity)
    for link in re.findall(r"\]\((deploy/[^)]+)\)", text):
        assert (ONCALL.parent / link).resolve().is_file(), link


@pytest.mark.parametrize(
    "path",
    [
        *sorted((ROOT / "deploy" / "runbooks").glob("*.md")),
        *sorted((ROOT / "deploy" / "prometheus").glob("*.yml")),
        ROOT / "deploy" / "alertmanager" / "alertmanager.example.yml",
        ROOT / "deploy" / "grafana" / "controlwatch-dashboard.json",
        ONCALL,
    ],
    ids=lambda p: str(Path(p).relative_to(ROOT)),
)
def test_metric_names_in_prose_are_exported(path: Path) -> None:
    not_metrics = {"controlwatch_version"}  # a field of evidence records, named in the auditors' section
    for name in set(re.findall(r"\bcontrolwatch_[a-z0-9_]*[a-z0-9]\b", path.read_text(encoding="utf-8"))) - not_metrics:
        samples = exported_samples()
        assert name in samples or f"{name}_bucket" in samples, f"{name} in {path.name} is not exported by the daemon"


def test_the_runbook_of_every_alert_with_a_results_url_points_at_the_filtered_page() -> None:
    """On-call reading a runbook finds the page the alert links to (`results_url`), named the same way."""
    import yaml

    rules = yaml.safe_load((ROOT / "deploy/prometheus/controlwatch-alerts.yml").read_text(encoding="utf-8"))
    every = [rule for group in rules["groups"] for rule in group["rules"]]
    with_link = {rule["alert"] for rule in every if "results_url" in rule.get("annotations", {})}
    assert len(with_link) >= 5
    for alert in sorted(with_link):
        text = (ROOT / "deploy/runbooks" / f"{alert}.md").read_text(encoding="utf-8")
        assert "results_url" in text and "/results" in text, alert
