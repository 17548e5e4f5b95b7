"""Compute Engine v1 firewall-policy routes: hierarchical policies by parent, their
associations, and a project's global and regional network firewall policies.

Hierarchical policies live on the organisation and folders of a scenario
(`firewallPolicies`, each with its `associations`); they are listed by `parentId`
(`organizations/N`, `folders/N`), and `listAssociations` finds every association whose
`attachmentTarget` is `targetResource`, across all of them, as Compute does. Network
firewall policies come from the project's `compute.firewallPolicies` and
`compute.regionFirewallPolicies`. Listings page with `maxResults` like every Compute list.

`networks.getEffectiveFirewalls` gathers what applies to one network: the hierarchical
policies associated with the project's ancestors (organisation first, then each folder
down to the project), the network firewall policies associated with the network or named
by its `firewallPolicy`, and the VPC rules of the network. It lists them; it does not
judge their order or shadowing, which is the controls' work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from monitor.standin.compute import compute_project
from monitor.standin.groups import page_size, paged, require
from monitor.standin.parts import BARE
from monitor.standin.replies import ApiError, Reply, bad_request, not_found
from monitor.standin.routes import Call, Handler
from monitor.standin.scenario import Node, Project, Resource

MAX_RESULTS = 500
LIST_KIND = "compute#firewallPolicyList"
AGGREGATED_KIND = "compute#networkFirewallPolicyAggregatedList"


def _by_name(items: Sequence[Resource]) -> list[Resource]:
    return sorted(items, key=lambda r: str(r.get("name", "")))


def _listing(call: Call, ident: str, items: Sequence[Resource]) -> Reply:
    size = page_size(call, "maxResults", MAX_RESULTS, MAX_RESULTS)
    return Reply(200, paged(call, _by_name(items), size, "items", {"kind": LIST_KIND, "id": ident}))


def _policies_of(node: Node) -> tuple[Resource, ...]:
    return node.parts.get(BARE, {}).get("firewallPolicies", ())


def _nodes(call: Call) -> Iterator[Node]:
    if call.scenario.organization is not None:
        yield call.scenario.organization
    yield from call.scenario.folders.values()


def _hierarchical(call: Call) -> Reply:
    parent = require(call, "parentId")
    node = call.scenario.node(parent)
    if node is None:
        raise not_found(parent)
    return _listing(call, "locations/global/firewallPolicies", _policies_of(node))


def _associations(policy: Resource) -> Iterator[dict[str, Any]]:
    for association in policy.get("associations", ()):
        found = dict(association)
        found.setdefault("firewallPolicyId", str(policy.get("id") or policy.get("name", "")))
        if "shortName" in policy:
            found.setdefault("shortName", policy["shortName"])
        yield found


def _list_associations(call: Call) -> Reply:
    target = require(call, "targetResource")
    found = [
        association
        for node in _nodes(call)
        for policy in _policies_of(node)
        for association in _associations(policy)
        if association.get("attachmentTarget") == target
    ]
    return Reply(200, {"kind": "compute#firewallPoliciesListAssociationsResponse", "associations": found})


def _get_association(call: Call) -> Reply:
    wanted = call.params["firewallPolicy"]
    name = call.query.get("name")
    for node in _nodes(call):
        for policy in _policies_of(node):
            if wanted not in (policy.get("name"), policy.get("id")):
                continue
            for association in _associations(policy):
                if name is None or association.get("name") == name:
                    return Reply(200, association)
            raise bad_request(f"The firewall policy '{wanted}' has no association named '{name}'.")
    raise ApiError(404, f"The resource 'locations/global/firewallPolicies/{wanted}' was not found", reason="notFound")


def _network(call: Call) -> Reply:
    project = compute_project(call)
    assert project.compute is not None
    ident = f"projects/{call.params['project']}/global/firewallPolicies"
    return _listing(call, ident, project.compute.get("firewallPolicies", ()))


def _regional(call: Call) -> Reply:
    project = compute_project(call)
    assert project.compute is not None
    region = call.params["region"]
    mine = [
        p
        for p in project.compute.get("regionFirewallPolicies", ())
        if str(p.get("region", "")).endswith(f"/regions/{region}")
    ]
    return _listing(call, f"projects/{call.params['project']}/regions/{region}/firewallPolicies", mine)


def _aggregated(call: Call) -> Reply:
    """`networkFirewallPolicies.aggregatedList`: the project's global and regional network policies,
    by scope (`global`, `regions/R`), paged over the flat list like Compute's aggregated listings."""
    project = compute_project(call)
    assert project.compute is not None
    policies = [*project.compute.get("firewallPolicies", ()), *project.compute.get("regionFirewallPolicies", ())]
    size = page_size(call, "maxResults", MAX_RESULTS, MAX_RESULTS)
    ident = f"projects/{call.params['project']}/aggregated/firewallPolicies"
    flat = paged(call, _by_name(policies), size, "items", {"kind": AGGREGATED_KIND, "id": ident})
    scoped: dict[str, dict[str, Any]] = {}
    for policy in flat.pop("items", []):
        region = str(policy.get("region", ""))
        scope = f"regions/{region.rstrip('/').rsplit('/', 1)[-1]}" if region else "global"
        scoped.setdefault(scope, {"firewallPolicies": []})["firewallPolicies"].append(policy)
    return Reply(200, {**flat, "items": scoped})


