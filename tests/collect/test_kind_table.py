"""The collectors' tables are the kind rows': fetches, clients, preload list, titles, labels, permissions."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from checks.kinds import APIS, DISCOVERY_APIS, LIST_SHAPES, NEXT_CLIENTS, Kind, Shape
from checks.kinds import clients as kind_clients
from monitor.collect import FETCHES, KINDS, GcpClients, ServiceDisabled, cloudlogging, compute, sinkdestinations
from monitor.collect import hierarchy as walks
from monitor.collect.calls import ANSWERS, SERVICE_TITLES
from monitor.collect.clients import CLIENT_NAMES, CLIENT_PACKAGES
from monitor.collect.kinds import CUSTOM, GENERIC
from monitor.standin import StandIn
from tests.collect.conftest import PROJECT, Recorder
from tests.collect.hierarchy import LOG_ARCHIVE, collect, permission_of

ROOT = Path(__file__).parents[2]


def test_every_kind_has_exactly_one_way_to_be_fetched() -> None:
    assert set(GENERIC) == LIST_SHAPES
    assert set(CUSTOM) == {kind for kind in Kind if kind.spec.shape not in LIST_SHAPES}
    assert set(FETCHES) == set(Kind) and set(KINDS) == set(Kind)
    for kind in Kind:
        assert KINDS[kind] is kind.spec
        fetch = FETCHES[kind]
        if kind.spec.shape is Shape.GLOBAL:
            assert fetch is compute.global_list
        elif kind.spec.shape is Shape.AGGREGATED:
            assert isinstance(fetch, functools.partial) and fetch.func is compute.aggregated_list
            assert fetch.keywords == {"key": kind.spec.items}
        elif kind.spec.shape is Shape.PARENT:
            assert fetch.__qualname__ == "parent_list.<locals>.fetch"
        else:
            assert fetch is CUSTOM[kind]


_EVERY_CLIENT = {**{client.name: client for client in NEXT_CLIENTS}, **kind_clients()}


def test_the_client_map_is_the_rows_and_the_next_kinds_clients_in_api_order() -> None:
    assert set(CLIENT_NAMES) == set(kind_clients()) | {client.name for client in NEXT_CLIENTS}
    apis = [_EVERY_CLIENT[name].api for name in CLIENT_NAMES]
    assert CLIENT_NAMES[:2] == ("firewalls", "networks") and apis == sorted(apis, key=list(APIS).index)
    # Cloud SQL Admin and IAM share one package: the discovery client.
    assert CLIENT_PACKAGES == tuple(dict.fromkeys(api.package for api in APIS.values()))


@pytest.mark.parametrize("name", sorted(_EVERY_CLIENT))
def test_every_client_is_built_and_speaks_rest(clients: GcpClients, name: str) -> None:
    client = clients.get(name)
    row = _EVERY_CLIENT[name]
    if row.api in DISCOVERY_APIS:  # a discovery Resource: REST by construction, aimed at the stand-in
        assert type(client).__module__ == "googleapiclient.discovery"
        assert client._baseUrl == clients.endpoint + "/"
        return
    assert type(client).__name__ == row.cls and type(client).__module__.startswith(APIS[row.api].package)
    transport = getattr(client, "transport", None)
    if transport is not None:  # GAPIC clients: gRPC is their default, the stand-in speaks REST
        assert transport.kind == "rest"
    elif row.api in ("storage", "bigquery"):  # the handwritten storage and BigQuery clients: JSON over HTTP only
        assert client._connection.API_BASE_URL == clients.endpoint
    else:  # the handwritten logging client
        assert client._use_grpc is False


@pytest.mark.slow
def test_the_daemon_preloads_every_client_package() -> None:
    code = (
        "import sys\nfrom monitor.run.runtime import preload_clients\n"
        "from monitor.collect.clients import CLIENT_PACKAGES\n"
        "preload_clients()\nprint(all(p in sys.modules for p in CLIENT_PACKAGES), len(CLIENT_PACKAGES))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    packages = {api.package for api in APIS.values()}
    assert done.stdout.split() == ["True", str(len(packages))], done.stderr


def test_service_titles_and_disabled_notes_come_from_the_api_table() -> None:
    assert SERVICE_TITLES == {name: api.title for name, api in APIS.items()}
    assert {kind.spec.api for kind in Kind} <= set(SERVICE_TITLES)
    assert ServiceDisabled("compute").note == "Compute Engine API not enabled"


def test_every_api_distribution_is_pinned() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    constraints = (ROOT / "requirements" / "constraints.txt").read_text()
    for api in APIS.values():
        assert re.search(rf'"{re.escape(api.distribution)}==[\d.]+"', pyproject), api.distribution
        assert re.search(rf"^{re.escape(api.distribution)}==", constraints, re.M), api.distribution


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_each_kind_is_observed_under_its_row_and_needs_only_its_permissions(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder, kind: Kind
) -> None:
    # the sinks' destinations: a project whose sink writes to a Logging bucket (example-shop's, to a bucket)
    snapshot = collect(hierarchy_clients, recorder, LOG_ARCHIVE if kind is Kind.SINK_DESTINATIONS else PROJECT, kind)

    assert snapshot.kinds[kind].ok, snapshot.kinds[kind].error
    assert recorder.requests and {code for _, _, code in recorder.requests} == {"200"}
    methods = {method for _, method, _ in recorder.requests}
    if kind.spec.shape is not Shape.WALK:  # its listing, and the reads it makes per resource listed
        expected = {(kind.spec.api, method) for method in (kind.spec.method, *kind.spec.reads)}
        assert {(service, method) for service, method, _ in recorder.requests} == expected
    else:
        assert kind.spec.method in methods
    assert {permission_of(method) for method in methods} <= set(kind.spec.permissions)
    assert recorder.collections[0][0] == kind


def test_every_call_of_every_kind_is_checked_against_a_declared_answer(
    hierarchy: StandIn, hierarchy_clients: GcpClients, recorder: Recorder
) -> None:
    """Every method the collectors call up the whole hierarchy has its envelope (none believed unchecked)."""
    snapshot = collect(hierarchy_clients, recorder, PROJECT, *Kind)
    destinations = collect(hierarchy_clients, recorder, LOG_ARCHIVE, Kind.SINK_DESTINATIONS)  # to a Logging bucket

    assert all(data.ok for data in [*snapshot.kinds.values(), *destinations.kinds.values()]), snapshot.kinds
    called = {method for _, method, _ in recorder.requests}
    per_resource = {method for kind in Kind for method in kind.spec.reads}
    further = walks.READS | cloudlogging.READS | sinkdestinations.READS
    assert called == {kind.spec.method for kind in Kind} | per_resource | further
    assert called <= set(ANSWERS)
