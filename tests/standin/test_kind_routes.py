"""The stand-in's kind routes and scenario parts are the rows': served, validated, enforced.

Every route a row implies is requested over plain HTTP against a scenario holding a
resource of every part: a 200 means it is served and its answer passed discovery
validation (the stand-in answers 500 when its own answer breaks the schema).
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from checks.kinds import APIS, LIST_SHAPES, Envelope, Holder, Kind, KindSpec, Shape, answers
from monitor.standin import StandIn, load_scenario
from monitor.standin.discovery import DOCUMENTS, load_api
from monitor.standin.kindroutes import FAMILIES, kind_handlers, routes_of
from monitor.standin.parts import OTHER_PARTS, OWNERS, PARTS, named_listings, required_locations
from monitor.standin.replies import SERVICES
from monitor.standin.scenario import ScenarioError
from tests.standin.conftest import SHOP, minimal_document
from tests.standin.envelopes import envelope_drift

FOLDER, ORG = "folders/5501", "organizations/4242"
NODE_POLICY = {"version": 1, "etag": "BwYU", "bindings": [{"role": "roles/viewer", "members": ["domain:example.be"]}]}
NODE_SINK = {"name": "up-the-tree", "destination": "storage.googleapis.com/archive", "includeChildren": True}


def _document() -> dict[str, Any]:
    """The minimal scenario, with a policy and a sink on the folder and the organisation (the walks' parts)."""
    doc = minimal_document()
    for node in (doc["organization"], *doc["folders"]):
        node["logging"] = {"sinks": [dict(NODE_SINK)]}
        node["iamPolicy"] = dict(NODE_POLICY)
    return doc


@pytest.fixture(scope="module")
def served() -> Iterator[StandIn]:
    with StandIn(load_scenario(_document())) as standin:
        yield standin


def _holder_resource(doc: dict[str, Any], owner: str) -> dict[str, Any]:
    if owner == "projects":
        return next(p for p in doc["projects"] if p["projectId"] == SHOP)
    return doc["organization"] if owner == "organizations" else doc["folders"][0]


def _part(holder: dict[str, Any], spec: KindSpec) -> Any:
    if not spec.part:
        return holder
    if spec.group:
        return holder[spec.group][spec.key]
    return holder[spec.key]


def _url(api: str, method_id: str, doc: dict[str, Any], spec: KindSpec) -> tuple[str, str, Any]:
    """(HTTP method, path, what it should answer) for one route, filled from the scenario."""
    method = load_api(api).methods[method_id]
    # A hierarchical firewall policy listing names its organisation or folder in `parentId`.
    ancestral = spec.holder is Holder.ANCESTORS and spec.api == "compute"
    owner = next((o for o in ("folders", "organizations") if f".{o}." in method_id), "projects")
    holder = _holder_resource(doc, "organizations" if ancestral else owner)
    found = _part(holder, spec)
    one = found[0] if isinstance(found, list) else found
    names = re.findall(r"\{(\w+)\}", method.url_path)
    values = {"project": SHOP, "projectsId": SHOP, "foldersId": "5501", "organizationsId": "4242"}
    values.update({"v1Id": "projects", "v1Id1": SHOP})  # Service Usage: `v1/{+parent}/services`
    if spec.api == "bigquery":  # a dataset or table is named by its reference
        reference = one.get("tableReference") or one.get("datasetReference") or {}
        values.update(datasetsId=reference.get("datasetId", ""), tablesId=reference.get("tableId", ""))
    if spec.api == "dataproc":  # a cluster's region is its `goog-dataproc-location` label
        values.update(projectId=SHOP, region=one["labels"]["goog-dataproc-location"])
    for place in ("zone", "region"):
        if place in names and place not in values:
            values[place] = str(one[place]).rsplit("/", 1)[-1]
    if "locationsId" in names:  # a Logging bucket: `projects/P/locations/L/buckets/B`
        values["locationsId"] = str(one["name"]).split("/")[3]
    if names and names[-1] not in values:
        values[names[-1]] = str(one["name"]).rsplit("/", 1)[-1]  # `policies/C` of a full name: C
    path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], method.url_path)
    if ancestral:
        path += "?parentId=" + holder["name"]
    elif not names:  # Cloud Storage: the project goes in the query
        path += f"?project={SHOP}"
    if method_id.endswith((".list", ".aggregatedList")):
        return method.http_method, path, found
    return method.http_method, path, one


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_every_route_a_row_implies_is_served_and_valid(served: StandIn, kind: Kind) -> None:
    spec = kind.spec
    doc = _document()
    routes = routes_of(spec)
    assert spec.method in routes, "the route the collector reads"
    if spec.shape in LIST_SHAPES:
        assert any(m.endswith(".get") for m in routes), "a listing implies the get of one of its resources"
    for method_id in routes:
        verb, path, expected = _url(spec.api, method_id, doc, spec)
        answer = requests.request(verb, served.url + path, json={} if verb == "POST" else None, timeout=5)
        assert answer.status_code == 200, (method_id, path, answer.text)
        body = answer.json()
        if spec.shape in (Shape.GLOBAL, Shape.PARENT) and method_id.endswith(".list"):
            assert body[spec.items] == expected
        elif spec.shape is Shape.AGGREGATED and method_id == spec.method:
            listed = [r for scope in body["items"].values() for r in scope.get(spec.items, [])]
            assert sorted(r["name"] for r in listed) == sorted(r["name"] for r in expected)
        elif method_id.endswith(".get") and spec.part and spec.shape is not Shape.WALK:
            assert body == expected


