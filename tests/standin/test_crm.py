"""Resource Manager v3 routes through the real google-cloud-resource-manager client (REST)."""

from __future__ import annotations

import base64
from types import ModuleType
from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.iam.v1 import iam_policy_pb2, options_pb2
from google.protobuf.json_format import MessageToDict

from monitor.standin import StandIn
from monitor.standin.crm import condition_hash
from tests.standin.conftest import SHOP


def policy_request(resource: str, version: int | None) -> iam_policy_pb2.GetIamPolicyRequest:
    if version is None:
        return iam_policy_pb2.GetIamPolicyRequest(resource=resource)
    options = options_pb2.GetPolicyOptions(requested_policy_version=version)
    return iam_policy_pb2.GetIamPolicyRequest(resource=resource, options=options)


def test_get_project_by_id_and_by_number(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]
) -> None:
    client = resourcemanager_v3.ProjectsClient(**crm_kwargs)
    project = client.get_project(name=f"projects/{SHOP}")
    assert (project.project_id, project.name, project.parent) == (SHOP, "projects/731234567890", "folders/5501")
    assert project.state == resourcemanager_v3.Project.State.ACTIVE
    assert project.labels["env"] == "prod"
    assert client.get_project(name="projects/731234567890").project_id == SHOP


def test_an_unknown_project_is_a_403_as_resource_manager_does(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]
) -> None:
    client = resourcemanager_v3.ProjectsClient(**crm_kwargs)
    with pytest.raises(exceptions.Forbidden, match=r"\(or it may not exist\)") as caught:
        client.get_project(name="projects/ghost", retry=None)
    assert caught.value.reason == "IAM_PERMISSION_DENIED"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [SHOP, "plain-project", "old-project"]),
        ("parent:folders/5501", [SHOP, "old-project"]),
        ("parent:folders/5501 state:ACTIVE", [SHOP]),
        ("state:ACTIVE AND parent:organizations/4242", ["plain-project"]),
        ("id:plain-project", ["plain-project"]),
        ("parent.type:folder parent.id:5501", [SHOP, "old-project"]),
        ("labels.env:prod", [SHOP]),
        ("labels.env:*", [SHOP, "plain-project"]),
        ("displayName:Shop*", [SHOP]),
    ],
)
def test_search_projects(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any], query: str, expected: list[str]
) -> None:
    client = resourcemanager_v3.ProjectsClient(**crm_kwargs)
    assert [p.project_id for p in client.search_projects(query=query)] == expected


def test_search_pages_and_refuses_what_it_cannot_do(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]
) -> None:
    client = resourcemanager_v3.ProjectsClient(**crm_kwargs)
    found = client.search_projects(request={"query": "", "page_size": 1})
    assert [p.project_id for p in found] == [SHOP, "plain-project", "old-project"]
    assert len(standin.requests_for("cloudresourcemanager.projects.search")) == 3
    with pytest.raises(exceptions.BadRequest, match="unsupported field 'colour'"):
        list(client.search_projects(query="colour:blue"))


def test_list_projects_by_parent(standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]) -> None:
    client = resourcemanager_v3.ProjectsClient(**crm_kwargs)
    assert [p.project_id for p in client.list_projects(parent="folders/5501")] == [SHOP]
    everything = client.list_projects(request={"parent": "folders/5501", "show_deleted": True})
    assert [p.project_id for p in everything] == [SHOP, "old-project"]


def test_iam_policy_version_3_round_trips_conditions_and_etag(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]
) -> None:
    client = resourcemanager_v3.ProjectsClient(**crm_kwargs)
    policy = client.get_iam_policy(request=policy_request(f"projects/{SHOP}", 3))
    assert policy.version == 3
    assert policy.etag == base64.b64decode("BwYR")
    as_json = MessageToDict(policy)
    assert as_json["etag"] == "BwYR"
    assert as_json["bindings"][1] == {
        "role": "roles/compute.viewer",
        "members": ["user:alice@example.be"],
        "condition": {"title": "until-2027", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"},
    }
    assert [c.log_type for c in policy.audit_configs[0].audit_log_configs] == [1, 3, 2]  # ADMIN_READ, DATA_READ, …
    body = standin.requests_for("cloudresourcemanager.projects.getIamPolicy")[0].body
    assert body == {"options": {"requestedPolicyVersion": 3}}


@pytest.mark.parametrize("version", [None, 1])
def test_iam_policy_below_version_3_hides_conditions_as_iam_does(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any], version: int | None
) -> None:
    client = resourcemanager_v3.ProjectsClient(**crm_kwargs)
    policy = client.get_iam_policy(request=policy_request(f"projects/{SHOP}", version))
    condition = {"title": "until-2027", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}
    assert policy.version == 1
    assert [(b.role, "condition" in b) for b in policy.bindings] == [
        ("roles/owner", False),
        (f"roles/compute.viewer_withcond_{condition_hash(condition)}", False),
    ]


