"""Cloud Resource Manager v3 routes: projects, folders, organisations and their IAM policies.

Two behaviours copied from Google on purpose:
- a project, folder or organisation that does not exist is answered 403 "Permission …
  denied on resource … (or it may not exist)", never 404: Resource Manager does not
  tell a missing resource from a forbidden one;
- `getIamPolicy` honours `options.requestedPolicyVersion` as IAM does: 0, 1 and 3 are
  valid (anything else 400); asking for less than 3 on a policy with conditional
  bindings returns a version-1 policy in which each conditional binding has lost its
  condition and carries the role `ROLE_withcond_<hash>`. The version returned is 3
  only when 3 was asked for and a binding is conditional, 1 otherwise. A resource
  without an `iamPolicy` in the scenario has the empty policy `{version: 1, etag: ACAB}`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shlex
from collections.abc import Callable, Mapping
from typing import Any

from checks.kinds import KindSpec, Shape
from monitor.standin.discovery import load_api
from monitor.standin.parts import OWNERS
from monitor.standin.replies import Reply, bad_request, permission_denied
from monitor.standin.routes import Call, Handler, page
from monitor.standin.scenario import Node, Project, Resource

API = "cloudresourcemanager"
MAX_PAGE = 500
EMPTY_POLICY = {"version": 1, "etag": "ACAB"}
VALID_POLICY_VERSIONS = (0, 1, 3)


def crm_project(call: Call, verb: str) -> Project:
    """The project a Resource Manager call names; unknown is 403, as CRM answers callers it cannot show."""
    key = call.params["projectsId"]
    project = call.scenario.project(key)
    if project is None:
        raise permission_denied(f"resourcemanager.projects.{verb}", f"projects/{key}", api=API)
    return project


def _node(call: Call, collection: str, param: str, verb: str) -> Node:
    name = f"{collection}/{call.params[param]}"
    node = call.scenario.node(name)
    if node is None:
        raise permission_denied(f"resourcemanager.{collection}.{verb}", name, api=API)
    return node


def condition_hash(condition: Any) -> str:
    """A stable 20-hex-digit hash of an IAM condition, as in `roles/x_withcond_<hash>`."""
    return hashlib.sha256(json.dumps(condition, sort_keys=True).encode()).hexdigest()[:20]


def policy_view(stored: Resource | None, requested: int) -> dict[str, Any]:
    """The policy as IAM returns it for `requestedPolicyVersion` = `requested`."""
    if stored is None:
        return dict(EMPTY_POLICY)
    policy = dict(stored)
    bindings: list[Mapping[str, Any]] = list(stored.get("bindings", []))
    conditional = any("condition" in b for b in bindings)
    if conditional and requested < 3:
        mangled = []
        for binding in bindings:
            if "condition" in binding:
                condition = binding["condition"]
                binding = {k: v for k, v in binding.items() if k != "condition"}
                binding["role"] = f"{binding['role']}_withcond_{condition_hash(condition)}"
            mangled.append(binding)
        policy["bindings"] = mangled
    policy["version"] = 3 if conditional and requested >= 3 else 1
    return policy


def _requested_version(call: Call) -> int:
    body = call.body if call.body is not None else {}
    issues = load_api(API).validate(body, "GetIamPolicyRequest", lenient_enums=True)
    if issues:
        raise bad_request(f"Invalid JSON payload received. {issues[0]}")
    version = body.get("options", {}).get("requestedPolicyVersion", 0)
    if version not in VALID_POLICY_VERSIONS:
        raise bad_request(f"Invalid requested policy version {version}: valid versions are 0, 1 and 3.")
    assert isinstance(version, int)
    return version


def _search_matcher(query: str) -> Callable[[Project], bool]:
    """A predicate for a `projects.search` query: `key:value` (or `=`) terms, all must hold."""
    try:
        tokens = shlex.split(query)
    except ValueError:
        raise bad_request(f"Invalid query: {query!r}") from None
    terms: list[Callable[[Project], bool]] = []
    for token in tokens:
        if token == "AND":
            continue
        cut = min((i for i in (token.find(":"), token.find("=")) if i > 0), default=-1)
        if cut < 0 or token in ("OR", "NOT"):
            raise bad_request(f"Invalid query {query!r}: the stand-in supports key:value terms joined by AND")
        terms.append(_search_term(token[:cut].lower(), token[cut + 1 :], query))
    return lambda p: all(t(p) for t in terms)


def _search_term(key: str, value: str, query: str) -> Callable[[Project], bool]:
    def field(name: str) -> Callable[[Project], str]:
        return lambda p: str(p.resource.get(name, ""))

    def parent_part(part: int) -> Callable[[Project], str]:
        def get(p: Project) -> str:
            kind, _, ident = str(p.resource.get("parent", "")).partition("/")
            return (kind.removesuffix("s"), ident)[part]

        return get

    getters: dict[str, Callable[[Project], str]] = {
        "id": field("projectId"),
        "projectid": field("projectId"),
        "name": field("displayName"),
        "displayname": field("displayName"),
        "state": field("state"),
        "lifecyclestate": field("state"),
        "parent": field("parent"),
        "parent.type": parent_part(0),
        "parent.id": parent_part(1),
    }
    if key.startswith("labels."):
        label = key.removeprefix("labels.")

        def has_label(p: Project) -> bool:
            labels = p.resource.get("labels", {})
            return label in labels and (value == "*" or fnmatch.fnmatchcase(str(labels[label]), value))

        return has_label
    if key not in getters:
        raise bad_request(f"Invalid query {query!r}: unsupported field {key!r}")
    get = getters[key]
    if key in ("state", "lifecyclestate", "name", "displayname", "parent.type"):
        return lambda p: fnmatch.fnmatchcase(get(p).lower(), value.lower())
    return lambda p: fnmatch.fnmatchcase(get(p), value)


def _page_size(call: Call) -> int:
    size = call.int_query("pageSize", MAX_PAGE)
    if size < 0:
        raise bad_request(f"Invalid page size {size}")
    return min(size or MAX_PAGE, MAX_PAGE)


def _projects_page(call: Call, projects: list[Project]) -> Reply:
    chosen, token = page(projects, call.query.get("pageToken"), _page_size(call))
    body: dict[str, Any] = {}
    if chosen:
        body["projects"] = [dict(p.resource) for p in chosen]
    if token:
        body["nextPageToken"] = token
    return Reply(200, body)


def _projects_search(call: Call) -> Reply:
    keep = _search_matcher(call.query.get("query", ""))
    return _projects_page(call, [p for p in call.scenario.projects.values() if keep(p)])


def _listed_parent(call: Call, collection: str) -> str:
    """The `parent` a listing names; one the scenario lacks is 403, as Resource Manager answers."""
    parent = call.query.get("parent")
    if not parent:
        raise bad_request("parent is required, e.g. parent=folders/123")
    if call.scenario.node(parent) is None:
        raise permission_denied(f"resourcemanager.{collection}.list", parent, api=API)
    return parent


def _shown(resource: Resource, show_deleted: bool) -> bool:
    return show_deleted or resource.get("state") != "DELETE_REQUESTED"


def _projects_list(call: Call) -> Reply:
    parent = _listed_parent(call, "projects")
    show_deleted = call.query.get("showDeleted") == "true"
    chosen = [
        p
        for p in call.scenario.projects.values()
        if p.resource.get("parent") == parent and _shown(p.resource, show_deleted)
    ]
    return _projects_page(call, chosen)


def _folders_list(call: Call) -> Reply:
    """The folders directly under `parent` (not their subfolders), in scenario order, paged."""
    parent = _listed_parent(call, "folders")
    show_deleted = call.query.get("showDeleted") == "true"
    chosen = [
        f
        for f in call.scenario.folders.values()
        if f.resource.get("parent") == parent and _shown(f.resource, show_deleted)
    ]
    folders, token = page(chosen, call.query.get("pageToken"), _page_size(call))
    body: dict[str, Any] = {}
    if folders:
        body["folders"] = [dict(f.resource) for f in folders]
    if token:
        body["nextPageToken"] = token
    return Reply(200, body)


def _projects_get(call: Call) -> Reply:
    return Reply(200, dict(crm_project(call, "get").resource))


def _projects_policy(call: Call) -> Reply:
    project = crm_project(call, "getIamPolicy")
    return Reply(200, policy_view(project.iam_policy, _requested_version(call)))


def _node_get(collection: str, param: str) -> Handler:
    return lambda call: Reply(200, dict(_node(call, collection, param, "get").resource))


def _node_policy(collection: str, param: str) -> Handler:
    def handle(call: Call) -> Reply:
        node = _node(call, collection, param, "getIamPolicy")
        return Reply(200, policy_view(node.iam_policy, _requested_version(call)))

    return handle


def _get_route(owner: str) -> Handler:
    return _projects_get if owner == "projects" else _node_get(owner, f"{owner}Id")


def _policy_route(owner: str) -> Handler:
    return _projects_policy if owner == "projects" else _node_policy(owner, f"{owner}Id")


def kind_handlers(spec: KindSpec) -> dict[str, Handler]:
    """The routes a Resource Manager kind row implies, under each owner of its holder.

    The holder itself (part "") is its `get`; its `iamPolicy` part is its `getIamPolicy`,
    and a walk reading that part up the hierarchy also `get`s each node on the way.
    """
    table: dict[str, Handler] = {}
    for owner in OWNERS[spec.holder]:
        if spec.part == "" or spec.shape is Shape.WALK:
            table[f"{API}.{owner}.get"] = _get_route(owner)
        if spec.part == "iamPolicy":
            table[f"{API}.{owner}.getIamPolicy"] = _policy_route(owner)
        elif spec.part != "":
            raise ValueError(f"the stand-in serves no Resource Manager part {spec.part!r} (kind {spec.name})")
    return table


def handlers() -> dict[str, Handler]:
    """The Resource Manager routes no kind row implies: finding folders and projects (scope discovery)."""
    return {
        "cloudresourcemanager.projects.search": _projects_search,
        "cloudresourcemanager.projects.list": _projects_list,
        "cloudresourcemanager.folders.list": _folders_list,
    }