def test_the_kind_routes_and_the_other_routes_do_not_overlap(served: StandIn) -> None:
    from monitor.standin import cloudlogging, compute, crm

    derived = set(kind_handlers())
    others = [set(compute.handlers()), set(crm.handlers()), set(cloudlogging.handlers(cloudlogging.LogStore()))]
    assert all(not derived & other for other in others)
    assert {"compute.firewalls.get", "logging.projects.metrics.get", "logging.organizations.sinks.list"} <= derived


def test_a_row_of_an_api_without_a_stand_in_module_fails_loudly() -> None:
    assert set(FAMILIES) == set(APIS)
    with pytest.raises(LookupError, match="no module serving the pubsub API"):
        routes_of(dataclasses.replace(Kind.FIREWALLS.spec, api="pubsub"))
    with pytest.raises(LookupError, match="does not serve sql.users.list"):
        routes_of(dataclasses.replace(Kind.FIREWALLS.spec, api="sqladmin", method="sql.users.list"))
    assert set(routes_of(dataclasses.replace(Kind.FIREWALLS.spec, api="sqladmin", method="sql.instances.list"))) == {
        "sql.instances.list"
    }
    with pytest.raises(ValueError, match="not as parent"):
        routes_of(dataclasses.replace(Kind.FIREWALLS.spec, shape=Shape.PARENT))


@pytest.mark.parametrize("kind", [k for k in Kind if k.spec.shape in LIST_SHAPES], ids=str)
def test_each_listing_row_matches_its_discovery_response(kind: Kind) -> None:
    spec = kind.spec
    api = load_api(spec.api)
    response = api.schema(api.methods[spec.method].response or "")
    field = response["properties"]["items" if spec.shape is Shape.AGGREGATED else spec.items]
    if spec.shape is Shape.AGGREGATED:  # items: {scope: ScopedList}, each with the list under `items`
        field = api.schema(field["additionalProperties"]["$ref"])["properties"][spec.items]
    assert field["type"] == "array" and field["items"]["$ref"] == spec.schema


@pytest.mark.parametrize(("method", "envelope"), list(answers().items()), ids=list(answers()))
def test_each_answer_envelope_is_what_discovery_says_the_method_answers(method: str, envelope: Envelope) -> None:
    api = next(name for name in APIS if method in load_api(name).methods)  # Cloud SQL's ids start `sql.`
    assert envelope_drift(api, method, envelope) == []


def test_an_envelope_untrue_to_discovery_is_named() -> None:
    spec = Kind.FIREWALLS.spec
    wrong = dataclasses.replace(spec.envelope, kind="compute#networkList", item_fields=("nmae",), fields=("id",))
    assert envelope_drift(spec.api, spec.method, wrong) == [
        "kind 'compute#networkList', discovery says 'compute#firewallList'",
        "closed fields ['id', 'items'], discovery has ['id', 'items', 'kind', 'nextPageToken', 'selfLink', 'warning']",
        "items have no field 'nmae'",
    ]


