"""How each kind is fetched: its list shape's generic function, or custom code registered for it.

The rows of `checks.kinds` say what a kind is; this module gives every row exactly one
fetch. Global, aggregated and per-parent listings share one generic function per shape
(`compute`, `cloudlogging`), parameterised by the row. Single reads, walks up the
hierarchy and listings with reads per resource are custom code, registered by kind in
`CUSTOM`. A row with neither, or with both, fails the import: a kind is never silently
uncollectable.

A fetch is `fetch(client, project, call, page_size) -> resources`, with `call` bound to
the row's service and method (metric labels). `client` is the row's client, or for a
walk the `GcpClients` themselves, since it reads with several.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from checks.kernel import JSON
from checks.kinds import Kind, KindSpec, Shape
from monitor.collect import (
    apikeys,
    bigquery,
    buckets,
    clouddns,
    cloudlogging,
    cloudsql,
    compute,
    computeproject,
    contacts,
    dataproc,
    firewallpolicies,
    hierarchy,
    iamkeys,
    kmskeys,
    monitoringreads,
    orgpolicies,
    sinkdestinations,
)
from monitor.collect.calls import Caller

Fetch = Callable[[Any, str, Caller, int | None], list[JSON]]

#: list shape -> the generic fetch of a row of that shape
GENERIC: Mapping[Shape, Callable[[KindSpec], Fetch]] = MappingProxyType(
    {
        Shape.GLOBAL: lambda spec: compute.global_list,
        Shape.AGGREGATED: lambda spec: functools.partial(compute.aggregated_list, key=spec.items),
        Shape.PARENT: cloudlogging.parent_list,
    }
)

#: kind -> its custom fetch (single reads and walks)
CUSTOM: Mapping[str, Fetch] = MappingProxyType(
    {
        Kind.PROJECT: hierarchy.project,
        Kind.IAM_POLICY: hierarchy.iam_policy,
        Kind.ANCESTRY: hierarchy.ancestry,
        Kind.ANCESTOR_SINKS: cloudlogging.ancestor_sinks,
        Kind.SINK_DESTINATIONS: sinkdestinations.destinations,
        Kind.BUCKETS: buckets.buckets,
        Kind.BIGQUERY_DATASETS: bigquery.datasets,
        Kind.BIGQUERY_TABLES: bigquery.tables,
        # the default regions; a run lists the configuration's (`CollectSettings.dataproc_regions`)
        Kind.DATAPROC_CLUSTERS: dataproc.clusters,
        Kind.SQL_INSTANCES: cloudsql.instances,
        Kind.SERVICE_ACCOUNT_KEYS: iamkeys.accounts,
        Kind.ORG_POLICIES: orgpolicies.effective,
        Kind.FIREWALL_POLICIES: firewallpolicies.hierarchical,
        Kind.REGION_NETWORK_FIREWALL_POLICIES: firewallpolicies.regional,
        Kind.MANAGED_ZONES: clouddns.managed_zones,
        Kind.DNS_POLICIES: clouddns.policies,
        Kind.ALERT_POLICIES: monitoringreads.alert_policies,
        Kind.ENABLED_SERVICES: monitoringreads.enabled_services,
        Kind.ACCESS_APPROVAL_SETTINGS: monitoringreads.access_approval,
        Kind.COMPUTE_PROJECT: computeproject.compute_project,
        Kind.KEY_RINGS: kmskeys.key_rings,
        Kind.API_KEYS: apikeys.api_keys,
        Kind.ESSENTIAL_CONTACTS: contacts.contacts,
    }
)


def fetch_of(kind: Kind) -> Fetch:
    """The one way `kind` is fetched; LookupError when it has none, or two."""
    custom = CUSTOM.get(kind)
    generic = GENERIC.get(kind.spec.shape)
    if custom is not None and generic is not None:
        raise LookupError(f"kind {kind}: a {kind.spec.shape} listing has a generic fetch, and a custom one too")
    if custom is not None:
        return custom
    if generic is not None:
        return generic(kind.spec)
    raise LookupError(f"kind {kind}: a {kind.spec.shape} kind needs a custom fetch, and none is registered in CUSTOM")


def hands_all_clients(spec: KindSpec) -> bool:
    """A walk reads with several clients, so its fetch gets the `GcpClients`; the others their row's client."""
    return spec.shape is Shape.WALK


FETCHES: Mapping[str, Fetch] = MappingProxyType({kind: fetch_of(kind) for kind in Kind})
KINDS: Mapping[str, KindSpec] = MappingProxyType({kind: kind.spec for kind in Kind})
