"""The stand-in's routes for the kinds: derived from the rows, one API family module each.

A kind row implies the routes its collector reads (its listing, or its reads up the
hierarchy) and the get of one resource of it; each API's module (`compute`, `crm`,
`cloudlogging`) turns a row of its API into those routes. A row whose API has no family
module fails here, at the stand-in's start, rather than answering 501 later. The second
catalogue's APIs (`storage`, `sqladmin`, `iam`, `orgpolicy`), the identity catalogue's
(`cloudkms`, `apikeys`, `essentialcontacts`) and Compute's firewall policies serve routes
of their own (by parent, per resource): a row of theirs takes the route of its method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from checks.kinds import LIST_SHAPES, Kind, KindSpec, Shape
from monitor.standin import (
    accessapproval,
    apikeys,
    bigquery,
    clouddns,
    cloudlogging,
    compute,
    computeproject,
    contacts,
    crm,
    dataproc,
    firewallpolicies,
    iamadmin,
    kms,
    logbuckets,
    monitoring,
    orgpolicy,
    serviceusage,
    sqladmin,
    storage,
)
from monitor.standin.routes import Handler


def _served(handlers: Callable[[], dict[str, Handler]]) -> Callable[[KindSpec], dict[str, Handler]]:
    """The family of an API whose routes are served already: a row's route is its method's."""

    def family(spec: KindSpec) -> dict[str, Handler]:
        table = handlers()
        if spec.method not in table:
            raise LookupError(f"kind {spec.name}: the stand-in does not serve {spec.method}")
        return {spec.method: table[spec.method]}

    return family


def _compute(spec: KindSpec) -> dict[str, Handler]:
    """A Compute row: its listing and the get of one resource, derived from the row; a firewall-policy
    listing is served already (`firewallpolicies`: by parent, with associations), and a walk has no get."""
    if spec.shape is Shape.SINGLE:  # Compute's own view of the project (its common instance metadata)
        return computeproject.kind_handlers(spec)
    served = firewallpolicies.handlers()
    if spec.method not in served:
        return compute.kind_handlers(spec)
    derived = compute.kind_handlers(spec) if spec.shape in LIST_SHAPES else {}
    return {**derived, spec.method: served[spec.method]}


def _logging(spec: KindSpec) -> dict[str, Handler]:
    """A Logging row: list and get of its part under each owner, derived from the row; the walk reading
    sinks' destinations is served already (`logbuckets`: one bucket under a location)."""
    served = logbuckets.handlers()
    return {spec.method: served[spec.method]} if spec.method in served else cloudlogging.kind_handlers(spec)


#: API name -> the routes a row of that API implies
FAMILIES: Mapping[str, Callable[[KindSpec], dict[str, Handler]]] = MappingProxyType(
    {
        "compute": _compute,
        "cloudresourcemanager": crm.kind_handlers,
        "logging": _logging,
        "storage": _served(storage.handlers),
        "bigquery": _served(bigquery.handlers),
        "dataproc": _served(dataproc.handlers),
        "sqladmin": _served(sqladmin.handlers),
        "iam": _served(iamadmin.handlers),
        "orgpolicy": _served(orgpolicy.handlers),
        "dns": _served(clouddns.handlers),
        "monitoring": _served(monitoring.handlers),
        "serviceusage": _served(serviceusage.handlers),
        "accessapproval": _served(accessapproval.handlers),
        "cloudkms": _served(kms.handlers),
        "apikeys": _served(apikeys.handlers),
        "essentialcontacts": _served(contacts.handlers),
    }
)


def routes_of(spec: KindSpec) -> dict[str, Handler]:
    """API method id -> handler, for the routes one row implies."""
    family = FAMILIES.get(spec.api)
    if family is None:
        raise LookupError(f"kind {spec.name}: the stand-in has no module serving the {spec.api} API")
    return family(spec)


def kind_handlers() -> dict[str, Handler]:
    """Every route the kind rows imply (two rows implying one route share the first's handler)."""
    table: dict[str, Handler] = {}
    for kind in Kind:
        for method, handler in routes_of(kind.spec).items():
            table.setdefault(method, handler)
    return table
