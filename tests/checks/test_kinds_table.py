"""The kind table itself: well-formed rows, an enum that is the table, and pure data."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from checks.kinds import APIS, LIST_SHAPES, OTHER_READS, Holder, Kind, KindSpec, Shape, clients, permissions
from checks.snapshot import Kind as SnapshotKind

# The names every snapshot, metric label and evidence record already uses: never renamed.
NAMES = [
    "project",
    "firewalls",
    "networks",
    "subnetworks",
    "instances",
    "disks",
    "snapshots",
    "resourcePolicies",
    "addresses",
    "iamPolicy",
    "ancestry",
    "sinks",
    "ancestorSinks",
    "logMetrics",
]


def test_the_enum_is_the_table_and_keeps_every_name() -> None:
    assert SnapshotKind is Kind
    assert list(Kind.ALL) == [kind.spec.name for kind in Kind]
    assert [kind for kind in Kind.ALL if kind in NAMES] == NAMES, "a kind's name never changes"
    assert Kind.FIREWALLS == "firewalls" and Kind.FIREWALLS.spec.method == "compute.firewalls.list"
    assert isinstance(Kind.IAM_POLICY, str) and {Kind.SINKS: 1} == {"sinks": 1}


def test_a_kind_reads_as_its_plain_name_wherever_it_is_written() -> None:
    kinds = [Kind.FIREWALLS, Kind.ANCESTOR_SINKS]
    assert repr(kinds) == "['firewalls', 'ancestorSinks']"
    assert f"{Kind.DISKS}: {Kind.DISKS!s}" == "disks: disks" and type(str(Kind.DISKS)) is str
    assert json.dumps({Kind.DISKS: [Kind.DISKS]}) == '{"disks": ["disks"]}'
    assert sorted([Kind.SINKS, Kind.ADDRESSES]) == ["addresses", "sinks"]


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_every_row_is_well_formed(kind: Kind) -> None:
    spec: KindSpec = kind.spec
    assert spec.api in APIS and all(client.api in APIS for client in spec.clients)
    assert spec.method.split(".", 1)[0] == APIS[spec.api].methods
    assert spec.permissions and spec.schema and spec.doc
    if spec.shape in LIST_SHAPES:
        assert spec.items, "a listing says which response field holds its page"
        assert spec.group and spec.key, "a listing is written as a list part: group.key"
        assert spec.holder is Holder.PROJECT
    if spec.shape is Shape.AGGREGATED:
        assert spec.locations, "an aggregated listing groups by location"
    else:
        assert not spec.locations and not spec.global_scope
    if spec.holder is Holder.ANCESTORS:
        assert spec.shape is Shape.WALK, "only the walks read the organisation and folders"


def test_clients_and_permissions_are_the_union_of_the_rows() -> None:
    by_name = clients()
    assert set(by_name) == {c.name for kind in Kind for c in kind.spec.clients}
    assert by_name["firewalls"].cls == "FirewallsClient" and by_name["logging"].cls == "Client"
    assert by_name["resourcePolicies"].cls == "ResourcePoliciesClient"
    assert permissions() == {p for kind in Kind for p in kind.spec.permissions} | set(OTHER_READS)


def test_the_table_imports_neither_monitor_nor_google() -> None:
    code = (
        "import sys, checks.snapshot, checks.kinds\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('monitor', 'google', 'googleapiclient'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_discovery_apis_are_read_through_google_api_python_client() -> None:
    from checks.kinds import DISCOVERY_APIS

    # their GAPIC clients register gRPC transports only (Cloud Monitoring v3's too); DNS's is unmaintained
    assert DISCOVERY_APIS == {"sqladmin", "iam", "dns", "monitoring"}
    for name in DISCOVERY_APIS:
        api = APIS[name]
        assert (api.package, api.distribution) == ("googleapiclient.discovery", "google-api-python-client")