def test_iam_policy_edge_cases(standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]) -> None:
    client = resourcemanager_v3.ProjectsClient(**crm_kwargs)
    empty = client.get_iam_policy(request=policy_request("projects/plain-project", 3))
    assert (empty.version, empty.etag, list(empty.bindings)) == (1, base64.b64decode("ACAB"), [])
    with pytest.raises(exceptions.BadRequest, match="Invalid requested policy version 2"):
        client.get_iam_policy(request=policy_request(f"projects/{SHOP}", 2))
    url = f"{standin.url}/v3/projects/{SHOP}:getIamPolicy"
    answer = requests.post(url, json={"options": {"requestedPolicyVersion": 3, "colour": "blue"}}, timeout=5)
    assert answer.status_code == 400 and "options.colour: unknown field" in answer.json()["error"]["message"]


def test_folders_and_organizations(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]
) -> None:
    folders = resourcemanager_v3.FoldersClient(**crm_kwargs)
    folder = folders.get_folder(name="folders/5501")
    assert (folder.display_name, folder.parent) == ("production", "organizations/4242")
    assert folders.get_iam_policy(resource="folders/5501").etag == base64.b64decode("ACAB")
    organizations = resourcemanager_v3.OrganizationsClient(**crm_kwargs)
    assert organizations.get_organization(name="organizations/4242").display_name == "example.be"
    assert organizations.get_iam_policy(resource="organizations/4242").version == 1
    with pytest.raises(exceptions.Forbidden, match="resourcemanager.folders.get"):
        folders.get_folder(name="folders/999", retry=None)
    with pytest.raises(exceptions.Forbidden):
        organizations.get_organization(name="organizations/5501", retry=None)  # a folder's number is no organisation


def test_iam_policies_on_folders_and_organizations_come_from_the_scenario(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]
) -> None:
    from tests.standin.conftest import rich_document

    doc = rich_document()
    doc["organization"]["iamPolicy"] = {
        "version": 1,
        "etag": "BwYS",
        "bindings": [{"role": "roles/resourcemanager.organizationAdmin", "members": ["group:admins@example.be"]}],
        "auditConfigs": [{"service": "allServices", "auditLogConfigs": [{"logType": "ADMIN_READ"}]}],
    }
    standin.load(doc)
    policy = resourcemanager_v3.OrganizationsClient(**crm_kwargs).get_iam_policy(resource="organizations/4242")
    assert [b.role for b in policy.bindings] == ["roles/resourcemanager.organizationAdmin"]
    assert policy.audit_configs[0].service == "allServices"


def test_list_folders_gives_the_direct_children_of_a_parent_paged(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]
) -> None:
    from tests.estate import estate_document

    standin.load(estate_document())
    client = resourcemanager_v3.FoldersClient(**crm_kwargs)
    assert [f.name for f in client.list_folders(parent="organizations/4242")] == ["folders/5501", "folders/5502"]
    assert [f.name for f in client.list_folders(parent="folders/5501")] == ["folders/5503"]
    assert [f.name for f in client.list_folders(parent="folders/5505")] == []
    paged = client.list_folders(request={"parent": "organizations/4242", "page_size": 1})
    assert [f.display_name for f in paged] == ["prod", "non-prod"]
    assert len(standin.requests_for("cloudresourcemanager.folders.list")) == 5


def test_listing_below_a_parent_that_does_not_exist_is_a_403_as_resource_manager_does(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: dict[str, Any]
) -> None:
    folders = resourcemanager_v3.FoldersClient(**crm_kwargs)
    with pytest.raises(exceptions.Forbidden, match=r"resourcemanager\.folders\.list.*folders/999"):
        list(folders.list_folders(parent="folders/999", retry=None))
    projects = resourcemanager_v3.ProjectsClient(**crm_kwargs)
    with pytest.raises(exceptions.Forbidden, match=r"resourcemanager\.projects\.list.*organizations/1"):
        list(projects.list_projects(parent="organizations/1", retry=None))
