"""Scope discovery through the real Resource Manager client against the stand-in, and the set it resolves to.

The estate (`tests/estate.py`) has folders three deep, labels, and a project being deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from checks import default_registry
from monitor.collect import GcpClients, make_clients
from monitor.collect.calls import CallFailed
from monitor.collect.estate import Estate, discover
from monitor.config.model import parse_config
from monitor.run.plans import build_plans
from monitor.run.scopeset import resolve
from monitor.standin import Fault, StandIn, load_scenario
from tests.collect.conftest import FAST_RETRY, Recorder
from tests.estate import ACTIVE, ORG, estate_document


@pytest.fixture(scope="module")
def estate_standin() -> Iterator[StandIn]:
    with StandIn(load_scenario(estate_document())) as standin:
        yield standin


@pytest.fixture
def standin(estate_standin: StandIn) -> Iterator[StandIn]:
    estate_standin.reset()
    yield estate_standin
    estate_standin.reset()


@pytest.fixture(scope="module")
def clients(estate_standin: StandIn) -> GcpClients:
    return make_clients(estate_standin.url)


def listed(clients: GcpClients, roots: tuple[str, ...], observer: Any = None, deadline: float = 5.0) -> Estate:
    return discover(
        clients, roots, observer=observer or Recorder(), call_timeout=1.0, deadline=deadline, policy=FAST_RETRY
    )


def test_every_project_below_the_organisation_is_found_with_its_folders(
    standin: StandIn, clients: GcpClients, recorder: Recorder
) -> None:
    estate = listed(clients, (ORG,), recorder)
    by_id = {p.project_id: p for p in estate.projects}
    assert sorted(by_id) == sorted([*ACTIVE, "old-shop"])
    assert by_id["shop-eu-prod"].folders == ("5505", "5503", "5501")  # nearest first, three deep
    assert by_id["shop-eu-prod"].parent == "folders/5505" and by_id["shop-eu-prod"].root == ORG
    assert by_id["data-platform"].folders == ()
    assert by_id["old-shop"].state == "DELETE_REQUESTED"  # listed with showDeleted: seen leaving
    assert dict(by_id["shop-prod"].labels) == {"env": "prod", "team": "shop"}
    # One folders.list and one projects.list per node: the organisation and its five folders.
    assert (estate.folders, estate.calls) == (5, 12)
    assert recorder.codes("cloudresourcemanager.folders.list") == ["200"] * 6
    assert recorder.codes("cloudresourcemanager.projects.list") == ["200"] * 6
    assert {r.query.get("showDeleted") for r in standin.requests_for("cloudresourcemanager.projects.list")} == {"true"}


def test_folder_roots_and_overlapping_roots_list_each_project_once(standin: StandIn, clients: GcpClients) -> None:
    below = listed(clients, ("folders/5502",))
    assert sorted(p.project_id for p in below.projects) == ["data-lab", "sandbox-alice", "shop-dev"]
    assert {p.project_id: p.folders for p in below.projects}["data-lab"] == ("5504", "5502")
    both = listed(clients, (ORG, "folders/5503"))
    assert len(both.projects) == len({p.project_id for p in both.projects}) == len(ACTIVE) + 1
    assert {p.root for p in both.projects} == {ORG}  # found below the first root that reaches it


@pytest.mark.parametrize(
    ("fault", "names"),
    [
        (Fault(method="cloudresourcemanager.folders.list", status=403), "HTTP 403"),
        (Fault(method="cloudresourcemanager.projects.list", status=503), "HTTP 503"),
        (Fault(method="cloudresourcemanager.projects.list", kind="hostile", mode="empty-items"), "has no 'name'"),
        (Fault(method="cloudresourcemanager.folders.list", kind="hostile", mode="null-list"), "'folders' is null"),
        (Fault(method="cloudresourcemanager.folders.list", kind="hostile", mode="endless"), "more than"),
    ],
    ids=["403", "503", "empty-items", "null-list", "endless"],
)
def test_a_listing_that_fails_fails_the_whole_discovery_naming_where(
    standin: StandIn, clients: GcpClients, fault: Fault, names: str
) -> None:
    standin.add_fault(fault)
    with pytest.raises(CallFailed) as caught:
        listed(clients, (ORG,))
    assert "listing below organizations/4242" in str(caught.value) and names in str(caught.value)


def test_a_dripping_answer_cannot_hold_discovery_past_its_deadline(standin: StandIn, clients: GcpClients) -> None:
    standin.add_fault(Fault(method="cloudresourcemanager.projects.list", kind="drip", delay=0.2))
    with pytest.raises(CallFailed, match=r"scope discovery: deadline exceeded \(1.5s\)") as caught:
        listed(clients, (ORG,), deadline=1.5)
    assert caught.value.deadline


def test_an_unknown_root_is_a_403_naming_it(standin: StandIn, clients: GcpClients) -> None:
    with pytest.raises(CallFailed, match=r"listing below folders/999: .*HTTP 403"):
        listed(clients, ("folders/999",))


CONFIG = """\
scopes:
  organization: "4242"
  include: {labels: {env: "*"}}
  exclude: {projects: ["sandbox-*"], folders: ["5504"]}
  projects:
    - id: legacy-billing            # listed, elsewhere: always watched
    - id: sandbox-alice             # listed: watched although exclude matches it
      disabled_controls: [FW-01]
  overrides:
    - match: {projects: ["shop-*"]}
      params: {backup: {rpo_hours: 12}}
    - match: {labels: {env: prod}, folders: ["5503"]}
      params: {backup: {rpo_hours: 4}}
      disabled_controls: [FW-09]