def _ancestors(call: Call, project: Project) -> list[Node]:
    """The project's folders and organisation, organisation first (bounded: a cycle stops the walk)."""
    found: list[Node] = []
    parent = str(project.resource.get("parent", ""))
    while parent and len(found) < 32:
        node = call.scenario.node(parent)
        if node is None or node in found:
            break
        found.append(node)
        parent = str(node.resource.get("parent", ""))
    return found[::-1]


def _effective_entry(policy: Resource, kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": str(policy.get("id") or policy.get("name", "")), "type": kind}
    for field in ("shortName", "displayName", "rules"):
        if field in policy:
            entry[field] = policy[field]
    if kind == "NETWORK":
        entry["name"] = str(policy.get("name", ""))
    return entry


def _effective_firewalls(call: Call) -> Reply:
    project = compute_project(call)
    assert project.compute is not None
    name = call.params["network"]
    network = next((n for n in project.compute.get("networks", ()) if n.get("name") == name), None)
    if network is None:
        raise not_found(f"projects/{call.params['project']}/global/networks/{name}")
    suffix = f"projects/{call.params['project']}/global/networks/{name}"
    named = str(network.get("firewallPolicy", ""))
    policies = [
        _effective_entry(policy, "HIERARCHY")
        for node in _ancestors(call, project)
        for policy in _policies_of(node)
        if any(a.get("attachmentTarget") == node.name for a in policy.get("associations", ()))
    ]
    policies += [
        _effective_entry(policy, "NETWORK")
        for policy in project.compute.get("firewallPolicies", ())
        if (named and named.rsplit("/", 1)[-1] == policy.get("name"))
        or any(str(a.get("attachmentTarget", "")).endswith(suffix) for a in policy.get("associations", ()))
    ]
    firewalls = [f for f in project.compute.get("firewalls", ()) if str(f.get("network", "")).endswith(suffix)]
    body: dict[str, Any] = {}
    if firewalls:
        body["firewalls"] = firewalls
    if policies:
        body["firewallPolicys"] = policies
    return Reply(200, body)


def handlers() -> dict[str, Handler]:
    return {
        "compute.firewallPolicies.list": _hierarchical,
        "compute.firewallPolicies.listAssociations": _list_associations,
        "compute.firewallPolicies.getAssociation": _get_association,
        "compute.networkFirewallPolicies.list": _network,
        "compute.regionNetworkFirewallPolicies.list": _regional,
        "compute.networkFirewallPolicies.aggregatedList": _aggregated,
        "compute.networks.getEffectiveFirewalls": _effective_firewalls,
    }
