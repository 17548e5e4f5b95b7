"""Hierarchical firewall policies: those of every ancestor (organisation, folders) of the project.

FW-01..FW-06 judge the effective firewall, whose first say is the policies associated with
the organisation and then each folder down to the project. They are listed per ancestor
(`firewallPolicies.list?parentId=folders/55`), and an ancestor's listing answers the same
for every project below it, so it is made once per sweep and shared by every run that
asks (`Caller.across_runs_once`, the sweep's single-flight ancestor reads). The walk is
complete or fails: an ancestor whose policies cannot be listed, or a disabled Compute API
(which says nothing about the policies above), is an error naming that ancestor.
"""

from __future__ import annotations

import functools
from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller
from monitor.collect.clients import GcpClients
from monitor.collect.compute import aggregated_list, list_items
from monitor.collect.hierarchy import about, ancestors

SERVICE = "compute"
METHOD = "compute.firewallPolicies.list"


def _listing(client: Any, parent: str, call: Caller, page_size: int | None) -> list[JSON]:
    request: dict[str, Any] = {"parent_id": parent}
    if page_size is not None:
        request["max_results"] = page_size
    return list_items(client.list, request, call)


def hierarchical(clients: GcpClients, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """`{"parent": "folders/55" or "organizations/4242", "policy": FirewallPolicy, "ancestors": [...]}`
    per policy, ancestor by ancestor from the project's parent up to the organisation (nearest
    first). `ancestors` is the whole chain, nearest first, those without policies included: a
    policy may be associated with an ancestor that has none of its own, and only the chain
    tells an ancestor from another folder of the organisation."""
    client = clients.get("firewallPolicies")
    found: list[JSON] = []
    chain = ancestors(clients, project_id, call)
    names = [name for name, _resource in chain]
    for name, _resource in chain:
        listing = call.derive(METHOD, SERVICE)
        step = functools.partial(_listing, client, name, listing, page_size)
        policies = about(f"ancestor {name}", functools.partial(listing.across_runs_once, name, step))
        found.extend({"parent": name, "policy": policy, "ancestors": list(names)} for policy in policies)
    return found


def regional(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """The project's regional network firewall policies: those of the aggregated listing with a
    `region` (the global ones are the networkFirewallPolicies kind's). A region the listing could
    not reach fails the kind (`aggregated_list`): a missing regional deny is no shadow."""
    found = aggregated_list(client, project_id, call, page_size, key="firewallPolicies")
    return [policy for policy in found if policy.get("region")]
