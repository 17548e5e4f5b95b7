"""The scale benchmark's synthetic organisation: valid for the stand-in, deterministic, sized as asked."""

from __future__ import annotations

import json

import pytest

from benchmarks import synthetic_org
from checks import default_registry
from checks.kinds import Kind
from monitor.standin import ScenarioError, load_scenario


def test_a_small_organisation_passes_the_stand_ins_schema_checks() -> None:
    document = synthetic_org.organisation(3)
    scenario = load_scenario(document)  # every resource against its discovery schema
    assert sorted(scenario.projects) == ["synth-0000", "synth-0001", "synth-0002"]
    assert scenario.organization is not None and len(scenario.folders) == 24


def test_the_same_size_gives_the_same_document_and_another_size_the_same_projects() -> None:
    first = json.dumps(synthetic_org.organisation(2), sort_keys=True)
    assert first == json.dumps(synthetic_org.organisation(2), sort_keys=True)
    bigger = synthetic_org.organisation(3)
    assert json.dumps(bigger["projects"][:2], sort_keys=True) == json.dumps(
        json.loads(first)["projects"], sort_keys=True
    )


def test_every_project_holds_600_resources_of_every_listed_kind() -> None:
    document = synthetic_org.organisation(2)
    assert synthetic_org.resource_count(document) == 2 * 600
    # the listings a sweep makes: those of the kinds the controls read (data kinds join with their controls)
    judged = {kind for control in default_registry() for kind in control.meta.kinds}
    listed = {
        kind.spec.part
        for kind in Kind
        if "." in kind.spec.part and kind.spec.holder.value == "project" and kind in judged
    }
    assert {"compute.firewalls", "logging.sinks"} <= listed
    for project in document["projects"]:
        groups = (*synthetic_org.GROUPS, "sql")
        present = {f"{group}.{key}" for group in groups for key, items in project[group].items() if items}
        assert listed <= present, listed - present


def test_folders_nest_two_deep_and_projects_sit_in_the_leaves() -> None:
    document = synthetic_org.organisation(40)
    names = {f["name"]: f["parent"] for f in document["folders"]}
    top = [n for n, parent in names.items() if parent.startswith("organizations/")]
    assert len(top) == 4 and all(names[names[p["parent"]]].startswith("organizations/") for p in document["projects"])
    assert len({p["parent"] for p in document["projects"]}) == 20


def test_resources_sit_only_in_the_zones_in_use() -> None:
    zones, regions = synthetic_org.zones_in_use(synthetic_org.organisation(1))
    assert zones == sorted(synthetic_org.ZONE_LIST) and regions == sorted(synthetic_org.REGION_LIST)


def test_a_smaller_project_keeps_every_kind_and_names_a_bad_size() -> None:
    document = synthetic_org.organisation(1, per_project=60)
    load_scenario(document)
    assert 55 <= synthetic_org.resource_count(document) <= 65
    with pytest.raises(ValueError, match="at least 1 project"):
        synthetic_org.organisation(0)


def test_a_broken_resource_is_caught_by_the_same_checks() -> None:
    document = synthetic_org.organisation(1)
    document["projects"][0]["compute"]["firewalls"][0]["priorty"] = 1000
    with pytest.raises(ScenarioError, match="priorty"):
        load_scenario(document)
