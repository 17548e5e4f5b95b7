"""What the collector makes of hostile 200s and contradictory answers, kind by kind.

A listing is read whole or refused, never cut short; an answer is believed only in the
shape its kind row declares; an API is "not enabled" only when nothing about the project
contradicts it. (The mode × kind matrix through the daemon: tests/monitor/test_daemon_hostile.py.)
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from checks.kinds import LIST_SHAPES, Kind
from checks.snapshot import KindData
from monitor.collect import CollectSettings, GcpClients, collect_snapshot
from monitor.collect.collector import max_items_for
from monitor.config.model import Config, EvaluationConfig
from monitor.run.runtime import collect_settings
from monitor.standin import Fault, StandIn
from tests.collect.conftest import NO_COMPUTE, NOW, PROJECT, Recorder, fast

README = Path(__file__).parents[2] / "README.md"
LISTINGS = [kind for kind in Kind if kind.spec.shape in LIST_SHAPES]
COMPUTE = [kind for kind in LISTINGS if kind.spec.api == "compute"]
LOGGING = [kind for kind in LISTINGS if kind.spec.api == "logging"]


def _collect(clients: GcpClients, *kinds: Kind, project: str = PROJECT, **settings: int) -> dict[str, KindData]:
    collection = collect_snapshot(project, kinds, clients, settings=fast(**settings), observer=Recorder(), now=NOW)
    return dict(collection.snapshot.kinds)


# --- many items, endless pages ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "count"),
    [*((kind, 100_000) for kind in LOGGING), *((kind, 1_200) for kind in COMPUTE)],
    ids=lambda value: str(value),
)
def test_a_long_listing_is_read_whole_page_by_page(
    standin: StandIn, clients: GcpClients, kind: Kind, count: int
) -> None:
    # Compute's client parses ~4,000 items a second, so its kinds take three pages rather than 100,000 items.
    standin.add_fault(Fault(method=kind.spec.method, kind="hostile", mode="many", count=count))

    data = _collect(clients, kind)[kind]

    assert data.ok, data.error
    assert len(data.resources) == count and len({r["name"] for r in data.resources}) == count
    assert len(standin.requests_for(kind.spec.method)) == math.ceil(count / 500)


@pytest.mark.parametrize("kind", LISTINGS, ids=str)
def test_ever_new_page_tokens_are_refused_after_max_pages(standin: StandIn, clients: GcpClients, kind: Kind) -> None:
    standin.add_fault(Fault(method=kind.spec.method, kind="hostile", mode="endless"))

    data = _collect(clients, kind, max_pages=7)[kind]

    assert data.error == f"{kind.spec.method}: more than 7 pages (an endless listing?), refused"
    assert len(standin.requests_for(kind.spec.method)) == 7


def test_the_same_page_token_twice_is_a_paging_loop(standin: StandIn, clients: GcpClients) -> None:
    standin.add_fault(Fault(method="compute.firewalls.list", kind="hostile", mode="same-token"))

    data = _collect(clients, Kind.FIREWALLS)[Kind.FIREWALLS]

    assert data.error == "compute.firewalls.list: the API returned page token 'hostile-again' twice (paging loop)"


def test_more_items_than_max_items_are_refused_not_cut(standin: StandIn, clients: GcpClients) -> None:
    standin.add_fault(Fault(method="logging.projects.sinks.list", kind="hostile", mode="many", count=1_001))

    data = _collect(clients, Kind.SINKS, max_items=1_000)[Kind.SINKS]

    assert data.error == (
        "logging.projects.sinks.list: more than max_items 1000 resources (1001 in the first 3 pages): refused"
    )
    assert data.resources == ()


@pytest.mark.parametrize(
    ("kind", "count", "max_items", "pages"),
    [
        (Kind.SINKS, 100_000, 1_000, 3),  # 1,500 read of 100,000: the other 197 pages are never fetched
        (Kind.INSTANCES, 1_500, 600, 2),  # an aggregated listing counts every scope's items
        (Kind.FIREWALLS, 1_500, 499, 1),  # the first page alone passes the bound
    ],
    ids=str,
)
def test_a_listing_past_max_items_stops_at_the_page_that_passes_it(
    standin: StandIn, clients: GcpClients, kind: Kind, count: int, max_items: int, pages: int
) -> None:
    """The count used to be taken once the whole listing was in memory (OOM before the refusal)."""
    standin.add_fault(Fault(method=kind.spec.method, kind="hostile", mode="many", count=count))

    data = _collect(clients, kind, max_items=max_items)[kind]

    read = min(count, 500 * pages)
    plural = "s" if pages > 1 else ""
    assert data.error == (
        f"{kind.spec.method}: more than max_items {max_items} resources ({read} in the first {pages} page{plural}): "
        "refused"
    )
    assert len(standin.requests_for(kind.spec.method)) == pages


def test_the_default_bounds_hold_a_hundred_thousand_resources_and_are_the_readme_s() -> None:
    settings = CollectSettings()
    assert settings.max_items >= 100_000 and settings.max_pages * 500 >= settings.max_items
    stated = f"more than {settings.max_pages:,} pages or {settings.max_items:,} resources"
    assert stated in " ".join(README.read_text().split())


def test_max_items_is_twice_the_largest_evaluation_limit_by_default_and_in_every_config() -> None:
    """Collecting more than any control may judge only costs memory (a 512Mi pod): 100,000, not 1,000,000."""
    assert CollectSettings().max_items == max_items_for(EvaluationConfig().max_resources) == 100_000
    scopes = {"scopes": {"projects": [{"id": "shop-prod"}]}}
    assert collect_settings(Config.model_validate(scopes)).max_items == 100_000
    raised = {"max_resources": 1_000, "max_resources_by_kind": {"snapshots": 300_000}}
    assert collect_settings(Config.model_validate({**scopes, "evaluation": raised})).max_items == 600_000
    lowered = {**scopes, "evaluation": {"max_resources": 20}}
    assert collect_settings(Config.model_validate(lowered)).max_items == 40


# --- shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        ("empty-object", "no kind, expected 'compute#firewallList'"),
        ("array", "an array, expected an object"),
        ("null-list", "'items' is null (an API leaves out what it has not)"),
        ("renamed-list", "unexpected field(s) 'itemsRenamed'"),
        ("empty-items", "'items'[0] has no kind, expected 'compute#firewall'"),
        ("other-kind", "kind 'compute#networkList', expected 'compute#firewallList'"),
    ],
)
def test_a_wrong_shaped_answer_is_an_error_saying_what_is_wrong(
    standin: StandIn, clients: GcpClients, mode: str, problem: str
) -> None:
    standin.add_fault(Fault(method="compute.firewalls.list", kind="hostile", mode=mode))

    kinds = _collect(clients, Kind.FIREWALLS, Kind.NETWORKS)

    assert kinds[Kind.FIREWALLS].error == f"compute.firewalls.list: malformed response body: {problem}"
    assert kinds[Kind.NETWORKS].ok and kinds[Kind.NETWORKS].resources


def test_an_aggregated_scope_holding_its_list_under_another_name_is_an_error(
    standin: StandIn, clients: GcpClients
) -> None:
    standin.add_fault(Fault(method="compute.instances.aggregatedList", kind="hostile", mode="renamed-list"))

    error = _collect(clients, Kind.INSTANCES)[Kind.INSTANCES].error

    assert error is not None and "items['zones/europe-west1-b'] has unexpected field(s) 'instancesRenamed'" in error


def test_a_policy_without_its_etag_is_not_a_policy(standin: StandIn, clients: GcpClients) -> None:
    standin.add_fault(Fault(method="cloudresourcemanager.projects.getIamPolicy", kind="hostile", mode="empty-object"))

    data = _collect(clients, Kind.IAM_POLICY)[Kind.IAM_POLICY]

    assert data.error == (
        f"project projects/{PROJECT}: cloudresourcemanager.projects.getIamPolicy: malformed response body: no 'etag'"
    )


@pytest.mark.parametrize("kind", LOGGING, ids=str)
def test_an_empty_object_is_logging_s_own_empty_listing(standin: StandIn, clients: GcpClients, kind: Kind) -> None:
    # Cloud Logging leaves an empty list out and sends nothing else: `{}` is a real project's
    # answer when it has none, so it reads as none (every other mode is an error).
    standin.add_fault(Fault(method=kind.spec.method, kind="hostile", mode="empty-object"))

    data = _collect(clients, kind)[kind]

    assert data.ok and data.resources == () and data.note is None


# --- SERVICE_DISABLED, and what contradicts it ------------------------------------------------


@pytest.mark.parametrize(
    ("disabled", "answered", "title"),
    [
        (Kind.FIREWALLS, Kind.NETWORKS, "Compute Engine API"),
        (Kind.SINKS, Kind.LOG_METRICS, "Cloud Logging API"),
        (Kind.PROJECT, Kind.IAM_POLICY, "Cloud Resource Manager API"),
    ],
    ids=str,
)
def test_a_service_disabled_another_call_about_the_project_contradicts_is_an_error(
    standin: StandIn, clients: GcpClients, disabled: Kind, answered: Kind, title: str
) -> None:
    standin.add_fault(Fault(method=disabled.spec.method, status=403, reason="SERVICE_DISABLED"))

    kinds = _collect(clients, disabled, answered)

    assert kinds[disabled].error == (
        f"{disabled.spec.method}: HTTP 403 SERVICE_DISABLED ({title} not enabled), yet {answered.spec.method} "
        "answered in the same run: contradictory answers, so the kind is not known"
    )
    assert kinds[disabled].note is None and kinds[answered].ok and kinds[answered].resources


def test_a_listing_whose_later_page_says_service_disabled_is_an_error_not_empty(
    standin: StandIn, clients: GcpClients
) -> None:
    method = Kind.FIREWALLS.spec.method
    standin.add_fault(Fault(method=method, kind="latency", delay=0.0, times=1))  # page 1 answers as it should
    standin.add_fault(Fault(method=method, status=403, reason="SERVICE_DISABLED"))

    data = _collect(clients, Kind.FIREWALLS, page_size=2)[Kind.FIREWALLS]

    assert data.error is not None and data.error.startswith(f"{method}: HTTP 403 SERVICE_DISABLED"), data
    assert f"yet {method} answered in the same run" in data.error
    assert [r.status for r in standin.requests_for(method)] == [200, 403]


def test_an_api_disabled_for_every_call_about_the_project_is_empty_with_a_note(
    standin: StandIn, clients: GcpClients
) -> None:
    for kind in COMPUTE:
        standin.add_fault(Fault(method=kind.spec.method, status=403, reason="SERVICE_DISABLED"))

    kinds = _collect(clients, *COMPUTE, Kind.SINKS)  # another API answering contradicts nothing

    for kind in COMPUTE:
        assert kinds[kind] == KindData(note="Compute Engine API not enabled"), kind
    assert kinds[Kind.SINKS].ok and kinds[Kind.SINKS].resources


def test_a_project_without_compute_still_reads_as_no_compute_beside_its_other_apis(clients: GcpClients) -> None:
    kinds = _collect(clients, Kind.FIREWALLS, Kind.INSTANCES, Kind.PROJECT, project=NO_COMPUTE)

    assert kinds[Kind.FIREWALLS] == kinds[Kind.INSTANCES] == KindData(note="Compute Engine API not enabled")
    assert kinds[Kind.PROJECT].ok