def test_discovery_documents_and_error_services_come_from_the_api_table() -> None:
    assert DOCUMENTS == {name: f"{api.name}.{api.version}" for name, api in APIS.items()}
    assert SERVICES == {name: (api.host, api.title) for name, api in APIS.items()}
    for kind in Kind:
        load_api(kind.spec.api).schema(kind.spec.schema)  # the row's schema is its API's


# --- scenario parts ---------------------------------------------------------------------


def test_the_part_tables_are_the_rows_parts_plus_log_entries() -> None:
    for holder, table in PARTS.items():
        rows = [k for k in Kind if k.spec.holder is holder]
        assert dict(table.readers) == {k.spec.part: k for k in rows}
        for kind in rows:
            spec = kind.spec
            if spec.group:
                assert table.lists[spec.group][spec.key] == spec.schema
                assert table.group_apis[spec.group] == spec.api
            elif spec.part in table.bare:  # a list under a bare key: hierarchical firewall policies
                assert table.bare[spec.part] == (spec.api, spec.schema)
            elif spec.part:
                assert table.singles[spec.part] == (spec.api, spec.schema)
            else:
                assert table.own == spec.schema
        for part, (api, schema) in OTHER_PARTS[holder].items():
            group, key = part.split(".")
            assert table.lists[group][key] == schema and table.group_apis[group] == api
    assert list(PARTS[Holder.PROJECT].lists["logging"]) == ["sinks", "metrics", "buckets", "entries"]
    assert OWNERS[Holder.ANCESTORS] == ("folders", "organizations")


def _problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(doc)
    return [f"{path}: {reason}" for path, reason in caught.value.problems]


@pytest.mark.parametrize(("holder", "where"), [(Holder.PROJECT, ("projects", 0)), (Holder.ANCESTORS, ("folders", 0))])
def test_an_unknown_kind_in_any_group_is_named_with_the_known_ones(holder: Holder, where: tuple[str, int]) -> None:
    for group, kinds in PARTS[holder].lists.items():
        doc = _document()
        doc[where[0]][where[1]].setdefault(group, {})["bogus"] = []
        known = ", ".join(kinds)
        assert _problems(doc) == [f"{where[0]}[{where[1]}].{group}.bogus: unknown kind (expected one of {known})"]


def test_an_unknown_part_of_a_holder_is_named_with_the_known_ones() -> None:
    doc = _document()
    doc["projects"][0]["spanner"] = {"instances": []}
    doc["folders"][0]["compute"] = {"firewalls": []}
    project_parts = ", ".join(PARTS[Holder.PROJECT].keys_in_order)
    node_parts = ", ".join(PARTS[Holder.ANCESTORS].keys_in_order)
    assert _problems(doc) == [
        f"folders[0].compute: unknown field (nor one of the parts: {node_parts})",
        f"projects[0].spanner: unknown field (nor one of the parts: {project_parts})",
    ]
    assert project_parts == (
        "iamPolicy, computeProject, compute, logging, sql, storage, iam, orgPolicy, dns, monitoring, serviceUsage, "
        "accessApproval, kms, apiKeys, essentialContacts, bigquery, dataproc"
    )
    assert node_parts == "iamPolicy, logging, essentialContacts, firewallPolicies"


def test_the_minimal_scenario_holds_a_resource_of_every_project_kind() -> None:
    shop = next(p for p in minimal_document()["projects"] if p["projectId"] == SHOP)
    for kind in Kind:
        if kind.spec.holder is Holder.PROJECT:
            assert _part(shop, kind.spec), f"{kind}: add one to tests/standin/data/scenario-minimal.json"


@pytest.mark.parametrize("spec", [s for s in named_listings() if required_locations(s)], ids=lambda s: s.name)
def test_location_fields_are_enforced(spec: KindSpec) -> None:
    doc = _document()
    resource = doc["projects"][0][spec.group][spec.key][0]
    for field in spec.locations:
        resource.pop(field, None)
    expected = f"{spec.key} must carry their own {' or '.join(spec.locations)} URL"
    assert any(expected in p for p in _problems(doc)), expected


@pytest.mark.parametrize("spec", named_listings(), ids=lambda s: s.name)
def test_named_listings_need_unique_names(spec: KindSpec) -> None:
    doc = _document()
    items = doc["projects"][0][spec.group][spec.key]
    items.append(copy.deepcopy(items[0]))
    assert any(f"duplicate {spec.key} {items[0]['name']!r}" in p for p in _problems(doc))
