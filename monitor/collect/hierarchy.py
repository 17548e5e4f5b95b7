"""The project's IAM policy and its ancestors (folders, organisation) with theirs.

IAM controls judge the project's policy; LOG-01 unions the audit configuration of the
project and every ancestor, and LOG-02 accepts an ancestor's sink with
`includeChildren`. So the walk must be complete or fail: an ancestor that cannot be read
makes the kind an `error` naming that ancestor, never a shorter chain (fail closed).

Policies are read with `requestedPolicyVersion: 3`; below 3, IAM hides conditional
bindings under mangled role names (`roles/x_withcond_…`). A disabled Resource Manager
API does not mean "no policy" or "no ancestors" (unlike a disabled Compute API, which
does mean "no instances"): here it is an error too.

Every call is one observed call through a `Caller` derived for its own method id, with
`retry=None` and the run's timeout; the project and ancestor reads are shared with the
other kinds of the run (`Caller.read_once`), so one run reads each of them once, and the
ancestors' reads with the other runs of the sweep too (`sweepreads`): one read per sweep.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from checks.kernel import JSON
from monitor.collect.calls import Caller, CallFailed, ServiceDisabled
from monitor.collect.clients import GcpClients
from monitor.collect.convert import protobuf_json, to_json

T = TypeVar("T")
CRM = "cloudresourcemanager"
#: folders nest at most 10 deep under the organisation; anything deeper is a loop or a bug
MAX_DEPTH = 12
POLICY_VERSION = 3
_COLLECTIONS = {"folders": ("folders", "get_folder"), "organizations": ("organizations", "get_organization")}
#: the collections an ancestor belongs to (`folders/55`, `organizations/4242`)
ANCESTOR_COLLECTIONS = tuple(_COLLECTIONS)


def method_of(collection: str, verb: str) -> str:
    """The method id of a walk's read: `method_of("folders", "getIamPolicy")`."""
    return f"{CRM}.{collection}.{verb}"


#: every method id the walks read with: each has its answer's envelope in the kind table
READS = frozenset(
    {method_of("projects", "get"), *(method_of(c, v) for c in ANCESTOR_COLLECTIONS for v in ("get", "getIamPolicy"))}
)


def about(what: str, step: Callable[[], T]) -> T:
    """Run `step`; a failure names `what` it was about (`ancestor folders/55: …`) and fails closed.

    A disabled API becomes an error here: it says nothing about what exists up the tree.
    """
    try:
        return step()
    except CallFailed as exc:
        raise CallFailed(f"{what}: {exc}", status=exc.status, deadline=exc.deadline) from exc
    except ServiceDisabled as exc:
        raise CallFailed(f"{what}: {exc.note}, so it cannot be read", status="403") from exc


def read_policy(client: Any, resource: str, call: Caller) -> JSON:
    """The IAM policy of `resource` at version 3, as the Policy JSON (etag base64, conditions kept).

    The request goes as a dict: the client builds its `GetIamPolicyRequest` from it, so
    `google.iam.v1` (untyped) is never imported here.
    """
    request = {"resource": resource, "options": {"requested_policy_version": POLICY_VERSION}}
    return call(lambda timeout: protobuf_json(client.get_iam_policy(request=request, retry=None, timeout=timeout)))


def read_project(clients: GcpClients, project_id: str, call: Caller) -> JSON:
    """The v3 Project (shared with the project kind of the same run)."""
    name = f"projects/{project_id}"
    client = clients.get("projects")
    get = call.derive(method_of("projects", "get"), CRM)
    return about(
        f"project {name}",
        lambda: get.read_once(name, lambda t: to_json(client.get_project(name=name, retry=None, timeout=t))),
    )


def _read_node(clients: GcpClients, name: str, call: Caller) -> JSON:
    collection = name.split("/", 1)[0]
    if collection not in _COLLECTIONS:
        raise CallFailed(f"ancestor {name}: neither a folder nor an organization")
    client_name, getter = _COLLECTIONS[collection]
    client = clients.get(client_name)
    get = call.derive(method_of(collection, "get"), CRM)
    fetch = getattr(client, getter)
    return about(
        f"ancestor {name}",
        lambda: get.read_once(name, lambda t: to_json(fetch(name=name, retry=None, timeout=t)), across_runs=True),
    )


def ancestors(clients: GcpClients, project_id: str, call: Caller) -> list[tuple[str, JSON]]:
    """(name, Folder/Organization JSON) of each ancestor, nearest first; bounded, cycle-checked."""
    start = f"projects/{project_id}"
    parent = str(read_project(clients, project_id, call).get("parent") or "")
    path = [start]
    chain: list[tuple[str, JSON]] = []
    while parent:
        if parent in path:
            raise CallFailed(f"ancestry of {start}: a cycle ({' -> '.join([*path, parent])})")
        if len(chain) >= MAX_DEPTH:
            raise CallFailed(f"ancestry of {start}: more than {MAX_DEPTH} levels above the project, at {parent}")
        resource = _read_node(clients, parent, call)
        chain.append((parent, resource))
        path.append(parent)
        # An organisation is the root: the v3 Organization has no parent.
        parent = str(resource.get("parent") or "") if parent.startswith("folders/") else ""
    return chain


def project(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """The v3 Project resource itself (labels, parent, state), as a one-element list."""
    name = f"projects/{project_id}"
    # Shared with the ancestry walks of the same run: one projects.get per run.
    found: JSON = call.read_once(
        name, lambda timeout: to_json(client.get_project(name=name, retry=None, timeout=timeout))
    )
    return [found]


def iam_policy(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """The project's IAM policy (version 3) as one Policy dict."""
    name = f"projects/{project_id}"
    return [about(f"project {name}", lambda: read_policy(client, name, call))]


def ancestry(clients: GcpClients, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """`{"resource": Folder|Organization, "iamPolicy": Policy}` per ancestor, nearest first.

    A project directly under the organisation has one entry; one without any parent, none.
    """
    found: list[JSON] = []
    for name, resource in ancestors(clients, project_id, call):
        collection = name.split("/", 1)[0]
        client = clients.get(_COLLECTIONS[collection][0])
        policy_call = call.derive(method_of(collection, "getIamPolicy"), CRM)
        read = functools.partial(read_policy, client, name, policy_call)
        policy = about(f"ancestor {name}", functools.partial(policy_call.across_runs_once, name, read))
        found.append({"resource": resource, "iamPolicy": policy})
    return found
