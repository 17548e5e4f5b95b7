"""Cloud DNS API v1 routes: a project's managed zones and DNS server policies, paged.

A project whose scenario has no `dns` group has the API disabled (403 SERVICE_DISABLED),
as a real project that never enabled Cloud DNS. `dnsName` (a filter of the zone listing)
is not supported (400), so a collector cannot silently get an unfiltered answer.
"""

from __future__ import annotations

from monitor.standin.groups import page_size, paged, project_group
from monitor.standin.replies import Reply, bad_request
from monitor.standin.routes import Call, Handler

API = "dns"
MAX_RESULTS = 1000


def _listing(part: str, field: str, kind: str) -> Handler:
    def handle(call: Call) -> Reply:
        if call.query.get("dnsName"):
            raise bad_request("The stand-in does not support 'dnsName' on dns.managedZones.list.")
        _, parts = project_group(call, call.params["project"], API, "dns")
        items = sorted(parts.get(part, ()), key=lambda r: str(r.get("name", "")))
        size = page_size(call, "maxResults", MAX_RESULTS, MAX_RESULTS)
        return Reply(200, paged(call, items, size, field, {"kind": kind}))

    return handle


def handlers() -> dict[str, Handler]:
    return {
        "dns.managedZones.list": _listing("managedZones", "managedZones", "dns#managedZonesListResponse"),
        "dns.policies.list": _listing("policies", "policies", "dns#policiesListResponse"),
    }
