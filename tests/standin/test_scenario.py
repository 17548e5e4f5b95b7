"""Loading scenarios: validation with paths, int64 coercion, YAML, time shifting."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from checks.kinds import Holder
from monitor.standin.parts import PARTS
from monitor.standin.scenario import ScenarioError, load_scenario
from tests.standin.conftest import MINIMAL, minimal_document
from tests.tools import fifo_released_after


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(doc)
    return [f"{path}: {reason}" for path, reason in caught.value.problems]


def test_the_shared_minimal_example_loads() -> None:
    scenario = load_scenario(MINIMAL)
    assert scenario.now == datetime(2026, 11, 25, 12, tzinfo=UTC)
    shop = scenario.projects["example-shop"]
    assert shop.number == "731234567890"
    assert scenario.project("731234567890") is shop
    assert shop.compute is not None and len(shop.compute["firewalls"]) == 2
    assert shop.iam_policy is not None and shop.iam_policy["etag"] == "BwYR"
    assert shop.logging is not None and shop.logging["sinks"][0]["name"] == "all-to-archive"
    assert "compute" not in shop.resource and shop.resource["displayName"] == "Shop production"
    assert scenario.organization is not None and scenario.organization.name == "organizations/4242"
    assert scenario.node("folders/5501") is not None


def test_a_misspelt_field_is_rejected_with_file_and_path(tmp_path: Path) -> None:
    doc = minimal_document()
    doc["projects"][0]["compute"]["firewalls"][1]["allowed"][0]["ipProtocol"] = "tcp"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}: projects[0].compute.firewalls[1].allowed[0].ipProtocol: unknown field"


def test_mistyped_fields_are_rejected() -> None:
    doc = minimal_document()
    doc["projects"][0]["compute"]["firewalls"][0]["priority"] = "high"
    doc["projects"][0]["compute"]["disks"][0]["sizeGb"] = "twenty"
    assert problems(doc) == [
        'projects[0].compute.firewalls[0].priority: expected integer, got string "high"',
        'projects[0].compute.disks[0].sizeGb: expected a decimal integer as a string (int64), got string "twenty"',
    ]


def test_numbers_for_int64_fields_become_strings() -> None:
    doc = minimal_document()
    disk = doc["projects"][0]["compute"]["disks"][0]
    disk["sizeGb"] = 20
    disk["id"] = 1981956487334561235
    scenario = load_scenario(doc)
    served = scenario.projects["example-shop"].compute
    assert served is not None
    assert (served["disks"][0]["sizeGb"], served["disks"][0]["id"]) == ("20", "1981956487334561235")
    assert served["firewalls"][0]["priority"] == 1000  # int32 stays a number


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["projects"][0]["compute"]["instances"][0].pop("zone"), "instances must carry their own zone URL"),
        (lambda d: d["projects"][0]["compute"]["subnetworks"][0].pop("region"), "must carry their own region URL"),
        (lambda d: d["projects"][0]["compute"].update(routers=[]), "compute.routers: unknown kind"),
        (lambda d: d.update(extra=1), "extra: unknown key"),
        (lambda d: d.pop("now"), "now: required"),
        (lambda d: d["projects"][0].pop("name"), "projects[0].name: required: projects/NUMBER"),
        (lambda d: d["projects"].append(dict(d["projects"][0])), "projects[1].projectId: duplicate project"),
        (lambda d: d["projects"][0]["iamPolicy"].update(version=1), "iamPolicy.version: a policy with conditional"),
        (lambda d: d["projects"][0]["iamPolicy"].update(etag="BwY"), "iamPolicy.etag: not valid base64"),
        (lambda d: d["organization"].update(owner="me"), "organization.owner: unknown field"),
        (lambda d: d["projects"][0]["logging"]["sinks"][0].update(includeChildren="yes"), "expected boolean"),
        (lambda d: d["projects"][0].update(compute=[]), "projects[0].compute: expected a mapping"),
        (lambda d: d["projects"][0]["compute"]["addresses"][0].update(region="west"), "addresses[0].region: expected"),
        (lambda d: d["projects"][0]["compute"]["firewalls"][1].update(name="allow-https"), "duplicate firewalls"),
        (lambda d: d["projects"][0]["logging"].update(entries=[{"logName": 5}]), "entries[0].logName: expected string"),
    ],
)
def test_structural_mistakes(change: Any, expected: str) -> None:
    doc = minimal_document()
    change(doc)
    found = problems(doc)
    assert any(expected in p for p in found), found


def test_yaml_keeps_timestamps_as_strings_and_rejects_duplicate_keys(tmp_path: Path) -> None:
    good = tmp_path / "s.yaml"
    good.write_text(
        "now: 2026-11-25T12:00:00Z\n"
        "projects:\n"
        "  - projectId: p\n"
        "    name: projects/1\n"
        "    createTime: 2024-11-02T08:15:00Z\n"
        "    compute:\n"
        "      disks: [{name: d, sizeGb: 10, zone: zones/europe-west1-b,"
        " creationTimestamp: 2025-01-15T09:30:00.000-08:00}]\n"
    )
    scenario = load_scenario(good)
    assert scenario.projects["p"].resource["createTime"] == "2024-11-02T08:15:00Z"
    assert scenario.projects["p"].compute == {
        "disks": (
            {
                "name": "d",
                "sizeGb": "10",
                "zone": "zones/europe-west1-b",
                "creationTimestamp": "2025-01-15T09:30:00.000-08:00",
            },
        )
    }
    bad = tmp_path / "dup.yaml"
    bad.write_text("now: 2026-11-25T12:00:00Z\nnow: 2026-11-26T12:00:00Z\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(bad)
    assert str(caught.value) == f"{bad}:2: now: duplicate key 'now' (first at line 1)"
    assert caught.value.lines == [2]


def test_yaml_problems_name_file_and_line_as_config_errors_do(tmp_path: Path) -> None:
    path = tmp_path / "estate.yaml"
    path.write_text(
        "now: 2026-11-25T12:00:00Z\n"  # 1
        "projects:\n"  # 2
        "  - projectId: p\n"  # 3
        "    name: projects/1\n"  # 4
        "    compute:\n"  # 5
        "      firewalls:\n"  # 6
        "        - name: ok\n"  # 7
        "          priority: 1000\n"  # 8
        "        - name: bad\n"  # 9
        "          allowed:\n"  # 10
        "            - ipProtocol: tcp\n"  # 11
        "      routers: []\n"  # 12
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    known = ", ".join(PARTS[Holder.PROJECT].lists["compute"])
    assert str(caught.value).splitlines() == [
        f"{path}:12: projects[0].compute.routers: unknown kind (expected one of {known})",
    ]
    path.write_text(path.read_text().replace("      routers: []\n", ""))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}:11: projects[0].compute.firewalls[1].allowed[0].ipProtocol: unknown field"
    path.write_text(path.read_text().replace("    name: projects/1\n", "").replace("ipProtocol", "IPProtocol"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}:3: projects[0].name: required: projects/NUMBER"


def test_yaml_syntax_errors_name_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("now: 2026-11-25T12:00:00Z\nprojects: [\n  - {projectId: p\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    (line,) = str(caught.value).splitlines()
    assert line.startswith(f"{path}:3:3: YAML syntax error: while parsing a flow node") and caught.value.lines == [3]


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")


def test_shift_to_moves_every_timestamp_and_keeps_its_form() -> None:
    scenario = load_scenario(MINIMAL)
    shifted = scenario.shift_to(datetime(2026, 11, 27, 12, 0, 30, tzinfo=UTC))  # 2 days and 30 s later
    assert shifted.now == datetime(2026, 11, 27, 12, 0, 30, tzinfo=UTC)
    shop = shifted.projects["example-shop"]
    assert shop.compute is not None and shop.logging is not None
    assert shop.compute["snapshots"][0]["creationTimestamp"] == "2026-11-27T03:00:30.000-08:00"
    assert shop.resource["createTime"] == "2024-11-04T08:15:30.000Z"
    assert shop.logging["sinks"][0]["createTime"] == "2025-02-03T10:00:30.123456789Z"
    # Not timestamps: a schedule's start time, and an IAM condition's expression.
    policy = shop.compute["resourcePolicies"][0]["snapshotSchedulePolicy"]
    assert policy["schedule"]["dailySchedule"]["startTime"] == "04:00"
    assert shop.iam_policy is not None
    assert "2027-01-01T00:00:00Z" in shop.iam_policy["bindings"][1]["condition"]["expression"]
    # The original is untouched.
    original = scenario.projects["example-shop"].compute
    assert original is not None and original["snapshots"][0]["creationTimestamp"].startswith("2026-11-25T03")


def test_logging_parts_are_validated_and_kept() -> None:
    doc = minimal_document()
    entry = {
        "logName": "projects/example-shop/logs/cloudaudit.googleapis.com%2Factivity",
        "resource": {"type": "gce_firewall_rule", "labels": {"project_id": "example-shop"}},
        "timestamp": "2026-11-25T11:58:00.123456Z",
        "insertId": "-abc123",
        "severity": "NOTICE",
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "methodName": "v1.compute.firewalls.patch",
            "resourceName": "projects/example-shop/global/firewalls/allow-https",
            "authenticationInfo": {"principalEmail": "alice@example.be"},
        },
    }
    doc["projects"][0]["logging"]["entries"] = [entry]
    doc["folders"][0]["logging"] = {"sinks": [{"name": "org-archive", "destination": "storage.googleapis.com/b"}]}
    scenario = load_scenario(doc)
    shop = scenario.projects["example-shop"]
    assert shop.logging is not None and shop.logging["entries"][0]["protoPayload"]["methodName"].endswith("patch")
    folder = scenario.node("folders/5501")
    assert folder is not None and folder.logging is not None and folder.logging["sinks"][0]["name"] == "org-archive"
    assert "logging" not in folder.resource
    doc["folders"][0]["logging"] = {"metrics": []}
    assert problems(doc) == ["folders[0].logging.metrics: unknown kind (expected one of sinks, entries)"]


@pytest.mark.parametrize("name", ["estate.json", "estate.yaml"])
def test_a_fifo_as_the_scenario_is_refused_at_once(tmp_path: Path, name: str) -> None:
    """A JSON scenario used to be opened blocking: a FIFO hung `check --scenario` until a writer came."""
    with fifo_released_after(tmp_path / name, 3.0) as fifo:
        started = time.monotonic()
        with pytest.raises(ScenarioError) as caught:
            load_scenario(fifo)
        assert time.monotonic() - started < 1.0
    assert str(caught.value) == f"{fifo}: cannot read: is a FIFO (named pipe), not a regular file"
