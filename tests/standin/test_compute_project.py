"""Compute's `projects.get` in the stand-in: the scenario's `computeProject`, or what Compute answers for
a project nobody set metadata on; 403 SERVICE_DISABLED without Compute, 404 for an unknown project."""

from __future__ import annotations

import requests

from monitor.standin import StandIn, load_scenario
from tests.standin.conftest import SHOP, minimal_document


def _get(standin: StandIn, project: str) -> requests.Response:
    return requests.get(f"{standin.url}/compute/v1/projects/{project}", timeout=5)


def test_the_scenario_part_is_the_answer_and_a_project_without_one_gets_googles_default() -> None:
    doc = minimal_document()
    shop = next(p for p in doc["projects"] if p["projectId"] == SHOP)
    stored = shop["computeProject"]
    other = dict(shop, projectId="bare-project", name="projects/99", compute={})
    del other["computeProject"]
    no_compute = dict(other, projectId="no-compute", name="projects/98")
    del no_compute["compute"]
    doc["projects"] += [other, no_compute]
    with StandIn(load_scenario(doc)) as standin:
        assert _get(standin, SHOP).json() == stored
        bare = _get(standin, "bare-project")
        assert bare.status_code == 200, bare.text  # the stand-in validated it against discovery's Project
        body = bare.json()
        assert (body["kind"], body["name"]) == ("compute#project", "bare-project")
        assert set(body["commonInstanceMetadata"]) == {"kind", "fingerprint"}  # nothing set: no items
        assert body["defaultServiceAccount"] == "99-compute@developer.gserviceaccount.com"
        disabled = _get(standin, "no-compute")
        assert disabled.status_code == 403 and "SERVICE_DISABLED" in disabled.text
        assert _get(standin, "nowhere").status_code == 404