"""


def test_the_resolved_set_filters_by_glob_label_and_folder_and_mixes_in_listed_projects(
    standin: StandIn, clients: GcpClients
) -> None:
    config = parse_config(CONFIG, "cw.yaml")
    scopes = resolve(config, listed(clients, config.scopes.roots()))
    assert scopes.watched() == (
        "legacy-billing",
        "sandbox-alice",
        "data-platform",
        "ledger-prod",
        "shop-dev",  # breadth first: the folders of each level in turn
        "shop-prod",
        "shop-eu-prod",
    )
    why = {d.project: d.why for d in scopes.decisions}
    assert why["legacy-billing"] == "listed in scopes.projects"
    assert why["sandbox-alice"] == (
        "listed in scopes.projects; also found below organizations/4242 > folders/5502 > folders/5504"
    )
    assert (
        why["old-shop"] == "found below organizations/4242 > folders/5501 > folders/5503; "
        "state DELETE_REQUESTED (only ACTIVE projects are watched)"
    )
    assert why["data-lab"] == (
        "found below organizations/4242 > folders/5502 > folders/5504; excluded by exclude.folders 5504"
    )
    assert why["shop-eu-prod"] == (
        "found below organizations/4242 > folders/5501 > folders/5503 > folders/5505; included by include.labels env=*"
    )
    assert scopes.counts() == {"watched": 7, "excluded": 2}
    plans = build_plans(config, default_registry(), scopes=scopes)
    assert list(plans) == list(scopes.watched())
    rpo = {scope: plan.params.backup.rpo_hours for scope, plan in plans.items()}
    assert rpo == {
        "legacy-billing": 24,
        "sandbox-alice": 24,
        "data-platform": 24,
        "ledger-prod": 24,
        "shop-prod": 4,  # glob, then label and folder: the later override wins
        "shop-eu-prod": 4,  # below folders/5503 through folders/5505
        "shop-dev": 12,  # the glob only: env=dev
    }
    fw09 = {scope for scope, plan in plans.items() if "FW-09" not in {c.meta.id for c in plan.controls}}
    assert fw09 == {"shop-prod", "shop-eu-prod"}
    assert "FW-01" not in {c.meta.id for c in plans["sandbox-alice"].controls}
    shop = scopes.decision("shop-prod")
    assert shop is not None and shop.overrides == (0, 1)


def test_without_a_listing_only_the_listed_projects_are_watched(standin: StandIn) -> None:
    config = parse_config(CONFIG, "cw.yaml")
    scopes = resolve(config, None, error="HTTP 403")
    assert scopes.watched() == ("legacy-billing", "sandbox-alice")
    assert not scopes.listed and scopes.error == "HTTP 403"
